package schedule

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Window is a span of intervals [Start, End) in which an agent can work.
// On a cyclic horizon End may exceed the horizon length to wrap past it.
type Window struct {
	// Start is the first interval.
	Start int
	// End is one past the last interval.
	End int
}

// Agent is a named agent to roster.
type Agent struct {
	// ID identifies the agent.
	ID string
	// Skills the agent has.
	Skills []string
	// MinHours and MaxHours bound the paid hours per horizon (contract
	// hours); MaxHours zero means no upper limit.
	MinHours, MaxHours float64
	// Available lists the windows in which the agent can work; a shift
	// must lie entirely inside one window. Nil means always available.
	Available []Window
}

// Rules are the labour rules every roster must respect.
type Rules struct {
	// MinRest is the least number of intervals between the end of one
	// shift and the start of the next for the same agent (44 = 11 h at 15
	// minutes).
	MinRest int
	// IntervalsPerDay fixes the day of a shift (the day it starts in).
	IntervalsPerDay int
	// MaxConsecutiveDays bounds runs of consecutive working days (0 means
	// no limit). On a cyclic horizon runs wrap around.
	MaxConsecutiveDays int
	// Skill, when set, is required of every agent on a rostered shift.
	Skill string
}

// Slot is one agent-shift to be staffed: a column and an identifier.
type Slot struct {
	// ID is the slot's index in Roster.Slots.
	ID int
	// Column is the shift.
	Column Column
}

// ErrClaimRejected is wrapped by Claim when a claim breaks a rule or the
// slot is not open.
var ErrClaimRejected = errors.New("schedule: claim rejected")

// Roster assigns named agents to the agent-shifts of a schedule. Use
// NewRoster, then Assign for the automatic assignment and Claim for open
// slots picked by flexible agents. Its methods are safe for concurrent
// use; claims are served first come, first served.
type Roster struct {
	mu       sync.Mutex
	p        *Problem
	rules    Rules
	agents   []Agent
	slots    []Slot
	owner    []int        // owner[slot] is the agent index or -1
	byAgent  [][]agentJob // sorted by start
	hours    []float64
	skill    []bool
	coverage []int // staffed agents per interval
	hoursPer float64
}

type agentJob struct {
	slot       int
	start, end int // absolute [start, end) on the unrolled horizon, start in [0,n)
}

// NewRoster prepares a roster for the slots of sol (one slot per agent on
// each shift) and the given agents and rules.
func NewRoster(p *Problem, sol *Solution, agents []Agent, rules Rules) (*Roster, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if rules.IntervalsPerDay <= 0 {
		return nil, fmt.Errorf("schedule: new roster: IntervalsPerDay must be positive, got %d", rules.IntervalsPerDay)
	}
	if rules.MinRest < 0 || rules.MaxConsecutiveDays < 0 {
		return nil, errors.New("schedule: new roster: negative rule")
	}
	n := len(p.Required)
	r := &Roster{p: p, rules: rules, agents: agents, coverage: make([]int, n),
		byAgent: make([][]agentJob, len(agents)), hours: make([]float64, len(agents)),
		skill: make([]bool, len(agents)), hoursPer: float64(p.minutes()) / 60}
	for _, s := range sol.Shifts {
		for k := 0; k < s.Agents; k++ {
			r.slots = append(r.slots, Slot{ID: len(r.slots), Column: s.Column})
		}
	}
	r.owner = make([]int, len(r.slots))
	for k := range r.owner {
		r.owner[k] = -1
	}
	for a, ag := range agents {
		r.skill[a] = rules.Skill == "" || slices.Contains(ag.Skills, rules.Skill)
		for _, w := range ag.Available {
			if w.Start < 0 || w.End <= w.Start || w.End > 2*n {
				return nil, fmt.Errorf("schedule: new roster: agent %s: bad window [%d,%d)", ag.ID, w.Start, w.End)
			}
		}
	}
	return r, nil
}

// Slots returns the agent-shifts of the roster.
func (r *Roster) Slots() []Slot { return r.slots }

// Owner returns the index of the agent on slot s, or -1 when it is open.
func (r *Roster) Owner(s int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owner[s]
}

// Hours returns the paid hours rostered for agent a.
func (r *Roster) Hours(a int) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hours[a]
}

// Open returns the slots that no agent holds.
func (r *Roster) Open() []Slot {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Slot
	for k, o := range r.owner {
		if o < 0 {
			out = append(out, r.slots[k])
		}
	}
	return out
}

// span returns the absolute [start, end) of a column.
func (r *Roster) span(c Column) (int, int) {
	return c.Start, c.Start + r.p.Templates[c.Template].Length
}

// check returns nil when agent a can take slot s under every rule.
func (r *Roster) check(a, s int) error {
	ag := &r.agents[a]
	c := r.slots[s].Column
	n := len(r.p.Required)
	start, end := r.span(c)
	if !r.skill[a] {
		return fmt.Errorf("agent %s lacks skill %q", ag.ID, r.rules.Skill)
	}
	if ag.Available != nil {
		ok := false
		for _, w := range ag.Available {
			if inside(start, end, w, n, r.p.Cyclic) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("agent %s is not available for [%d,%d)", ag.ID, start, end)
		}
	}
	if ag.MaxHours > 0 && r.hours[a]+c.Cost > ag.MaxHours+1e-9 {
		return fmt.Errorf("agent %s would work %.2f h, contract maximum %.2f h", ag.ID, r.hours[a]+c.Cost, ag.MaxHours)
	}
	jobs := r.byAgent[a]
	for _, j := range jobs {
		if gap := restBetween(j.start, j.end, start, end, n, r.p.Cyclic); gap < r.rules.MinRest {
			return fmt.Errorf("agent %s would rest %d intervals between shifts, minimum %d", ag.ID, gap, r.rules.MinRest)
		}
	}
	if r.rules.MaxConsecutiveDays > 0 {
		days := r.days()
		var buf [64]bool
		worked := buf[:0]
		if days <= len(buf) {
			worked = buf[:days]
		} else {
			worked = make([]bool, days)
		}
		for _, j := range jobs {
			worked[(j.start/r.rules.IntervalsPerDay)%days] = true
		}
		worked[(start/r.rules.IntervalsPerDay)%days] = true
		if run := longestRun(worked, r.p.Cyclic); run > r.rules.MaxConsecutiveDays {
			return fmt.Errorf("agent %s would work %d consecutive days, maximum %d", ag.ID, run, r.rules.MaxConsecutiveDays)
		}
	}
	return nil
}

func (r *Roster) days() int {
	n := len(r.p.Required)
	return (n + r.rules.IntervalsPerDay - 1) / r.rules.IntervalsPerDay
}

// inside reports whether [start,end) lies in window w (or in w shifted by
// one horizon on a cyclic horizon).
func inside(start, end int, w Window, n int, cyclic bool) bool {
	if start >= w.Start && end <= w.End {
		return true
	}
	return cyclic && start+n >= w.Start && end+n <= w.End
}

// restBetween returns the rest between two shifts [s1,e1) and [s2,e2)
// (the smaller gap in either order, cyclic when the horizon is); a
// negative value means they overlap.
func restBetween(s1, e1, s2, e2, n int, cyclic bool) int {
	if cyclic {
		// Bring the second shift to the copy nearest the first.
		best := 1 << 30
		for _, off := range []int{-n, 0, n} {
			a, b := s2+off, e2+off
			var g int
			if a >= e1 {
				g = a - e1
			} else if s1 >= b {
				g = s1 - b
			} else {
				g = -1
			}
			best = min(best, g)
		}
		return best
	}
	if s2 >= e1 {
		return s2 - e1
	}
	if s1 >= e2 {
		return s1 - e2
	}
	return -1
}

// longestRun returns the longest run of true values (wrapping when cyclic).
func longestRun(worked []bool, cyclic bool) int {
	best, cur := 0, 0
	loops := 1
	if cyclic {
		loops = 2
	}
	for l := 0; l < loops; l++ {
		for _, w := range worked {
			if w {
				cur++
				best = max(best, cur)
			} else {
				cur = 0
			}
		}
	}
	return min(best, len(worked))
}

// take gives slot s to agent a; the caller holds mu and has checked.
func (r *Roster) take(a, s int) {
	c := r.slots[s].Column
	start, end := r.span(c)
	r.owner[s] = a
	r.hours[a] += c.Cost
	j := agentJob{slot: s, start: start, end: end}
	jobs := r.byAgent[a]
	k := sort.Search(len(jobs), func(i int) bool { return jobs[i].start >= start })
	jobs = slices.Insert(jobs, k, j)
	r.byAgent[a] = jobs
	c.Covers(len(r.p.Required), func(i int) { r.coverage[i]++ })
}

// Assign gives open slots to agents greedily: slots with the fewest
// eligible agents first, each to the eligible agent furthest below their
// minimum contract hours (then with the fewest hours). Slots no agent can
// take stay open, to be published for claims. It returns the number of
// slots left open.
func (r *Roster) Assign(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	type cand struct{ slot, eligible int }
	var order []cand
	for s := range r.slots {
		if r.owner[s] >= 0 {
			continue
		}
		e := 0
		for a := range r.agents {
			if r.check(a, s) == nil {
				e++
			}
		}
		order = append(order, cand{s, e})
		if s%64 == 0 && ctx.Err() != nil {
			return 0, fmt.Errorf("schedule: assign: %w", ctx.Err())
		}
	}
	slices.SortStableFunc(order, func(x, y cand) int {
		if x.eligible != y.eligible {
			return x.eligible - y.eligible
		}
		return r.slots[x.slot].Column.Start - r.slots[y.slot].Column.Start
	})
	open := 0
	for k, o := range order {
		if k%64 == 0 && ctx.Err() != nil {
			return 0, fmt.Errorf("schedule: assign: %w", ctx.Err())
		}
		best := -1
		bestKey := [2]float64{}
		for a := range r.agents {
			if r.check(a, o.slot) != nil {
				continue
			}
			key := [2]float64{r.hours[a] - r.agents[a].MinHours, r.hours[a]}
			if best < 0 || key[0] < bestKey[0] || (key[0] == bestKey[0] && key[1] < bestKey[1]) {
				best, bestKey = a, key
			}
		}
		if best < 0 {
			open++
			continue
		}
		r.take(best, o.slot)
	}
	return open, nil
}

// Claim lets agent a take open slot s when it is still open, the agent
// meets every rule (skill, availability, contract maximum, rest, consecutive
// days) and the slot's shift is still needed: some interval it covers is
// staffed below the requirement. Otherwise it returns an error wrapping
// ErrClaimRejected and changes nothing.
func (r *Roster) Claim(a, s int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a < 0 || a >= len(r.agents) || s < 0 || s >= len(r.slots) {
		return fmt.Errorf("%w: agent %d or slot %d out of range", ErrClaimRejected, a, s)
	}
	if r.owner[s] >= 0 {
		return fmt.Errorf("%w: slot %d is already taken", ErrClaimRejected, s)
	}
	if err := r.check(a, s); err != nil {
		return fmt.Errorf("%w: %v", ErrClaimRejected, err)
	}
	needed := false
	r.slots[s].Column.Covers(len(r.p.Required), func(i int) {
		if r.coverage[i] < r.p.Required[i] {
			needed = true
		}
	})
	if !needed {
		return fmt.Errorf("%w: slot %d adds no needed coverage", ErrClaimRejected, s)
	}
	r.take(a, s)
	return nil
}

// Release frees slot s held by agent a (an agent giving a shift back); it
// returns an error when a does not hold s.
func (r *Roster) Release(a, s int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s < 0 || s >= len(r.slots) || r.owner[s] != a || a < 0 {
		return fmt.Errorf("schedule: release: agent %d does not hold slot %d", a, s)
	}
	c := r.slots[s].Column
	r.owner[s] = -1
	r.hours[a] -= c.Cost
	jobs := r.byAgent[a]
	for k, j := range jobs {
		if j.slot == s {
			r.byAgent[a] = slices.Delete(jobs, k, k+1)
			break
		}
	}
	c.Covers(len(r.p.Required), func(i int) { r.coverage[i]-- })
	return nil
}

// Check verifies every rule for every agent from scratch: each slot has
// at most one agent, every agent has the skill, works inside their
// availability, within contract maximum hours, rests at least MinRest
// between shifts and works no more than MaxConsecutiveDays in a row. It
// does not require MinHours (it reports shortfalls through Shortfalls).
func (r *Roster) Check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.p.Required)
	per := make([][]int, len(r.agents))
	for s, a := range r.owner {
		if a >= 0 {
			per[a] = append(per[a], s)
		}
	}
	for a, slots := range per {
		ag := &r.agents[a]
		if len(slots) > 0 && !r.skill[a] {
			return fmt.Errorf("schedule: check roster: agent %s works without skill %q", ag.ID, r.rules.Skill)
		}
		hours := 0.0
		worked := make([]bool, r.days())
		for k, s := range slots {
			c := r.slots[s].Column
			st, en := r.span(c)
			hours += c.Cost
			worked[(st/r.rules.IntervalsPerDay)%len(worked)] = true
			if ag.Available != nil {
				ok := false
				for _, w := range ag.Available {
					ok = ok || inside(st, en, w, n, r.p.Cyclic)
				}
				if !ok {
					return fmt.Errorf("schedule: check roster: agent %s works [%d,%d) outside availability", ag.ID, st, en)
				}
			}
			for _, s2 := range slots[k+1:] {
				s2s, s2e := r.span(r.slots[s2].Column)
				if g := restBetween(st, en, s2s, s2e, n, r.p.Cyclic); g < r.rules.MinRest {
					return fmt.Errorf("schedule: check roster: agent %s rests %d intervals between slots %d and %d", ag.ID, g, s, s2)
				}
			}
		}
		if ag.MaxHours > 0 && hours > ag.MaxHours+1e-9 {
			return fmt.Errorf("schedule: check roster: agent %s works %.2f h, maximum %.2f", ag.ID, hours, ag.MaxHours)
		}
		if r.rules.MaxConsecutiveDays > 0 {
			if run := longestRun(worked, r.p.Cyclic); run > r.rules.MaxConsecutiveDays {
				return fmt.Errorf("schedule: check roster: agent %s works %d consecutive days", ag.ID, run)
			}
		}
	}
	return nil
}

// Shortfalls returns, per agent index, how many hours they are below
// their minimum contract hours (only agents with a shortfall).
func (r *Roster) Shortfalls() map[int]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int]float64{}
	for a, ag := range r.agents {
		if d := ag.MinHours - r.hours[a]; d > 1e-9 {
			out[a] = d
		}
	}
	return out
}
