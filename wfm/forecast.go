package wfm

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Method forecasts the per-slot contacts of future business days from a
// history Series. Targets are dates strictly after the last history day, in
// increasing order; they list every business day from the origin up to the
// last target, so a weekday that is absent from both the history and the
// targets is a non-business day (holiday or closure). The result has one
// row of s.Slots values per target.
type Method interface {
	// Name is a short identifier used in reports.
	Name() string
	// Forecast returns one row of per-slot forecasts per target date.
	Forecast(hist *Series, targets []time.Time) ([][]float64, error)
}

// ErrShortHistory is returned when a method has too little history.
var ErrShortHistory = errors.New("wfm: history too short")

func checkTargets(hist *Series, targets []time.Time) error {
	if hist == nil || len(hist.Days) == 0 {
		return ErrShortHistory
	}
	last := hist.Days[len(hist.Days)-1].Date
	for i, t := range targets {
		if !t.After(last) {
			return fmt.Errorf("wfm: target %s is not after the history end %s", t.Format(time.DateOnly), last.Format(time.DateOnly))
		}
		if i > 0 && !t.After(targets[i-1]) {
			return errors.New("wfm: targets are not increasing")
		}
	}
	return nil
}

// lastSameWeekday returns the indexes (most recent first) of up to k
// history days with weekday wd.
func lastSameWeekday(hist *Series, wd time.Weekday, k int) []int {
	var idx []int
	for i := len(hist.Days) - 1; i >= 0 && len(idx) < k; i-- {
		if hist.Days[i].Date.Weekday() == wd {
			idx = append(idx, i)
		}
	}
	return idx
}

// SeasonalNaive forecasts each slot as the same slot on the same weekday of
// the most recent week in the history ("same slot last week"); when last
// week's day is missing (a holiday), the latest earlier same weekday is used.
type SeasonalNaive struct{}

// Name implements Method.
func (SeasonalNaive) Name() string { return "seasonal-naive" }

// Forecast implements Method.
func (SeasonalNaive) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	return WeekMean{Weeks: 1}.Forecast(hist, targets)
}

// WeekMean forecasts each slot as the mean of the same slot on the same
// weekday over the last Weeks weeks present in the history (4 gives the
// classic 4-week same-slot mean). Missing days are skipped, so a holiday
// does not drag the mean down.
type WeekMean struct {
	// Weeks is the number of past same-weekday days averaged.
	Weeks int
}

// Name implements Method.
func (m WeekMean) Name() string {
	if m.Weeks == 1 {
		return "seasonal-naive"
	}
	return fmt.Sprintf("mean-%dw", m.Weeks)
}

// Forecast implements Method.
func (m WeekMean) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	if err := checkTargets(hist, targets); err != nil {
		return nil, err
	}
	if m.Weeks < 1 {
		return nil, fmt.Errorf("wfm: week mean needs at least one week, got %d", m.Weeks)
	}
	out := make([][]float64, len(targets))
	for t, date := range targets {
		idx := lastSameWeekday(hist, date.Weekday(), m.Weeks)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%w: no %s in history", ErrShortHistory, date.Weekday())
		}
		row := make([]float64, hist.Slots)
		for _, i := range idx {
			for s, v := range hist.Days[i].Counts {
				row[s] += v / float64(len(idx))
			}
		}
		out[t] = row
	}
	return out, nil
}

// Combination forecasts the equal-weight mean of its members' forecasts,
// the simple forecast combination that is hard to beat in practice.
type Combination struct {
	// Members are the combined methods.
	Members []Method
}

// Name implements Method.
func (c Combination) Name() string {
	n := "combo("
	for i, m := range c.Members {
		if i > 0 {
			n += "+"
		}
		n += m.Name()
	}
	return n + ")"
}

// Forecast implements Method.
func (c Combination) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	if len(c.Members) == 0 {
		return nil, errors.New("wfm: empty combination")
	}
	var out [][]float64
	for _, m := range c.Members {
		fc, err := m.Forecast(hist, targets)
		if err != nil {
			return nil, fmt.Errorf("wfm: combination member %s: %w", m.Name(), err)
		}
		if out == nil {
			out = make([][]float64, len(fc))
			for i := range out {
				out[i] = make([]float64, len(fc[i]))
			}
		}
		for i := range fc {
			for s, v := range fc[i] {
				out[i][s] += v / float64(len(c.Members))
			}
		}
	}
	return out, nil
}

// gapBefore reports whether the weekday just before target (walking back
// over weekends) is a non-business day: absent from history and targets.
func gapBefore(target time.Time, known map[time.Time]bool) bool {
	d := target.AddDate(0, 0, -1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return !known[d]
}

func knownDays(hist *Series, targets []time.Time) map[time.Time]bool {
	k := make(map[time.Time]bool, len(hist.Days)+len(targets))
	for _, d := range hist.Days {
		k[d.Date] = true
	}
	for _, t := range targets {
		k[t] = true
	}
	return k
}

func clampNonNeg(rows [][]float64) {
	for _, r := range rows {
		for i, v := range r {
			if v < 0 || math.IsNaN(v) {
				r[i] = 0
			}
		}
	}
}
