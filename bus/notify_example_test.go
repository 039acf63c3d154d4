package bus_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/bus/bustest"
)

// A pulled subscription holds no channel and no memory while idle: the hub
// queues its events and calls notify, and the subscriber takes them.
func ExampleBus_SubscribeNotify() {
	ctx := context.Background()
	store := bustest.NewLog()
	b, err := bus.Open(ctx, bus.Options{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	woke := make(chan struct{}, 1)
	sub, err := b.SubscribeNotify("ws_demo", &bus.Filter{Conversations: []string{"cv_1"}}, func() {
		select { // never block: notify runs while the hub delivers
		case woke <- struct{}{}:
		default:
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, conv := range []string{"cv_1", "cv_2", "cv_1"} {
		evs, _ := store.Append(ctx, &starpost.Event{WorkspaceID: "ws_demo", ConversationID: conv,
			Kind: starpost.KindMessage, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
			Body: starpost.MustBody(starpost.MessageBody{Text: "hi"})})
		_ = b.Publish(ctx, evs...)
	}
	for seen := 0; seen < 2; {
		<-woke
		evs, _ := sub.Take()
		for _, e := range evs {
			fmt.Println(e.Cursor, e.ConversationID)
			seen++
		}
	}
	sub.Close()
	<-woke // the end is notified too
	_, err = sub.Take()
	fmt.Println(errors.Is(err, bus.ErrClosed))
	// Output:
	// 1 cv_1
	// 3 cv_1
	// true
}
