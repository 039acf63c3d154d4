package stream_test

import (
	"context"
	"fmt"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
	"github.com/starpost/starpost/stream"
)

// A WebSocket handler resumes a client after the last cursor it saw: the
// events it missed come from the store, then live ones from the bus.
func ExampleOpen() {
	ctx := context.Background()
	store := bustest.NewLog() // stands in for the real store
	b, err := bus.Open(ctx, bus.Options{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	say := func(text string) {
		evs, _ := store.Append(ctx, &starpost.Event{
			WorkspaceID: "ws_demo", ConversationID: "cv_1", Kind: starpost.KindMessage,
			Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
			Body:  starpost.MustBody(starpost.MessageBody{Text: text}),
		})
		_ = b.Publish(ctx, evs...) // after the commit
	}
	say("hello")
	say("is anyone there?") // the client saw cursor 1 before it lost its connection

	s, err := stream.Open(ctx, store, b, stream.Query{
		WorkspaceID:     "ws_demo",
		AfterCursor:     1,
		ConversationIDs: []string{"cv_1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	say("my order is late")

	for range 2 {
		e, err := s.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		var body starpost.MessageBody
		_ = e.DecodeBody(&body)
		fmt.Println(e.Cursor, body.Text)
	}
	// Output:
	// 2 is anyone there?
	// 3 my order is late
}
