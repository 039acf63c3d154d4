package main

import (
	"context"
	"fmt"
	"io"
)

const benchUsage = `usage: starpost bench <scenario> [flags]

scenarios:
  router   router decisions/s and p50/p99 with 5,000 agents, 200 queues, 50 skills
  e2e      customer message over WebSocket → committed → agent's WebSocket: messages/s, p50/p99
  conns    idle agent and visitor WebSockets: the server's RSS and heap per connection
  surge    a festival day replayed: ramp to a peak of new chats, agents answering, back-pressure; JSON + SVG
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return fmt.Errorf("bench: name a scenario")
	}
	switch args[0] {
	case "router":
		return runBenchRouter(ctx, args[1:], stdout, stderr)
	case "e2e":
		return runBenchE2E(ctx, args[1:], stdout, stderr)
	case "surge":
		return runBenchSurge(ctx, args[1:], stdout, stderr)
	case "conns":
		return runBenchConns(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, benchUsage)
	return fmt.Errorf("bench: unknown scenario %q", args[0])
}
