package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/starpost/starpost/wfm"
)

const simulateUsage = `usage: starpost wfm simulate --forecast forecast.csv --staff shifts.csv|requirements.csv [--target 80/20] [--patience S] [--shrinkage 0.3] [--channel voice|chat --concurrency K] [--arrivals N] [--seed N] [--out sim.csv]

Runs the discrete-event simulation of every interval with the staffing of
a shifts file (agents on shift, less breaks and --shrinkage) or of a
requirements file (its agents column), and compares service level, ASA
and abandonment with Erlang C (Erlang A with --patience). Writes
interval,contacts,aht_seconds,agents,erlang_sl,sim_sl,erlang_asa_seconds,
sim_asa_seconds,erlang_abandon,sim_abandon.

`

// SimRow is the simulated and modelled performance of one interval.
type SimRow struct {
	// Start is the beginning of the interval.
	Start time.Time
	// Contacts is the forecast contacts.
	Contacts float64
	// HandleTime is the handle time used.
	HandleTime time.Duration
	// Agents is the number of productive agents.
	Agents int
	// Model is the Erlang C or A performance.
	Model wfm.Performance
	// Sim is the simulation's measurement.
	Sim wfm.SimResult
}

// staffing gives the productive agents of each forecast interval.
type staffing func(t time.Time) int

func runSimulate(ctx context.Context, args []string, e *env) error {
	fs := newFlags("simulate", simulateUsage, e)
	fcFile := fs.String("forecast", "", "forecast CSV: interval,contacts[,aht_seconds] (required)")
	staffFile := fs.String("staff", "", "shifts CSV (start,end,agents,breaks) or requirements CSV (interval,agents) (required)")
	arrivals := fs.Int("arrivals", 100000, "simulated arrivals measured per interval (steady state)")
	seed := fs.Uint64("seed", 1, "simulation seed")
	out := fs.String("out", "", "simulation CSV to write (stdout when absent)")
	opts := staffFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *fcFile == "" || *staffFile == "" {
		fs.Usage()
		return fmt.Errorf("%w: --forecast and --staff are required", ErrUsage)
	}
	if *arrivals < 100 || *arrivals > 10_000_000 {
		return fmt.Errorf("%w: --arrivals %d outside [100, 10000000]", ErrUsage, *arrivals)
	}
	o, err := opts()
	if err != nil {
		return err
	}
	fc, err := readFile(e, *fcFile, ReadForecast)
	if err != nil {
		return err
	}
	st, kind, err := readFile2(e, *staffFile, o.shrinkage)
	if err != nil {
		return err
	}
	rows, err := simulate(ctx, fc, st, o, *arrivals, *seed)
	if err != nil {
		return err
	}
	if _, err := writeOut(e, *out, func(w io.Writer) error { return writeSim(w, rows) }); err != nil {
		return err
	}
	sum := summarise(rows, o.target)
	rw := reportTo(e, *out)
	model := "Erlang C"
	if o.patience > 0 {
		model = "Erlang A"
	}
	fmt.Fprintf(rw, "%d intervals, %.0f contacts, staffing from %s; %d simulated arrivals per interval\n", len(rows), sum.contacts, kind, *arrivals)
	fmt.Fprintf(rw, "%-10s %8s %9s %9s\n", "", "SL", "ASA", "abandon")
	fmt.Fprintf(rw, "%-10s %7.2f%% %8.1fs %8.2f%%\n", model, 100*sum.modelSL, sum.modelASA, 100*sum.modelAb)
	fmt.Fprintf(rw, "%-10s %7.2f%% %8.1fs %8.2f%%\n", "simulated", 100*sum.simSL, sum.simASA, 100*sum.simAb)
	fmt.Fprintf(rw, "difference %+6.2f pt; largest per-interval |SL difference| %.2f pt; %d intervals below the %.0f %% target in simulation\n",
		100*(sum.simSL-sum.modelSL), 100*sum.worst, sum.below, 100*o.target.ServiceLevel)
	return nil
}

// readFile2 reads a shifts or a requirements file, told apart by header.
func readFile2(e *env, name string, shrinkage float64) (staffing, string, error) {
	var kind string
	st, err := readFile(e, name, func(file string, r io.Reader) (staffing, error) {
		t, err := readTable(file, r)
		if err != nil {
			return nil, err
		}
		if t.col("start") >= 0 && t.col("end") >= 0 {
			kind = "shifts"
			rows, err := shiftsFrom(t)
			if err != nil {
				return nil, err
			}
			return func(at time.Time) int {
				on := 0
				for _, s := range rows {
					on += s.On(at)
				}
				return int(math.Floor(float64(on)*(1-shrinkage) + 1e-9))
			}, nil
		}
		kind = "requirements (agents column)"
		reqs, err := requirementsFrom(t)
		if err != nil {
			return nil, err
		}
		by := make(map[int64]int, len(reqs))
		for _, r := range reqs {
			by[r.Start.UnixNano()] = r.Agents
		}
		return func(at time.Time) int { return by[at.UnixNano()] }, nil
	})
	return st, kind, err
}

// simulate runs every interval through the model and the simulation.
func simulate(ctx context.Context, fc []wfm.IntervalForecast, st staffing, o staffOptions, arrivals int, seed uint64) ([]SimRow, error) {
	iv := o.interval
	if iv == 0 {
		iv = step(starts(fc), 30*time.Minute)
	}
	conc := max(1, o.plan.Concurrency)
	rows := make([]SimRow, len(fc))
	errs := make([]error, len(fc))
	// Intervals are independent and seeded by index, so they run in
	// parallel and the result does not depend on the scheduling.
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(fc))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rows[i], errs[i] = simulateOne(fc[i], i, iv, conc, st, o, arrivals, seed)
			}
		}()
	}
	var stopped error
	for i := range fc {
		if stopped = ctx.Err(); stopped != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if stopped != nil {
		return nil, stopped
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rows, nil
}

// simulateOne models and simulates interval i.
func simulateOne(f wfm.IntervalForecast, i int, iv time.Duration, conc int, st staffing, o staffOptions, arrivals int, seed uint64) (SimRow, error) {
	aht := f.HandleTime
	if aht <= 0 {
		aht = o.aht
	}
	r := SimRow{Start: f.Start, Contacts: f.Contacts, HandleTime: aht, Agents: st(f.Start)}
	w := wfm.Workload{Contacts: f.Contacts, Interval: iv, HandleTime: aht, Patience: o.patience}
	servers := r.Agents * conc
	switch {
	case f.Contacts == 0:
		r.Model = wfm.Performance{Agents: servers, ServiceLevel: 1}
		r.Sim = wfm.SimResult{ServiceLevel: 1}
		return r, nil
	case servers == 0:
		// Nobody to answer: every contact waits until it gives up (or forever).
		r.Model = wfm.Performance{PWait: 1, ASA: time.Duration(math.MaxInt64), Abandon: 1}
		if o.patience > 0 {
			r.Model.ASA = o.patience
		} else {
			r.Model.Abandon = 0
		}
		r.Sim = wfm.SimResult{PWait: 1, ASA: r.Model.ASA, Abandon: r.Model.Abandon}
		return r, nil
	}
	var err error
	if o.patience > 0 {
		r.Model, err = wfm.ErlangA(w, servers, o.target.AnswerWithin)
	} else {
		r.Model, err = wfm.ErlangC(w, servers, o.target.AnswerWithin)
	}
	if err != nil {
		return r, fmt.Errorf("interval %s: %w", f.Start.Format(time.RFC3339), err)
	}
	if o.patience == 0 && w.Erlangs() >= float64(servers) {
		// An unstable queue has no steady state to simulate.
		r.Sim = wfm.SimResult{PWait: 1, ASA: r.Model.ASA}
		return r, nil
	}
	r.Sim, err = wfm.Simulate(wfm.SimConfig{Workload: w, Agents: servers, AnswerWithin: o.target.AnswerWithin,
		Arrivals: arrivals, Warmup: arrivals / 10, Seed: seed + uint64(i)})
	if err != nil {
		return r, fmt.Errorf("simulate interval %s: %w", f.Start.Format(time.RFC3339), err)
	}
	return r, nil
}

type simSummary struct {
	contacts                   float64
	modelSL, modelASA, modelAb float64
	simSL, simASA, simAb       float64
	worst                      float64
	below                      int
}

// summarise weights every interval by its contacts.
func summarise(rows []SimRow, t wfm.Target) simSummary {
	var s simSummary
	for _, r := range rows {
		c := r.Contacts
		s.contacts += c
		s.modelSL += c * r.Model.ServiceLevel
		s.simSL += c * r.Sim.ServiceLevel
		s.modelASA += c * finiteSeconds(r.Model.ASA)
		s.simASA += c * finiteSeconds(r.Sim.ASA)
		s.modelAb += c * r.Model.Abandon
		s.simAb += c * r.Sim.Abandon
		if c > 0 {
			s.worst = max(s.worst, math.Abs(r.Sim.ServiceLevel-r.Model.ServiceLevel))
			if r.Sim.ServiceLevel < t.ServiceLevel {
				s.below++
			}
		}
	}
	if s.contacts > 0 {
		for _, p := range []*float64{&s.modelSL, &s.modelASA, &s.modelAb, &s.simSL, &s.simASA, &s.simAb} {
			*p /= s.contacts
		}
	}
	return s
}

// finiteSeconds caps an unbounded ASA at one day so averages stay finite.
func finiteSeconds(d time.Duration) float64 {
	return math.Min(d.Seconds(), 86400)
}

func fmtSeconds(d time.Duration) string {
	if d == time.Duration(math.MaxInt64) {
		return "inf"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64)
}

// writeSim writes the per-interval comparison as CSV.
func writeSim(w io.Writer, rows []SimRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"interval", "contacts", "aht_seconds", "agents", "erlang_sl", "sim_sl", "erlang_asa_seconds", "sim_asa_seconds", "erlang_abandon", "sim_abandon"}); err != nil {
		return fmt.Errorf("write simulation header: %w", err)
	}
	f := func(v float64, p int) string { return strconv.FormatFloat(v, 'f', p, 64) }
	for _, r := range rows {
		rec := []string{
			r.Start.Format(time.RFC3339), f(r.Contacts, 2), f(r.HandleTime.Seconds(), 1), strconv.Itoa(r.Agents),
			f(r.Model.ServiceLevel, 4), f(r.Sim.ServiceLevel, 4), fmtSeconds(r.Model.ASA), fmtSeconds(r.Sim.ASA),
			f(r.Model.Abandon, 4), f(r.Sim.Abandon, 4),
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write simulation: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write simulation: %w", err)
	}
	return nil
}
