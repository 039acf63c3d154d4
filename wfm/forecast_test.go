package wfm

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// synth builds a noiseless business-day series: level(day index) ×
// weekday factor × intraday profile, skipping the listed dates, and
// multiplying event dates by their factor.
func synth(days int, level func(i int) float64, skip map[time.Time]bool, events map[time.Time]float64) *Series {
	wd := map[time.Weekday]float64{time.Monday: 1.3, time.Tuesday: 1.1, time.Wednesday: 1.0, time.Thursday: 0.95, time.Friday: 0.9}
	prof := []float64{0.5, 1.5, 2, 1.2, 0.8}
	s := &Series{DayStart: 9 * time.Hour, Step: time.Hour, Slots: len(prof)}
	d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	for i := 0; len(s.Days) < days; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		i++
		if skip[d] {
			continue
		}
		f := 1.0
		if e, ok := events[d]; ok {
			f = e
		}
		row := make([]float64, len(prof))
		for k, p := range prof {
			row[k] = level(i) * wd[d.Weekday()] * p * f
		}
		s.Days = append(s.Days, Day{Date: d, Counts: row})
	}
	return s
}

func flat(int) float64 { return 100 }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestMethodsExactOnNoiselessSeries(t *testing.T) {
	s := synth(60, flat, nil, nil)
	hist := s.Head(50)
	targets := []time.Time{}
	for _, d := range s.Days[50:55] {
		targets = append(targets, d.Date)
	}
	for _, tc := range []struct {
		m   Method
		tol float64
	}{
		{SeasonalNaive{}, 1e-9},
		{WeekMean{Weeks: 4}, 1e-9},
		{NewRegression(), 1e-6},
		{DSHW{FitWeeks: 2}, 0.02},
		{Combination{Members: []Method{SeasonalNaive{}, NewRegression()}}, 1e-6},
	} {
		t.Run(tc.m.Name(), func(t *testing.T) {
			fc, err := tc.m.Forecast(hist, targets)
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range fc {
				for k, v := range row {
					want := s.Days[50+i].Counts[k]
					if math.Abs(v-want) > tc.tol*want {
						t.Fatalf("day %d slot %d: %v, want %v", i, k, v, want)
					}
				}
			}
		})
	}
}

func TestSeasonalNaiveSkipsHoliday(t *testing.T) {
	// Monday 2024-01-15 is missing; the Monday after uses 2024-01-08.
	lvl := func(i int) float64 { return float64(100 + i) }
	s := synth(30, lvl, map[time.Time]bool{date(2024, 1, 15): true}, nil)
	var hist *Series
	for i, d := range s.Days {
		if d.Date.Equal(date(2024, 1, 19)) {
			hist = s.Head(i + 1)
		}
	}
	fc, err := SeasonalNaive{}.Forecast(hist, []time.Time{date(2024, 1, 22)})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1.3 * 0.5 * float64(100+6); math.Abs(fc[0][0]-want) > 1e-9 {
		t.Fatalf("got %v, want %v (same slot on 2024-01-08)", fc[0][0], want)
	}
}

func TestCheckTargets(t *testing.T) {
	s := synth(20, flat, nil, nil)
	last := s.Days[19].Date
	for _, tc := range []struct {
		name    string
		hist    *Series
		targets []time.Time
	}{
		{"empty history", &Series{Slots: 5}, []time.Time{last}},
		{"target in the past", s, []time.Time{last}},
		{"not increasing", s, []time.Time{last.AddDate(0, 0, 3), last.AddDate(0, 0, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := (WeekMean{Weeks: 4}).Forecast(tc.hist, tc.targets); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, err := (DSHW{}).Forecast(s.Head(5), []time.Time{s.Days[5].Date}); !errors.Is(err, ErrShortHistory) {
		t.Fatalf("DSHW on 5 days: %v", err)
	}
}

func TestBacktestAndSelector(t *testing.T) {
	// Steady growth: last week's value beats the 4-week mean at every lead.
	grow := func(i int) float64 { return 100 * math.Pow(1.01, float64(i)) }
	s := synth(80, grow, nil, nil)
	naive, err := Backtest(s, SeasonalNaive{}, 60, 79, 5)
	if err != nil {
		t.Fatal(err)
	}
	mean, err := Backtest(s, WeekMean{Weeks: 4}, 60, 79, 5)
	if err != nil {
		t.Fatal(err)
	}
	for h := 1; h <= 5; h++ {
		if naive.Days[h-1] != 20 {
			t.Fatalf("lead %d scored %d days, want 20", h, naive.Days[h-1])
		}
		if !(naive.WAPE(h) < mean.WAPE(h)) {
			t.Fatalf("lead %d: naive %v not better than mean %v", h, naive.WAPE(h), mean.WAPE(h))
		}
	}
	sel := Selector{Candidates: []Method{WeekMean{Weeks: 4}, SeasonalNaive{}}, Window: 10, MaxLead: 5}
	best, _, err := sel.Choose(s.Head(70))
	if err != nil {
		t.Fatal(err)
	}
	for h, m := range best {
		if m.Name() != "seasonal-naive" {
			t.Errorf("lead %d: picked %s", h+1, m.Name())
		}
	}
	if _, err := Backtest(s, SeasonalNaive{}, 0, 79, 5); err == nil {
		t.Error("backtest from day 0 accepted")
	}
}

func TestEventUplift(t *testing.T) {
	sale := map[time.Time]float64{date(2024, 2, 7): 3, date(2024, 3, 6): 3, date(2024, 4, 3): 3}
	s := synth(80, flat, nil, sale)
	cal := Calendar{}
	for d := range sale {
		cal.Events = append(cal.Events, Event{Kind: "sale", Date: d})
	}
	cal.Events = append(cal.Events, Event{Kind: "launch", Date: date(2024, 4, 24)})
	var cut int
	for i, d := range s.Days {
		if d.Date.Equal(date(2024, 3, 29)) {
			cut = i + 1
		}
	}
	ea := EventAware{Base: WeekMean{Weeks: 4}, Calendar: cal}
	ups, clean, err := LearnUplifts(s.Head(cut), ea.Base, cal)
	if err != nil {
		t.Fatal(err)
	}
	if u := ups["sale"]; u.Events != 2 || math.Abs(u.Factor-3) > 1e-9 {
		t.Fatalf("sale uplift %+v, want 2 events, factor 3", u)
	}
	for _, d := range clean.Days {
		if d.Date.Equal(date(2024, 3, 6)) && math.Abs(sum(d.Counts)-100*1.0*6) > 1e-9 {
			t.Fatalf("cleaned event day total %v", sum(d.Counts))
		}
	}
	targets := []time.Time{date(2024, 4, 1), date(2024, 4, 2), date(2024, 4, 3)}
	fc, err := ea.Forecast(s.Head(cut), targets)
	if err != nil {
		t.Fatal(err)
	}
	for i, tgt := range targets {
		want := sum(s.Days[cut+i].Counts)
		if got := sum(fc[i]); math.Abs(got-want) > 1e-6*want {
			t.Errorf("%s: forecast %v, actual %v", tgt.Format(time.DateOnly), got, want)
		}
	}
	if u := ea.Unknown(s.Head(cut), []time.Time{date(2024, 4, 24)}); len(u) != 1 || u[0] != "launch" {
		t.Errorf("unknown kinds %v", u)
	}
}

func TestForecastHandleTime(t *testing.T) {
	s := synth(20, flat, nil, nil)
	for i := range s.Days {
		d := &s.Days[i]
		d.HandleSeconds = make([]float64, len(d.Counts))
		for k, c := range d.Counts {
			aht := 200.0
			if d.Date.Weekday() == time.Monday {
				aht = 300
			}
			d.HandleSeconds[k] = c * aht
		}
	}
	fc, err := ForecastHandleTime(s.Head(15), []time.Time{s.Days[15].Date, s.Days[16].Date}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if fc[0][0] != 300*time.Second || fc[1][2] != 200*time.Second {
		t.Fatalf("got %v / %v", fc[0][0], fc[1][2])
	}
	if _, err := ForecastHandleTime(synth(20, flat, nil, nil).Head(15), []time.Time{s.Days[15].Date}, 4); err == nil {
		t.Fatal("no handle times accepted")
	}
}

func TestBuildSeries(t *testing.T) {
	obs, err := ReadHistory(stringsReader("interval,count\n2024-01-01 07:00,1\n2024-01-01 07:05,2\n2024-01-01 07:30,4\n2024-01-01 21:00,100\n2024-01-03 08:55,5\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildSeries(obs, Grid{DayStart: 7 * time.Hour, DayEnd: 21 * time.Hour, Step: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if s.Slots != 28 || len(s.Days) != 2 || s.Days[0].Counts[0] != 3 || s.Days[0].Counts[1] != 4 || s.Total() != 12 || s.Days[1].Counts[3] != 5 {
		t.Fatalf("series %+v", s)
	}
	if _, err := BuildSeries(obs, Grid{DayStart: 7 * time.Hour, DayEnd: 21 * time.Hour, Step: 11 * time.Minute}); err == nil {
		t.Fatal("step not dividing the window accepted")
	}
	next := s.NextBusinessDays(3, map[time.Time]bool{date(2024, 1, 4): true})
	if len(next) != 3 || !next[0].Equal(date(2024, 1, 5)) || !next[1].Equal(date(2024, 1, 8)) {
		t.Fatalf("next business days %v", next)
	}
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
