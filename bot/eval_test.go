package bot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestEvalTagLearning runs the tag curve on a small labelled set written
// here: one FAQ variant per intent, the other questions as tags.
func TestEvalTagLearning(t *testing.T) {
	dir := t.TempDir()
	var train, test strings.Builder
	train.WriteString("text,category\n")
	test.WriteString("text,category\n")
	total := 0
	for intent, qs := range faqSet {
		for _, q := range qs {
			fmt.Fprintf(&train, "%q,%s\n", q, intent)
		}
		fmt.Fprintf(&test, "%q,%s\n", qs[len(qs)-1], intent)
		total += len(qs) - 1
	}
	for name, s := range map[string]string{"train.csv": train.String(), "test.csv": test.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := EvalTagLearning(context.Background(), dir, 1, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intents != len(faqSet) || rep.Test != len(faqSet) || len(rep.Curve) != 5 {
		t.Fatalf("report %+v", rep)
	}
	if first, last := rep.Curve[0], rep.Curve[4]; first.Tags != 0 || last.Tags != total || last.Accuracy < 0 || last.Accuracy > 1 {
		t.Fatalf("curve %+v, want 0 then %d tags", rep.Curve, total)
	}
	if _, err := EvalTagLearning(context.Background(), dir, 0, testWriter{t}); err == nil {
		t.Fatal("0 FAQ variants accepted")
	}
}
