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
