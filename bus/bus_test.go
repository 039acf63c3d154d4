package bus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
)

// guard bounds how long a test waits for an event before it fails instead
// of hanging. It is a deadlock guard, not a performance threshold.
const guard = 30 * time.Second

// never is a gap delay long enough that only events arriving over NATS, not
// the store, can close a gap during a test.
const never = time.Hour

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("BUS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func open(t testing.TB, opts bus.Options) *bus.Bus {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	b, err := bus.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bus: %v", err)
		}
	})
	return b
}

func subscribe(t testing.TB, b *bus.Bus, ws string) starpost.Subscription {
	t.Helper()
	s, err := b.Subscribe(ws)
	if err != nil {
		t.Fatalf("subscribe %q: %v", ws, err)
	}
	t.Cleanup(s.Close)
	return s
}

func publish(t testing.TB, b *bus.Bus, events ...*starpost.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), events...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// ev returns a committed message event (or an ephemeral typing signal when
// cursor is 0).
func ev(ws string, cursor int64) *starpost.Event {
	e := &starpost.Event{WorkspaceID: ws, ConversationID: "cv_1", Cursor: cursor, Kind: starpost.KindMessage,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
		Body:  starpost.MustBody(starpost.MessageBody{Text: fmt.Sprintf("m%d", cursor)})}
	if cursor == 0 {
		e.Kind, e.Body = starpost.KindTyping, nil
	}
	return e
}

// recv reads n events from s.
func recv(t testing.TB, s starpost.Subscription, n int) []*starpost.Event {
	t.Helper()
	var out []*starpost.Event
	timer := time.NewTimer(guard)
	defer timer.Stop()
	for len(out) < n {
		select {
		case e, ok := <-s.Events():
			if !ok {
				t.Fatalf("subscription closed after %d of %d events: %v", len(out), n, s.(*bus.Subscription).Err())
			}
			out = append(out, e)
		case <-timer.C:
			t.Fatalf("got %d of %d events before the guard", len(out), n)
		}
	}
	return out
}

func cursors(evs []*starpost.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Cursor
	}
	return out
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// appendN commits n events to the log's workspace ws and returns them.
func appendN(t testing.TB, l *bustest.Log, ws string, n int) []*starpost.Event {
	t.Helper()
	evs := make([]*starpost.Event, n)
	for i := range evs {
		evs[i] = ev(ws, 0)
		evs[i].Kind, evs[i].Body = starpost.KindMessage, starpost.MustBody(starpost.MessageBody{Text: "hi"})
	}
	out, err := l.Append(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidWorkspaceID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"ws_0123abcd", true},
		{"ws-A_9", true},
		{"", false},
		{"ws.1", false},
		{"ws*", false},
		{"ws>", false},
		{"ws 1", false},
		{"ws\n1", false},
		{"工作区", false},
		{string(make([]byte, 65)), false},
	}
	for _, tt := range tests {
		err := bus.ValidWorkspaceID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidWorkspaceID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil && starpost.ErrorCode(err) != starpost.EINVALID {
			t.Errorf("ValidWorkspaceID(%q) code = %s, want invalid", tt.id, starpost.ErrorCode(err))
		}
	}
}

func TestPublishSubscribeRejectBadInput(t *testing.T) {
	b := open(t, bus.Options{})
	tests := []struct {
		name string
		ev   *starpost.Event
	}{
		{"nil", nil},
		{"no workspace", &starpost.Event{Kind: starpost.KindTyping}},
		{"wildcard workspace", &starpost.Event{WorkspaceID: "ws_>", Kind: starpost.KindTyping}},
		{"dotted workspace", &starpost.Event{WorkspaceID: "ws.a", Kind: starpost.KindTyping}},
		{"negative cursor", &starpost.Event{WorkspaceID: "ws_a", Cursor: -1, Kind: starpost.KindTyping}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Publish(context.Background(), ev("ws_a", 0), tt.ev)
			if starpost.ErrorCode(err) != starpost.EINVALID {
				t.Fatalf("Publish = %v, want an invalid error", err)
			}
		})
	}
	if _, err := b.Subscribe("ws.*"); starpost.ErrorCode(err) != starpost.EINVALID {
		t.Fatalf("Subscribe(ws.*) = %v, want invalid", err)
	}
	// Nothing of a rejected batch went out.
	s := subscribe(t, b, "")
	publish(t, b, ev("ws_ok", 1))
	if got := recv(t, s, 1); got[0].WorkspaceID != "ws_ok" {
		t.Fatalf("first event is from %s, want ws_ok", got[0].WorkspaceID)
	}
}

func TestEmbeddedDelivery(t *testing.T) {
	b := open(t, bus.Options{BaselineDelay: -1}) // no hold: the test checks the interleaving of workspaces
	if b.ClientURL() != "" {
		t.Fatalf("in-process only bus has ClientURL %q", b.ClientURL())
	}
	wsA := subscribe(t, b, "ws_a")
	wsB := subscribe(t, b, "ws_b")
	all := subscribe(t, b, "")

	publish(t, b, ev("ws_a", 1), ev("ws_b", 1), ev("ws_a", 2))
	if got := cursors(recv(t, wsA, 2)); !equal(got, []int64{1, 2}) {
		t.Errorf("ws_a got %v", got)
	}
	gotB := recv(t, wsB, 1)
	if gotB[0].WorkspaceID != "ws_b" || gotB[0].Cursor != 1 {
		t.Errorf("ws_b got %+v", gotB[0])
	}
	gotAll := recv(t, all, 3)
	for i, want := range []string{"ws_a", "ws_b", "ws_a"} {
		if gotAll[i].WorkspaceID != want {
			t.Errorf("all[%d] from %s, want %s", i, gotAll[i].WorkspaceID, want)
		}
	}
	// The event survives the trip intact.
	var body starpost.MessageBody
	if err := gotAll[2].DecodeBody(&body); err != nil || body.Text != "m2" || gotAll[2].Kind != starpost.KindMessage {
		t.Errorf("round trip: %+v, body %+v, err %v", gotAll[2], body, err)
	}
}

func TestTwoNodes(t *testing.T) {
	log := bustest.NewLog()
	evs := appendN(t, log, "ws_x", 3)
	n1 := open(t, bus.Options{Name: "n1", Listen: "127.0.0.1:0", Store: log, GapDelay: never, TailCheck: -1})
	if n1.ClientURL() == "" {
		t.Fatal("listening bus reports no ClientURL")
	}
	n2 := open(t, bus.Options{Name: "n2", URL: n1.ClientURL(), Store: log, GapDelay: never, TailCheck: -1})
	s1 := subscribe(t, n1, "ws_x")
	s2 := subscribe(t, n2, "ws_x")

	// Node 1 publishes cursor 1 and both nodes see it.
	publish(t, n1, evs[0])
	recv(t, s1, 1)
	recv(t, s2, 1)
	// Publications of two nodes cross: 3 from node 1 before 2 from node 2.
	publish(t, n1, evs[2])
	publish(t, n2, evs[1])
	for i, s := range []starpost.Subscription{s1, s2} {
		if got := cursors(recv(t, s, 2)); !equal(got, []int64{2, 3}) {
			t.Errorf("node %d got %v, want [2 3]", i+1, got)
		}
	}
	for i, b := range []*bus.Bus{n1, n2} {
		if st := b.Stats(); st.StoreReads != 0 {
			t.Errorf("node %d read the store %d times", i+1, st.StoreReads)
		}
	}
}

func TestExternalServer(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(guard) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })

	a := open(t, bus.Options{Name: "a", URL: srv.ClientURL()})
	b := open(t, bus.Options{Name: "b", URL: srv.ClientURL(), BaselineDelay: -1})
	if a.ClientURL() != srv.ClientURL() {
		t.Errorf("ClientURL = %q, want %q", a.ClientURL(), srv.ClientURL())
	}
	s := subscribe(t, b, "ws_e")
	publish(t, a, ev("ws_e", 1), ev("ws_e", 0), ev("ws_e", 2))
	got := recv(t, s, 3)
	if !equal(cursors(got), []int64{1, 0, 2}) || got[1].Kind != starpost.KindTyping {
		t.Fatalf("got %v", cursors(got))
	}
}

// TestOrdering publishes committed events in various wire orders with a gap
// delay so long that only NATS can close a gap, and checks what a
// subscriber receives.
func TestOrdering(t *testing.T) {
	tests := []struct {
		name       string
		publish    []int64 // cursors in wire order, 0 = ephemeral
		want       []int64
		duplicates int64
	}{
		{"in order", []int64{1, 2, 3}, []int64{1, 2, 3}, 0},
		{"reordered", []int64{1, 3, 2}, []int64{1, 2, 3}, 0},
		{"reversed tail", []int64{1, 5, 4, 3, 2}, []int64{1, 2, 3, 4, 5}, 0},
		{"duplicates", []int64{1, 2, 2, 1, 3, 3}, []int64{1, 2, 3}, 3},
		{"held duplicate", []int64{1, 3, 3, 2}, []int64{1, 2, 3}, 1},
		{"ephemeral passes a gap", []int64{1, 3, 0, 2}, []int64{1, 0, 2, 3}, 0},
		{"baseline from first event", []int64{7, 8, 6}, []int64{7, 8}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := bustest.NewLog()
			appendN(t, log, "ws_o", 10)
			b := open(t, bus.Options{Store: log, GapDelay: never, BaselineDelay: -1, TailCheck: -1})
			s := subscribe(t, b, "ws_o")
			marker := subscribe(t, b, "ws_other")
			evs := make([]*starpost.Event, len(tt.publish))
			for i, c := range tt.publish {
				evs[i] = ev("ws_o", c)
			}
			publish(t, b, evs...)
			// The hub handles messages in wire order: once the marker is
			// through, every event before it has been handled.
			publish(t, b, ev("ws_other", 0))
			recv(t, marker, 1)

			if got := cursors(recv(t, s, len(tt.want))); !equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			select {
			case e := <-s.Events():
				t.Fatalf("extra event %d", e.Cursor)
			default:
			}
			st := b.Stats()
			if st.Duplicates != tt.duplicates || st.StoreReads != 0 || st.Held != 0 {
				t.Fatalf("stats %+v, want %d duplicates, no store reads, none held", st, tt.duplicates)
			}
		})
	}
}

// TestGapFilling publishes committed events with some missing from the wire
// and checks that the subscriber still gets every event, in order, once.
func TestGapFilling(t *testing.T) {
	tests := []struct {
		name    string
		inStore int
		publish []int64
		want    []int64
		filled  int64
		skipped int64
	}{
		{"one missing", 4, []int64{1, 2, 4}, []int64{1, 2, 3, 4}, 1, 0},
		{"several missing", 9, []int64{1, 4, 9, 6}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, 0},
		{"missing then more", 6, []int64{1, 3, 5, 6}, []int64{1, 2, 3, 4, 5, 6}, 2, 0},
		{"not in store either", 2, []int64{1, 4}, []int64{1, 2, 4}, 1, 1},
		{"page boundary", starpost.MaxEventPage + 5, []int64{1, starpost.MaxEventPage + 5}, nil, starpost.MaxEventPage + 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := bustest.NewLog()
			appendN(t, log, "ws_g", tt.inStore)
			// A fill delivers at once: the buffer holds the largest one.
			b := open(t, bus.Options{Store: log, GapDelay: time.Millisecond, SubscriberBuffer: 2 * starpost.MaxEventPage})
			s := subscribe(t, b, "ws_g")
			for _, c := range tt.publish {
				publish(t, b, ev("ws_g", c))
			}
			want := tt.want
			if want == nil {
				for c := int64(1); c <= int64(tt.inStore); c++ {
					want = append(want, c)
				}
			}
			got := recv(t, s, len(want))
			if !equal(cursors(got), want) {
				t.Fatalf("got %v, want %v", cursors(got), want)
			}
			st := b.Stats()
			// Events never published must come from the store; others may
			// too, when a fill runs before their publication arrives.
			if st.Filled < tt.filled || st.Skipped != tt.skipped || st.Held != 0 {
				t.Fatalf("stats %+v, want at least %d filled, %d skipped", st, tt.filled, tt.skipped)
			}
		})
	}
}

func TestGapFillingWithoutStoreSkips(t *testing.T) {
	b := open(t, bus.Options{GapDelay: time.Millisecond})
	s := subscribe(t, b, "ws_n")
	publish(t, b, ev("ws_n", 1), ev("ws_n", 3))
	if got := cursors(recv(t, s, 2)); !equal(got, []int64{1, 3}) {
		t.Fatalf("got %v", got)
	}
	if st := b.Stats(); st.Skipped != 1 {
		t.Fatalf("skipped %d, want 1", st.Skipped)
	}
}

func TestMaxHeldForcesFill(t *testing.T) {
	log := bustest.NewLog()
	appendN(t, log, "ws_m", 6)
	b := open(t, bus.Options{Store: log, GapDelay: never, MaxHeld: 3})
	s := subscribe(t, b, "ws_m")
	publish(t, b, ev("ws_m", 1), ev("ws_m", 4), ev("ws_m", 5), ev("ws_m", 6))
	if got := cursors(recv(t, s, 6)); !equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("got %v", got)
	}
}

func TestStoreFailureClosesSubscribers(t *testing.T) {
	log := bustest.NewLog()
	appendN(t, log, "ws_f", 3)
	boom := errors.New("disk on fire")
	log.Fail.Store(&boom)
	b := open(t, bus.Options{Store: log, GapDelay: time.Millisecond})
	s := subscribe(t, b, "ws_f")
	other := subscribe(t, b, "ws_other")
	publish(t, b, ev("ws_f", 1), ev("ws_f", 3))
	recv(t, s, 1)
	for range s.Events() { // the held event may or may not come before the close
	}
	if err := s.(*bus.Subscription).Err(); !errors.Is(err, bus.ErrSlowConsumer) {
		t.Fatalf("Err = %v, want ErrSlowConsumer", err)
	}
	publish(t, b, ev("ws_other", 0))
	recv(t, other, 1)
}

func TestSlowSubscriberClosed(t *testing.T) {
	const buf = 4
	b := open(t, bus.Options{SubscriberBuffer: buf})
	slow := subscribe(t, b, "ws_s")
	fast := subscribe(t, b, "ws_s")
	all := subscribe(t, b, "")
	for c := int64(1); c <= 3*buf; c++ {
		publish(t, b, ev("ws_s", c))
		if got := recv(t, fast, 1)[0].Cursor; got != c {
			t.Fatalf("fast got %d, want %d", got, c)
		}
		recv(t, all, 1)
	}
	var got []int64
	for e := range slow.Events() {
		got = append(got, e.Cursor)
	}
	if !equal(got, []int64{1, 2, 3, 4}) {
		t.Fatalf("slow got %v before its close", got)
	}
	if err := slow.(*bus.Subscription).Err(); !errors.Is(err, bus.ErrSlowConsumer) {
		t.Fatalf("slow Err = %v", err)
	}
	if err := fast.(*bus.Subscription).Err(); err != nil {
		t.Fatalf("fast Err = %v", err)
	}
	if st := b.Stats(); st.SlowClosed != 1 || st.Subscribers != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestClose(t *testing.T) {
	b, err := bus.Open(context.Background(), bus.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.Subscribe("ws_c")
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, ev("ws_c", 1))
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Events received before Close are still delivered, then the channel closes.
	var got []int64
	for e := range s.Events() {
		got = append(got, e.Cursor)
	}
	if !equal(got, []int64{1}) {
		t.Fatalf("got %v", got)
	}
	if err := s.(*bus.Subscription).Err(); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Err = %v", err)
	}
	s.Close()
	if err := b.Publish(context.Background(), ev("ws_c", 2)); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Publish after Close = %v", err)
	}
	if _, err := b.Subscribe("ws_c"); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Subscribe after Close = %v", err)
	}
}

func TestJetStreamEmbedded(t *testing.T) {
	b := open(t, bus.Options{JetStreamDir: t.TempDir()})
	js, err := b.Conn().JetStream()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "leases"})
	if err != nil {
		t.Fatalf("create kv: %v", err)
	}
	if _, err := kv.Create("router", []byte("n1")); err != nil {
		t.Fatalf("kv create: %v", err)
	}
	if _, err := kv.Create("router", []byte("n2")); err == nil {
		t.Fatal("second kv create of the same key succeeded")
	}
}
