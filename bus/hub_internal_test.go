package bus

import (
	"context"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus/bustest"
)

// TestCatchUpAfterReconnect: events committed while the connection was down
// (published to nobody) are read from the store when it comes back.
func TestCatchUpAfterReconnect(t *testing.T) {
	ctx := context.Background()
	log := bustest.NewLog()
	var evs []*starpost.Event
	for i := 0; i < 5; i++ {
		e, err := log.Append(ctx, &starpost.Event{WorkspaceID: "ws_r", ConversationID: "cv_1", Kind: starpost.KindMessage})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	b, err := Open(ctx, Options{Store: log, GapDelay: time.Hour, TailCheck: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, err := b.Subscribe("ws_r")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, evs[0], evs[1]); err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 2; want++ {
		if e := <-sub.Events(); e.Cursor != want {
			t.Fatalf("got %d, want %d", e.Cursor, want)
		}
	}
	b.hub.catchUp() // as the reconnect handler does
	for want := int64(3); want <= 5; want++ {
		if e := <-sub.Events(); e.Cursor != want {
			t.Fatalf("got %d, want %d", e.Cursor, want)
		}
	}
	if err := b.Publish(ctx, evs[4]); err != nil { // the late publication is a duplicate
		t.Fatal(err)
	}
	b.Publish(ctx, &starpost.Event{WorkspaceID: "ws_r", Kind: starpost.KindTyping})
	if e := <-sub.Events(); e.Cursor != 0 {
		t.Fatalf("got %d after catch-up, want the typing signal", e.Cursor)
	}
	if st := b.Stats(); st.Filled != 3 || st.Duplicates != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestBaselineHold: the first publications of a workspace that crossed are
// still delivered in order, once the baseline delay ends.
func TestBaselineHold(t *testing.T) {
	ev := func(c int64) *starpost.Event {
		return &starpost.Event{WorkspaceID: "ws_b", ConversationID: "cv_1", Cursor: c, Kind: starpost.KindMessage}
	}
	tests := []struct {
		name    string
		maxHeld int
		arrive  []int64
		want    []int64
	}{
		{"crossed", 100, []int64{7, 6, 8}, []int64{6, 7, 8}},
		{"crossed with a duplicate", 100, []int64{7, 6, 7}, []int64{6, 7}},
		{"gap after the baseline", 100, []int64{9, 6, 7}, []int64{6, 7}}, // 8 awaits a fill
		{"max held ends the delay", 2, []int64{7, 6, 8}, []int64{6, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{GapDelay: time.Hour, BaselineDelay: time.Hour, MaxHeld: tt.maxHeld}
			opts.setDefaults()
			h := newHub(opts, opts.Logger)
			defer h.close()
			s, err := h.subscribe("ws_b", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.arrive {
				h.handle(ev(c))
			}
			if tt.maxHeld > len(tt.arrive) && len(s.ch) != 0 {
				t.Fatalf("%d events delivered during the baseline delay", len(s.ch))
			}
			h.baseline(h.ws["ws_b"]) // as the timer does
			var got []int64
			for len(s.ch) > 0 {
				got = append(got, (<-s.ch).Cursor)
			}
			if !equalCursors(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func equalCursors(a, b []int64) bool {
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

// TestTailCheck: a committed event whose publication was lost, with no
// later event to reveal the gap, is read from the store by the second tail
// check that finds it undelivered, and not before.
func TestTailCheck(t *testing.T) {
	ctx := context.Background()
	log := bustest.NewLog()
	appendOne := func() *starpost.Event {
		e, err := log.Append(ctx, &starpost.Event{WorkspaceID: "ws_t", ConversationID: "cv_1", Kind: starpost.KindMessage})
		if err != nil {
			t.Fatal(err)
		}
		return e[0]
	}
	b, err := Open(ctx, Options{Store: log, GapDelay: time.Hour, BaselineDelay: -1, TailCheck: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub, err := b.Subscribe("ws_t")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, appendOne()); err != nil {
		t.Fatal(err)
	}
	<-sub.Events()
	appendOne() // 2 and 3 are committed, never published
	appendOne()

	b.hub.checkTails() // first sight of cursor 3: it may still be in flight
	if n := log.ListCalls.Load(); n != 0 {
		t.Fatalf("first check read the store %d times", n)
	}
	b.hub.checkTails() // still not delivered: read it
	for want := int64(2); want <= 3; want++ {
		if e := <-sub.Events(); e.Cursor != want {
			t.Fatalf("got %d, want %d", e.Cursor, want)
		}
	}
	b.hub.checkTails() // caught up: nothing to do
	b.hub.wg.Wait()
	if n := log.ListCalls.Load(); n != 1 {
		t.Fatalf("store read %d times, want 1", n)
	}
}
