package http

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// echoSmall is a WebSocket echo server with the sockets' small buffers.
func echoSmall(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(smallBuffers{w}, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, b); err != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestSmallBuffersEcho: messages smaller and larger than both buffers go
// through whole.
func TestSmallBuffersEcho(t *testing.T) {
	ts := echoSmall(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, ts.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	for _, n := range []int{1, socketReadBuffer - 3, socketReadBuffer + 1, socketWriteBuffer + 7, 200 << 10} {
		msg := strings.Repeat("你好 hello ", n/13+1)[:n]
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("write %d bytes: %v", n, err)
		}
		_, b, err := c.Read(ctx)
		if err != nil || string(b) != msg {
			t.Fatalf("%d bytes: echoed %d bytes, err %v", n, len(b), err)
		}
	}
}

// TestSmallBuffersKeepEarlyBytes: a frame the client sent in the same
// packet as its upgrade request, which net/http had already buffered, is
// still read.
func TestSmallBuffersKeepEarlyBytes(t *testing.T) {
	ts := echoSmall(t)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	payload := []byte("early bird")
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	req := "GET / HTTP/1.1\r\nHost: " + ts.Listener.Addr().String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	head := make([]byte, 2)
	if _, err := br.Read(head[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Read(head[1:]); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, head[1]&0x7f)
	for n := 0; n < len(got); {
		m, err := br.Read(got[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	if head[0] != 0x81 || string(got) != string(payload) {
		t.Fatalf("echo: header %x, payload %q", head, got)
	}
}
