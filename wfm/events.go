package wfm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Event is one dated occurrence of a named kind of demand event, such as
// "11.11", "618" or "product-launch". A multi-day event is listed once per
// day (kinds such as "11.11-eve" can model the days around it).
type Event struct {
	// Kind names the event kind; uplift is learned per kind.
	Kind string
	// Date is the day of the event (midnight, same location as the series).
	Date time.Time
}

// Calendar lists past and planned events.
type Calendar struct {
	// Events are the dated events, in any order.
	Events []Event
}

func (c Calendar) byDate() map[time.Time]string {
	m := make(map[time.Time]string, len(c.Events))
	for _, e := range c.Events {
		y, mo, d := e.Date.Date()
		m[time.Date(y, mo, d, 0, 0, 0, 0, e.Date.Location())] = e.Kind
	}
	return m
}

// Uplift is the learned effect of one event kind: the event day's demand
// divided by the base forecast made the day before, per slot.
type Uplift struct {
	// Kind is the event kind.
	Kind string
	// Events is the number of past events it was learned from.
	Events int
	// Factor is the whole-day ratio (sum of actuals / sum of forecasts).
	Factor float64
	// Slots is the multiplier per slot: Factor times the intraday shape of
	// the uplift, shrunk toward a flat shape when few events are known.
	Slots []float64
}

// LearnUplifts learns the uplift of every event kind that occurred in hist.
// Events are replayed in date order: each event day is forecast by base
// from the history before it (day ahead), where earlier event days have
// already been replaced by their base forecasts, so events do not pollute
// each other's baselines. It returns the uplifts and that cleaned history.
// Event days too early to forecast are left as they are and not learned.
func LearnUplifts(hist *Series, base Method, cal Calendar) (map[string]Uplift, *Series, error) {
	if hist == nil || len(hist.Days) == 0 {
		return nil, nil, ErrShortHistory
	}
	kinds := cal.byDate()
	clean := *hist
	clean.Days = make([]Day, len(hist.Days))
	copy(clean.Days, hist.Days)
	type acc struct {
		n            int
		actual, fcst []float64
	}
	accs := map[string]*acc{}
	for i, d := range hist.Days {
		kind, ok := kinds[d.Date]
		if !ok || i == 0 {
			continue
		}
		fc, err := base.Forecast(clean.Head(i), []time.Time{d.Date})
		if errors.Is(err, ErrShortHistory) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("wfm: learn uplift of %s on %s: %w", kind, d.Date.Format(time.DateOnly), err)
		}
		a := accs[kind]
		if a == nil {
			a = &acc{actual: make([]float64, hist.Slots), fcst: make([]float64, hist.Slots)}
			accs[kind] = a
		}
		a.n++
		for s := range d.Counts {
			a.actual[s] += d.Counts[s]
			a.fcst[s] += fc[0][s]
		}
		c := d
		c.Counts = fc[0]
		clean.Days[i] = c
	}
	out := make(map[string]Uplift, len(accs))
	for kind, a := range accs {
		sa, sf := sum(a.actual), sum(a.fcst)
		if sf <= 0 {
			continue
		}
		u := Uplift{Kind: kind, Events: a.n, Factor: sa / sf, Slots: make([]float64, hist.Slots)}
		shrink := float64(a.n) / float64(a.n+1)
		for s := range u.Slots {
			r := u.Factor
			if a.fcst[s] > 0 {
				r = a.actual[s] / a.fcst[s]
			}
			u.Slots[s] = u.Factor * (1 + (r/u.Factor-1)*shrink)
		}
		out[kind] = u
	}
	return out, &clean, nil
}

// EventAware wraps a base method with an events calendar: it learns the
// uplift per event kind from past events (LearnUplifts), forecasts from the
// cleaned history, and multiplies the forecast of every target that is a
// planned event of a known kind by that kind's per-slot uplift. Targets of
// a kind never seen before get no uplift; Unknown reports them.
type EventAware struct {
	// Base is the method for ordinary days.
	Base Method
	// Calendar lists past and planned events.
	Calendar Calendar
}

// Name implements Method.
func (e EventAware) Name() string { return "events(" + e.Base.Name() + ")" }

// Forecast implements Method.
func (e EventAware) Forecast(hist *Series, targets []time.Time) ([][]float64, error) {
	if err := checkTargets(hist, targets); err != nil {
		return nil, err
	}
	ups, clean, err := LearnUplifts(hist, e.Base, e.Calendar)
	if err != nil {
		return nil, err
	}
	fc, err := e.Base.Forecast(clean, targets)
	if err != nil {
		return nil, fmt.Errorf("wfm: events base %s: %w", e.Base.Name(), err)
	}
	kinds := e.Calendar.byDate()
	for t, d := range targets {
		u, ok := ups[kinds[d]]
		if !ok {
			continue
		}
		for s := range fc[t] {
			fc[t][s] *= u.Slots[s]
		}
	}
	return fc, nil
}

// Unknown returns the event kinds planned on targets that have no past
// occurrence in hist, so a planner can be warned to set an uplift by hand.
func (e EventAware) Unknown(hist *Series, targets []time.Time) []string {
	seen := map[string]bool{}
	for _, d := range hist.Days {
		if k, ok := e.Calendar.byDate()[d.Date]; ok {
			seen[k] = true
		}
	}
	var out []string
	kinds := e.Calendar.byDate()
	for _, t := range targets {
		if k, ok := kinds[t]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ForecastHandleTime forecasts the mean handle time per slot of each
// target as the contact-weighted mean over the same slot of the last weeks
// same-weekday days; slots without contacts there fall back to the same
// slot on any weekday, then to the overall mean. It needs handle times in
// the history.
func ForecastHandleTime(hist *Series, targets []time.Time, weeks int) ([][]time.Duration, error) {
	if err := checkTargets(hist, targets); err != nil {
		return nil, err
	}
	if weeks < 1 {
		return nil, fmt.Errorf("wfm: handle-time forecast needs weeks ≥ 1, got %d", weeks)
	}
	n := len(hist.Days)
	recent := hist.Days[max(0, n-5*weeks):]
	slotH, slotC := make([]float64, hist.Slots), make([]float64, hist.Slots)
	var allH, allC float64
	for _, d := range recent {
		if d.HandleSeconds == nil {
			continue
		}
		for s := range d.Counts {
			slotH[s] += d.HandleSeconds[s]
			slotC[s] += d.Counts[s]
			allH += d.HandleSeconds[s]
			allC += d.Counts[s]
		}
	}
	if allC == 0 || allH == 0 {
		return nil, errors.New("wfm: history has no handle times")
	}
	out := make([][]time.Duration, len(targets))
	for t, date := range targets {
		h, c := make([]float64, hist.Slots), make([]float64, hist.Slots)
		for _, i := range lastSameWeekday(hist, date.Weekday(), weeks) {
			d := hist.Days[i]
			if d.HandleSeconds == nil {
				continue
			}
			for s := range d.Counts {
				h[s] += d.HandleSeconds[s]
				c[s] += d.Counts[s]
			}
		}
		row := make([]time.Duration, hist.Slots)
		for s := range row {
			var v float64
			switch {
			case c[s] > 0:
				v = h[s] / c[s]
			case slotC[s] > 0:
				v = slotH[s] / slotC[s]
			default:
				v = allH / allC
			}
			row[s] = time.Duration(math.Round(v * float64(time.Second)))
		}
		out[t] = row
	}
	return out, nil
}
