package wfm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Selector picks, for every lead, the candidate method with the lowest WAPE
// in a rolling-origin backtest over the last Window business days of the
// history it is given, so the choice uses only data before the forecast
// origin. It implements Method, so it can itself be backtested honestly.
type Selector struct {
	// Candidates are the methods to choose from.
	Candidates []Method
	// Window is the number of scored backtest days (for example 20).
	Window int
	// MaxLead is the longest lead scored; targets further out use it.
	MaxLead int
	// OnChoice, if set, is told which candidate was picked per lead.
	OnChoice func(origin time.Time, lead int, method string)
	// Top, when 2 or more, forecasts each lead with the equal-weight
	// mean of the Top candidates with the lowest backtest WAPE at that
	// lead instead of the single best.
	Top int
}

// Name implements Method.
func (s Selector) Name() string {
	if s.Top > 1 {
		return fmt.Sprintf("auto(backtest %dd, mean of best %d)", s.Window, s.Top)
	}
	return fmt.Sprintf("auto(backtest %dd)", s.Window)
}

// Choose runs the backtest on hist and returns, per lead (index 0 = one
// day ahead), the best candidate and every candidate's result.
func (s Selector) Choose(hist *Series) ([]Method, []BacktestResult, error) {
	if len(s.Candidates) == 0 || s.Window < 1 || s.MaxLead < 1 {
		return nil, nil, errors.New("wfm: selector needs candidates, a window and a lead")
	}
	n := len(hist.Days)
	first, last := n-s.Window, n-1
	if first < 1 {
		return nil, nil, fmt.Errorf("%w: selector window %d", ErrShortHistory, s.Window)
	}
	var all []BacktestResult
	var ran []Method
	for _, c := range s.Candidates {
		r, err := Backtest(hist, c, first, last, s.MaxLead)
		if err != nil {
			// A candidate that cannot run on this history is skipped.
			if errors.Is(err, ErrShortHistory) {
				continue
			}
			return nil, nil, fmt.Errorf("wfm: selector: %w", err)
		}
		all = append(all, r)
		ran = append(ran, c)
	}
	if len(ran) == 0 {
		return nil, nil, fmt.Errorf("%w: no candidate could be backtested", ErrShortHistory)
	}
	best := make([]Method, s.MaxLead)
	for h := 1; h <= s.MaxLead; h++ {
		order := make([]int, len(ran))
		for i := range order {
			order[i] = i
		}
		wape := func(i int) float64 {
			if v := all[i].WAPE(h); !math.IsNaN(v) {
				return v
			}
			return math.Inf(1)
		}
		// Stable: among equals the earlier candidate wins.
		sort.SliceStable(order, func(a, b int) bool { return wape(order[a]) < wape(order[b]) })
		if k := min(s.Top, len(ran)); k > 1 {
			members := make([]Method, k)
			for i := range members {
				members[i] = ran[order[i]]
			}
			best[h-1] = Combination{Members: members}
		} else {
			best[h-1] = ran[order[0]]
		}
	}
	return best, all, nil
}

// Forecast implements Method.
func (s Selector) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	if err := checkTargets(hist, targets); err != nil {
		return nil, err
	}
	best, _, err := s.Choose(hist)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(targets))
	cache := map[string][][]float64{}
	for t := range targets {
		m := best[min(t, s.MaxLead-1)]
		fc, ok := cache[m.Name()]
		if !ok {
			if fc, err = m.Forecast(hist, targets); err != nil {
				return nil, fmt.Errorf("wfm: selector %s: %w", m.Name(), err)
			}
			cache[m.Name()] = fc
		}
		out[t] = fc[t]
		if s.OnChoice != nil {
			s.OnChoice(hist.Days[len(hist.Days)-1].Date, t+1, m.Name())
		}
	}
	return out, nil
}
