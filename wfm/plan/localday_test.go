package plan_test

import (
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/plan"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestLocalDay: local days are 96 intervals, 92 on the day the clocks go
// forward and 100 on the day they go back, from local midnight; wall-clock
// slots repeat or are skipped on those days.
func TestLocalDay(t *testing.T) {
	sh, ny := zone(t, "Asia/Shanghai"), zone(t, "America/New_York")
	for _, tc := range []struct {
		name  string
		loc   *time.Location
		date  string
		len   int
		start string
		walls map[int]int // interval → wall-clock slot
	}{
		{"Shanghai", sh, "2026-11-11", 96, "2026-11-10T16:00:00Z", map[int]int{0: 0, 36: 36, 95: 95}},
		{"New York, summer time", ny, "2026-07-01", 96, "2026-07-01T04:00:00Z", map[int]int{0: 0, 95: 95}},
		{"New York, clocks forward", ny, "2026-03-08", 92, "2026-03-08T05:00:00Z", map[int]int{7: 7, 8: 12, 91: 95}},
		{"New York, clocks back", ny, "2026-11-01", 100, "2026-11-01T04:00:00Z", map[int]int{4: 4, 7: 7, 8: 4, 11: 7, 12: 8, 99: 95}},
		{"New York, winter", ny, "2026-11-02", 96, "2026-11-02T05:00:00Z", map[int]int{0: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			date, err := plan.ParseDay("date", tc.date)
			must(t, err)
			d := plan.DateIn(date, tc.loc)
			if d.Len() != tc.len || d.Start.Format(time.RFC3339) != tc.start || d.Date != tc.date {
				t.Fatalf("%s: %d intervals from %s", d.Date, d.Len(), d.Start.Format(time.RFC3339))
			}
			if !d.Next().Start.Equal(d.End) || d.Index(d.End.Add(-time.Second)) != tc.len-1 || d.Index(d.Start) != 0 || d.Index(d.Start.Add(-time.Second)) >= 0 {
				t.Fatalf("bounds: next %v, end %v", d.Next().Start, d.End)
			}
			if got := plan.DayIn(d.At(tc.len-1), tc.loc); got.Date != tc.date {
				t.Fatalf("the last interval is on %s", got.Date)
			}
			for k, w := range tc.walls {
				if got := d.Wall(k); got != w {
					t.Errorf("interval %d is wall slot %d, want %d", k, got, w)
				}
			}
		})
	}
}

// TestWeekLimit: the week is the local calendar week (Monday to Monday,
// 169 hours when the clocks go back), and CheckWeek counts the work that
// starts in it.
func TestWeekLimit(t *testing.T) {
	ny := zone(t, "America/New_York")
	w0, w1 := plan.WeekOf(time.Date(2026, 10, 30, 12, 0, 0, 0, ny), ny)
	if w0.Format(time.RFC3339) != "2026-10-26T00:00:00-04:00" || w1.Sub(w0) != 169*time.Hour {
		t.Fatalf("week %v – %v", w0, w1)
	}
	at := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, ny) }
	work := []plan.Work{
		{Start: at(26, 9), End: at(26, 17), PaidHours: 8},
		{Start: at(27, 9), End: at(27, 17), PaidHours: 8},
		{Start: at(25, 9), End: at(25, 17), PaidHours: 8}, // the week before
	}
	for _, tc := range []struct {
		name string
		add  plan.Work
		max  float64
		ok   bool
	}{
		{"within", plan.Work{Start: at(28, 9), End: at(28, 12), PaidHours: 3}, 20, true},
		{"exactly the limit", plan.Work{Start: at(28, 9), End: at(28, 13), PaidHours: 4}, 20, true},
		{"over", plan.Work{Start: at(28, 9), End: at(28, 14), PaidHours: 5}, 20, false},
		{"next week", plan.Work{Start: time.Date(2026, 11, 2, 9, 0, 0, 0, ny), End: time.Date(2026, 11, 2, 17, 0, 0, 0, ny), PaidHours: 8}, 20, true},
		{"no limit", plan.Work{Start: at(28, 9), End: at(28, 21), PaidHours: 12}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := plan.CheckWeek(work, tc.add, w0, w1, tc.max)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v", err)
			}
			if err != nil && starpost.ErrorCode(err) != starpost.ECONFLICT {
				t.Fatalf("code %v", err)
			}
		})
	}
}

// TestCheckRun: days in a row count local dates with work, in the given
// zone, on both sides of the added work.
func TestCheckRun(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	r := plan.Rules{MaxConsecutiveDays: 3}
	// 09:00–13:00 Shanghai on the given November days.
	on := func(days ...int) []plan.Work {
		var out []plan.Work
		for _, d := range days {
			st := time.Date(2026, 11, d, 9, 0, 0, 0, sh)
			out = append(out, plan.Work{Start: st, End: st.Add(4 * time.Hour), PaidHours: 4})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		existing []int
		add      int
		ok       bool
	}{
		{"alone", nil, 10, true},
		{"third in a row", []int{8, 9}, 10, true},
		{"fourth in a row", []int{8, 9, 10}, 11, false},
		{"joins two runs", []int{8, 9, 11, 12}, 10, false},
		{"a day off between", []int{7, 8, 9}, 11, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.CheckRun(on(tc.existing...), on(tc.add)[0], sh)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v", err)
			}
		})
	}
	// In UTC, 01:00 Shanghai on the 12th is still the 11th.
	early := plan.Work{Start: time.Date(2026, 11, 12, 1, 0, 0, 0, sh), End: time.Date(2026, 11, 12, 3, 0, 0, 0, sh), PaidHours: 2}
	if err := r.CheckRun(on(9, 10, 11), early, sh); err == nil {
		t.Fatal("the 12th in Shanghai makes four days in a row")
	}
	if err := r.CheckRun(on(9, 10), early, time.UTC); err != nil {
		t.Fatalf("in UTC the early shift is on the 11th: %v", err)
	}
}
