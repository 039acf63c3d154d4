package router

import (
	"testing"
	"time"

	"github.com/starpost/starpost"
)

// A "no agent" status never changes, so it is sent once, usually before the
// customer's widget has connected. A queue.status.request signal (sent when
// a widget stream opens) makes the engine send it again; for a conversation
// that is not waiting it does nothing.
func TestQueueStatusRequestResends(t *testing.T) {
	h := newHarness(t)
	h.setQueue(&starpost.Queue{ID: "q", Name: "q", Skills: []starpost.SkillRequired{req("s", 1)}})
	id := h.arrive("q", starpost.ChannelChat, 0)
	if ds := h.decide(0); len(ds) != 1 || ds[0].Kind != DecideQueueStatus || ds[0].EstimatedWait != -1 {
		t.Fatalf("first decisions %v, want one no-agent status", ds)
	}
	if ds := h.decide(time.Second); len(ds) != 0 {
		t.Fatalf("nothing changed but got %v", ds)
	}
	request := func(conv string) {
		h.e.Observe(&starpost.Event{WorkspaceID: h.ws, ConversationID: conv, Kind: starpost.KindQueueStatusRequest,
			Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"}, At: h.now})
	}
	for _, tc := range []struct {
		name string
		conv string
		want int
	}{
		{"waiting conversation", id, 1},
		{"unknown conversation", "cv_nope", 0},
	} {
		request(tc.conv)
		ds := h.decide(time.Second)
		if len(ds) != tc.want {
			t.Fatalf("%s: decisions %v, want %d", tc.name, ds, tc.want)
		}
		if tc.want == 1 && (ds[0].ConversationID != id || ds[0].Position != 1 || ds[0].EstimatedWait != -1) {
			t.Fatalf("%s: resent %s", tc.name, ds[0].String())
		}
	}
}
