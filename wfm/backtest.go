package wfm

import (
	"fmt"
	"math"
	"time"
)

// BacktestResult holds the errors of one method in a rolling-origin
// backtest, per lead (index 0 = one business day ahead).
type BacktestResult struct {
	// Method is the method's name.
	Method string
	// AbsError is the sum of absolute slot errors per lead.
	AbsError []float64
	// Actual is the sum of actual contacts per lead.
	Actual []float64
	// Days is the number of forecast days per lead.
	Days []int
}

// WAPE returns sum |error| / sum actual for the lead (1-based), or NaN when
// no day was scored.
func (r BacktestResult) WAPE(lead int) float64 {
	if lead < 1 || lead > len(r.Actual) || r.Actual[lead-1] == 0 {
		return math.NaN()
	}
	return r.AbsError[lead-1] / r.Actual[lead-1]
}

// Backtest runs a rolling-origin backtest of m on s. For every day index d
// in [first, last] and every lead h in 1..maxLead, day d is forecast from
// s.Days[:d-h+1], the data up to the end of the business day h days
// before d. Only days inside [first, last] are scored, so every lead is
// scored on the same days.
func Backtest(s *Series, m Method, first, last, maxLead int) (BacktestResult, error) {
	res := BacktestResult{Method: m.Name(), AbsError: make([]float64, maxLead), Actual: make([]float64, maxLead), Days: make([]int, maxLead)}
	if first < 1 || last >= len(s.Days) || first > last || maxLead < 1 {
		return res, fmt.Errorf("wfm: backtest window [%d, %d] lead %d invalid for %d days", first, last, maxLead, len(s.Days))
	}
	for origin := first - maxLead; origin < last; origin++ {
		if origin < 0 {
			continue
		}
		hi := min(origin+maxLead, last)
		lo := max(origin+1, first)
		if lo > hi {
			continue
		}
		targets := make([]time.Time, 0, hi-origin)
		for d := origin + 1; d <= hi; d++ {
			targets = append(targets, s.Days[d].Date)
		}
		fc, err := m.Forecast(s.Head(origin+1), targets)
		if err != nil {
			return res, fmt.Errorf("wfm: backtest %s at origin %s: %w", m.Name(), s.Days[origin].Date.Format(time.DateOnly), err)
		}
		for d := lo; d <= hi; d++ {
			h := d - origin
			row := fc[h-1]
			for i, a := range s.Days[d].Counts {
				res.AbsError[h-1] += math.Abs(row[i] - a)
				res.Actual[h-1] += a
			}
			res.Days[h-1]++
		}
	}
	return res, nil
}
