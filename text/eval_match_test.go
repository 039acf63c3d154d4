package text

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEvalMatch runs the AFQMC evaluation when STARPOST_EVAL is set and the
// shared data exists.
func TestEvalMatch(t *testing.T) {
	dir := filepath.Join(dataRoot(), "afqmc")
	if os.Getenv("STARPOST_EVAL") == "" {
		t.Skip("set STARPOST_EVAL=1 to run the AFQMC evaluation")
	}
	if _, err := os.Stat(filepath.Join(dir, "train.txt")); err != nil {
		t.Skip("no AFQMC data:", err)
	}
	rep, err := EvalMatch(context.Background(), dir, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Dev == 0 {
		t.Fatalf("empty report %+v", rep)
	}
}
