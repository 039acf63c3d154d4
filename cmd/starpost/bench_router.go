package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/starpost/starpost/router"
)

// runBenchRouter measures the router's decision rate on a large simulated
// contact centre (the world of router.BenchmarkDecide).
func runBenchRouter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench router", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := router.DefaultBenchSize()
	fs.IntVar(&size.Agents, "agents", size.Agents, "agents")
	fs.IntVar(&size.Queues, "queues", size.Queues, "queues")
	fs.IntVar(&size.Skills, "skills", size.Skills, "skills")
	fs.IntVar(&size.Sites, "sites", size.Sites, "sites")
	n := fs.Int("n", 200000, "conversations to route")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if size.Agents < 1 || size.Queues < 1 || size.Skills < 1 || size.Sites < 1 || *n < 1 {
		return fmt.Errorf("bench router: every size must be positive")
	}
	for _, strat := range []router.Strategy{router.LongestIdle, router.LeastOccupied} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := router.NewBenchWorld(size, strat).Run(*n)
		fmt.Fprintf(stdout, "router %-14s %d agents, %d queues, %d skills: %d decisions; Decide %.0f decisions/s (p50 %s, p99 %s per decision); whole cycle with event observation %.0f decisions/s\n",
			strat, size.Agents, size.Queues, size.Skills, r.Decisions, r.DecisionsPerSecond(), r.P50, r.P99, r.CyclePerSecond())
	}
	return nil
}
