package http

import (
	"context"
	"testing"

	"github.com/starpost/starpost"
)

// TestSlowClientIsCut checks that a socket whose bounded queue is full is
// marked slow and cancelled instead of blocking the stream.
func TestSlowClientIsCut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sk := &socket{out: make(chan []byte, 2), cancel: cancel}
	for i := 0; i < 2; i++ {
		if err := sk.send(Frame{Type: "event", Event: &starpost.Event{Cursor: int64(i + 1)}}); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := sk.send(Frame{Type: "event"}); err == nil {
		t.Fatal("a full queue accepted a frame")
	}
	if !sk.slow || ctx.Err() == nil {
		t.Fatalf("slow=%v ctx=%v: want a slow, cancelled socket", sk.slow, ctx.Err())
	}
}
