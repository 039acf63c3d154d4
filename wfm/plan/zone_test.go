package plan_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/plan"
)

// setZone gives the fixture's queue business hours in the time zone.
func setZone(t *testing.T, f *fixture, name string) *time.Location {
	t.Helper()
	days := map[time.Weekday][]string{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		days[d] = []string{"08:00-20:00"}
	}
	f.queue.BusinessHours = &starpost.BusinessHours{TimeZone: name, Days: days}
	must(t, f.db.UpdateQueue(f.ctx, f.queue))
	return zone(t, name)
}

// importLocal imports, for each local date in [from, to), perSlot
// contacts in every local quarter-hour from fromHour to toHour (each
// quarter-hour that exists: on the day the clocks go back the repeated
// hour gets them twice).
func importLocal(t *testing.T, f *fixture, loc *time.Location, from, to time.Time, fromHour, toHour, perSlot int) {
	t.Helper()
	var cs []plan.Contact
	for d := plan.DateIn(from, loc); d.Start.Before(plan.DateIn(to, loc).Start); d = d.Next() {
		for k := 0; k < d.Len(); k++ {
			at := d.At(k)
			if h := at.In(loc).Hour(); h < fromHour || h >= toHour {
				continue
			}
			for j := range perSlot {
				a := at.Add(time.Duration(j) * time.Minute)
				cs = append(cs, plan.Contact{ID: fmt.Sprintf("%s-%d", a.Format(time.RFC3339), j), QueueID: f.queue.ID, Channel: starpost.ChannelChat,
					Arrived: a, Assigned: a, Ended: a.Add(5 * time.Minute)})
			}
		}
	}
	must(t, f.svc.ImportContacts(f.ctx, f.ws, cs))
}

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := plan.ParseDay("date", s)
	must(t, err)
	return d
}

// TestQueueZoneShanghai: a queue in Asia/Shanghai plans Shanghai days:
// the day starts at 16:00 UTC the day before, the history of 09:00–18:00
// local gives a forecast in exactly those hours, and today's actuals land
// in their local intervals.
func TestQueueZoneShanghai(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 4)
	sh := setZone(t, f, "Asia/Shanghai")
	day := date(t, "2026-11-11") // today is 18:00 in Shanghai
	importLocal(t, f, sh, day.AddDate(0, 0, -35), day, 9, 18, 2)
	importLocal(t, f, sh, day, day.AddDate(0, 0, 1), 9, 10, 3) // this morning
	p, err := f.svc.Day(f.ctx, f.ws, f.queue.ID, day)
	must(t, err)
	if p.TimeZone != "Asia/Shanghai" || len(p.Items) != 96 || p.Start.Format(time.RFC3339) != "2026-11-10T16:00:00Z" || p.Day != "2026-11-11" {
		t.Fatalf("day %s in %s: %d intervals from %v", p.Day, p.TimeZone, len(p.Items), p.Start)
	}
	for k, it := range p.Items {
		h := it.Start.In(sh).Hour()
		busy := h >= 9 && h < 18
		if busy != (it.Forecast > 1) || (!busy && it.Forecast > 0.5) {
			t.Fatalf("%s local: forecast %.2f", it.Start.In(sh).Format("15:04"), it.Forecast)
		}
		if want := map[bool]float64{true: 3}[h == 9]; it.Actual != want {
			t.Fatalf("interval %d (%s local): actual %v, want %v", k, it.Start.In(sh).Format("15:04"), it.Actual, want)
		}
	}
	// The queue moves to New York: the stored Shanghai forecast of the
	// date is not reused, the day is New York's.
	ny := setZone(t, f, "America/New_York")
	p, err = f.svc.Day(f.ctx, f.ws, f.queue.ID, day)
	must(t, err)
	if p.TimeZone != "America/New_York" || len(p.Items) != 96 || p.Start.Format(time.RFC3339) != "2026-11-11T05:00:00Z" {
		t.Fatalf("after the move: %s, %d intervals from %v", p.TimeZone, len(p.Items), p.Start)
	}
	for _, it := range p.Items {
		// Shanghai's 09:00–18:00 is New York's 20:00–05:00.
		h := it.Start.In(ny).Hour()
		if busy := h >= 20 || h < 5; busy != (it.Forecast > 1) {
			t.Fatalf("%s New York: forecast %.2f", it.Start.In(ny).Format("15:04"), it.Forecast)
		}
	}
	// The default day of the API is the local one: at 18:00 in Shanghai
	// on 11 November; at 17:00 UTC it is already the 12th there.
	if got := plan.DayIn(today.Add(7*time.Hour), sh).Date; got != "2026-11-12" {
		t.Fatalf("local date %s", got)
	}
}

// TestQueueZoneDST: a queue in America/New_York around both clock
// changes of 2026. The day the clocks go back has 100 intervals, the day
// they go forward 92, each interval forecast from its local wall-clock
// slot; the week after the change is not distorted by its repeated hour;
// re-planning works on the 25-hour day; a week's schedule covers the
// local week (169 hours) and no more.
func TestQueueZoneDST(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 8)
	ny := setZone(t, f, "America/New_York")
	// Two contacts in every local quarter-hour, all day, from 20 September
	// to 15 November, and around the spring change.
	importLocal(t, f, ny, date(t, "2026-09-20"), date(t, "2026-11-16"), 0, 24, 2)
	importLocal(t, f, ny, date(t, "2026-01-25"), date(t, "2026-03-16"), 0, 24, 2)
	for _, tc := range []struct {
		day   string
		len   int
		start string
	}{
		{"2026-03-08", 92, "2026-03-08T05:00:00Z"},
		{"2026-11-01", 100, "2026-11-01T04:00:00Z"},
		{"2026-11-08", 96, "2026-11-08T05:00:00Z"}, // its history holds the 25-hour day
	} {
		t.Run(tc.day, func(t *testing.T) {
			f.clock.set(date(t, tc.day).Add(-24 * time.Hour)) // the day before: a forecast, no actuals
			p, err := f.svc.Day(f.ctx, f.ws, f.queue.ID, date(t, tc.day))
			must(t, err)
			if len(p.Items) != tc.len || p.Start.Format(time.RFC3339) != tc.start || p.TimeZone != "America/New_York" {
				t.Fatalf("%d intervals from %v in %s", len(p.Items), p.Start, p.TimeZone)
			}
			for _, it := range p.Items {
				if math.Abs(it.Forecast-2) > 0.2 {
					t.Fatalf("%s (%s local): forecast %.2f, want 2 (method %s)", it.Start.Format(time.RFC3339), it.Start.In(ny).Format("15:04 MST"), it.Forecast, p.Method)
				}
				if it.Required == 0 {
					t.Fatalf("%s: no agent required", it.Start.Format(time.RFC3339))
				}
			}
		})
	}
	// Re-plan the 25-hour day at 01:30 EST (the second 01:30).
	now := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)
	f.clock.set(now)
	res, err := f.svc.Replan(f.ctx, f.ws, f.queue.ID, now)
	must(t, err)
	p, err := f.svc.Day(f.ctx, f.ws, f.queue.ID, date(t, "2026-11-01"))
	must(t, err)
	if len(p.Items) != 100 || res.SlotsOpened == 0 {
		t.Fatalf("re-plan %+v over %d intervals", res, len(p.Items))
	}
	for k, it := range p.Items {
		if past := k < 10; past != (it.Actual > 0) {
			t.Fatalf("interval %d (%s): actual %v", k, it.Start.In(ny).Format("15:04 MST"), it.Actual)
		}
	}
	open, err := f.svc.OpenSlots(f.ctx, f.ws, "")
	must(t, err)
	for _, sl := range open {
		if sl.Start.Before(now) || sl.End.After(p.End) {
			t.Fatalf("surge slot %v–%v outside the rest of the day (ends %v)", sl.Start, sl.End, p.End)
		}
	}
	// The week of the change: Monday 26 October to Monday 2 November,
	// local midnights, 169 hours.
	f.clock.set(date(t, "2026-10-20"))
	sc, err := f.svc.Generate(f.ctx, f.ws, f.queue.ID, date(t, "2026-10-26"))
	must(t, err)
	w0, w1 := time.Date(2026, 10, 26, 0, 0, 0, 0, ny), time.Date(2026, 11, 2, 0, 0, 0, 0, ny)
	if sc.WeekStart != "2026-10-26" || len(sc.Shifts) == 0 {
		t.Fatalf("schedule of %s with %d shifts", sc.WeekStart, len(sc.Shifts))
	}
	last := false
	for _, s := range sc.Shifts {
		if s.Start.Before(w0) || s.End.After(w1) {
			t.Fatalf("shift %v–%v outside the local week %v–%v", s.Start, s.End, w0, w1)
		}
		if s.Start.In(ny).Minute() != 0 {
			t.Fatalf("shift starts at %s local", s.Start.In(ny).Format("15:04"))
		}
		last = last || s.End.After(w1.Add(-time.Hour))
	}
	if !last {
		t.Fatal("nobody covers the last local hour of the week")
	}
}

// TestNewQueueForecast: with five days of history (Wednesday to Sunday)
// a week's forecast takes each weekday's own history where it has one
// and the mean day elsewhere.
func TestNewQueueForecast(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 2)
	// Wednesday 4 Nov to Sunday 8 Nov: n contacts per quarter-hour from
	// 09:00 to 17:00 on the n-th of these days.
	for n, d := 1, date(t, "2026-11-04"); n <= 5; n, d = n+1, d.AddDate(0, 0, 1) {
		importLocal(t, f, time.UTC, d, d.AddDate(0, 0, 1), 9, 17, n)
	}
	f.clock.set(date(t, "2026-11-09").Add(30 * time.Minute)) // Sunday is over
	var week []time.Time
	for d := range 7 {
		week = append(week, date(t, "2026-11-09").AddDate(0, 0, d))
	}
	_, err := f.svc.Forecast(f.ctx, f.ws, f.queue.ID, week)
	must(t, err)
	for _, tc := range []struct {
		day  string
		want float64 // contacts per busy quarter-hour
	}{
		{"2026-11-09", 3}, // a Monday: the mean of 1..5
		{"2026-11-11", 1}, // a Wednesday: last Wednesday's
		{"2026-11-15", 5}, // a Sunday: last Sunday's
	} {
		p, err := f.svc.Day(f.ctx, f.ws, f.queue.ID, date(t, tc.day))
		must(t, err)
		if got := p.Items[40].Forecast; math.Abs(got-tc.want) > 1e-9 || p.Method != "weekday-mean/mean-profile" {
			t.Fatalf("%s: %.2f at 10:00 (method %s), want %.2f", tc.day, got, p.Method, tc.want)
		}
	}
}
