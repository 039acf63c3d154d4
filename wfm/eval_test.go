package wfm

import (
	"context"
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
		t.Skip("short mode")
	}
	rep, err := EvalForecast(context.Background(), sharedData, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	_ = rep
}
