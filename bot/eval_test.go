package bot

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEvalBANKING77 runs the bot's evaluation on BANKING77 when
// STARPOST_EVAL is set and the shared data exists (STARPOST_DATA or
// /work/shared/data); it trains two models of about 10,000 questions.
func TestEvalBANKING77(t *testing.T) {
	if os.Getenv("STARPOST_EVAL") == "" {
		t.Skip("set STARPOST_EVAL=1 to run the BANKING77 evaluation")
	}
	root := os.Getenv("STARPOST_DATA")
	if root == "" {
		root = "/work/shared/data"
	}
	dir := filepath.Join(root, "banking77")
	if _, err := os.Stat(filepath.Join(dir, "train.csv")); err != nil {
		t.Skip("no BANKING77 data:", err)
	}
	rep, err := EvalBANKING77(context.Background(), dir, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intents != 77 || rep.Accuracy <= 0 || rep.OOSTest == 0 || rep.InTest == 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestAUROC(t *testing.T) {
	for _, c := range []struct {
		in, out []float64
		want    float64
	}{
		{[]float64{0.9, 0.8}, []float64{0.1, 0.2}, 1},
		{[]float64{0.1, 0.2}, []float64{0.9, 0.8}, 0},
		{[]float64{0.5, 0.5}, []float64{0.5}, 0.5},
		{[]float64{0.9, 0.3}, []float64{0.5}, 0.5},
	} {
		if got := auroc(c.in, c.out); got != c.want {
			t.Errorf("auroc(%v, %v) = %g, want %g", c.in, c.out, got, c.want)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
