package plan_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/wfm/plan"
)

// seedHistory appends, for each of the days before today, perSlot chats
// per 15 minutes from 09:00 to 18:00, each assigned and resolved after
// five minutes.
func seedHistory(t *testing.T, f *fixture, days, perSlot int) int {
	t.Helper()
	n := 0
	for d := days; d >= 1; d-- {
		day := plan.DayStart(today).AddDate(0, 0, -d)
		var evs []*starpost.Event
		for k := 36; k < 72; k++ {
			for j := range perSlot {
				at := day.Add(time.Duration(k)*plan.Step + time.Duration(j)*time.Minute)
				evs = append(evs, created(f, at))
			}
		}
		got, err := f.db.Append(f.ctx, evs...)
		must(t, err)
		var more []*starpost.Event
		for _, c := range got {
			more = append(more,
				&starpost.Event{WorkspaceID: f.ws, ConversationID: c.ConversationID, Kind: starpost.KindAssigned, Actor: starpost.System, At: c.At,
					Body: starpost.MustBody(starpost.AssignedBody{AgentID: f.agents[0].ID, By: "router"})},
				&starpost.Event{WorkspaceID: f.ws, ConversationID: c.ConversationID, Kind: starpost.KindState, Actor: starpost.System, At: c.At.Add(5 * time.Minute),
					Body: starpost.MustBody(starpost.StateBody{State: starpost.StateResolved})})
		}
		_, err = f.db.Append(f.ctx, more...)
		must(t, err)
		n += len(got)
	}
	return n
}

func created(f *fixture, at time.Time) *starpost.Event {
	return &starpost.Event{WorkspaceID: f.ws, Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"}, At: at,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: "ct", QueueID: f.queue.ID})}
}

// TestEngineSurge runs the wfm engine on a real store and bus: history
// builds the forecast, a schedule is generated and published, then a
// surge arrives live; the engine re-forecasts the day, publishes open
// slots where the requirement exceeds the published staff, and a flexible
// agent claims one. Presence events feed adherence.
func TestEngineSurge(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 6)
	b, err := bus.Open(ctx, bus.Options{Store: f.db})
	must(t, err)
	defer b.Close()
	hist := seedHistory(t, f, 21, 2)

	// The planner generates and publishes this week from the history
	// (the engine has not run: the schedule needs only the history it
	// replays, so run it once first).
	r := syncEngineOn(t, f, b)
	ivs, err := f.svc.Intervals(ctx, f.ws, f.queue.ID, today.AddDate(0, 0, -30), today)
	must(t, err)
	total := 0.0
	for _, iv := range ivs {
		total += iv.Contacts
		if iv.Handled > 0 && iv.HandleSeconds/iv.Handled != 300 {
			t.Fatalf("handle time %v", iv.HandleSeconds/iv.Handled)
		}
	}
	if int(total) != hist {
		t.Fatalf("history %v contacts, seeded %d", total, hist)
	}
	sc, err := f.svc.Generate(ctx, f.ws, f.queue.ID, plan.DayStart(today))
	must(t, err)
	if len(sc.Shifts) == 0 || sc.LowerBound <= 0 || sc.PaidHours < sc.LowerBound-1e-9 {
		t.Fatalf("schedule cost %v bound %v shifts %d", sc.PaidHours, sc.LowerBound, len(sc.Shifts))
	}
	_, err = f.svc.Publish(ctx, f.ws, sc.ID)
	must(t, err)
	if _, err := f.svc.Publish(ctx, f.ws, sc.ID); starpost.ErrorCode(err) != starpost.ECONFLICT {
		t.Fatalf("publish twice: %v", err)
	}
	before, err := f.svc.Day(ctx, f.ws, f.queue.ID, today)
	must(t, err)
	for _, it := range before.Items {
		if it.Start.Before(plan.DayStart(today).Add(9*time.Hour)) || !it.Start.Before(plan.DayStart(today).Add(18*time.Hour)) {
			continue
		}
		if it.Forecast < 1.5 || it.Forecast > 2.5 {
			t.Fatalf("forecast %v at %v from a flat history of 2", it.Forecast, it.Start)
		}
		if it.Scheduled+it.Open < it.Required {
			t.Fatalf("published schedule leaves %v short: %d+%d < %d", it.Start, it.Scheduled, it.Open, it.Required)
		}
	}

	go r.Run(ctx)
	// A surge: from 09:00 to 10:00 today, 12 chats per 15 minutes, live.
	day := plan.DayStart(today)
	var live []*starpost.Event
	for k := 36; k < 40; k++ {
		for j := range 12 {
			live = append(live, created(f, day.Add(time.Duration(k)*plan.Step+time.Duration(j)*time.Minute)))
		}
	}
	agent := f.agents[5]
	live = append(live, &starpost.Event{WorkspaceID: f.ws, Kind: starpost.KindPresence, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent.ID},
		At: day.Add(9*time.Hour + 5*time.Minute), Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceAvailable})})
	for _, e := range live {
		got, err := f.db.Append(ctx, e)
		must(t, err)
		must(t, b.Publish(ctx, got...))
	}

	var p *plan.DayPlan
	deadline := time.Now().Add(60 * time.Second) // a hang guard, not a measurement
	for {
		p, err = f.svc.Day(ctx, f.ws, f.queue.ID, today)
		must(t, err)
		var actual float64
		for _, it := range p.Items {
			actual += it.Actual
		}
		slots, err := f.svc.OpenSlots(ctx, f.ws, "")
		must(t, err)
		surge := 0
		for _, sl := range slots {
			if sl.Reason == "surge" {
				surge++
			}
		}
		if actual == 48 && p.Factor > 1.5 && surge > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine did not re-plan: actual %v factor %v surge slots %d", actual, p.Factor, surge)
		}
		time.Sleep(20 * time.Millisecond)
	}
	next := day.Add(10 * time.Hour)
	for _, it := range p.Items {
		if it.Start.Before(next) {
			continue
		}
		if it.Scheduled+it.Open < it.ReRequired {
			t.Fatalf("after re-planning %v is short: %d+%d < %d", it.Start, it.Scheduled, it.Open, it.ReRequired)
		}
	}
	// A flexible agent claims a surge slot on the phone.
	slots, err := f.svc.OpenSlots(ctx, f.ws, agent.ID)
	must(t, err)
	var claimed bool
	for _, sl := range slots {
		if sl.Reason != "surge" {
			continue
		}
		if _, err := f.svc.Claim(ctx, f.ws, agent.ID, sl.ID); err == nil {
			claimed = true
			break
		}
	}
	if !claimed {
		t.Fatal("no surge slot could be claimed")
	}
	// Adherence sees the presence the engine recorded.
	f.clock.set(today.Add(8 * time.Hour))
	adh, err := f.svc.Adherence(ctx, f.ws, today, time.UTC)
	must(t, err)
	var found bool
	for _, a := range adh {
		if a.AgentID == agent.ID {
			found = true
			if a.ScheduledMinutes <= 0 || a.InAdherenceMinutes <= 0 {
				t.Fatalf("adherence %+v", a)
			}
		}
	}
	if !found {
		t.Fatalf("no adherence for the agent who claimed: %+v", adh)
	}
}

// syncEngineOn replays the store once through the wfm engine.
func syncEngineOn(t *testing.T, f *fixture, b starpost.EventBus) *engine.Runner {
	t.Helper()
	r, err := engine.NewRunner(plan.NewEngine(f.svc), engine.Options{Store: f.db, Bus: b, SQL: f.db.SQL(), Driver: f.db.Driver(), Clock: f.clock})
	must(t, err)
	must(t, r.Sync(f.ctx))
	return r
}

// syncEngine is syncEngineOn with a bus of its own.
func syncEngine(t *testing.T, f *fixture) *engine.Runner {
	t.Helper()
	b, err := bus.Open(f.ctx, bus.Options{Store: f.db})
	must(t, err)
	t.Cleanup(func() { b.Close() })
	return syncEngineOn(t, f, b)
}
