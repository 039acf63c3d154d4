package main

import (
	"context"
	"fmt"
	"time"

	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/wfm/plan"
)

// demoHistoryDays is how much conversation history the demo seeds for
// workforce management.
const demoHistoryDays = 35

// seedWFM gives a new demo workspace something real to plan from: weeks
// of past conversations, replayed once by the wfm engine into its interval
// history, and a published schedule of the current week for every queue
// (shifts no demo agent can take become open slots).
func (n *node) seedWFM(ctx context.Context, world *demo.World) error {
	now := n.clock.Now()
	t0 := time.Now()
	convs, err := demo.SeedHistory(ctx, n.store, world, now, demoHistoryDays)
	if err != nil {
		return err
	}
	t1 := time.Now()
	r, err := engine.NewRunner(plan.NewEngine(n.wfm), engine.Options{Store: n.store, Bus: n.bus, SQL: n.db.SQL(), Driver: n.db.Driver(),
		Clock: n.clock, Logger: n.log.With("component", plan.EngineName)})
	if err != nil {
		return fmt.Errorf("wfm runner: %w", err)
	}
	if err := r.Sync(ctx); err != nil {
		return fmt.Errorf("wfm history: %w", err)
	}
	t2 := time.Now()
	// A short optimiser budget: the demo's first start should be quick.
	quick, err := plan.Open(ctx, plan.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Directory: n.store, Clock: n.clock,
		Config: plan.Config{SolveTime: 500 * time.Millisecond}})
	if err != nil {
		return err
	}
	today := plan.DayStart(now)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	for _, q := range world.Queues {
		sc, err := quick.Generate(ctx, world.Workspace.ID, q.ID, monday)
		if err != nil {
			return fmt.Errorf("demo schedule of %s: %w", q.Name, err)
		}
		if _, err := quick.Publish(ctx, world.Workspace.ID, sc.ID); err != nil {
			return fmt.Errorf("publish demo schedule of %s: %w", q.Name, err)
		}
	}
	n.log.Info("demo workforce plan seeded", "conversations", convs, "history", t1.Sub(t0).Round(time.Millisecond),
		"replay", t2.Sub(t1).Round(time.Millisecond), "schedules", time.Since(t2).Round(time.Millisecond))
	return nil
}
