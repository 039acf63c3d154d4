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

// Contact is one past conversation of the demo history.
type Contact struct {
	QueueID                  string
	AgentID                  string
	Arrived, Assigned, Ended time.Time
}

// History returns days of past conversations for the demo queues, so
// workforce management has history to forecast from: Poisson arrivals
// around HistoryProfile, each assigned to a demo agent after a short wait
// and resolved a few minutes later. It is deterministic for a given now.
func History(w *World, now time.Time, days int) ([]Contact, error) {
	rng := rand.New(rand.NewPCG(uint64(now.Unix()/86400), 7))
	agents := w.Agents()
	if len(agents) == 0 || len(w.Queues) == 0 {
		return nil, fmt.Errorf("demo history: no agents or queues")
	}
	cst := time.FixedZone("CST", 8*3600)
	today := now.In(cst)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, cst)
	var out []Contact
	for d := days; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		weekend := 1.0
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend = 1.2
		}
		for k := 32; k < 88; k++ { // 08:00–22:00 in 15-minute steps
			h := float64(k) / 4
			shape := 0.35 + math.Exp(-math.Pow((h-10.5)/1.8, 2)) + 0.8*math.Exp(-math.Pow((h-20)/1.5, 2))
			for qi, q := range w.Queues {
				mean := HistoryProfile[qi%len(HistoryProfile)] * shape * weekend
				for range poisson(rng, mean) {
					at := day.Add(time.Duration(k)*15*time.Minute + time.Duration(rng.IntN(900))*time.Second).UTC()
					wait := time.Duration(5+rng.IntN(40)) * time.Second
					handle := time.Duration(3*60+rng.IntN(6*60)) * time.Second
					out = append(out, Contact{QueueID: q.ID, AgentID: agents[rng.IntN(len(agents))].UserID,
						Arrived: at, Assigned: at.Add(wait), Ended: at.Add(wait + handle)})
				}
			}
		}
	}
	return out, nil
}

// SeedHistory appends the History as conversation events (created,
// assigned, resolved), the way real traffic leaves them, and returns the
// number of conversations.
func SeedHistory(ctx context.Context, conv starpost.ConversationService, w *World, now time.Time, days int) (int, error) {
	hist, err := History(w, now, days)
	if err != nil {
		return 0, err
	}
	total := len(hist)
	for len(hist) > 0 {
		batch := hist[:min(len(hist), 500)]
		hist = hist[len(batch):]
		created := make([]*starpost.Event, len(batch))
		for i, c := range batch {
			created[i] = &starpost.Event{WorkspaceID: w.Workspace.ID, Kind: starpost.KindCreated, At: c.Arrived,
				Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "history"},
				Body:  starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "history", QueueID: c.QueueID})}
		}
		got, err := conv.Append(ctx, created...)
		if err != nil {
			return 0, fmt.Errorf("demo history: %w", err)
		}
		var more []*starpost.Event
		for i, e := range got {
			c := batch[i]
			more = append(more,
				&starpost.Event{WorkspaceID: e.WorkspaceID, ConversationID: e.ConversationID, Kind: starpost.KindAssigned, Actor: starpost.System, At: c.Assigned,
					Body: starpost.MustBody(starpost.AssignedBody{AgentID: c.AgentID, By: "router"})},
				&starpost.Event{WorkspaceID: e.WorkspaceID, ConversationID: e.ConversationID, Kind: starpost.KindState, Actor: starpost.System, At: c.Ended,
					Body: starpost.MustBody(starpost.StateBody{State: starpost.StateResolved})})
		}
		if _, err := conv.Append(ctx, more...); err != nil {
			return 0, fmt.Errorf("demo history: %w", err)
		}
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
