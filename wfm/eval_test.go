package wfm

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
)

const sharedData = "../../shared/data"

func TestEvalForecastBankCalls(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, BankCallsFile)); err != nil {
		t.Skip("shared data not present")
	}
	if testing.Short() {
		t.Skip("short mode: the full evaluation takes several seconds")
	}
	rep, err := EvalForecast(context.Background(), sharedData, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Days != 164 || rep.Slots != 28 {
		t.Fatalf("series %d days x %d slots, want 164 x 28", rep.Days, rep.Slots)
	}
	// The two baselines must reproduce the published protocol figures.
	for _, tc := range []struct {
		method string
		want   float64
	}{
		{"seasonal-naive", 0.0919},
		{"mean-4w", 0.0604},
	} {
		if got := rep.WAPE[tc.method][0]; math.Abs(got-tc.want) > 0.0001 {
			t.Errorf("%s day-ahead WAPE %.4f, published %.4f", tc.method, got, tc.want)
		}
	}
}
