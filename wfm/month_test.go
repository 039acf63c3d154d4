package wfm

import (
	"math"
	"testing"
	"time"
)

// TestCalendarMonthTurn: business days of the month skip weekends and
// known closures; after the last known day every weekday counts.
func TestCalendarMonthTurn(t *testing.T) {
	known := map[time.Time]bool{}
	for d := date(2003, 8, 1); d.Before(date(2003, 9, 10)); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && !d.Equal(date(2003, 9, 1)) { // Labor Day
			known[d] = true
		}
	}
	cal := calendar{known: known, last: date(2003, 9, 9)}
	for _, tc := range []struct {
		d    time.Time
		nth  int
		last bool
	}{
		{date(2003, 8, 29), 21, true}, // Friday; the 30th and 31st are a weekend
		{date(2003, 8, 28), 20, false},
		{date(2003, 9, 2), 1, false}, // the 1st was Labor Day
		{date(2003, 9, 3), 2, false},
		{date(2003, 9, 30), 21, true}, // after the known days: every weekday
		{date(2003, 9, 29), 20, false},
	} {
		if got := cal.ofMonth(tc.d); got != tc.nth {
			t.Errorf("%s: business day %d, want %d", tc.d.Format(time.DateOnly), got, tc.nth)
		}
		if got := cal.lastOfMonth(tc.d); got != tc.last {
			t.Errorf("%s: last of month %v, want %v", tc.d.Format(time.DateOnly), got, tc.last)
		}
	}
}

// TestMonthRegression: on a noiseless series whose first business day of
// each month is 30 % busier and whose last is 20 % busier, the
// regression with the turn-of-the-month term forecasts those days (and
// the ordinary ones) closely; without it, it cannot.
func TestMonthRegression(t *testing.T) {
	ev := map[time.Time]float64{}
	base := synth(200, flat, nil, nil)
	cal := calendar{known: knownDays(base, nil), last: base.Days[len(base.Days)-1].Date}
	for _, d := range base.Days {
		if cal.ofMonth(d.Date) == 1 {
			ev[d.Date] = 1.3
		}
		if cal.lastOfMonth(d.Date) {
			ev[d.Date] = 1.2
		}
	}
	s := synth(200, flat, nil, ev)
	hist := s.Head(180)
	var targets []time.Time
	for _, d := range s.Days[180:] {
		targets = append(targets, d.Date)
	}
	turn := 0
	for _, d := range targets {
		if ev[d] > 0 {
			turn++
		}
	}
	if turn < 2 {
		t.Fatalf("the test window holds %d month-turn days", turn)
	}
	wape := func(m Method) float64 {
		fc, err := m.Forecast(hist, targets)
		if err != nil {
			t.Fatal(err)
		}
		var e, a float64
		for i, d := range s.Days[180:] {
			for k, v := range d.Counts {
				e += math.Abs(fc[i][k] - v)
				a += v
			}
		}
		return e / a
	}
	with, without := wape(NewMonthRegression()), wape(NewRegression())
	if with > 0.01 || without < 0.02 {
		t.Fatalf("WAPE with the month term %.4f, without %.4f", with, without)
	}
}

// TestSelectorTop: with Top 2 the selection forecasts each lead with the
// mean of the two candidates that backtest best.
func TestSelectorTop(t *testing.T) {
	s := synth(80, func(i int) float64 { return 100 + float64(i) }, nil, nil)
	sel := Selector{Candidates: []Method{SeasonalNaive{}, WeekMean{Weeks: 4}, WeekMean{Weeks: 8}}, Window: 10, MaxLead: 2, Top: 2}
	best, _, err := sel.Choose(s)
	if err != nil {
		t.Fatal(err)
	}
	// A rising level: last week beats the 4-week mean beats the 8-week.
	for h, m := range best {
		if m.Name() != "combo(seasonal-naive+mean-4w)" {
			t.Fatalf("lead %d: %s", h+1, m.Name())
		}
	}
	sel.Top = 1
	if best, _, err = sel.Choose(s); err != nil || best[0].Name() != "seasonal-naive" {
		t.Fatalf("top 1: %v %v", best, err)
	}
}
