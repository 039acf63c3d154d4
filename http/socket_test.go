package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// hangGuard bounds a test that would otherwise block forever on a bug; it
// is not a timing assertion.
const hangGuard = 30 * time.Second

func (c *client) dial(ctx context.Context, path string) *websocket.Conn {
	c.e.t.Helper()
	hdr := http.Header{}
	if c.bearer != "" {
		hdr.Set("Authorization", "Bearer "+c.bearer)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.e.ts.URL, "http")+path,
		&websocket.DialOptions{HTTPClient: c.hc, HTTPHeader: hdr})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.e.t.Fatalf("dial %s: status %d: %v", path, status, err)
	}
	c.e.t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// readUntil reads frames until want accepts one, returning all read.
func readUntil(t *testing.T, ctx context.Context, conn *websocket.Conn, want func(sphttp.Frame) bool) []sphttp.Frame {
	t.Helper()
	var got []sphttp.Frame
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("read after %d frames: %v", len(got), err)
		}
		var f sphttp.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("frame %q: %v", b, err)
		}
		got = append(got, f)
		if want(f) {
			return got
		}
	}
}

func write(t *testing.T, ctx context.Context, conn *websocket.Conn, f sphttp.Frame) {
	t.Helper()
	b, _ := json.Marshal(f)
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func TestAgentStream(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()

	mine := e.assigned(tn, tn.agent, "mine")
	other := e.startConversation(tn, "other") // queued, not for this agent

	watch, err := e.bus.Subscribe(tn.ws.ID)
	must(t, err)
	defer watch.Close()

	agent := e.login(tn.agent)
	conn := agent.dial(ctx, "/api/v1/stream?cursor=0")

	// The router learns the agent is connected.
	waitBus(t, ctx, watch, func(ev *starpost.Event) bool {
		var b starpost.ConnectionBody
		return ev.Kind == starpost.KindConnection && ev.DecodeBody(&b) == nil && b.AgentID == tn.agent.ID && b.Connected
	})

	// Replay: the agent's conversation from the start, never the other one.
	frames := readUntil(t, ctx, conn, func(f sphttp.Frame) bool {
		return f.Event != nil && f.Event.Kind == starpost.KindAssigned && f.Event.ConversationID == mine.ID
	})
	for _, f := range frames {
		if f.Event.ConversationID == other.ID {
			t.Fatalf("agent sees another conversation: %+v", f.Event)
		}
	}
	if frames[0].Event.Kind != starpost.KindCreated {
		t.Fatalf("replay starts with %s", frames[0].Event.Kind)
	}

	// Live: a note on the other conversation is not shown; one on mine is.
	e.login(tn.supervisor).mustJSON("POST", "/api/v1/conversations/"+other.ID+"/notes", map[string]string{"text": "not yours"}, 201, nil)
	e.login(tn.supervisor).mustJSON("POST", "/api/v1/conversations/"+mine.ID+"/notes", map[string]string{"text": "yours"}, 201, nil)
	frames = readUntil(t, ctx, conn, func(f sphttp.Frame) bool { return f.Event != nil && f.Event.Kind == starpost.KindNote })
	if last := frames[len(frames)-1].Event; last.ConversationID != mine.ID {
		t.Fatalf("note of %s", last.ConversationID)
	}

	// A message frame is acked once committed, and its event streams too.
	write(t, ctx, conn, sphttp.Frame{Type: "message", ConversationID: mine.ID, Text: "hello from ws", IdempotencyKey: "ws-1"})
	var ack *starpost.Event
	var streamed bool
	for ack == nil || !streamed {
		f := readUntil(t, ctx, conn, func(sphttp.Frame) bool { return true })[0]
		switch {
		case f.Type == "ack":
			if f.IdempotencyKey != "ws-1" || f.Event == nil || f.Event.Cursor == 0 {
				t.Fatalf("ack %+v", f)
			}
			ack = f.Event
		case f.Type == "event" && f.Event.IdempotencyKey == "ws-1":
			streamed = true
		case f.Type == "error":
			t.Fatalf("error frame %+v", f.Error)
		}
	}
	// A retry is acked with the same event.
	write(t, ctx, conn, sphttp.Frame{Type: "message", ConversationID: mine.ID, Text: "hello from ws", IdempotencyKey: "ws-1"})
	f := readUntil(t, ctx, conn, func(f sphttp.Frame) bool { return f.Type == "ack" || f.Type == "error" })
	if got := f[len(f)-1]; got.Type != "ack" || got.Event.Cursor != ack.Cursor {
		t.Fatalf("retry ack %+v, first %+v", got, ack)
	}
	// Writing into someone else's conversation is refused on the socket.
	write(t, ctx, conn, sphttp.Frame{Type: "message", ConversationID: other.ID, Text: "x", IdempotencyKey: "ws-2"})
	f = readUntil(t, ctx, conn, func(f sphttp.Frame) bool { return f.Type == "error" })
	if got := f[len(f)-1]; got.Error.Code != starpost.ENOTFOUND || got.IdempotencyKey != "ws-2" {
		t.Fatalf("error frame %+v", got)
	}
	// Typing becomes an ephemeral bus signal.
	write(t, ctx, conn, sphttp.Frame{Type: "typing", ConversationID: mine.ID})
	waitBus(t, ctx, watch, func(ev *starpost.Event) bool {
		return ev.Kind == starpost.KindTyping && ev.ConversationID == mine.ID && ev.Cursor == 0
	})

	// Resume: a new socket after the ack's cursor starts right after it.
	conn2 := agent.dial(ctx, "/api/v1/stream?cursor="+itoa(ack.Cursor))
	e.withToken(tn.token).mustJSON("POST", "/api/v1/conversations/"+mine.ID+"/messages", map[string]string{"text": "customer again"}, 201, nil, "Idempotency-Key", "c-2")
	frames = readUntil(t, ctx, conn2, func(f sphttp.Frame) bool { return f.Event != nil && f.Event.IdempotencyKey == "c-2" })
	for _, f := range frames {
		if f.Event.Cursor != 0 && f.Event.Cursor <= ack.Cursor {
			t.Fatalf("resumed stream repeats cursor %d ≤ %d", f.Event.Cursor, ack.Cursor)
		}
	}
	conn2.Close(websocket.StatusNormalClosure, "")

	// Closing the last socket tells the router the agent is gone.
	conn.Close(websocket.StatusNormalClosure, "")
	waitBus(t, ctx, watch, func(ev *starpost.Event) bool {
		var b starpost.ConnectionBody
		return ev.Kind == starpost.KindConnection && ev.DecodeBody(&b) == nil && b.AgentID == tn.agent.ID && !b.Connected
	})
}

func TestWidgetStream(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()

	vis := e.visitor(tn.ws.ID)
	var started sphttp.ConversationResponse
	vis.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "help please", "idempotency_key": "v-0"}, 201, &started)
	conv := started.Conversation
	e.offer(tn.ws.ID, conv.ID, tn.agent.ID)
	agent := e.login(tn.agent)
	path := "/api/v1/conversations/" + conv.ID
	agent.mustJSON("POST", path+"/accept", nil, 200, nil)
	agent.mustJSON("POST", path+"/notes", map[string]string{"text": "secret note"}, 201, nil)
	agent.mustJSON("POST", path+"/messages", map[string]string{"text": "hi, I am here"}, 201, nil, "Idempotency-Key", "a-1")
	e.startConversation(tn, "someone-else")

	// Browsers pass the token in the query string.
	token := vis.bearer
	bare := e.anon()
	conn := bare.dial(ctx, "/api/v1/widget/stream?cursor=0&token="+token)
	frames := readUntil(t, ctx, conn, func(f sphttp.Frame) bool {
		return f.Event != nil && f.Event.Kind == starpost.KindMessage && f.Event.Actor.ID == tn.agent.ID
	})
	for _, f := range frames {
		ev := f.Event
		if ev.ConversationID != conv.ID {
			t.Fatalf("visitor sees %s", ev.ConversationID)
		}
		if ev.Kind == starpost.KindNote || ev.Kind == starpost.KindOffer {
			t.Fatalf("visitor sees internal %s", ev.Kind)
		}
		if ev.Actor.ID != conv.ContactID && ev.IdempotencyKey != "" {
			t.Fatalf("visitor sees another's idempotency key %q", ev.IdempotencyKey)
		}
	}
	write(t, ctx, conn, sphttp.Frame{Type: "message", ConversationID: conv.ID, Text: "thanks", IdempotencyKey: "v-1"})
	got := readUntil(t, ctx, conn, func(f sphttp.Frame) bool { return f.Type == "ack" || f.Type == "error" })
	if last := got[len(got)-1]; last.Type != "ack" || last.Event.Actor.Role != starpost.RoleCustomer {
		t.Fatalf("visitor ack %+v", last)
	}

	// Without a valid token there is no socket.
	if r := e.anon().do("GET", "/api/v1/widget/stream?token=spv.forged", nil); r.status != 401 {
		t.Fatalf("forged token: %d", r.status)
	}
}

func waitBus(t *testing.T, ctx context.Context, sub starpost.Subscription, want func(*starpost.Event) bool) {
	t.Helper()
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatal("bus subscription closed")
			}
			if want(ev) {
				return
			}
		case <-ctx.Done():
			t.Fatal("no such bus event")
		}
	}
}
