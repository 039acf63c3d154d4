package text

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEvalIntent runs the full BANKING77 evaluation when STARPOST_EVAL is set
// and the shared data exists (it trains for about a minute).
func TestEvalIntent(t *testing.T) {
	dir := filepath.Join(dataRoot(), "banking77")
	if os.Getenv("STARPOST_EVAL") == "" {
		t.Skip("set STARPOST_EVAL=1 to run the BANKING77 evaluation")
	}
	if _, err := os.Stat(filepath.Join(dir, "train.csv")); err != nil {
		t.Skip("no BANKING77 data:", err)
	}
	rep, err := EvalIntent(context.Background(), dir, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Test == 0 || rep.Accuracy <= 0 {
		t.Fatalf("empty report %+v", rep)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
