package wfm

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// SimConfig configures a discrete-event simulation of one queue.
type SimConfig struct {
	// Workload gives arrival rate, handle time and patience (zero
	// patience: nobody abandons).
	Workload Workload
	// Agents is the number of agents.
	Agents int
	// AnswerWithin is the service-level threshold.
	AnswerWithin time.Duration
	// Arrivals is the number of arrivals that are measured.
	Arrivals int
	// Warmup is the number of arrivals simulated before measuring.
	Warmup int
	// Seed makes the run reproducible.
	Seed uint64
}

// SimResult is what a simulation measured.
type SimResult struct {
	// Arrivals is the number of measured arrivals.
	Arrivals int
	// ServiceLevel is answered within the threshold / measured arrivals.
	ServiceLevel float64
	// Abandon is abandoned / measured arrivals.
	Abandon float64
	// PWait is the fraction of measured arrivals that found no free agent.
	PWait float64
	// ASA is the mean time in queue of measured arrivals.
	ASA time.Duration
}

// timeHeap is a min-heap of service completion times.
type timeHeap []float64

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *timeHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// Simulate runs a seeded discrete-event simulation of an M/M/n+M queue
// (Poisson arrivals, exponential handle time and patience, first come first
// served) in virtual time and measures the same quantities as ErlangA.
// A waiting customer abandons when its patience runs out before an agent
// takes it; abandonment is resolved when the queue head is examined, which
// is exact for FCFS.
func Simulate(cfg SimConfig) (SimResult, error) {
	if err := cfg.Workload.Validate(); err != nil {
		return SimResult{}, err
	}
	if cfg.Agents < 1 || cfg.Arrivals < 1 || cfg.Warmup < 0 {
		return SimResult{}, errors.New("wfm: simulation needs agents ≥ 1 and arrivals ≥ 1")
	}
	lambda, mu, theta := cfg.Workload.rates()
	if lambda == 0 {
		return SimResult{}, errors.New("wfm: simulation needs a positive arrival rate")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	type waiting struct {
		arrival, deadline float64
		measured          bool
	}
	var (
		queue    []waiting
		head     int
		busy     timeHeap
		now      float64
		nextArr  = rng.ExpFloat64() / lambda
		arrivals int
		res      SimResult
		within   int
		abandons int
		waited   int
		waitSum  float64
	)
	T := cfg.AnswerWithin.Seconds()
	total := cfg.Warmup + cfg.Arrivals
	// serveHead gives a free agent to the first customer still waiting.
	serveHead := func() {
		for head < len(queue) {
			c := queue[head]
			head++
			if c.deadline <= now {
				if c.measured {
					abandons++
					waitSum += c.deadline - c.arrival
				}
				continue
			}
			if c.measured {
				wt := now - c.arrival
				waitSum += wt
				if wt <= T {
					within++
				}
			}
			heap.Push(&busy, now+rng.ExpFloat64()/mu)
			return
		}
	}
	for arrivals < total || head < len(queue) {
		if arrivals < total && (busy.Len() == 0 || nextArr <= busy[0]) {
			now = nextArr
			nextArr = now + rng.ExpFloat64()/lambda
			arrivals++
			measured := arrivals > cfg.Warmup
			// Customers whose patience expired before now left already;
			// drop them so the free-agent test below is exact.
			if busy.Len() < cfg.Agents {
				// Queue must be empty when an agent is free.
				if measured {
					within++
				}
				heap.Push(&busy, now+rng.ExpFloat64()/mu)
				continue
			}
			if measured {
				waited++
			}
			dl := math.Inf(1)
			if theta > 0 {
				dl = now + rng.ExpFloat64()/theta
			}
			queue = append(queue, waiting{arrival: now, deadline: dl, measured: measured})
			if head > 4096 && head*2 > len(queue) {
				queue = append(queue[:0], queue[head:]...)
				head = 0
			}
			continue
		}
		if busy.Len() == 0 {
			break
		}
		now = heap.Pop(&busy).(float64)
		serveHead()
	}
	// Customers left in queue after the last departure: all abandon
	// eventually (only possible when arrivals ran out with agents busy,
	// which the loop above drains), so nothing remains here.
	res.Arrivals = cfg.Arrivals
	n := float64(cfg.Arrivals)
	res.ServiceLevel = float64(within) / n
	res.Abandon = float64(abandons) / n
	res.PWait = float64(waited) / n
	res.ASA = seconds(waitSum / n)
	return res, nil
}

// StaffingGridRow is one cell of the Erlang A validation grid.
type StaffingGridRow struct {
	// Erlangs is the offered load.
	Erlangs float64
	// Agents is the staffing level.
	Agents int
	// Model is the Erlang A prediction.
	Model Performance
	// Sim is the simulation measurement.
	Sim SimResult
}

// StaffingGrid compares Erlang A with simulation over a grid of loads
// (5 to 200 Erlangs; agents = load + β·√load for β in −1, 0, 0.5, 1, 2,
// from overloaded to comfortable), with 180 s handle time, 120 s
// mean patience and a 20 s threshold. Runs are seeded, so results repeat.
func StaffingGrid(arrivals int) ([]StaffingGridRow, error) {
	const aht, patience, within = 180 * time.Second, 120 * time.Second, 20 * time.Second
	var rows []StaffingGridRow
	seed := uint64(1)
	for _, load := range []float64{5, 20, 50, 100, 200} {
		for _, beta := range []float64{-1, 0, 0.5, 1, 2} {
			n := max(1, int(math.Round(load+beta*math.Sqrt(load))))
			w := Workload{Contacts: load * 3600 / aht.Seconds(), Interval: time.Hour, HandleTime: aht, Patience: patience}
			m, err := ErlangA(w, n, within)
			if err != nil {
				return nil, fmt.Errorf("wfm: erlang A at %g Erlangs: %w", load, err)
			}
			s, err := Simulate(SimConfig{Workload: w, Agents: n, AnswerWithin: within, Arrivals: arrivals, Warmup: arrivals / 10, Seed: seed})
			if err != nil {
				return nil, fmt.Errorf("wfm: simulate %g Erlangs: %w", load, err)
			}
			seed++
			rows = append(rows, StaffingGridRow{Erlangs: load, Agents: n, Model: m, Sim: s})
		}
	}
	return rows, nil
}

// EvalStaffing prints the Erlang A versus simulation grid to w: service
// level, abandonment and ASA from the formulas and from 1,000,000 simulated
// arrivals per cell, and the largest service-level difference in points.
func EvalStaffing(w io.Writer) error {
	rows, err := StaffingGrid(1_000_000)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Erlang A vs simulation: AHT 180 s, patience 120 s, SL threshold 20 s, 1M arrivals per cell")
	fmt.Fprintf(w, "%8s %6s | %8s %8s %6s | %8s %8s %6s | %7s\n", "erlangs", "agents", "SL A", "aband A", "ASA A", "SL sim", "aband sim", "ASA sim", "dSL pt")
	worst := 0.0
	for _, r := range rows {
		d := 100 * (r.Sim.ServiceLevel - r.Model.ServiceLevel)
		worst = max(worst, math.Abs(d))
		fmt.Fprintf(w, "%8.0f %6d | %7.2f%% %7.2f%% %5.1fs | %7.2f%% %8.2f%% %6.1fs | %+7.2f\n",
			r.Erlangs, r.Agents, 100*r.Model.ServiceLevel, 100*r.Model.Abandon, r.Model.ASA.Seconds(),
			100*r.Sim.ServiceLevel, 100*r.Sim.Abandon, r.Sim.ASA.Seconds(), d)
	}
	fmt.Fprintf(w, "largest |SL difference|: %.2f points\n", worst)
	return nil
}
