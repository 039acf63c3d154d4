package router_test

import (
	"fmt"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/router"
)

// The engine offers a billing chat to the most proficient available agent;
// when she lets the offer lapse, the chat goes to the next agent. Each
// decision is committed (here by hand) and the committed event observed.
func ExampleEngine() {
	e := router.NewEngine(router.WithoutQueueStatus())
	e.SetQueue(&starpost.Queue{ID: "billing", WorkspaceID: "ws", Name: "Billing", OfferTimeout: 30,
		Skills: []starpost.SkillRequired{{SkillID: "billing", MinLevel: 2}}})
	for _, a := range []struct {
		id    string
		level int
	}{{"ada", 5}, {"bob", 3}, {"cy", 1}} {
		e.SetAgent(&starpost.User{ID: a.id, WorkspaceID: "ws", Role: starpost.RoleAgent,
			Skills: []starpost.Skilled{{SkillID: "billing", Level: a.level}}})
	}
	now := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	cursor := int64(0)
	commit := func(ev *starpost.Event, seq int64) {
		cursor++
		ev.Seq, ev.Cursor = seq, cursor
		e.Observe(ev)
	}
	for _, id := range []string{"ada", "bob", "cy"} {
		commit(&starpost.Event{WorkspaceID: "ws", Kind: starpost.KindPresence, At: now,
			Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: id},
			Body:  starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceAvailable})}, 0)
	}
	commit(&starpost.Event{WorkspaceID: "ws", ConversationID: "cv1", Kind: starpost.KindCreated, At: now,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct1"},
		Body:  starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct1", QueueID: "billing"})}, 1)

	seq := int64(1)
	for _, at := range []time.Duration{time.Second, 32 * time.Second, 33 * time.Second} {
		for _, d := range e.Decide(now.Add(at)) {
			ev := d.Event()
			fmt.Printf("%v: %s (%s)\n", at, d.String(), ev.Kind)
			seq++
			commit(ev, seq)
		}
	}
	v, _ := e.Conversation("ws", "cv1")
	fmt.Println(v.State, "to", v.OfferedTo)
	// Output:
	// 1s: offer cv1 agent=ada (offer)
	// 32s: expire_offer cv1 agent=ada reason=expired (offer.ended)
	// 33s: offer cv1 agent=bob (offer)
	// offered to bob
}

// A new dispatch leader rebuilds its engine and gives every agent one
// liveness window (3 heartbeats of 10 s) to be named by a node. Ada's node
// names her in its heartbeats; Bob, who held a conversation, vanished with
// his site during the failover: when the window ends he counts as
// disconnected, and after the grace period his conversation goes back to
// the queue.
func ExampleEngine_AssumeConnected() {
	const beat = 10 * time.Second
	e := router.NewEngine(router.WithoutQueueStatus(), router.WithGracePeriod(time.Minute),
		router.WithLiveness(router.MissedBeats*beat))
	e.SetQueue(&starpost.Queue{ID: "q", WorkspaceID: "ws", Name: "Support"})
	for _, id := range []string{"ada", "bob"} {
		e.SetAgent(&starpost.User{ID: id, WorkspaceID: "ws", Role: starpost.RoleAgent})
		e.SetPresence("ws", starpost.AgentPresence{AgentID: id, Presence: starpost.PresenceAvailable})
	}
	e.Restore(&starpost.Conversation{ID: "cv1", WorkspaceID: "ws", QueueID: "q", Channel: starpost.ChannelChat,
		State: starpost.StateAssigned, AgentID: "bob", LastSeq: 3}, time.Time{})

	start := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	e.AssumeConnected(start)
	seq := int64(3)
	offered := false
	for at := time.Duration(0); !offered && at < 5*time.Minute; at += beat {
		now := start.Add(at)
		e.Observe(&starpost.Event{WorkspaceID: "ws", Kind: starpost.KindConnection, At: now, Actor: starpost.System,
			Body: starpost.MustBody(starpost.ConnectionBody{Connected: true, Node: "node-a", Seq: uint64(at / beat),
				EveryMS: beat.Milliseconds(), AgentIDs: []string{"ada"}})})
		for _, d := range e.Decide(now) {
			fmt.Printf("%v: %s\n", at, d.String())
			if d.Kind == router.DecideOffer {
				offered = true
				continue
			}
			seq++
			ev := d.Event() // committed by the driver; here by hand
			ev.Seq = seq
			e.Observe(ev)
		}
	}
	for _, id := range []string{"ada", "bob"} {
		v, _ := e.Agent("ws", id)
		fmt.Println(id, "connected:", v.Connected)
	}
	// Output:
	// 1m30s: unassign cv1 agent=bob reason=disconnected
	// 1m40s: offer cv1 agent=ada
	// ada connected: true
	// bob connected: false
}
