package router

import (
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

func TestDecisionEvent(t *testing.T) {
	at := t0
	tests := []struct {
		d    Decision
		kind starpost.EventKind
		body string
	}{
		{Decision{Kind: DecideOffer, WorkspaceID: "ws", ConversationID: "cv", AgentID: "a", At: at, ExpiresAt: at.Add(30 * time.Second), Key: "k1"},
			starpost.KindOffer, `{"agent_id":"a","expires_at":"2026-11-25T08:00:30Z"}`},
		{Decision{Kind: DecideExpireOffer, WorkspaceID: "ws", ConversationID: "cv", AgentID: "a", At: at, Reason: "expired", Key: "k2"},
			starpost.KindOfferEnd, `{"agent_id":"a","reason":"expired"}`},
		{Decision{Kind: DecideUnassign, WorkspaceID: "ws", ConversationID: "cv", AgentID: "a", At: at, Reason: "reply_timeout", Key: "k3"},
			starpost.KindUnassigned, `{"agent_id":"a","reason":"reply_timeout"}`},
		{Decision{Kind: DecideQueueStatus, WorkspaceID: "ws", ConversationID: "cv", At: at, Position: 3, EstimatedWait: -1},
			starpost.KindQueueStatus, `{"position":3,"estimated_wait":-1}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.d.Kind), func(t *testing.T) {
			ev := tt.d.Event()
			if err := ev.Validate(); err != nil {
				t.Fatal(err)
			}
			if ev.Kind != tt.kind || string(ev.Body) != tt.body || ev.Actor != starpost.System || ev.IdempotencyKey != tt.d.Key {
				t.Fatalf("event %+v body %s", ev, ev.Body)
			}
			if ev.Kind.Ephemeral() != tt.d.Ephemeral() {
				t.Fatalf("ephemeral mismatch")
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	if k := idemKey("offer", "cv1", "a1", "17", "2"); k != "offer:cv1:a1:17:2" {
		t.Fatalf("key %q", k)
	}
	long := idemKey("offer", strings.Repeat("c", 100), strings.Repeat("a", 100))
	if len(long) > starpost.MaxKeyLen || !strings.HasPrefix(long, "offer:") {
		t.Fatalf("long key %q", long)
	}
	if long != idemKey("offer", strings.Repeat("c", 100), strings.Repeat("a", 100)) {
		t.Fatal("long key not deterministic")
	}
}

func TestTransfersAndForce(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus())
	h.setQueue(&starpost.Queue{ID: "q", Name: "q"})
	h.setQueue(&starpost.Queue{ID: "vip", Name: "vip", Skills: []starpost.SkillRequired{req("vip", 1)}})
	h.setAgent(agentUser("a1", "", chat1))
	h.setAgent(agentUser("a2", "", chat1, sk("vip", 3)))
	h.available("a1")
	id := h.arrive("q", starpost.ChannelChat, 0)
	if got := offers(h.decide(time.Second)); got[id] != "a1" {
		t.Fatalf("offer %v", got)
	}
	// A supervisor force-assigns the offered conversation to a2: a1's
	// offer is gone with it and a1 is free again.
	h.must(&starpost.Event{ConversationID: id, Kind: starpost.KindAssigned, Actor: starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: "sup"},
		Body: starpost.MustBody(starpost.AssignedBody{AgentID: "a2", By: "force"})})
	if v, _ := h.e.Agent(h.ws, "a1"); v.Load[starpost.ChannelChat] != 0 {
		t.Fatalf("a1 load %v after force-assign elsewhere", v.Load)
	}
	if v, _ := h.e.Agent(h.ws, "a2"); v.Load[starpost.ChannelChat] != 1 || len(v.Held) != 1 {
		t.Fatalf("a2 %+v", v)
	}
	// a2 transfers it to the vip queue: only a2 qualifies there, so
	// once a2 is available it is offered back to a2.
	h.must(&starpost.Event{ConversationID: id, Kind: starpost.KindTransferred, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "a2"},
		Body: starpost.MustBody(starpost.TransferBody{ToQueueID: "vip"})})
	if v, _ := h.e.Conversation(h.ws, id); v.State != starpost.StateQueued || v.QueueID != "vip" {
		t.Fatalf("view after transfer %+v", v)
	}
	if got := offers(h.decide(time.Second)); len(got) != 0 {
		t.Fatalf("offered to someone unqualified: %v", got)
	}
	h.available("a2")
	if got := offers(h.decide(time.Second)); got[id] != "a2" {
		t.Fatalf("offer %v, want a2", got)
	}
	// Transfer to an agent takes it straight to them.
	if err := h.accept(id, "a2"); err != nil {
		t.Fatal(err)
	}
	h.must(&starpost.Event{ConversationID: id, Kind: starpost.KindTransferred, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "a2"},
		Body: starpost.MustBody(starpost.TransferBody{ToAgentID: "a1"})})
	if v, _ := h.e.Conversation(h.ws, id); v.State != starpost.StateAssigned || v.AgentID != "a1" {
		t.Fatalf("view after transfer to agent %+v", v)
	}
}

func TestNeedsRestore(t *testing.T) {
	h := newHarness(t, WithoutQueueStatus(), WithResolvedRetention(time.Minute))
	h.setQueue(&starpost.Queue{ID: "q", Name: "q"})
	h.setAgent(agentUser("a1", "", nil))
	id := h.arrive("q", starpost.ChannelChat, 0)
	if err := h.setState(id, starpost.StateResolved, "a1"); err != nil {
		t.Fatal(err)
	}
	h.decide(2 * time.Minute) // the resolved conversation is forgotten
	if _, ok := h.e.Conversation(h.ws, id); ok {
		t.Fatal("resolved conversation kept past its retention")
	}
	// The customer writes again: the engine asks for the conversation,
	// the harness (as the driver) restores it, and it is routed.
	if err := h.message(id, starpost.RoleCustomer, "ct"); err != nil {
		t.Fatal(err)
	}
	if h.restored != 1 {
		t.Fatalf("restored %d conversations", h.restored)
	}
	h.available("a1")
	if got := offers(h.decide(time.Second)); got[id] != "a1" {
		t.Fatalf("reopened conversation not offered: %v", got)
	}
	// Events for forgotten conversations that end them need no read.
	other := h.arrive("q", starpost.ChannelChat, 0)
	h.e.Restore(&starpost.Conversation{ID: other, WorkspaceID: h.ws, State: starpost.StateResolved, LastSeq: 99}, time.Time{})
	if err := h.setState(other, starpost.StateClosed, "a1"); err != nil {
		t.Fatal(err)
	}
	if h.restored != 1 {
		t.Fatalf("closing a forgotten conversation read it again")
	}
}
