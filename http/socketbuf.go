package http

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
)

// A WebSocket's read and write buffers. net/http hands a hijacked
// connection 4 KiB for each, held for as long as the socket is open, and
// most sockets of a surge are idle: 8 KiB each was the largest part of an
// idle socket's heap. Client frames (typing, a message) fit in 512 bytes;
// larger ones are read straight into the message. An event frame up to
// 2 KiB goes out in one write; a larger one in two.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 2 << 10
)

// smallBuffers is a ResponseWriter whose Hijack gives the WebSocket
// library a connection with buffers of socketReadBuffer and
// socketWriteBuffer bytes instead of net/http's.
type smallBuffers struct{ http.ResponseWriter }

// Hijack takes over the connection; bytes the client sent after its
// request, already in net/http's buffer, are read first.
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	if err := brw.Writer.Flush(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("hijack: flush: %w", err)
	}
	n := brw.Reader.Buffered()
	if n == 0 {
		return c, bufio.NewReadWriter(bufio.NewReaderSize(c, socketReadBuffer), bufio.NewWriterSize(c, socketWriteBuffer)), nil
	}
	// The WebSocket library reads the returned reader's buffered bytes
	// first, then the connection: move them into the new buffer.
	early, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), c), max(socketReadBuffer, n))
	if _, err := br.Peek(n); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("hijack: buffered bytes: %w", err)
	}
	return c, bufio.NewReadWriter(br, bufio.NewWriterSize(c, socketWriteBuffer)), nil
}
