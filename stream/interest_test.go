package stream_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
	"github.com/starpost/starpost/stream"
)

// TestInterest: a stream with an Interest is filtered at the bus hub: it
// gets its conversations, the conversations an event naming its
// participant brings, nothing else, and it does not mistake the cursors the
// hub skipped for gaps.
func TestInterest(t *testing.T) {
	named := func(kind starpost.EventKind, conv string, body any) *starpost.Event {
		return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: kind, Body: starpost.MustBody(body)}
	}
	// 2 to 41: every third one of another conversation.
	var overflow []*starpost.Event
	overflowWant := []int64{1}
	for c := int64(2); c <= 41; c++ {
		if c%3 == 0 {
			overflow = append(overflow, msg("cv_c", "other"))
		} else {
			overflow = append(overflow, msg("cv_a", "ours"))
			overflowWant = append(overflowWant, c)
		}
	}
	tests := []struct {
		name   string
		buffer int // subscriber buffer; small ones overflow and resubscribe
		live   []*starpost.Event
		want   []int64
	}{
		{"follow and unfollow", 0, []*starpost.Event{
			msg("cv_b", "2"), // not ours
			named(starpost.KindOffer, "cv_b", starpost.OfferBody{AgentID: "ag_1"}), // 3: brings cv_b
			msg("cv_b", "4"),
			msg("cv_c", "5"), // not ours
			msg("cv_a", "6"),
			named(starpost.KindOfferEnd, "cv_b", starpost.OfferEndBody{AgentID: "ag_1"}), // 7: cv_b leaves
			msg("cv_b", "8"),
			msg("cv_a", "9"),
		}, []int64{1, 3, 4, 6, 7, 9}},
		{"overflow resubscribes", 2, overflow, overflowWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := bustest.NewLog()
			b := openBus(t, bus.Options{Store: log, BaselineDelay: -1, SubscriberBuffer: tt.buffer})
			commit(t, log, b, msg("cv_a", "1"))
			var listed atomic.Int64
			var s *stream.Stream
			held := map[string]bool{}
			q := stream.Query{WorkspaceID: ws,
				Interest: &stream.Interest{Participants: []string{"ag_1"}, Conversations: func(context.Context) ([]string, error) {
					listed.Add(1)
					return []string{"cv_a"}, nil
				}},
				// A small agent view: offers to ag_1 bring a conversation,
				// the end of the offer takes it away.
				Match: func(e *starpost.Event) bool {
					switch e.Kind {
					case starpost.KindOffer:
						held[e.ConversationID] = true
					case starpost.KindOfferEnd:
						defer s.Unfollow(e.ConversationID)
						defer delete(held, e.ConversationID)
					}
					return held[e.ConversationID]
				}}
			held["cv_a"] = true
			s = openStream(t, log, b, q)
			if tt.buffer > 0 {
				commit(t, log, b, tt.live...)
				// The hub fans them all out while the stream does not read.
				deadline := time.Now().Add(guard)
				for b.Stats().Delivered < int64(len(tt.live)+1) {
					if time.Now().After(deadline) {
						t.Fatalf("hub stats %+v", b.Stats())
					}
					time.Sleep(time.Millisecond)
				}
			} else {
				for _, e := range tt.live {
					commit(t, log, b, e)
				}
			}
			got := cursors(next(t, s, len(tt.want)))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			st := s.Stats()
			if st.LiveGaps != 0 {
				t.Fatalf("stats %+v: skipped cursors taken for gaps", st)
			}
			if tt.buffer == 0 {
				// 2, 5 and 8 (after the unfollow, if the hub had it first) never reached the stream.
				if sent := b.Stats().Sent; sent > int64(len(tt.live)+1-2) {
					t.Fatalf("the hub sent the stream %d events: it did not filter", sent)
				}
				if st.StoreReads != 1 || listed.Load() != 1 {
					t.Fatalf("stats %+v, %d listings: want one replay read and one listing", st, listed.Load())
				}
			} else if st.Resubscribes < 1 || listed.Load() != st.Resubscribes+1 {
				t.Fatalf("stats %+v, %d listings: want a listing per subscription", st, listed.Load())
			}
		})
	}
}

// TestFilteredStartGap: when the hub starts a filtered subscription after
// the end of the stream's replay (its baseline), the events in between are
// read from the store although a filtered stream cannot see gaps.
func TestFilteredStartGap(t *testing.T) {
	log := bustest.NewLog()
	b := openBus(t, bus.Options{BaselineDelay: -1}) // no store: the hub does not fill
	commit(t, log, nil, msg("cv_1", "1"))
	s := openStream(t, log, b, stream.Query{WorkspaceID: ws, ConversationIDs: []string{"cv_1"}})
	more := commit(t, log, nil, msg("cv_1", "2"), msg("cv_1", "3"))
	if err := b.Publish(context.Background(), more[1]); err != nil { // 2's publication is lost
		t.Fatal(err)
	}
	if got := cursors(next(t, s, 3)); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("got %v, want [1 2 3]", got)
	}
	if st := s.Stats(); st.LiveGaps != 1 {
		t.Fatalf("stats %+v, want one gap read", st)
	}
}
