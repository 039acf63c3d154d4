package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserQueueHours: the admin gives a new queue business hours in the
// queue form (two spans on Monday, Saturday closed, a time zone); they are
// stored as typed, listed in the queues table, and a malformed span is
// refused by the form before anything is sent.
func TestBrowserQueueHours(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	ctx := context.Background()
	adm := newTab(t, browser, sizes[0]) // a phone
	signIn(t, adm, n.base, "/app/admin#queues", n.world.Logins[0].Email, n.world.Logins[0].Password, "#admin")
	wait(t, adm, "the queue form", `document.querySelector('#queue-form') !== null`)
	do(t, adm, "name the queue and open its hours",
		chromedp.SendKeys(chromedp.CSS("#q-name"), "After-sales 售后"),
		chromedp.Click(chromedp.CSS("#q-always")))
	wait(t, adm, "the weekday fields", `!document.querySelector('.hours-body').hidden && document.querySelector('#q-day-1').value === '09:00-18:00'`)
	do(t, adm, "set the hours",
		chromedp.SetValue(chromedp.CSS("#q-hours-tz"), "Asia/Shanghai"),
		chromedp.SetValue(chromedp.CSS("#q-day-1"), "09:00-12:00, 13:00-18:00"),
		chromedp.SetValue(chromedp.CSS("#q-day-6"), "nonsense"))
	do(t, adm, "try to create it", chromedp.Click(chromedp.CSS("#queue-form button[type=submit]")))
	if !eval[bool](t, adm, `!document.querySelector('#q-day-6').validity.valid`) {
		t.Fatal("a malformed span passed the form's check")
	}
	audit(t, adm, "admin: queue business hours", "")
	do(t, adm, "clear Saturday and create", chromedp.Evaluate[chromedp.Void](`document.querySelector('#q-day-6').value = ''`),
		chromedp.Click(chromedp.CSS("#queue-form button[type=submit]")))
	wait(t, adm, "the queue listed with its hours", `[...document.querySelectorAll('tr[data-queue]')].some(r =>
		r.querySelector('th').textContent === 'After-sales 售后' && r.textContent.includes('Mon 09:00-12:00, 13:00-18:00') && r.textContent.includes('Asia/Shanghai'))`)
	qs, err := adminClient(t, n).ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name != "After-sales 售后" {
			continue
		}
		bh := q.BusinessHours
		if bh == nil || bh.TimeZone != "Asia/Shanghai" || len(bh.Days[time.Monday]) != 2 || bh.Days[time.Monday][1] != "13:00-18:00" ||
			len(bh.Days[time.Friday]) != 1 || len(bh.Days[time.Saturday]) != 0 || len(bh.Days[time.Sunday]) != 0 {
			t.Fatalf("stored hours %+v are not what the form said", bh)
		}
		return
	}
	t.Fatal("the queue is not stored")
}
