package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/sim"
)

// demoSim runs the demo workspace's agents and a stream of simulated
// customers against the server at base.
type demoSim struct {
	base  string
	world *demo.World
	rate  float64 // new conversations per second
	log   *slog.Logger
	out   io.Writer
}

func (d *demoSim) run(ctx context.Context) error {
	stats := &sim.Stats{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, l := range d.world.Agents() {
		a := &sim.Agent{Base: d.base, Email: l.Email, Password: l.Password,
			Accept: sim.Delay{Min: time.Second, Max: 4 * time.Second}, Think: sim.Delay{Min: 2 * time.Second, Max: 8 * time.Second},
			ResolveAfter: 3, Stats: stats, Logger: d.log}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("simulated agent stopped", "agent", l.Email, "err", err)
			}
		}()
	}
	report := time.NewTicker(15 * time.Second)
	defer report.Stop()
	n := 0
	for {
		wait := time.Duration(rand.ExpFloat64() / d.rate * float64(time.Second))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-report.C:
			fmt.Fprintf(d.out, "demo: %d conversations started, %d accepted, %d messages, %d resolved, %d errors\n",
				stats.Started.Load(), stats.Accepted.Load(), stats.Messages.Load(), stats.Resolved.Load(), stats.Errors.Load())
			continue
		case <-time.After(wait):
		}
		n++
		q := d.world.Queues[rand.IntN(len(d.world.Queues))]
		cu := &sim.Customer{Base: d.base, WorkspaceID: d.world.Workspace.ID, QueueID: q.ID,
			Name: fmt.Sprintf("Demo customer %d", n), Think: sim.Delay{Min: 2 * time.Second, Max: 6 * time.Second},
			FollowUps: 2, Angry: n%6 == 0, Stats: stats, // one customer in six gets angry, then abusive
			HTTP: benchHTTPClient(n)} // each from its own loopback address, as customers have their own
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			defer cancel()
			if err := cu.Run(ctx); err != nil && ctx.Err() == nil {
				d.log.Debug("simulated customer stopped", "err", err)
			}
		}()
	}
}
