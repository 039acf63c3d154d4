package schedule

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost/wfm/schedule/lp"
)

// sharedData is where the shared evaluation data lives relative to this
// package (the repository's sibling folder shared/data).
func sharedData(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"../../../shared/data", "/work/shared/data"} {
		if _, err := os.Stat(filepath.Join(d, InstanceDir, "requirements.csv")); err == nil {
			return d
		}
	}
	t.Skip("shared data folder with " + InstanceDir + " not found")
	return ""
}

func TestEvalScheduleSharedInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("solves the full benchmark instance")
	}
	dir := sharedData(t)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultEvalBudget)
	defer cancel()
	var out strings.Builder
	rep, err := EvalSchedule(ctx, filepath.Join(dir, InstanceDir), &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if rep.Columns != 8064 || rep.Intervals != 672 {
		t.Errorf("instance size %d intervals × %d columns, want 672 × 8064", rep.Intervals, rep.Columns)
	}
	if rep.LowerBound > rep.Cost+1e-9 {
		t.Errorf("lower bound %.3f above schedule cost %.3f", rep.LowerBound, rep.Cost)
	}
	if rep.DualBound > rep.LPValue+1e-6 {
		t.Errorf("dual bound %.6f above LP value %.6f", rep.DualBound, rep.LPValue)
	}
	if rep.RequiredHours > rep.DualBound {
		t.Errorf("dual bound %.3f below the trivial bound %.3f", rep.DualBound, rep.RequiredHours)
	}
}

func TestEvalScheduleSmallFolder(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("interval,day,time,required_agents\n")
	for i := 0; i < 96; i++ {
		fmt.Fprintf(&b, "%d,0,%02d:%02d,%d\n", i, i/4, 15*(i%4), 3+(i/8)%5)
	}
	if err := os.WriteFile(filepath.Join(dir, "requirements.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out strings.Builder
	rep, err := EvalSchedule(ctx, dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intervals != 96 || rep.Columns != 96*12 {
		t.Errorf("size %d × %d, want 96 × 1152", rep.Intervals, rep.Columns)
	}
	if rep.LowerBound > rep.Cost || rep.Gap < 0 {
		t.Errorf("bound %.2f, cost %.2f, gap %v", rep.LowerBound, rep.Cost, rep.Gap)
	}
	for _, want := range []string{"lower bound", "gap to bound", "every interval covered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := EvalSchedule(ctx, filepath.Join(dir, "missing"), &out); err == nil {
		t.Error("missing folder accepted")
	}
}

// BenchmarkRootLP solves the LP relaxation of the shared instance from
// scratch and reports its value and pivots.
func BenchmarkRootLP(b *testing.B) {
	var p *Problem
	for _, d := range []string{"../../../shared/data", "/work/shared/data"} {
		if q, err := LoadBenchmark(d); err == nil {
			p = q
			break
		}
	}
	if p == nil {
		b.Skip("shared instance not found")
	}
	m, err := newModel(p)
	if err != nil {
		b.Fatal(err)
	}
	rhs := make([]float64, m.n)
	for i, r := range m.req {
		rhs[i] = float64(r)
	}
	lpp, err := m.lpProblem(rhs)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := lp.NewSolver(lpp, lp.Options{}).Solve(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Objective, "lp-hours")
		b.ReportMetric(res.Bound, "bound-hours")
		b.ReportMetric(float64(res.Iterations), "pivots")
	}
}
