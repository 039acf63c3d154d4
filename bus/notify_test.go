package bus_test

import (
	"errors"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
)

// takeN waits for notifications from s until n events were taken, and
// returns them with the error of the last Take.
func takeN(t *testing.T, s *bus.Subscription, woke <-chan struct{}, n int) ([]*starpost.Event, error) {
	t.Helper()
	var out []*starpost.Event
	timer := time.NewTimer(guard)
	defer timer.Stop()
	for {
		evs, err := s.Take()
		out = append(out, evs...)
		if len(out) >= n || err != nil {
			return out, err
		}
		select {
		case <-woke:
		case <-timer.C:
			t.Fatalf("took %d of %d events before the guard", len(out), n)
		}
	}
}

// waitEnd waits for notifications from s until it has ended.
func waitEnd(t *testing.T, s *bus.Subscription, woke <-chan struct{}) {
	t.Helper()
	timer := time.NewTimer(guard)
	defer timer.Stop()
	for s.Err() == nil {
		select {
		case <-woke:
		case <-timer.C:
			t.Fatal("the subscription did not end before the guard")
		}
	}
}

// TestSubscribeNotify: a pull subscription, filtered or not, queues its
// events in order without a channel, calls notify, holds nothing once
// taken, is closed as a slow consumer when its queue is full (after giving
// what it had queued), and reports ErrClosed after Close.
func TestSubscribeNotify(t *testing.T) {
	const buf = 4
	tests := []struct {
		name   string
		filter *bus.Filter
	}{
		{"every event", nil},
		{"filtered", &bus.Filter{Conversations: []string{"cv_1"}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := []string{"ws_n1", "ws_n2"}[i]
			b := open(t, bus.Options{SubscriberBuffer: buf, BaselineDelay: -1})
			woke := make(chan struct{}, 64)
			notify := func() {
				select {
				case woke <- struct{}{}:
				default:
				}
			}
			s, err := b.SubscribeNotify(ws, tt.filter, notify)
			if err != nil {
				t.Fatal(err)
			}
			if s.Events() != nil {
				t.Fatal("a pull subscription has a channel")
			}
			other := &starpost.Event{WorkspaceID: ws, ConversationID: "cv_other", Cursor: 3, Kind: starpost.KindMessage}
			publish(t, b, ev(ws, 1), ev(ws, 2), other, ev(ws, 4))
			want := []int64{1, 2, 3, 4}
			if tt.filter != nil {
				want = []int64{1, 2, 4}
			}
			got, err := takeN(t, s, woke, len(want))
			if err != nil || !equal(cursors(got), want) {
				t.Fatalf("took %v (err %v), want %v", cursors(got), err, want)
			}
			if evs, err := s.Take(); evs != nil || err != nil {
				t.Fatalf("a drained queue gave %v, %v", cursors(evs), err)
			}
			// Nobody takes: the fifth queued event closes it.
			for c := int64(5); c <= 5+buf; c++ {
				publish(t, b, ev(ws, c))
			}
			waitEnd(t, s, woke)
			got, err = s.Take()
			if !errors.Is(err, bus.ErrSlowConsumer) || !equal(cursors(got), []int64{5, 6, 7, 8}) {
				t.Fatalf("slow: took %v, err %v", cursors(got), err)
			}
			if evs, err := s.Take(); evs != nil || !errors.Is(err, bus.ErrSlowConsumer) {
				t.Fatalf("after the end: %v, %v", cursors(evs), err)
			}

			s2, err := b.SubscribeNotify(ws, tt.filter, notify)
			if err != nil {
				t.Fatal(err)
			}
			s2.Close()
			if _, err := takeN(t, s2, woke, 1); !errors.Is(err, bus.ErrClosed) {
				t.Fatalf("closed: err %v", err)
			}
			if st := b.Stats(); st.Subscribers != 0 || st.SlowClosed != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestSubscribeNotifyRejectsBadInput(t *testing.T) {
	b := open(t, bus.Options{})
	if _, err := b.SubscribeNotify("", nil, func() {}); err == nil {
		t.Error("no workspace accepted")
	}
	if _, err := b.SubscribeNotify("ws_x", nil, nil); err == nil {
		t.Error("no notify accepted")
	}
}
