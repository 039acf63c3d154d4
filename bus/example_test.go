package bus_test

import (
	"context"
	"fmt"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
)

// A node opens an embedded bus, subscribes to a workspace and receives
// events in cursor order, even when their publications cross: cursor 3 is
// held until 2 arrives, and cursor 4, whose publication was lost, is read
// from the store.
func ExampleOpen() {
	ctx := context.Background()
	store := bustest.NewLog() // stands in for the real store
	var committed []*starpost.Event
	for _, text := range []string{"hello", "hi, how can I help?", "my order is late", "let me check"} {
		evs, _ := store.Append(ctx, &starpost.Event{
			WorkspaceID: "ws_demo", ConversationID: "cv_1", Kind: starpost.KindMessage,
			Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
			Body:  starpost.MustBody(starpost.MessageBody{Text: text}),
		})
		committed = append(committed, evs...)
	}

	b, err := bus.Open(ctx, bus.Options{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	sub, err := b.Subscribe("ws_demo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()

	// Cursor 1, then 3 before 2, and never 4 ... but 5 is published.
	more, _ := store.Append(ctx, &starpost.Event{WorkspaceID: "ws_demo", ConversationID: "cv_1",
		Kind: starpost.KindMessage, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
		Body: starpost.MustBody(starpost.MessageBody{Text: "thanks"})})
	if err := b.Publish(ctx, committed[0], committed[2], committed[1], more[0]); err != nil {
		fmt.Println(err)
		return
	}
	for range 5 {
		e := <-sub.Events()
		var body starpost.MessageBody
		_ = e.DecodeBody(&body)
		fmt.Println(e.Cursor, body.Text)
	}
	// Output:
	// 1 hello
	// 2 hi, how can I help?
	// 3 my order is late
	// 4 let me check
	// 5 thanks
}
