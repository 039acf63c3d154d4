package lease_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/lease"
)

// A single node on SQLite is always the leader; each time lead returns nil
// it starts a new term, and an error ends Run.
func ExampleSingle() {
	var l lease.Lease = &lease.Single{ID: "node-1"}
	calls := 0
	err := l.Run(context.Background(), "router", func(ctx context.Context) error {
		term, _ := lease.FromContext(ctx)
		fmt.Println("leading", term.Name, "as", term.Holder, "in term", term.Number)
		if calls++; calls == 2 {
			return errors.New("stop")
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// leading router as node-1 in term 1
	// leading router as node-1 in term 2
	// lease router: lead: stop
}

// The NATS KV lease on the bus's embedded server, which needs JetStream
// (bus.Options.JetStreamDir). In a cluster every node does the same with
// bus.Options.URL pointing at NATS servers started with JetStream.
func ExampleNewKV() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lease-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	b, err := bus.Open(ctx, bus.Options{JetStreamDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	l, err := lease.NewKV(b.Conn(), lease.KVOptions{ID: "node-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = l.Run(ctx, "router", func(ctx context.Context) error {
		term, _ := lease.FromContext(ctx)
		fmt.Println("leading", term.Name, "in term", term.Number)
		return errors.New("done") // a real leader runs until ctx ends
	})
	fmt.Println(err)
	// Output:
	// leading router in term 1
	// lease router: lead: done
}
