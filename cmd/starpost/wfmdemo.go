package main

import (
	"context"
	"fmt"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/wfm/plan"
)

// demoHistoryDays is how much conversation history the demo seeds for
// workforce management.
const demoHistoryDays = 35

// seedWFM gives a new demo workspace something real to plan from: weeks
// of past contacts imported into the wfm history (as a planner would load
// an older system's export — not as conversation events, which would flood
// every engine and agent stream on first start), and a published schedule
// of the current week for every queue (shifts no demo agent can take
// become open slots). Live demo traffic then reaches the history through
// the wfm engine.
func (n *node) seedWFM(ctx context.Context, world *demo.World) error {
	now := n.clock.Now()
	t0 := time.Now()
	hist, err := demo.History(world, now, demoHistoryDays)
	if err != nil {
		return err
	}
	cs := make([]plan.Contact, len(hist))
	for i, c := range hist {
		cs[i] = plan.Contact{ID: fmt.Sprintf("demo-%d", i), QueueID: c.QueueID, Channel: starpost.ChannelChat,
			Arrived: c.Arrived, Assigned: c.Assigned, Ended: c.Ended}
	}
	if err := n.wfm.ImportContacts(ctx, world.Workspace.ID, cs); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	t1 := time.Now()
	// A short optimiser budget: the demo's first start should be quick.
	quick, err := plan.Open(ctx, plan.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Directory: n.store, Clock: n.clock,
		Config: plan.Config{SolveTime: 500 * time.Millisecond}})
	if err != nil {
		return err
	}
	// Every second demo agent works flexibly (灵活用工): they see and
	// claim the open slots.
	yes := true
	for i, a := range world.Agents() {
		if i%2 == 1 {
			if _, err := quick.UpdateAgentProfile(ctx, world.Workspace.ID, a.UserID, plan.AgentProfileUpdate{Flexible: &yes}); err != nil {
				return fmt.Errorf("demo flexible agent: %w", err)
			}
		}
	}
	for _, q := range world.Queues {
		// This week's Monday in the queue's time zone.
		loc, err := quick.QueueZone(ctx, world.Workspace.ID, q.ID)
		if err != nil {
			return err
		}
		today := plan.DayIn(now, loc).Date0()
		monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		sc, err := quick.Generate(ctx, world.Workspace.ID, q.ID, monday)
		if err != nil {
			return fmt.Errorf("demo schedule of %s: %w", q.Name, err)
		}
		if _, err := quick.Publish(ctx, world.Workspace.ID, sc.ID); err != nil {
			return fmt.Errorf("publish demo schedule of %s: %w", q.Name, err)
		}
	}
	n.log.Info("demo workforce plan seeded", "contacts", len(cs), "history", t1.Sub(t0).Round(time.Millisecond),
		"schedules", time.Since(t1).Round(time.Millisecond))
	return nil
}
