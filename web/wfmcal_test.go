package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWFMCalendar: a planner puts a festival day on the events
// calendar from the planner view (keyboard-reachable form, listed with a
// labelled remove button), in Chinese on a tablet, then removes it.
// axe-core on the view with the calendar.
func TestBrowserWFMCalendar(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	day := time.Now().UTC().AddDate(0, 0, 10).Format(time.DateOnly)

	sup := newTab(t, browser, sizes[1])
	sv := n.world.Logins[1]
	signIn(t, sup, n.base, "/app/wfm", sv.Email, sv.Password, "#wfm")
	setLang(t, sup, "zh-CN")
	wait(t, sup, "the empty calendar", `document.querySelector('#wfm-evh')?.textContent === '活动日历' && document.querySelector('#wfm-evh').parentElement.querySelector('.empty') !== null`)
	fill(t, sup, "#wfm-ev-day", day)
	do(t, sup, "type the kind", chromedp.SendKeys(chromedp.CSS("#wfm-ev-kind"), "11.11"))
	do(t, sup, "add it", chromedp.Click(chromedp.CSS(`#wfm-evh ~ form button[type=submit]`)))
	wait(t, sup, "the festival listed", `[...document.querySelectorAll('.wfm-events li')].some(li => li.textContent.includes('`+day+` · 11.11'))`)
	queue := eval[string](t, sup, `document.querySelector('#wfm-queue').value`)
	evs, err := n.wfm.ListEvents(ctx, ws, "")
	if err != nil || len(evs) != 1 || evs[0].Day != day || evs[0].Kind != "11.11" || evs[0].QueueID != queue {
		t.Fatalf("calendar %+v, %v", evs, err)
	}
	audit(t, sup, "the planner view with the events calendar, tablet, Chinese", "")
	sh.take(sup, "tablet-wfm-calendar-zh")
	do(t, sup, "remove it", chromedp.Click(chromedp.CSS(`.wfm-events li[data-event="`+evs[0].ID+`"] button`)))
	wait(t, sup, "the calendar empty again", `document.querySelector('.wfm-events') === null && document.querySelector('#wfm-evh').parentElement.querySelector('.empty') !== null`)
	if evs, err := n.wfm.ListEvents(ctx, ws, ""); err != nil || len(evs) != 0 {
		t.Fatalf("calendar after removing %+v, %v", evs, err)
	}
}
