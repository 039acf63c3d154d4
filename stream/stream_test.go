package stream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
	"github.com/starpost/starpost/stream"
)

// guard bounds every wait so a broken stream fails the test instead of
// hanging it. It is a deadlock guard, not a performance threshold.
const guard = 30 * time.Second

const ws = "ws_s"

func openBus(t testing.TB, opts bus.Options) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open bus: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func openStream(t testing.TB, store starpost.ConversationService, b starpost.EventBus, q stream.Query) *stream.Stream {
	t.Helper()
	s, err := stream.Open(context.Background(), store, b, q)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func msg(conv, text string) *starpost.Event {
	return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindMessage,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
		Body:  starpost.MustBody(starpost.MessageBody{Text: text})}
}

func typing(conv string) *starpost.Event {
	return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindTyping,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}}
}

// commit appends events to the store and, when b is not nil, publishes the
// committed events, as the API does.
func commit(t testing.TB, store starpost.ConversationService, b starpost.EventBus, events ...*starpost.Event) []*starpost.Event {
	t.Helper()
	out, err := store.Append(context.Background(), events...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if b != nil {
		if err := b.Publish(context.Background(), out...); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	return out
}

func commitN(t testing.TB, store starpost.ConversationService, b starpost.EventBus, conv string, n int) []*starpost.Event {
	t.Helper()
	evs := make([]*starpost.Event, n)
	for i := range evs {
		evs[i] = msg(conv, fmt.Sprintf("%s-%d", conv, i))
	}
	return commit(t, store, b, evs...)
}

// next reads n events from s.
func next(t testing.TB, s *stream.Stream, n int) []*starpost.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	out := make([]*starpost.Event, 0, n)
	for len(out) < n {
		e, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("next after %d of %d events: %v", len(out), n, err)
		}
		out = append(out, e)
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

func span(from, to int64) []int64 {
	var out []int64
	for c := from; c <= to; c++ {
		out = append(out, c)
	}
	return out
}

func TestOpenValidates(t *testing.T) {
	b := openBus(t, bus.Options{})
	log := bustest.NewLog()
	tests := []struct {
		name  string
		q     stream.Query
		field string
	}{
		{"no workspace", stream.Query{}, "workspace_id"},
		{"negative cursor", stream.Query{WorkspaceID: ws, AfterCursor: -1}, "after_cursor"},
		{"huge page", stream.Query{WorkspaceID: ws, PageSize: starpost.MaxEventPage + 1}, "page_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stream.Open(context.Background(), log, b, tt.q)
			if starpost.ErrorCode(err) != starpost.EINVALID || starpost.ErrorField(err) != tt.field {
				t.Fatalf("Open = %v, want invalid %s", err, tt.field)
			}
		})
	}
	if _, err := stream.Open(context.Background(), log, b, stream.Query{WorkspaceID: "ws.*"}); err == nil {
		t.Fatal("Open accepted a workspace the bus cannot subscribe to")
	}
}

// TestReplayThenLive: events committed before the stream opened and events
// published after it arrive exactly once, in order, from cursor 1 or after
// the client's cursor.
func TestReplayThenLive(t *testing.T) {
	tests := []struct {
		name   string
		before int
		after  int
		cursor int64
		page   int
	}{
		{"empty store", 0, 5, 0, 0},
		{"from the start", 7, 5, 0, 0},
		{"resume", 7, 5, 4, 0},
		{"resume at end", 7, 5, 7, 0},
		{"small pages", 23, 4, 2, 5},
		{"page-sized replay", 10, 3, 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := bustest.NewLog()
			b := openBus(t, bus.Options{Store: log})
			commitN(t, log, b, "cv_1", tt.before) // published to nobody
			s := openStream(t, log, b, stream.Query{WorkspaceID: ws, AfterCursor: tt.cursor, PageSize: tt.page})
			commitN(t, log, b, "cv_1", tt.after)
			total := int64(tt.before + tt.after)
			want := span(tt.cursor+1, total)
			got := next(t, s, len(want))
			if !slices.Equal(cursors(got), want) {
				t.Fatalf("got %v, want %v", cursors(got), want)
			}
			// Nothing more: the next event is the one committed now.
			commitN(t, log, b, "cv_1", 1)
			if e := next(t, s, 1)[0]; e.Cursor != total+1 {
				t.Fatalf("then got %d, want %d", e.Cursor, total+1)
			}
			if s.Last() != total+1 {
				t.Fatalf("Last = %d", s.Last())
			}
		})
	}
}

// TestConcurrentCommits opens a stream while another goroutine commits and
// publishes: whatever the interleaving of replay and live, each event comes
// once and in order.
func TestConcurrentCommits(t *testing.T) {
	const n = 600
	log := bustest.NewLog()
	b := openBus(t, bus.Options{Store: log})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			commitN(t, log, b, "cv_1", 1)
		}
	}()
	commitN(t, log, b, "cv_1", 1) // at least one before
	s := openStream(t, log, b, stream.Query{WorkspaceID: ws, PageSize: 50})
	got := next(t, s, n+1)
	wg.Wait()
	if !slices.Equal(cursors(got), span(1, n+1)) {
		t.Fatalf("got %v", cursors(got))
	}
}

// TestSlowConsumerRecovery lets the bus close the stream's subscription for
// slowness and checks that the stream recovers from the store.
func TestSlowConsumerRecovery(t *testing.T) {
	log := bustest.NewLog()
	b := openBus(t, bus.Options{Store: log, SubscriberBuffer: 2})
	commitN(t, log, b, "cv_1", 3)
	s := openStream(t, log, b, stream.Query{WorkspaceID: ws})
	if got := cursors(next(t, s, 2)); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("got %v", got)
	}
	// Not reading while 20 events are published overflows the buffer of 2.
	commitN(t, log, b, "cv_1", 20)
	got := next(t, s, 21)
	if !slices.Equal(cursors(got), span(3, 23)) {
		t.Fatalf("got %v", cursors(got))
	}
	// At least one: the hub's baseline hold may also hand the stream the
	// three events committed before it opened, overflowing it early.
	if st := s.Stats(); st.Resubscribes < 1 {
		t.Fatalf("stats %+v, want a resubscribe", st)
	}
	commitN(t, log, b, "cv_1", 1)
	if e := next(t, s, 1)[0]; e.Cursor != 24 {
		t.Fatalf("then got %d", e.Cursor)
	}
}

// TestFilter checks per-conversation, per-kind and Match filters, on replay
// and live, committed and ephemeral.
func TestFilter(t *testing.T) {
	note := func(conv string) *starpost.Event {
		e := msg(conv, "internal")
		e.Kind, e.Actor = starpost.KindNote, starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "ag_1"}
		return e
	}
	// Cursors: 1 a, 2 b, 3 a-note, 4 b | live: 5 a, 6 b, typing a, typing b, 7 a-note, 8 a
	before := []*starpost.Event{msg("cv_a", "1"), msg("cv_b", "2"), note("cv_a"), msg("cv_b", "4")}
	after := []*starpost.Event{msg("cv_a", "5"), msg("cv_b", "6"), typing("cv_a"), typing("cv_b"), note("cv_a"), msg("cv_a", "8")}
	tests := []struct {
		name string
		q    stream.Query
		want []string // conv/kind/cursor
	}{
		{"conversation a", stream.Query{ConversationIDs: []string{"cv_a"}},
			[]string{"cv_a/message/1", "cv_a/note/3", "cv_a/message/5", "cv_a/typing/0", "cv_a/note/7", "cv_a/message/8"}},
		{"conversation b after cursor", stream.Query{ConversationIDs: []string{"cv_b"}, AfterCursor: 2},
			[]string{"cv_b/message/4", "cv_b/message/6", "cv_b/typing/0"}},
		{"kinds", stream.Query{Kinds: []starpost.EventKind{starpost.KindNote, starpost.KindTyping}},
			[]string{"cv_a/note/3", "cv_a/typing/0", "cv_b/typing/0", "cv_a/note/7"}},
		{"match", stream.Query{Match: func(e *starpost.Event) bool { return e.Kind == starpost.KindMessage && e.ConversationID == "cv_b" }},
			[]string{"cv_b/message/2", "cv_b/message/4", "cv_b/message/6"}},
		{"all", stream.Query{AfterCursor: 6},
			[]string{"cv_a/typing/0", "cv_b/typing/0", "cv_a/note/7", "cv_a/message/8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := bustest.NewLog()
			// No baseline hold: the test checks where typing signals fall
			// among committed events.
			b := openBus(t, bus.Options{Store: log, BaselineDelay: -1})
			commit(t, log, b, clone(before)...)
			q := tt.q
			q.WorkspaceID = ws
			s := openStream(t, log, b, q)
			for _, e := range clone(after) {
				if e.Kind.Ephemeral() {
					if err := b.Publish(context.Background(), e); err != nil {
						t.Fatal(err)
					}
				} else {
					commit(t, log, b, e)
				}
			}
			var got []string
			for _, e := range next(t, s, len(tt.want)) {
				got = append(got, fmt.Sprintf("%s/%s/%d", e.ConversationID, e.Kind, e.Cursor))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got  %v\nwant %v\n%+v", got, tt.want, s.Stats())
			}
			// The stream has passed cursor 8 (possibly filtered out): a
			// matching marker comes next.
			marker := msg("cv_a", "marker")
			marker.Kind = starpost.KindNote
			if tt.q.Match != nil {
				marker = msg("cv_b", "marker")
			}
			if len(tt.q.ConversationIDs) > 0 && tt.q.ConversationIDs[0] == "cv_b" {
				marker = msg("cv_b", "marker")
			}
			commit(t, log, b, marker)
			if e := next(t, s, 1)[0]; e.Cursor != 9 {
				t.Fatalf("then got cursor %d, want 9", e.Cursor)
			}
		})
	}
}

func clone(evs []*starpost.Event) []*starpost.Event {
	out := make([]*starpost.Event, len(evs))
	for i, e := range evs {
		c := *e
		out[i] = &c
	}
	return out
}

// fakeBus is a starpost.EventBus whose deliveries the test controls.
type fakeBus struct {
	mu      sync.Mutex
	subs    []*fakeSub
	fail    error
	created int
}

type fakeSub struct {
	ch   chan *starpost.Event
	once sync.Once
}

func (s *fakeSub) Events() <-chan *starpost.Event { return s.ch }
func (s *fakeSub) Close()                         { s.once.Do(func() { close(s.ch) }) }

func (b *fakeBus) Publish(context.Context, ...*starpost.Event) error { return nil }

func (b *fakeBus) Subscribe(string) (starpost.Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return nil, b.fail
	}
	s := &fakeSub{ch: make(chan *starpost.Event, 100)}
	b.subs = append(b.subs, s)
	b.created++
	return s, nil
}

// current returns the newest subscription.
func (b *fakeBus) current() *fakeSub {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subs[len(b.subs)-1]
}

// TestLiveGapReadsStore: a bus that skips an event (as at the hub's baseline
// when publications cross) does not make the stream skip it.
func TestLiveGapReadsStore(t *testing.T) {
	log := bustest.NewLog()
	fb := &fakeBus{}
	evs := commitN(t, log, nil, "cv_1", 6)
	s := openStream(t, log, fb, stream.Query{WorkspaceID: ws, AfterCursor: 6})
	more := commitN(t, log, nil, "cv_1", 4) // 7..10
	sub := fb.current()
	sub.ch <- more[0]        // 7
	sub.ch <- more[2]        // 9: 8 is missing
	sub.ch <- more[1]        // 8 late: already replayed
	sub.ch <- more[3]        // 10
	sub.ch <- typing("cv_1") // ephemeral
	sub.ch <- evs[5]         // 6: old duplicate
	got := cursors(next(t, s, 5))
	if want := []int64{7, 8, 9, 10, 0}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if st := s.Stats(); st.LiveGaps != 1 || st.Replayed != 3 || st.Live != 1 || st.Ephemeral != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLiveEventMissingFromStore: an event the bus delivers but the store
// does not return is still delivered, once, and does not loop.
func TestLiveEventMissingFromStore(t *testing.T) {
	log := bustest.NewLog()
	fb := &fakeBus{}
	s := openStream(t, log, fb, stream.Query{WorkspaceID: ws})
	sub := fb.current()
	sub.ch <- &starpost.Event{WorkspaceID: ws, ConversationID: "cv_1", Cursor: 1, Kind: starpost.KindMessage}
	sub.ch <- &starpost.Event{WorkspaceID: ws, ConversationID: "cv_1", Cursor: 3, Kind: starpost.KindMessage}
	sub.ch <- &starpost.Event{WorkspaceID: ws, ConversationID: "cv_1", Cursor: 4, Kind: starpost.KindMessage}
	if got := cursors(next(t, s, 3)); !slices.Equal(got, []int64{1, 3, 4}) {
		t.Fatalf("got %v", got)
	}
}

func TestResubscribeFailure(t *testing.T) {
	log := bustest.NewLog()
	fb := &fakeBus{}
	s := openStream(t, log, fb, stream.Query{WorkspaceID: ws})
	boom := errors.New("bus down")
	fb.mu.Lock()
	fb.fail = boom
	fb.mu.Unlock()
	fb.current().Close()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want %v", err, boom)
	}
	// The bus comes back: the stream carries on from the store.
	fb.mu.Lock()
	fb.fail = nil
	fb.mu.Unlock()
	commitN(t, log, nil, "cv_1", 2)
	if got := cursors(next(t, s, 2)); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("got %v", got)
	}
}

func TestStoreFailure(t *testing.T) {
	log := bustest.NewLog()
	fb := &fakeBus{}
	boom := errors.New("db down")
	log.Fail.Store(&boom)
	if _, err := stream.Open(context.Background(), log, fb, stream.Query{WorkspaceID: ws}); !errors.Is(err, boom) {
		t.Fatalf("Open = %v", err)
	}
	if s := fb.current(); len(s.ch) != 0 {
		t.Fatal("unexpected events")
	}
	select {
	case _, ok := <-fb.current().ch:
		if ok {
			t.Fatal("subscription got an event")
		}
	default:
		t.Fatal("failed Open left its subscription open")
	}
}

func TestCloseUnblocksNext(t *testing.T) {
	log := bustest.NewLog()
	b := openBus(t, bus.Options{Store: log})
	s := openStream(t, log, b, stream.Query{WorkspaceID: ws})
	errc := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background())
		errc <- err
	}()
	s.Close()
	s.Close()
	if err := <-errc; !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("Next = %v", err)
	}
}

func TestNextHonoursContext(t *testing.T) {
	log := bustest.NewLog()
	s := openStream(t, log, &fakeBus{}, stream.Query{WorkspaceID: ws})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next = %v", err)
	}
}

func TestRun(t *testing.T) {
	log := bustest.NewLog()
	b := openBus(t, bus.Options{Store: log})
	commitN(t, log, b, "cv_1", 3)
	s := openStream(t, log, b, stream.Query{WorkspaceID: ws})
	stop := errors.New("enough")
	var got []int64
	err := s.Run(context.Background(), func(e *starpost.Event) error {
		got = append(got, e.Cursor)
		if len(got) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("Run = %v, got %v", err, got)
	}
}
