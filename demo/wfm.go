package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/starpost/starpost"
)

// HistoryProfile is the mean number of new chats per 15 minutes of each
// demo queue at its daily peak; the day follows a two-hump curve from
// 08:00 to 22:00 (Asia/Shanghai), weekends a little busier.
var HistoryProfile = []float64{1.6, 0.8, 0.3}

// SeedHistory appends days of past conversations to the demo queues, so
// workforce management has history to forecast from: each conversation
// arrives (Poisson counts around HistoryProfile), is assigned to a demo
// agent and resolved after a few minutes. It is deterministic for a given
// now and returns the number of conversations.
func SeedHistory(ctx context.Context, conv starpost.ConversationService, w *World, now time.Time, days int) (int, error) {
	rng := rand.New(rand.NewPCG(uint64(now.Unix()/86400), 7))
	agents := w.Agents()
	if len(agents) == 0 || len(w.Queues) == 0 {
		return 0, fmt.Errorf("demo history: no agents or queues")
	}
	cst := time.FixedZone("CST", 8*3600)
	today := now.In(cst)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, cst)
	total := 0
	for d := days; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		weekend := 1.0
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend = 1.2
		}
		var created []*starpost.Event
		for k := 32; k < 88; k++ { // 08:00–22:00 in 15-minute steps
			h := float64(k) / 4
			shape := 0.35 + math.Exp(-math.Pow((h-10.5)/1.8, 2)) + 0.8*math.Exp(-math.Pow((h-20)/1.5, 2))
			for qi, q := range w.Queues {
				mean := HistoryProfile[qi%len(HistoryProfile)] * shape * weekend
				for range poisson(rng, mean) {
					at := day.Add(time.Duration(k)*15*time.Minute + time.Duration(rng.IntN(900))*time.Second)
					created = append(created, &starpost.Event{WorkspaceID: w.Workspace.ID, Kind: starpost.KindCreated, At: at.UTC(),
						Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "history"},
						Body:  starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "history", QueueID: q.ID})})
				}
			}
		}
		if len(created) == 0 {
			continue
		}
		got, err := conv.Append(ctx, created...)
		if err != nil {
			return total, fmt.Errorf("demo history: %w", err)
		}
		var more []*starpost.Event
		for _, c := range got {
			wait := time.Duration(5+rng.IntN(40)) * time.Second
			handle := time.Duration(3*60+rng.IntN(6*60)) * time.Second
			more = append(more,
				&starpost.Event{WorkspaceID: c.WorkspaceID, ConversationID: c.ConversationID, Kind: starpost.KindAssigned, Actor: starpost.System, At: c.At.Add(wait),
					Body: starpost.MustBody(starpost.AssignedBody{AgentID: agents[rng.IntN(len(agents))].UserID, By: "router"})},
				&starpost.Event{WorkspaceID: c.WorkspaceID, ConversationID: c.ConversationID, Kind: starpost.KindState, Actor: starpost.System, At: c.At.Add(wait + handle),
					Body: starpost.MustBody(starpost.StateBody{State: starpost.StateResolved})})
		}
		if _, err := conv.Append(ctx, more...); err != nil {
			return total, fmt.Errorf("demo history: %w", err)
		}
		total += len(got)
	}
	return total, nil
}

// poisson draws a Poisson count with the given mean (Knuth's method; the
// means here are small).
func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
