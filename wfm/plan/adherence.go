package plan

import (
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// Span is a time range [Start, End).
type Span struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// PresenceChange is an agent's presence from At on.
type PresenceChange struct {
	At       time.Time         `json:"at"`
	Presence starpost.Presence `json:"presence"`
}

// Working reports whether presence p counts as working for adherence:
// available, busy or in after-contact work.
func Working(p starpost.Presence) bool {
	return p == starpost.PresenceAvailable || p == starpost.PresenceBusy || p == starpost.PresenceAfterWork
}

// Out-of-adherence kinds.
const (
	// OutAbsent is planned working time in which the agent was not working
	// (offline, on an unplanned break, or not signed in).
	OutAbsent = "absent"
	// OutUnscheduled is working time outside the plan; it is reported but
	// does not lower the adherence percentage.
	OutUnscheduled = "unscheduled"
)

// Period is an out-of-adherence period.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Kind  string    `json:"kind"`
}

// Adherence is one agent's schedule adherence over a window.
type Adherence struct {
	AgentID string `json:"agent_id"`
	// ScheduledMinutes is the planned working time (shifts minus their
	// breaks) inside the window.
	ScheduledMinutes float64 `json:"scheduled_minutes"`
	// InAdherenceMinutes is the planned working time the agent worked.
	InAdherenceMinutes float64 `json:"in_adherence_minutes"`
	// Percent is InAdherenceMinutes / ScheduledMinutes × 100 (100 when
	// nothing was planned).
	Percent float64 `json:"percent"`
	// Out lists the out-of-adherence periods in time order.
	Out []Period `json:"out"`
}

// ComputeAdherence compares planned working time with actual presence over
// [from, to). planned are the working spans (breaks already cut out);
// changes are the agent's presence changes in time order, the first of
// which may lie before from (the presence the window starts with). Before
// the first change the agent counts as offline. Adjacent periods of the
// same kind are merged.
func ComputeAdherence(agentID string, planned []Span, changes []PresenceChange, from, to time.Time) Adherence {
	res := Adherence{AgentID: agentID, Out: []Period{}}
	if !to.After(from) {
		res.Percent = 100
		return res
	}
	cuts := []time.Time{from, to}
	for _, sp := range planned {
		cuts = append(cuts, sp.Start, sp.End)
	}
	for _, c := range changes {
		cuts = append(cuts, c.At)
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	plannedAt := func(t time.Time) bool {
		for _, sp := range planned {
			if !t.Before(sp.Start) && t.Before(sp.End) {
				return true
			}
		}
		return false
	}
	workingAt := func(t time.Time) bool {
		p := starpost.PresenceOffline
		for _, c := range changes {
			if c.At.After(t) {
				break
			}
			p = c.Presence
		}
		return Working(p)
	}
	var sched, in time.Duration
	for i := 0; i+1 < len(cuts); i++ {
		a, b := cuts[i], cuts[i+1]
		if a.Before(from) || !b.After(a) || b.After(to) {
			continue
		}
		pl, wk := plannedAt(a), workingAt(a)
		d := b.Sub(a)
		if pl {
			sched += d
			if wk {
				in += d
			}
		}
		kind := ""
		switch {
		case pl && !wk:
			kind = OutAbsent
		case !pl && wk:
			kind = OutUnscheduled
		}
		if kind == "" {
			continue
		}
		if n := len(res.Out); n > 0 && res.Out[n-1].Kind == kind && res.Out[n-1].End.Equal(a) {
			res.Out[n-1].End = b
		} else {
			res.Out = append(res.Out, Period{Start: a, End: b, Kind: kind})
		}
	}
	res.ScheduledMinutes = sched.Minutes()
	res.InAdherenceMinutes = in.Minutes()
	res.Percent = 100
	if sched > 0 {
		res.Percent = 100 * in.Minutes() / sched.Minutes()
	}
	return res
}
