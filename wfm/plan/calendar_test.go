package plan_test

import (
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/plan"
)

// TestCalendarForecast: a past sale day tripled the queue's arrivals. On
// the calendar, it no longer inflates ordinary days; with the next sale on
// it too, the next sale day's forecast is about three times an ordinary
// day's; a kind with no past day gets no uplift; taking the planned sale
// off brings the ordinary forecast back.
// Bad events are refused with the field named.
func TestCalendarForecast(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d.Name, func(t *testing.T) { testCalendarForecast(t, d.DSN(t)) })
	}
}

func testCalendarForecast(t *testing.T, dsn string) {
	f := newFixture(t, dsn, 2)
	ctx := f.ctx
	seedHistory(t, f, 35, 1)
	// The past sale (two weeks ago, the same weekday as today): two more
	// chats in every quarter-hour of the day's opening hours.
	sale := plan.DayStart(today).AddDate(0, 0, -14)
	var evs []*starpost.Event
	for k := 36; k < 72; k++ {
		for j := range 2 {
			evs = append(evs, created(f, sale.Add(time.Duration(k)*plan.Step+time.Duration(30+j)*time.Second)))
		}
	}
	_, err := f.db.Append(ctx, evs...)
	must(t, err)
	syncEngine(t, f)

	for _, tc := range []struct {
		e     plan.CalendarEvent
		field string
	}{
		{plan.CalendarEvent{Day: "2026-13-01", Kind: "sale"}, "day"},
		{plan.CalendarEvent{Day: "2026-11-18", Kind: "  "}, "kind"},
		{plan.CalendarEvent{Day: "2026-11-18", Kind: strings.Repeat("大", plan.MaxEventKindLen+1)}, "kind"},
		{plan.CalendarEvent{Day: "2026-11-18", Kind: "sale", QueueID: "qu_nope"}, "queue_id"},
	} {
		if _, err := f.svc.AddEvent(ctx, f.ws, tc.e); starpost.ErrorField(err) != tc.field {
			t.Errorf("AddEvent(%+v) = %v, want a %s error", tc.e, err, tc.field)
		}
	}

	next := plan.DayStart(today).AddDate(0, 0, 7)   // an ordinary weekday, then a sale
	launch := plan.DayStart(today).AddDate(0, 0, 8) // a kind never seen
	total := func(day time.Time) float64 {
		t.Helper()
		p, err := f.svc.Day(ctx, f.ws, f.queue.ID, day)
		must(t, err)
		sum := 0.0
		for _, it := range p.Items {
			sum += it.Forecast
		}
		return sum
	}
	// Without the calendar the sale may inflate ordinary days (how much
	// depends on the method the backtest picks).
	t.Logf("forecast of an ordinary day without the calendar: %.1f contacts", total(next))
	// The past sale on the calendar: ordinary days are forecast from the
	// history without it.
	_, err = f.svc.AddEvent(ctx, f.ws, plan.CalendarEvent{Day: sale.Format(time.DateOnly), Kind: "sale"})
	must(t, err)
	// (A week ahead: the days between today and then are not history.)
	ordinary := total(next)
	if ordinary < 32 || ordinary > 40 {
		t.Fatalf("ordinary day forecast %.1f contacts, want about 36", ordinary)
	}
	plainLaunch := total(launch)
	planned, err := f.svc.AddEvent(ctx, f.ws, plan.CalendarEvent{QueueID: f.queue.ID, Day: next.Format(time.DateOnly), Kind: "sale"})
	must(t, err)
	_, err = f.svc.AddEvent(ctx, f.ws, plan.CalendarEvent{Day: launch.Format(time.DateOnly), Kind: "launch"})
	must(t, err)
	if _, err := f.svc.AddEvent(ctx, f.ws, plan.CalendarEvent{QueueID: f.queue.ID, Day: next.Format(time.DateOnly), Kind: "other"}); starpost.ErrorCode(err) != starpost.ECONFLICT {
		t.Fatalf("a second event on the day: %v", err)
	}
	if got := total(next); got < 2.5*ordinary || got > 3.5*ordinary {
		t.Fatalf("sale day forecast %.1f contacts, want about 3 × %.1f", got, ordinary)
	}
	if p, err := f.svc.Day(ctx, f.ws, f.queue.ID, next); err != nil || !strings.HasPrefix(p.Method, "events(") {
		t.Fatalf("method %q, %v", p.Method, err)
	}
	if got := total(launch); got < 0.8*plainLaunch || got > 1.2*plainLaunch {
		t.Fatalf("a never-seen kind changed the forecast: %.1f, was %.1f", got, plainLaunch)
	}
	list, err := f.svc.ListEvents(ctx, f.ws, f.queue.ID)
	must(t, err)
	if len(list) != 3 || list[0].Day != sale.Format(time.DateOnly) || list[1].ID != planned.ID {
		t.Fatalf("calendar %+v", list)
	}
	must(t, f.svc.DeleteEvent(ctx, f.ws, planned.ID))
	if got := total(next); got < 0.8*ordinary || got > 1.2*ordinary {
		t.Fatalf("after taking the sale off: %.1f contacts, want about %.1f", got, ordinary)
	}
	if err := f.svc.DeleteEvent(ctx, f.ws, planned.ID); starpost.ErrorCode(err) != starpost.ENOTFOUND {
		t.Fatalf("deleting twice: %v", err)
	}
}
