package schedule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
