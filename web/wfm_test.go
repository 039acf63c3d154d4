package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/wfm/plan"
)

// TestBrowserWFM: a planner sees the forecast-vs-actual and
// requirement-vs-scheduled charts (with their text alternatives), the
// schedule grid and adherence; an agent on a phone-size screen sees the
// week's shifts and claims an open slot, which then shows as a shift.
// axe-core on both, in English and Chinese.
func TestBrowserWFM(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	q := n.world.Queues[0]

	// A week of history through the wfm engine, and this week's schedule.
	now := time.Now().UTC()
	if _, err := demo.SeedHistory(ctx, n.db, n.world, now, 7); err != nil {
		t.Fatal(err)
	}
	r, err := engine.NewRunner(plan.NewEngine(n.wfm), engine.Options{Store: n.db, Bus: n.bus, SQL: n.db.SQL(), Driver: n.db.Driver()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// The queue plans in its sites' time zone (Asia/Shanghai).
	loc, err := n.wfm.QueueZone(ctx, ws, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if loc.String() != "Asia/Shanghai" {
		t.Fatalf("queue time zone %s", loc)
	}
	today := plan.DayIn(now, loc)
	sc, err := n.wfm.Generate(ctx, ws, q.ID, today.Date0().AddDate(0, 0, -((int(today.Date0().Weekday())+6)%7)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.wfm.Publish(ctx, ws, sc.ID); err != nil {
		t.Fatal(err)
	}
	// The planner will publish a 2-hour open slot from tomorrow on (queue
	// time) at the first hour where no rule blocks the agent who claims
	// it (rest, day and weekly hours, with the shifts just published).
	li := n.world.Agents()[0]
	mine, err := n.wfm.MyShifts(ctx, ws, li.UserID, today.Start, today.Start.AddDate(0, 0, 14))
	if err != nil {
		t.Fatal(err)
	}
	var work []plan.Work
	for _, sh := range mine {
		work = append(work, plan.Work{Start: sh.Start, End: sh.End, PaidHours: sh.PaidHours()})
	}
	rules := n.wfm.Config().Rules
	var start time.Time
	for at := today.Next().Start; at.Before(today.Start.AddDate(0, 0, 6)); at = at.Add(time.Hour) {
		add := plan.Work{Start: at, End: at.Add(2 * time.Hour), PaidHours: 2}
		w0, w1 := plan.WeekOf(at, loc)
		if rules.Check(work, add) == nil && plan.CheckWeek(work, add, w0, w1, rules.MaxWeekHours) == nil {
			start = at
			break
		}
	}
	if start.IsZero() {
		t.Fatal("no hour in the coming days where the agent may take a slot")
	}

	// The planner, on a desktop.
	sup := newTab(t, browser, sizes[2])
	sv := n.world.Logins[1]
	signIn(t, sup, n.base, "/app/wfm", sv.Email, sv.Password, "#wfm")
	wait(t, sup, "the forecast chart drawn", `document.querySelectorAll('#wfm-fc svg path.line').length === 2`)
	wait(t, sup, "the requirement chart drawn", `document.querySelectorAll('#wfm-rq svg path').length >= 4`)
	if got := eval[string](t, sup, `document.querySelector('#wfm-zone').textContent`); !strings.Contains(got, "Asia/Shanghai") {
		t.Fatalf("the planner's time zone reads %q", got)
	}
	if got := eval[string](t, sup, `document.querySelector('#wfm-fc svg title').textContent + '|' + document.querySelector('#wfm-fc svg desc').textContent`); len(got) < 20 {
		t.Fatalf("chart text alternative %q", got)
	}
	if rows := eval[int](t, sup, `document.querySelectorAll('.wfm-table tbody tr').length`); rows != 24 {
		t.Fatalf("data table has %d hourly rows", rows)
	}
	wait(t, sup, "the schedule grid with agents", `document.querySelectorAll('.wfm-grid tbody th[scope=row]').length > 0`)
	wait(t, sup, "the week's published schedule listed", `[...document.querySelectorAll('.wfm-list li')].some(li => li.textContent.includes('published'))`)
	do(t, sup, "choose the queue", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#wfm-queue'); s.value = `+jsString(q.ID)+`; s.dispatchEvent(new Event('change')) })()`))
	wait(t, sup, "the queue's slot form", `document.querySelector('#wfm-os').textContent.includes(`+jsString(q.Name)+`)`)
	// The form's wall clock to an instant in a named zone, whatever the
	// browser's: ordinary, skipped (moves forward) and repeated times.
	for _, tc := range []struct{ wall, zone, want string }{
		{"2026-11-11T09:00", "Asia/Shanghai", "2026-11-11T01:00:00.000Z"},
		{"2026-07-01T09:00", "America/New_York", "2026-07-01T13:00:00.000Z"},
		{"2026-03-08T01:45", "America/New_York", "2026-03-08T06:45:00.000Z"},
		{"2026-03-08T03:00", "America/New_York", "2026-03-08T07:00:00.000Z"},
		{"2026-03-08T02:30", "America/New_York", "2026-03-08T07:30:00.000Z"}, // skipped: 03:30 EDT
		{"2026-11-01T01:30", "America/New_York", "2026-11-01T05:30:00.000Z"}, // repeated: the first, EDT
		{"2026-11-01T00:30", "America/New_York", "2026-11-01T04:30:00.000Z"},
		{"2026-11-01T02:00", "America/New_York", "2026-11-01T07:00:00.000Z"},
	} {
		js := `import('/app/wfm.js').then((m) => new Date(m.zonedToUTC(` + jsString(tc.wall) + `, ` + jsString(tc.zone) + `)).toISOString())`
		got, err := chromedp.Run(sup, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil || got != tc.want {
			t.Fatalf("%s in %s: %s (%v), want %s", tc.wall, tc.zone, got, err, tc.want)
		}
	}
	// The form takes the queue's wall-clock time, whatever the browser's zone.
	do(t, sup, "fill in the slot", chromedp.Evaluate[chromedp.Void](`(() => { document.querySelector('#wfm-slot-start').value = `+jsString(start.In(loc).Format("2006-01-02T15:04"))+` })()`),
		chromedp.Click(chromedp.CSS(`#wfm-slot-len + button[type=submit]`)))
	wait(t, sup, "the slot announced", `document.querySelector('#wfm-announce').textContent !== ''`)
	var slot *plan.Slot
	open, err := n.wfm.OpenSlots(ctx, ws, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range open {
		if sl.Reason == "planner" && sl.Start.Equal(start) && sl.End.Equal(start.Add(2*time.Hour)) && sl.QueueID == q.ID {
			slot = sl
		}
	}
	if slot == nil {
		t.Fatalf("the planner's slot was not published: %+v", open)
	}
	// The planner marks another agent as flexible (灵活用工).
	flexAgent := n.world.Agents()[1]
	box := `document.querySelector('input[data-agent="` + flexAgent.UserID + `"]')`
	wait(t, sup, "the flexible-agent switch", box+` !== null && !`+box+`.checked`)
	do(t, sup, "mark the agent flexible", chromedp.Click(chromedp.CSS(`input[data-agent="`+flexAgent.UserID+`"]`)))
	wait(t, sup, "the switch saved and redrawn", box+`.checked && !`+box+`.disabled`)
	if p, err := n.wfm.AgentProfile(ctx, ws, flexAgent.UserID); err != nil || !p.Flexible {
		t.Fatalf("profile after the switch: %+v %v", p, err)
	}
	// ... and caps their week at 20 paid hours.
	hours := `document.querySelector('input[data-agent-hours="` + flexAgent.UserID + `"]')`
	do(t, sup, "cap the agent's week", chromedp.Evaluate[chromedp.Void](`(() => { const el = `+hours+`; el.value = '20'; el.dispatchEvent(new Event('change')) })()`))
	wait(t, sup, "the cap saved and redrawn", hours+`.value === '20' && !`+hours+`.disabled`)
	if p, err := n.wfm.AgentProfile(ctx, ws, flexAgent.UserID); err != nil || p.MaxWeekHours != 20 || p.WeekLimit != 20 {
		t.Fatalf("profile after the cap: %+v %v", p, err)
	}
	sh.take(sup, "desktop-wfm-planner")
	audit(t, sup, "the planner view", "")
	setLang(t, sup, "zh-CN")
	wait(t, sup, "the planner view in Chinese", `document.querySelector('#wfm h1').textContent === '排班与人力规划'`)
	resize(t, sup, sizes[0])
	sh.take(sup, "phone-wfm-planner-zh")
	audit(t, sup, "the planner view on a phone, in Chinese", "")

	// A slot whose claim window closes a moment from now: once it has, it
	// is shown as expired, with nothing to claim.
	exp := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
	gone, err := n.wfm.OpenSlot(ctx, ws, q.ID, start.Add(3*time.Hour), start.Add(4*time.Hour), exp)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(exp))
	for {
		if sl, err := n.wfm.FindSlot(ctx, ws, gone.ID); err != nil {
			t.Fatal(err)
		} else if sl.Status == plan.SlotExpired {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	// An agent who qualifies for the queue, on a phone: not flexible, so
	// no open slots until they opt in.
	ag := newTab(t, browser, sizes[0])
	signIn(t, ag, n.base, "/app/wfm", li.Email, li.Password, "#wfm")
	card := `document.querySelector('[data-slot="` + slot.ID + `"]')`
	wait(t, ag, "the opt-in switch", `document.querySelector('#wfm-optin') !== null && !document.querySelector('#wfm-optin').checked`)
	if eval[bool](t, ag, card+` !== null`) {
		t.Fatal("a non-flexible agent sees open slots")
	}
	do(t, ag, "opt in to extra work", chromedp.Click(chromedp.CSS(`#wfm-optin`)))
	wait(t, ag, "the open slot on the phone", card+` !== null`)
	wait(t, ag, "the opt-in kept", `document.querySelector('#wfm-optin').checked`)
	expired := `document.querySelector('[data-slot="` + gone.ID + `"]')`
	wait(t, ag, "the expired slot shown as expired", expired+` !== null && `+expired+`.classList.contains('expired') && `+expired+`.querySelector('button') === null`)
	if w := eval[int](t, ag, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("the agent's page is %d px wide on a 390 px phone", w)
	}
	sh.take(ag, "phone-wfm-agent")
	audit(t, ag, "the agent's schedule", "")
	do(t, ag, "claim the slot", chromedp.Click(chromedp.CSS(`[data-slot="`+slot.ID+`"] button.claim`)))
	wait(t, ag, "the slot gone from the open list", card+` === null`)
	wait(t, ag, "the claimed slot among my shifts", `document.querySelector('.wfm-card.shift.extra') !== null`)
	wait(t, ag, "the claim announced", `document.querySelector('#wfm-announce').textContent !== ''`)
	got, err := n.wfm.FindSlot(ctx, ws, slot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != plan.SlotClaimed || got.AgentID != li.UserID {
		t.Fatalf("slot after the claim: %+v", got)
	}
	sh.take(ag, "phone-wfm-agent-claimed")
	setLang(t, ag, "zh-CN")
	wait(t, ag, "the agent view in Chinese", `document.querySelector('#wfm h1').textContent === '我的排班'`)
	audit(t, ag, "the agent's schedule in Chinese", "")
}
