package http_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// connectionOn waits for the next connection signal of the workspace that
// want accepts and returns its body.
func connectionOn(t *testing.T, ctx context.Context, sub starpost.Subscription, want func(starpost.ConnectionBody) bool) starpost.ConnectionBody {
	t.Helper()
	var got starpost.ConnectionBody
	waitBus(t, ctx, sub, func(ev *starpost.Event) bool {
		var b starpost.ConnectionBody
		if ev.Kind != starpost.KindConnection || ev.DecodeBody(&b) != nil || !want(b) {
			return false
		}
		got = b
		return true
	})
	return got
}

// TestHeartbeats: a node names the users whose sockets it serves in
// numbered heartbeats, numbered with its open and close signals in the
// order it took them, and user streams never carry these signals.
func TestHeartbeats(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	watch, err := e.bus.Subscribe(tn.ws.ID)
	must(t, err)
	defer watch.Close()
	node := e.srv.Node
	if node == "" {
		t.Fatal("the server has no node name")
	}

	// Before heartbeats run, a signal announces no interval: the router
	// must never let such a connection lapse.
	conn := e.login(tn.agent).dial(ctx, "/api/v1/stream?cursor=0")
	open := connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool { return b.AgentID == tn.agent.ID && b.Connected })
	if open.Node != node || open.Seq == 0 || open.EveryMS != 0 {
		t.Fatalf("open signal %+v: want node %s, a number and no interval", open, node)
	}
	e.login(tn.agent2).dial(ctx, "/api/v1/stream?cursor=0")
	connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool { return b.AgentID == tn.agent2.ID && b.Connected })

	e.srv.Heartbeat = 20 * time.Millisecond
	hbCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.srv.RunHeartbeats(hbCtx) }()
	defer func() {
		stop()
		if err := <-done; err != context.Canceled {
			t.Errorf("RunHeartbeats returned %v, want context.Canceled", err)
		}
	}()
	hb := connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool { return b.Heartbeat() })
	if hb.Node != node || hb.Seq <= open.Seq || hb.EveryMS != 20 || !hb.Connected ||
		!slices.Contains(hb.AgentIDs, tn.agent.ID) || !slices.Contains(hb.AgentIDs, tn.agent2.ID) {
		t.Fatalf("heartbeat %+v: want node %s, number > %d, every 20 ms, both agents", hb, node, open.Seq)
	}

	// A supervisor's stream shows neither the heartbeats nor the
	// connection signals (its own included): they are the router's.
	sup := e.login(tn.supervisor).dial(ctx, "/api/v1/stream?cursor=0")
	connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool { return b.AgentID == tn.supervisor.ID && b.Connected })
	connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool {
		return b.Heartbeat() && slices.Contains(b.AgentIDs, tn.supervisor.ID)
	})
	c := e.startConversation(tn, "after the heartbeat")
	for _, f := range readUntil(t, ctx, sup, func(f sphttp.Frame) bool { return f.Event != nil && f.Event.ConversationID == c.ID }) {
		if f.Event != nil && f.Event.Kind == starpost.KindConnection {
			t.Fatalf("supervisor stream shows a connection signal: %+v", f.Event)
		}
	}

	// Closing: the close signal now announces the interval, and later
	// heartbeats (numbered after it) no longer name the agent.
	conn.Close(websocket.StatusNormalClosure, "")
	closed := connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool { return b.AgentID == tn.agent.ID && !b.Connected })
	if closed.Node != node || closed.Seq <= hb.Seq || closed.EveryMS != 20 {
		t.Fatalf("close signal %+v: want node %s, number > %d, every 20 ms", closed, node, hb.Seq)
	}
	later := connectionOn(t, ctx, watch, func(b starpost.ConnectionBody) bool { return b.Heartbeat() && b.Seq > closed.Seq })
	if slices.Contains(later.AgentIDs, tn.agent.ID) || !slices.Contains(later.AgentIDs, tn.agent2.ID) {
		t.Fatalf("heartbeat after the close names %v; want %s and not %s", later.AgentIDs, tn.agent2.ID, tn.agent.ID)
	}
}

// TestRunHeartbeatsNeedsInterval: without an interval there is nothing to
// run, and the caller is told so.
func TestRunHeartbeatsNeedsInterval(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.RunHeartbeats(context.Background()); err == nil {
		t.Fatal("RunHeartbeats with no interval returned nil")
	}
}
