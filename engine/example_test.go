package engine_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/store"
)

// shout is an engine that writes an "echo" event repeating every customer
// message in capitals.
type shout struct{}

func (shout) Name() string { return "shout" }

func (shout) Handle(_ context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	if ev.Kind != starpost.KindMessage || ev.Actor.Role != starpost.RoleCustomer {
		return nil, nil
	}
	var b starpost.MessageBody
	if err := ev.DecodeBody(&b); err != nil {
		return nil, err
	}
	return []*starpost.Event{{ConversationID: ev.ConversationID, Kind: "echo",
		Body: starpost.MustBody(starpost.MessageBody{Text: strings.ToUpper(b.Text)})}}, nil
}

func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, ":memory:", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	eb, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		log.Fatal(err)
	}
	defer eb.Close()
	ws := &starpost.Workspace{Name: "Acme"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		log.Fatal(err)
	}
	q := &starpost.Queue{WorkspaceID: ws.ID, Name: "Support", OfferTimeout: 60}
	if err := db.CreateQueue(ctx, q); err != nil {
		log.Fatal(err)
	}
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	evs, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: cust,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: q.ID})})
	if err != nil {
		log.Fatal(err)
	}
	conv := evs[0].ConversationID
	if _, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, ConversationID: conv, Kind: starpost.KindMessage, Actor: cust,
		Body: starpost.MustBody(starpost.MessageBody{Text: "hello?"})}); err != nil {
		log.Fatal(err)
	}

	r, err := engine.NewRunner(shout{}, engine.Options{Store: db, Bus: eb, SQL: db.SQL(), Driver: db.Driver()})
	if err != nil {
		log.Fatal(err)
	}
	// Sync catches up from the checkpoint once; Run would keep following
	// the bus. A second Sync (a restart) adds nothing.
	for range 2 {
		if err := r.Sync(ctx); err != nil {
			log.Fatal(err)
		}
	}
	out, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws.ID, Kinds: []starpost.EventKind{"echo"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range out {
		fmt.Println(e.Kind, e.Actor.ID, string(e.Body), e.IdempotencyKey == engine.Key("shout", "echo.0", conv, 2))
	}
	// Output:
	// echo shout {"text":"HELLO?"} true
}
