package stream_test

import (
	"context"
	"fmt"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
	"github.com/starpost/starpost/stream"
)

// A server with thousands of idle streams drives each with Wake and Poll
// instead of a goroutine blocked in Next: Wake says there may be something
// new, and the driver polls until Poll returns nil.
func ExampleStream_Poll() {
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
		_ = b.Publish(ctx, evs...)
	}
	say("hello")

	woke := make(chan struct{}, 1)
	s, err := stream.Open(ctx, store, b, stream.Query{WorkspaceID: "ws_demo", Wake: func() {
		select { // never block: Wake runs on the bus's delivery path
		case woke <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	say("my order is late")

	for seen := 0; seen < 2; {
		e, err := s.Poll(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		if e == nil {
			<-woke // a real server would start a goroutine from Wake instead
			continue
		}
		var body starpost.MessageBody
		_ = e.DecodeBody(&body)
		fmt.Println(e.Cursor, body.Text)
		seen++
	}
	// Output:
	// 1 hello
	// 2 my order is late
}
