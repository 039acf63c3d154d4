package wfm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// oracleVolume rescales a method's forecast to the true daily total, to
// separate profile error from volume error during development.
type oracleVolume struct {
	m Method
	s *Series
}

func (o oracleVolume) Name() string { return "oraclevol(" + o.m.Name() + ")" }
func (o oracleVolume) Forecast(h *Series, t []time.Time) ([][]float64, error) {
	fc, err := o.m.Forecast(h, t)
	if err != nil {
		return nil, err
	}
	for i, d := range t {
		for _, day := range o.s.Days {
			if day.Date.Equal(d) {
				f := sum(day.Counts) / sum(fc[i])
				for k := range fc[i] {
					fc[i][k] *= f
				}
			}
		}
	}
	return fc, nil
}

// TestDevWindow evaluates candidate methods on the 40 business days before
// the test window (development only; WFM_DEV=1).
func TestDevWindow(t *testing.T) {
	if os.Getenv("WFM_DEV") == "" {
		t.Skip("WFM_DEV not set")
	}
	dir := sharedData
	if d := os.Getenv("WFM_DATA"); d != "" {
		dir = d // the shared data folder, when not at ../../shared/data
	}
	s, err := LoadSeries(context.Background(), filepath.Join(dir, BankCallsFile), BankGrid())
	if err != nil {
		t.Fatal(err)
	}
	first, last := len(s.Days)-60, len(s.Days)-21
	ms := devMethods()
	ms = append(ms, oracleVolume{NewRegression(), s})
	for _, m := range ms {
		r, err := Backtest(s, m, first, last, 5)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-50s", m.Name())
		for h := 1; h <= 5; h++ {
			fmt.Printf(" %6.2f", 100*r.WAPE(h))
		}
		fmt.Println()
	}
}
