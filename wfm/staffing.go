package wfm

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Target is a staffing goal. Every set field must hold; zero fields are
// ignored. At least one goal must be set.
type Target struct {
	// ServiceLevel is the fraction (0..1) to be answered within AnswerWithin.
	ServiceLevel float64
	// AnswerWithin is the service-level threshold (the Y of "X % in Y s").
	AnswerWithin time.Duration
	// MaxASA caps the average speed of answer.
	MaxASA time.Duration
	// MaxAbandon caps the abandonment rate (0..1); needs patience.
	MaxAbandon float64
	// MaxOccupancy caps agent occupancy (0..1), protecting against burn-out.
	MaxOccupancy float64
}

// Validate reports whether the target is usable.
func (t Target) Validate() error {
	if t.ServiceLevel < 0 || t.ServiceLevel >= 1 || t.MaxAbandon < 0 || t.MaxAbandon >= 1 || t.MaxOccupancy < 0 || t.MaxOccupancy > 1 || t.MaxASA < 0 || t.AnswerWithin < 0 {
		return errors.New("wfm: target fractions must be in [0,1) and durations non-negative")
	}
	if t.ServiceLevel == 0 && t.MaxASA == 0 && t.MaxAbandon == 0 && t.MaxOccupancy == 0 {
		return errors.New("wfm: target sets no goal")
	}
	return nil
}

// Met reports whether p meets every goal of t.
func (t Target) Met(p Performance) bool {
	if t.ServiceLevel > 0 && p.ServiceLevel < t.ServiceLevel {
		return false
	}
	if t.MaxASA > 0 && p.ASA > t.MaxASA {
		return false
	}
	if t.MaxAbandon > 0 && p.Abandon > t.MaxAbandon {
		return false
	}
	if t.MaxOccupancy > 0 && p.Occupancy > t.MaxOccupancy {
		return false
	}
	return true
}

// maxAgents bounds the search for a staffing level.
const maxAgents = 1_000_000

// AgentsNeeded returns the smallest number of agents (servers) whose
// performance meets the target, with the model chosen by the workload:
// Erlang A when Patience is set, Erlang C otherwise. Zero contacts need
// zero agents.
func AgentsNeeded(w Workload, t Target) (Performance, error) {
	if err := w.Validate(); err != nil {
		return Performance{}, err
	}
	if err := t.Validate(); err != nil {
		return Performance{}, err
	}
	if w.Contacts == 0 {
		return Performance{ServiceLevel: 1}, nil
	}
	perf := func(n int) (Performance, error) {
		if w.Patience > 0 {
			return ErlangA(w, n, t.AnswerWithin)
		}
		return ErlangC(w, n, t.AnswerWithin)
	}
	// Every measure improves with n, so gallop then bisect.
	lo := 0 // known not to meet (or zero)
	hi := max(1, int(math.Ceil(w.Erlangs())))
	for {
		p, err := perf(hi)
		if err != nil {
			return Performance{}, fmt.Errorf("wfm: staffing %d agents: %w", hi, err)
		}
		if t.Met(p) {
			break
		}
		lo = hi
		hi *= 2
		if hi > maxAgents {
			return Performance{}, fmt.Errorf("wfm: target not reachable with %d agents", maxAgents)
		}
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		p, err := perf(mid)
		if err != nil {
			return Performance{}, fmt.Errorf("wfm: staffing %d agents: %w", mid, err)
		}
		if t.Met(p) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return perf(hi)
}

// Shrinkage is the share of paid time agents are not available to handle
// contacts, by cause; the parts add up (the usual planning convention).
type Shrinkage struct {
	// Breaks covers paid breaks and lunch.
	Breaks float64
	// Training covers coaching, meetings and training.
	Training float64
	// Absence covers sickness and unplanned absence.
	Absence float64
	// Other covers anything else (system downtime, after-call admin).
	Other float64
}

// Total returns the summed shrinkage fraction.
func (s Shrinkage) Total() float64 { return s.Breaks + s.Training + s.Absence + s.Other }

// Validate reports whether the shrinkage is usable.
func (s Shrinkage) Validate() error {
	for _, v := range []float64{s.Breaks, s.Training, s.Absence, s.Other} {
		if v < 0 || math.IsNaN(v) {
			return errors.New("wfm: shrinkage parts must be non-negative")
		}
	}
	if s.Total() >= 1 {
		return fmt.Errorf("wfm: total shrinkage %.2f must be below 1", s.Total())
	}
	return nil
}

// Scheduled returns the agents to schedule so that, after shrinkage,
// productive agents remain: ceil(productive / (1 − total)).
func (s Shrinkage) Scheduled(productive int) int {
	return int(math.Ceil(float64(productive)/(1-s.Total()) - 1e-9))
}

// StaffPlan is how a queue is staffed: the target, chat concurrency and
// shrinkage.
type StaffPlan struct {
	// Target is the service goal.
	Target Target
	// Concurrency is the number of conversations an agent handles at once
	// (chat); 0 or 1 means one at a time (voice). The queue is sized as
	// M/M/(n·c) with handle time the conversation's duration at that
	// concurrency, and agents = ceil(slots / c).
	Concurrency int
	// Shrinkage turns productive agents into scheduled agents.
	Shrinkage Shrinkage
}

// Requirement is the staffing need of one interval.
type Requirement struct {
	// Start is the beginning of the interval.
	Start time.Time
	// Contacts is the forecast contacts.
	Contacts float64
	// HandleTime is the mean handle time used.
	HandleTime time.Duration
	// Agents is the number of productive agents needed.
	Agents int
	// Scheduled is Agents grossed up for shrinkage.
	Scheduled int
	// Perf is the expected performance at that staffing.
	Perf Performance
}

// Staff returns the requirement of one workload under a plan.
func Staff(w Workload, p StaffPlan) (Requirement, error) {
	if err := p.Shrinkage.Validate(); err != nil {
		return Requirement{}, err
	}
	c := max(p.Concurrency, 1)
	perf, err := AgentsNeeded(w, p.Target)
	if err != nil {
		return Requirement{}, err
	}
	agents := (perf.Agents + c - 1) / c
	return Requirement{Contacts: w.Contacts, HandleTime: w.HandleTime, Agents: agents, Scheduled: p.Shrinkage.Scheduled(agents), Perf: perf}, nil
}

// Requirements staffs every interval of a forecast. Intervals without a
// forecast handle time use defaultAHT; patience applies to every interval
// (zero for Erlang C).
func Requirements(fc []IntervalForecast, interval, defaultAHT, patience time.Duration, p StaffPlan) ([]Requirement, error) {
	out := make([]Requirement, 0, len(fc))
	for _, f := range fc {
		aht := f.HandleTime
		if aht <= 0 {
			aht = defaultAHT
		}
		r, err := Staff(Workload{Contacts: f.Contacts, Interval: interval, HandleTime: aht, Patience: patience}, p)
		if err != nil {
			return nil, fmt.Errorf("wfm: staff interval %s: %w", f.Start.Format(time.RFC3339), err)
		}
		r.Start = f.Start
		out = append(out, r)
	}
	return out, nil
}
