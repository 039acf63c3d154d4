package bus_test

import (
	"fmt"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
)

// TestSubscribeFiltered: a filtered subscription receives, in order and
// once, the events of the conversations it follows and the events naming
// its participant, follows a conversation from the event that names its
// participant, and stops following only when Unfollow's cursor is not older
// than the reason it follows.
func TestSubscribeFiltered(t *testing.T) {
	const ws = "ws_f"
	msg := func(conv string) *starpost.Event {
		return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindMessage,
			Body: starpost.MustBody(starpost.MessageBody{Text: "hi"})}
	}
	named := func(kind starpost.EventKind, conv string, body any) *starpost.Event {
		return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: kind, Body: starpost.MustBody(body)}
	}
	presence := func(agent string) *starpost.Event {
		return &starpost.Event{WorkspaceID: ws, Kind: starpost.KindPresence, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent},
			Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceAvailable})}
	}
	typing := func(conv string) *starpost.Event {
		return &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindTyping}
	}
	// Each step publishes an event (committed unless ephemeral) or changes
	// what the subscription follows.
	type step struct {
		e         *starpost.Event
		ephemeral bool
		want      bool
		unfollow  string // with the cursor of the given step
		at        int
		follow    string
	}
	tests := []struct {
		name   string
		filter bus.Filter
		steps  []step
	}{
		{"conversations", bus.Filter{Conversations: []string{"cv_a"}}, []step{
			{e: msg("cv_a"), want: true},
			{e: msg("cv_b")},
			{e: typing("cv_a"), ephemeral: true, want: true},
			{e: typing("cv_b"), ephemeral: true},
			{e: presence("ag_1")},
			{follow: "cv_b"},
			{e: msg("cv_b"), want: true},
		}},
		{"agent participant", bus.Filter{Participants: []string{"ag_1"}}, []step{
			{e: msg("cv_b")},
			{e: named(starpost.KindOffer, "cv_b", starpost.OfferBody{AgentID: "ag_2"})},
			{e: named(starpost.KindOffer, "cv_b", starpost.OfferBody{AgentID: "ag_1"}), want: true},
			{e: msg("cv_b"), want: true},
			{e: presence("ag_1"), want: true},
			{e: presence("ag_2")},
			{e: named(starpost.KindAssigned, "cv_c", starpost.AssignedBody{AgentID: "ag_1"}), want: true},
			{e: named(starpost.KindTransferred, "cv_d", starpost.TransferBody{ToAgentID: "ag_1"}), want: true},
			{e: msg("cv_d"), want: true},
			{e: typing("cv_c"), ephemeral: true, want: true},
		}},
		{"visitor participant", bus.Filter{Participants: []string{"ct_1"}}, []step{
			{e: named(starpost.KindCreated, "cv_x", starpost.CreatedBody{ContactID: "ct_2"})},
			{e: named(starpost.KindCreated, "cv_y", starpost.CreatedBody{ContactID: "ct_1"}), want: true},
			{e: msg("cv_x")},
			{e: msg("cv_y"), want: true},
		}},
		{"unfollow", bus.Filter{Participants: []string{"ag_1"}, Conversations: []string{"cv_a"}}, []step{
			{e: named(starpost.KindOffer, "cv_b", starpost.OfferBody{AgentID: "ag_1"}), want: true}, // 0
			{e: msg("cv_b"), want: true}, // 1
			{unfollow: "cv_b", at: 1},    // the reason (step 0) is older: unfollowed
			{e: msg("cv_b")},             // 3
			{e: named(starpost.KindOffer, "cv_b", starpost.OfferBody{AgentID: "ag_1"}), want: true}, // 4
			{unfollow: "cv_b", at: 3},    // stale: a replay of an older event
			{e: msg("cv_b"), want: true}, // 6
			{unfollow: "cv_a", at: 6},    // followed before step 6: unfollowed
			{e: msg("cv_a")},
			{unfollow: "cv_zz", at: 6}, // not followed: nothing happens
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, bus.Options{BaselineDelay: -1})
			wsID := fmt.Sprintf("%s%d", ws, i)
			// A first event bases the workspace, so the filter's
			// conversations are followed from a known cursor.
			all := subscribe(t, b, wsID)
			publish(t, b, &starpost.Event{WorkspaceID: wsID, ConversationID: "cv_0", Kind: starpost.KindMessage, Cursor: 1})
			recv(t, all, 1)
			s, err := b.SubscribeFiltered(wsID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if start, ok := s.Start(); !ok || start != 2 {
				t.Fatalf("Start() = %d, %v; want 2, true", start, ok)
			}
			cursor := int64(1)
			cursorOf := map[int]int64{}
			var want []string
			for j, st := range tt.steps {
				switch {
				case st.e != nil:
					e := *st.e
					e.WorkspaceID = wsID
					if !st.ephemeral {
						cursor++
						e.Cursor = cursor
					}
					cursorOf[j] = e.Cursor
					publish(t, b, &e)
					recv(t, all, 1) // in the hub's order before the next step
					if st.want {
						want = append(want, label(&e))
					}
				case st.unfollow != "":
					s.Unfollow(st.unfollow, cursorOf[st.at])
				case st.follow != "":
					s.Follow(st.follow)
				}
			}
			// A sentinel naming nobody in a conversation nobody follows, then
			// one delivered to s: everything before it has arrived.
			cursor++
			sentinel := &starpost.Event{WorkspaceID: wsID, Kind: starpost.KindPresence, Cursor: cursor,
				Actor: starpost.Actor{ID: "ag_1"}, Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceAvailable})}
			s.Follow("cv_sentinel")
			cursor++
			last := &starpost.Event{WorkspaceID: wsID, ConversationID: "cv_sentinel", Kind: starpost.KindMessage, Cursor: cursor}
			publish(t, b, sentinel, last)
			if len(tt.filter.Participants) > 0 && tt.filter.Participants[0] == "ag_1" {
				want = append(want, label(sentinel))
			}
			want = append(want, label(last))
			var got []string
			for _, e := range recv(t, s, len(want)) {
				got = append(got, label(e))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
			if n := b.Stats().Subscribers; n != 2 {
				t.Fatalf("%d subscribers, want 2", n)
			}
		})
	}
}

func label(e *starpost.Event) string {
	return fmt.Sprintf("%d:%s:%s", e.Cursor, e.Kind, e.ConversationID)
}

// TestWideBuffer: a subscription to every workspace (an engine) has more
// room than a workspace's: a burst that cuts off a WebSocket's stream does
// not cut off the router.
func TestWideBuffer(t *testing.T) {
	const buf = 4
	b := open(t, bus.Options{SubscriberBuffer: buf, BaselineDelay: -1})
	ws := subscribe(t, b, "ws_w")
	all := subscribe(t, b, "")
	var burst []*starpost.Event
	for c := int64(1); c <= 3*buf; c++ {
		burst = append(burst, ev("ws_w", c))
	}
	publish(t, b, burst...)
	if got := cursors(recv(t, all, len(burst))); got[len(got)-1] != 3*buf {
		t.Fatalf("wide subscription got %v", got)
	}
	n := 0
	for range ws.Events() {
		n++
	}
	if n != buf || ws.(*bus.Subscription).Err() == nil {
		t.Fatalf("workspace subscription got %d events, err %v: want %d and cut off", n, ws.(*bus.Subscription).Err(), buf)
	}
}
