package web_test

import (
	"context"
	"strconv"
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
	today := plan.DayStart(now)
	sc, err := n.wfm.Generate(ctx, ws, q.ID, today.AddDate(0, 0, -((int(today.Weekday())+6)%7)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.wfm.Publish(ctx, ws, sc.ID); err != nil {
		t.Fatal(err)
	}
	// The planner will publish an open slot late tomorrow evening, when no
	// rule blocks the agent.
	start := today.Add(24*time.Hour + 21*time.Hour)

	// The planner, on a desktop.
	sup := newTab(t, browser, sizes[2])
	sv := n.world.Logins[1]
	signIn(t, sup, n.base, "/app/wfm", sv.Email, sv.Password, "#wfm")
	wait(t, sup, "the forecast chart drawn", `document.querySelectorAll('#wfm-fc svg path.line').length === 2`)
	wait(t, sup, "the requirement chart drawn", `document.querySelectorAll('#wfm-rq svg path').length >= 4`)
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
	do(t, sup, "fill in the slot", chromedp.Evaluate[chromedp.Void](`(() => { const ms = `+strconv.FormatInt(start.UnixMilli(), 10)+`;
		document.querySelector('#wfm-slot-start').value = new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16) })()`),
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
	sh.take(sup, "desktop-wfm-planner")
	audit(t, sup, "the planner view", "")
	setLang(t, sup, "zh-CN")
	wait(t, sup, "the planner view in Chinese", `document.querySelector('#wfm h1').textContent === '排班与人力规划'`)
	resize(t, sup, sizes[0])
	sh.take(sup, "phone-wfm-planner-zh")
	audit(t, sup, "the planner view on a phone, in Chinese", "")

	// An agent who qualifies for the queue, on a phone.
	li := n.world.Agents()[0]
	ag := newTab(t, browser, sizes[0])
	signIn(t, ag, n.base, "/app/wfm", li.Email, li.Password, "#wfm")
	card := `document.querySelector('[data-slot="` + slot.ID + `"]')`
	wait(t, ag, "the open slot on the phone", card+` !== null`)
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
