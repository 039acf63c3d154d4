package lease_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/lease"
	"github.com/starpost/starpost/router"
	"github.com/starpost/starpost/store"
)

// chooseLease picks the lease of a node: the PostgreSQL advisory lock when
// the store is PostgreSQL (every node of a cluster shares it), the NATS KV
// lease when the nodes share NATS with JetStream but not a database, and
// Single for one node on SQLite.
func chooseLease(db *store.DB, b *bus.Bus, natsURL string, id string, clock starpost.Clock, log *slog.Logger) (lease.Lease, error) {
	switch {
	case db.Driver() == "postgres":
		return lease.NewPostgres(db.SQL(), lease.PostgresOptions{ID: id, Clock: clock, Logger: log})
	case natsURL != "":
		// The NATS servers must run with JetStream; Replicas 3 in a
		// 3-server cluster keeps the lease through the loss of one.
		return lease.NewKV(b.Conn(), lease.KVOptions{ID: id, Clock: clock, Logger: log, Replicas: 3})
	default:
		return &lease.Single{ID: id, Clock: clock, Logger: log}, nil
	}
}

// A node runs its router only while it holds the "router" lease: the
// driver's Run is the lead function, and its start-up rebuild from the
// store is the new leader's takeover.
func Example_router() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	clock := starpost.SystemClock{}
	log := slog.New(slog.DiscardHandler)
	db, err := store.Open(ctx, ":memory:", clock, log)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	b, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	host, _ := os.Hostname()
	id := fmt.Sprintf("%s-%d", host, os.Getpid()) // unique even with several nodes on one host
	l, err := chooseLease(db, b, "", id, clock, log)
	if err != nil {
		fmt.Println(err)
		return
	}
	driver := router.NewDriver(db, b, clock, log)
	if err := l.Run(ctx, "router", driver.Run); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Println("router:", err)
	}
}
