package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// InstanceDir is the folder name of the shared shift-scheduling benchmark
// instance inside the shared data folder.
const InstanceDir = "wfm_shift_instance"

// DefaultEvalBudget is the time EvalSchedule allows itself when ctx has no
// deadline (the target is 10 s on 2 cores).
const DefaultEvalBudget = 10 * time.Second

// BenchmarkTemplates returns the shift templates of the shared benchmark
// instance as its README defines them: a 4 h shift (16 intervals, no
// break, 4 paid hours) and an 8.5 h shift (34 intervals, one 2-interval
// break that does not count as coverage starting at offset 12..22, 8.5
// paid hours), each starting at any interval of the cyclic week.
func BenchmarkTemplates() []Template {
	return []Template{
		{Name: "4h", Length: 16, PaidHours: 4},
		{Name: "8.5h", Length: 34, PaidHours: 8.5,
			Breaks: []Break{{Length: 2, EarliestOffset: 12, LatestOffset: 22}}},
	}
}

// LoadBenchmark reads the benchmark instance from dir, which is either the
// instance folder itself or the shared data folder containing it.
func LoadBenchmark(dir string) (*Problem, error) {
	path := filepath.Join(dir, "requirements.csv")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		path = filepath.Join(dir, InstanceDir, "requirements.csv")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("schedule: load benchmark: %w", err)
	}
	defer f.Close()
	req, err := ReadRequirements(f)
	if err != nil {
		return nil, fmt.Errorf("schedule: load benchmark %s: %w", path, err)
	}
	return &Problem{Required: req, IntervalMinutes: 15, Cyclic: true, Templates: BenchmarkTemplates()}, nil
}

// Report is the outcome of EvalSchedule.
type Report struct {
	// Intervals and Columns give the instance size.
	Intervals, Columns int
	// RequiredHours is the sum of requirements in agent-hours (a weak bound).
	RequiredHours float64
	// Cost is the paid hours of the schedule found.
	Cost float64
	// LPValue is the LP relaxation value.
	LPValue float64
	// DualBound is the objective of a dual-feasible vector (a proven bound).
	DualBound float64
	// LowerBound is DualBound rounded up to the cost grid (also proven).
	LowerBound float64
	// Gap is (Cost − LowerBound) / LowerBound.
	Gap float64
	// DiveCost is the schedule cost after LP diving, before improvement.
	DiveCost float64
	// Agents is the number of shifts (agent-shifts) in the schedule.
	Agents int
	// LPIterations is the number of simplex pivots.
	LPIterations int
	// Elapsed is the wall time of the solve (loading excluded).
	Elapsed time.Duration
	// LPTime is the time to the root LP optimum and bound.
	LPTime time.Duration
	// BestAt is the time until the final schedule's cost was first reached.
	BestAt time.Duration
}

// EvalSchedule solves the shared benchmark instance found in dataDir (the
// instance folder or the shared data folder) within ctx's deadline, or
// DefaultEvalBudget when it has none, checks the schedule covers every
// interval, and prints cost, lower bound, gap and time to w. If the
// deadline ends before the LP optimum it still prints and returns the
// greedy schedule's report, with an error wrapping ctx's error.
func EvalSchedule(ctx context.Context, dataDir string, w io.Writer) (*Report, error) {
	p, err := LoadBenchmark(dataDir)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultEvalBudget)
		defer cancel()
	}
	start := time.Now()
	sol, solveErr := Solve(ctx, p, Options{})
	if sol == nil {
		return nil, fmt.Errorf("schedule: eval: %w", solveErr)
	}
	elapsed := time.Since(start)
	if err := CheckCoverage(p, sol); err != nil {
		return nil, fmt.Errorf("schedule: eval: %w", err)
	}
	rep := &Report{
		Intervals: len(p.Required), Columns: sol.Columns,
		Cost: sol.Cost, LPValue: sol.LPValue, DualBound: sol.DualBound, LowerBound: sol.LowerBound,
		Gap: sol.Gap, DiveCost: sol.DiveCost, LPIterations: sol.LPIterations,
		Elapsed: elapsed, LPTime: sol.LPTime, BestAt: sol.BestAt,
	}
	for _, r := range p.Required {
		rep.RequiredHours += float64(r) * float64(p.minutes()) / 60
	}
	for _, s := range sol.Shifts {
		rep.Agents += s.Agents
	}
	_, err = fmt.Fprintf(w, "schedule benchmark: %d intervals, %d shift columns, requirement %.2f agent-hours\n"+
		"  LP relaxation      %.3f paid hours (%d pivots in all, root LP %.2fs, status %s)\n"+
		"  lower bound        %.3f (dual-feasible objective), %.2f on the %.3g-hour cost grid\n"+
		"  after LP diving    %.2f paid hours\n"+
		"  schedule           %.2f paid hours, %d agent-shifts, every interval covered\n"+
		"  gap to bound       %.3f %%\n"+
		"  time               %.2fs in all (final cost first reached at %.2fs)\n",
		rep.Intervals, rep.Columns, rep.RequiredHours,
		rep.LPValue, rep.LPIterations, rep.LPTime.Seconds(), sol.LPStatus,
		rep.DualBound, rep.LowerBound, sol.CostUnit,
		rep.DiveCost,
		rep.Cost, rep.Agents,
		100*rep.Gap, rep.Elapsed.Seconds(), rep.BestAt.Seconds())
	if err != nil {
		return rep, fmt.Errorf("schedule: eval: write report: %w", err)
	}
	if solveErr != nil {
		return rep, fmt.Errorf("schedule: eval: %w", solveErr)
	}
	return rep, nil
}

// CheckCoverage verifies that sol's shifts cover p.Required in every
// interval and that its cost and coverage figures are consistent.
func CheckCoverage(p *Problem, sol *Solution) error {
	n := len(p.Required)
	cov := make([]int, n)
	cost := 0.0
	for _, s := range sol.Shifts {
		if s.Agents < 0 {
			return fmt.Errorf("schedule: check: negative agents on a shift at %d", s.Column.Start)
		}
		c := s.Column
		c.Covers(n, func(i int) { cov[i] += s.Agents })
		cost += float64(s.Agents) * c.Cost
	}
	for i, r := range p.Required {
		if cov[i] < r {
			return fmt.Errorf("schedule: check: interval %d covered by %d agents, %d required", i, cov[i], r)
		}
		if sol.Coverage != nil && sol.Coverage[i] != cov[i] {
			return fmt.Errorf("schedule: check: interval %d coverage reported %d, actual %d", i, sol.Coverage[i], cov[i])
		}
	}
	if d := cost - sol.Cost; d > 1e-6 || d < -1e-6 {
		return fmt.Errorf("schedule: check: cost reported %.3f, actual %.3f", sol.Cost, cost)
	}
	return nil
}
