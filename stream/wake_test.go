package stream_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
	"github.com/starpost/starpost/stream"
)

// waker counts a stream's Wake calls into a channel.
type waker chan struct{}

func (w waker) wake() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// poll drives s as a WebSocket does: Poll until it has nothing, then wait
// for a Wake; it returns the first n events.
func poll(t testing.TB, s *stream.Stream, w waker, n int) []*starpost.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var out []*starpost.Event
	for len(out) < n {
		e, err := s.Poll(ctx)
		if err != nil {
			t.Fatalf("poll after %d of %d events: %v", len(out), n, err)
		}
		if e != nil {
			out = append(out, e)
			continue
		}
		select {
		case <-w:
		case <-ctx.Done():
			t.Fatalf("got %d of %d events before the guard", len(out), n)
		}
	}
	return out
}

// TestWake runs a stream driven by Wake and Poll, with no goroutine waiting
// on the bus: replay then live, in order and once, through a pulled
// subscription of bus.Bus (unfiltered and filtered) and, on a bus that
// cannot notify, through the stream's own forwarder; a pulled subscription
// that fills up while nobody polls is recovered from the store.
func TestWake(t *testing.T) {
	tests := []struct {
		name  string
		fake  bool // a bus that cannot notify
		convs []string
	}{
		{"bus, every event", false, nil},
		{"bus, filtered", false, []string{"cv_1"}},
		{"forwarded", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := bustest.NewLog()
			var b starpost.EventBus
			var fb *fakeBus
			if tt.fake {
				fb = &fakeBus{}
				b = fb
			} else {
				b = openBus(t, bus.Options{Store: log, SubscriberBuffer: 4})
			}
			publish := func(n int) {
				evs := commitN(t, log, nil, "cv_1", n)
				if fb != nil {
					for _, e := range evs {
						fb.current().ch <- e
					}
				} else if err := b.Publish(context.Background(), evs...); err != nil {
					t.Fatal(err)
				}
			}
			commitN(t, log, nil, "cv_1", 7) // before: replayed
			w := make(waker, 1)
			s := openStream(t, log, b, stream.Query{WorkspaceID: ws, AfterCursor: 2, PageSize: 3,
				ConversationIDs: tt.convs, Wake: w.wake})
			publish(5)
			if got := cursors(poll(t, s, w, 10)); !slices.Equal(got, span(3, 12)) {
				t.Fatalf("got %v", got)
			}
			// Nobody polls while 20 are published: the bus's queue of 4 (or
			// the forwarder's of 100) may overflow; nothing is lost.
			publish(20)
			if got := cursors(poll(t, s, w, 20)); !slices.Equal(got, span(13, 32)) {
				t.Fatalf("then got %v", got)
			}
			if st := s.Stats(); !tt.fake && st.Resubscribes < 1 {
				t.Fatalf("stats %+v, want a resubscribe after the overflow", st)
			}
			// Next works too.
			publish(1)
			if e := next(t, s, 1)[0]; e.Cursor != 33 {
				t.Fatalf("Next got %d", e.Cursor)
			}
			// Close wakes the driver, whose Poll then ends.
			select {
			case <-w: // an earlier wake
			default:
			}
			s.Close()
			select {
			case <-w:
			case <-time.After(guard):
				t.Fatal("no wake after Close")
			}
			if _, err := s.Poll(context.Background()); !errors.Is(err, stream.ErrClosed) {
				t.Fatalf("Poll after Close = %v", err)
			}
		})
	}
}
