package http_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// busyBody checks a surge-limit 503: Retry-After, the unavailable code and
// the busy details, and returns them.
func busyBody(t *testing.T, r response) (*sphttp.Busy, string) {
	t.Helper()
	if r.status != 503 {
		t.Fatalf("status %d, want 503: %s", r.status, r.body)
	}
	eb := r.errorBody(t)
	if eb.Code != starpost.EUNAVAILABLE || eb.Busy == nil || eb.Busy.Callback != sphttp.CallbackPath || eb.Message == "" {
		t.Fatalf("503 body %s", r.body)
	}
	return eb.Busy, r.header.Get("Retry-After")
}

// TestSurgeLimitRefusesNewChats: past the waiting limit a new widget chat
// gets 503 with Retry-After and an honest estimated wait, writes nothing,
// and can leave a message instead; agents keep working; when the line
// shortens, chats are let in again.
func TestSurgeLimitRefusesNewChats(t *testing.T) {
	e := newEnv(t, func(s *sphttp.Server) {
		s.Limits.MaxWaiting = 2
		s.Limits.RetryAfter = 5 * time.Second
		s.Waiting = nil // the fallback count; the store's is tested in store
	})
	tn := e.newTenant("acme")
	start := func(v *client, key string) response {
		return v.do("POST", "/api/v1/widget/conversations", map[string]string{"text": "where is my parcel?", "idempotency_key": key})
	}
	a, b, c := e.visitor(tn.ws.ID), e.visitor(tn.ws.ID), e.visitor(tn.ws.ID)
	var first sphttp.ConversationResponse
	if r := start(a, "a-1"); r.status != 201 {
		t.Fatalf("first chat: %d %s", r.status, r.body)
	} else {
		must(t, json.Unmarshal(r.body, &first))
	}
	if r := start(b, "b-1"); r.status != 201 {
		t.Fatalf("second chat: %d %s", r.status, r.body)
	}

	busy, retry := busyBody(t, start(c, "c-1"))
	if busy.Waiting != 2 || busy.EstimatedWait != 10 || retry != "5" {
		t.Fatalf("busy %+v, Retry-After %q; want 2 waiting, 10 s (5 s rounded up to 10), Retry-After 5", busy, retry)
	}
	// The estimate is how long the head of the line has waited.
	e.clock.Advance(2 * time.Minute)
	busy, retry = busyBody(t, start(c, "c-1"))
	if busy.EstimatedWait != 120 || retry != "30" {
		t.Fatalf("after 2 min: busy %+v, Retry-After %q; want 120 s and 30", busy, retry)
	}

	// Nothing of the refused request was written.
	var mine struct{ Items []sphttp.VisitorConversation }
	c.mustJSON("GET", "/api/v1/widget/conversations", nil, 200, &mine)
	all, err := e.db.ListConversations(e.ctx, starpost.ConversationFilter{WorkspaceID: tn.ws.ID})
	must(t, err)
	if len(mine.Items) != 0 || len(all) != 2 {
		t.Fatalf("refused chat left %d conversations for the visitor, %d in all", len(mine.Items), len(all))
	}
	evs, err := e.db.ListEvents(e.ctx, starpost.EventFilter{WorkspaceID: tn.ws.ID})
	must(t, err)
	for _, ev := range evs {
		if strings.Contains(ev.IdempotencyKey, "c-1") {
			t.Fatalf("refused request wrote %s %q", ev.Kind, ev.IdempotencyKey)
		}
	}

	// The visitor leaves a message: stored as a conversation on the email
	// channel, idempotent, visible to the visitor, and not counted as a
	// waiting chat.
	req := map[string]string{"name": "Zhou Xun", "email": "zx@example.com", "text": "请回电：订单 20261111-0042", "idempotency_key": "cb-1"}
	var cb sphttp.ConversationResponse
	c.mustJSON("POST", sphttp.CallbackPath, req, 201, &cb)
	var again sphttp.ConversationResponse
	c.mustJSON("POST", sphttp.CallbackPath, req, 201, &again)
	if cb.Conversation.Channel != starpost.ChannelEmail || !strings.HasPrefix(cb.Conversation.Subject, "Callback") ||
		len(cb.Events) != 2 || again.Conversation.ID != cb.Conversation.ID {
		t.Fatalf("callback %+v (retry %s)", cb.Conversation, again.Conversation.ID)
	}
	var msg starpost.MessageBody
	must(t, cb.Events[1].DecodeBody(&msg))
	if !strings.Contains(msg.Text, "20261111-0042") || !strings.Contains(msg.Text, "zx@example.com") || !strings.Contains(msg.Text, "Zhou Xun") {
		t.Fatalf("callback message %q", msg.Text)
	}
	phone := map[string]string{"phone": "+86 138-0000-0000", "text": "call me", "idempotency_key": "cb-2"}
	var call sphttp.ConversationResponse
	c.mustJSON("POST", sphttp.CallbackPath, phone, 201, &call)
	if call.Conversation.Channel != starpost.ChannelVoice {
		t.Fatalf("phone callback on %s", call.Conversation.Channel)
	}
	e.clock.Advance(2 * time.Second)
	busyBody(t, start(c, "c-1"))

	// Agents are never refused: accept, answer, resolve.
	conv := first.Conversation.ID
	e.offer(tn.ws.ID, conv, tn.agent.ID)
	agent := e.login(tn.agent)
	agent.mustJSON("POST", "/api/v1/conversations/"+conv+"/accept", nil, 200, nil)
	agent.mustJSON("POST", "/api/v1/conversations/"+conv+"/messages", map[string]string{"text": "on its way"}, 201, nil, "Idempotency-Key", "ag-1")
	agent.mustJSON("POST", "/api/v1/conversations/"+conv+"/resolve", nil, 200, nil)

	// The line is shorter: after the next recount the chat is let in.
	e.clock.Advance(2 * time.Second)
	if r := start(c, "c-1"); r.status != 201 {
		t.Fatalf("after the line shortened: %d %s", r.status, r.body)
	}
}

func TestCallbackValidation(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	v := e.visitor(tn.ws.ID)
	for _, tc := range []struct {
		name  string
		body  map[string]string
		field string
	}{
		{"no way to reach", map[string]string{"text": "hi", "idempotency_key": "k"}, "email"},
		{"bad email", map[string]string{"email": "not an email", "text": "hi", "idempotency_key": "k"}, "email"},
		{"email with name", map[string]string{"email": "Zhou <zx@example.com>", "text": "hi", "idempotency_key": "k"}, "email"},
		{"letters in phone", map[string]string{"phone": "call me maybe", "text": "hi", "idempotency_key": "k"}, "phone"},
		{"short phone", map[string]string{"phone": "123", "text": "hi", "idempotency_key": "k"}, "phone"},
		{"no text", map[string]string{"email": "zx@example.com", "text": "  ", "idempotency_key": "k"}, "text"},
		{"no key", map[string]string{"email": "zx@example.com", "text": "hi"}, "idempotency_key"},
		{"unknown queue", map[string]string{"email": "zx@example.com", "text": "hi", "idempotency_key": "k", "queue_id": "qu_nope"}, "queue_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.do("POST", sphttp.CallbackPath, tc.body)
			if r.status/100 != 4 || r.errorBody(t).Field != tc.field {
				t.Fatalf("status %d %s, want 4xx on %s", r.status, r.body, tc.field)
			}
		})
	}
	all, err := e.db.ListConversations(e.ctx, starpost.ConversationFilter{WorkspaceID: tn.ws.ID})
	must(t, err)
	if len(all) != 0 {
		t.Fatalf("invalid callbacks wrote %d conversations", len(all))
	}
	if r := e.anon().do("POST", sphttp.CallbackPath, map[string]string{"email": "zx@example.com", "text": "hi", "idempotency_key": "k"}); r.status != 401 {
		t.Fatalf("without a visitor token: %d", r.status)
	}
}

// blockingStore holds every Append of one kind (notes by default) until
// release closes, so a test can have writes in flight.
type blockingStore struct {
	starpost.Store
	kind    starpost.EventKind
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) Append(ctx context.Context, events ...*starpost.Event) ([]*starpost.Event, error) {
	if events[0].Kind == b.kind || b.kind == "" && events[0].Kind == starpost.KindNote {
		b.entered <- struct{}{}
		<-b.release
	}
	return b.Store.Append(ctx, events...)
}

// TestInflightWritesLimit: while the store is behind (writes in flight at
// the limit), new chats are refused at once; agents' writes still go in.
func TestInflightWritesLimit(t *testing.T) {
	bs := &blockingStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnv(t, func(s *sphttp.Server) {
		s.Limits.MaxInflightWrites = 1
		bs.Store = s.Store
		s.Store = bs
	})
	tn := e.newTenant("acme")
	conv := e.assigned(tn, tn.agent, "c1")
	agent := e.login(tn.agent)
	noted := make(chan response, 1)
	go func() {
		noted <- agent.do("POST", "/api/v1/conversations/"+conv.ID+"/notes", map[string]string{"text": "checking"})
	}()
	<-bs.entered
	v := e.visitor(tn.ws.ID)
	busy, retry := busyBody(t, v.do("POST", "/api/v1/widget/conversations", map[string]string{"text": "hello", "idempotency_key": "v-1"}))
	if busy.EstimatedWait <= 0 || retry == "" {
		t.Fatalf("busy %+v, Retry-After %q", busy, retry)
	}
	close(bs.release)
	if r := <-noted; r.status != 201 {
		t.Fatalf("agent's note: %d %s", r.status, r.body)
	}
	v.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "hello", "idempotency_key": "v-1"}, 201, nil)
}

// TestRequestRates: one visitor or one API token past its rate gets 429
// with Retry-After; others, and signed-in agents, are not affected.
func TestRequestRates(t *testing.T) {
	e := newEnv(t, func(s *sphttp.Server) {
		s.Limits.VisitorRate = sphttp.Rate{Burst: 3, Every: time.Minute}
		s.Limits.TokenRate = sphttp.Rate{Burst: 2, Every: time.Minute}
	})
	tn := e.newTenant("acme")
	for _, tc := range []struct {
		name  string
		c     *client
		burst int
	}{
		{"visitor", e.visitor(tn.ws.ID), 3},
		{"api token", e.withToken(tn.token), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/v1/widget/conversations"
			if tc.c.bearer == tn.token {
				path = "/api/v1/queues"
			}
			for i := range tc.burst {
				if r := tc.c.do("GET", path, nil); r.status != 200 {
					t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
				}
			}
			r := tc.c.do("GET", path, nil)
			if r.status != 429 || r.header.Get("Retry-After") == "" || r.errorBody(t).Code != starpost.ETOOMANY {
				t.Fatalf("past the rate: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
			}
			e.clock.Advance(time.Minute)
			if r := tc.c.do("GET", path, nil); r.status != 200 {
				t.Fatalf("a minute later: %d %s", r.status, r.body)
			}
		})
	}
	other := e.visitor(tn.ws.ID)
	other.mustJSON("GET", "/api/v1/widget/conversations", nil, 200, nil)
	agent := e.login(tn.agent)
	for range 10 {
		agent.mustJSON("GET", "/api/v1/conversations", nil, 200, nil)
	}
}

// TestVisitorMessageRateOnSocket: a visitor's WebSocket messages count
// against the same rate; past it the frame is refused with an error frame
// and nothing is written.
func TestVisitorMessageRateOnSocket(t *testing.T) {
	e := newEnv(t, func(s *sphttp.Server) { s.Limits.VisitorRate = sphttp.Rate{Burst: 3, Every: time.Minute} })
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	v := e.visitor(tn.ws.ID)
	var started sphttp.ConversationResponse
	v.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "hi", "idempotency_key": "v-0"}, 201, &started)    // 1
	conn := v.dial(ctx, "/api/v1/widget/stream?cursor=0")                                                                           // 2
	write(t, ctx, conn, sphttp.Frame{Type: "message", ConversationID: started.Conversation.ID, Text: "one", IdempotencyKey: "v-1"}) // 3
	readUntil(t, ctx, conn, func(f sphttp.Frame) bool { return f.Type == "ack" })
	write(t, ctx, conn, sphttp.Frame{Type: "message", ConversationID: started.Conversation.ID, Text: "two", IdempotencyKey: "v-2"})
	got := readUntil(t, ctx, conn, func(f sphttp.Frame) bool { return f.Type == "ack" || f.Type == "error" })
	last := got[len(got)-1]
	if last.Type != "error" || last.Error.Code != starpost.ETOOMANY || last.IdempotencyKey != "v-2" {
		t.Fatalf("past the rate: %+v", last)
	}
	evs, err := e.db.ListEvents(e.ctx, starpost.EventFilter{WorkspaceID: tn.ws.ID, ConversationID: started.Conversation.ID})
	must(t, err)
	for _, ev := range evs {
		if ev.IdempotencyKey == "v-2" {
			t.Fatal("a refused message was written")
		}
	}
}

// TestSocketLimit: past the node's WebSocket limit visitors get 503 with
// Retry-After; agents always connect.
func TestSocketLimit(t *testing.T) {
	e := newEnv(t, func(s *sphttp.Server) { s.Limits.MaxSockets = 1 })
	tn := e.newTenant("acme")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	agent := e.login(tn.agent)
	agent.dial(ctx, "/api/v1/stream")
	r := e.visitor(tn.ws.ID).do("GET", "/api/v1/widget/stream", nil)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("visitor socket past the limit: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	agent.dial(ctx, "/api/v1/stream") // never refused
}

// TestOverloadSheds: past MaxInflightVisitor widget requests in progress, the
// next widget request gets 503 with Retry-After at once; agents are served.
func TestOverloadSheds(t *testing.T) {
	bs := &blockingStore{kind: starpost.KindCreated, entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnv(t, func(s *sphttp.Server) {
		s.Limits.MaxInflightVisitor = 1
		bs.Store = s.Store
		s.Store = bs
	})
	tn := e.newTenant("acme")
	first, second := e.visitor(tn.ws.ID), e.visitor(tn.ws.ID)
	started := make(chan response, 1)
	go func() {
		started <- first.do("POST", "/api/v1/widget/conversations", map[string]string{"text": "hello", "idempotency_key": "v-1"})
	}()
	<-bs.entered
	for _, path := range []string{"/api/v1/widget/conversations", "/api/v1/widget/" + tn.ws.ID + "/session"} {
		r := second.do("GET", path, nil)
		if path != "/api/v1/widget/conversations" {
			r = e.anon().do("POST", path, nil)
		}
		if r.status != 503 || r.header.Get("Retry-After") == "" || r.errorBody(t).Code != starpost.EUNAVAILABLE {
			t.Fatalf("%s while overloaded: %d %q %s", path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	e.login(tn.agent).mustJSON("GET", "/api/v1/conversations", nil, 200, nil)
	close(bs.release)
	if r := <-started; r.status != 201 {
		t.Fatalf("the request in progress: %d %s", r.status, r.body)
	}
	second.mustJSON("GET", "/api/v1/widget/conversations", nil, 200, nil)
}
