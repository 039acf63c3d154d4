package http_test

import (
	"context"
	"testing"

	"github.com/coder/websocket"
)

// TestSocketsEndAtShutdown: WebSockets outlive their handlers, so the
// http.Server's Shutdown (which does not track hijacked connections) must
// still end them: Wait returns and every client sees its socket close.
func TestSocketsEndAtShutdown(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	conns := []*websocket.Conn{
		e.login(tn.agent).dial(ctx, "/api/v1/stream?cursor=0"),
		e.visitor(tn.ws.ID).dial(ctx, "/api/v1/widget/stream?cursor=0"),
	}
	if err := e.ts.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := e.srv.Wait(ctx); err != nil {
		t.Fatalf("wait for the sockets: %v", err)
	}
	for i, c := range conns {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				break // closed (frames sent before the close are read first)
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("socket %d still open after the shutdown", i)
		}
	}
}
