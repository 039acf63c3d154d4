package plan_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/plan"
)

// TestReplanOffers: a day with history of 2 chats per 15 minutes, a
// published schedule, then a quiet morning. Re-planning withdraws the
// surge slots no longer needed, offers voluntary time off where the
// re-forecast needs fewer agents than scheduled, and an agent accepts it:
// the shift ends earlier. A surge instead brings overtime offers next to
// short stretches; accepting one extends the shift under the rules.
func TestReplanOffers(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 24)
	ctx := f.ctx
	seedHistory(t, f, 7, 12)
	syncEngine(t, f)
	sc, err := f.svc.Generate(ctx, f.ws, f.queue.ID, plan.DayStart(today))
	must(t, err)
	_, err = f.svc.Publish(ctx, f.ws, sc.ID)
	must(t, err)

	// A quiet morning: nothing arrived from 09:00 to 10:00.
	res, err := f.svc.Replan(ctx, f.ws, f.queue.ID, today)
	must(t, err)
	if res.Factor >= 1 || res.VTO == 0 {
		t.Fatalf("quiet morning: %+v", res)
	}
	again, err := f.svc.Replan(ctx, f.ws, f.queue.ID, today)
	must(t, err)
	if again.VTO != 0 || again.SlotsOpened != 0 {
		t.Fatalf("re-planning twice made more: %+v", again)
	}
	var vto *plan.Offer
	var holder string
	for _, a := range f.agents {
		os, err := f.svc.MyOffers(ctx, f.ws, a.ID)
		must(t, err)
		for _, o := range os {
			if o.Kind == plan.OfferVTO {
				vto, holder = o, a.ID
			}
		}
	}
	if vto == nil {
		t.Fatal("no agent holds the time-off offer")
	}
	if _, err := f.svc.AnswerOffer(ctx, f.ws, f.agents[0].ID+"x", vto.ID, true); starpost.ErrorCode(err) != starpost.ENOTFOUND {
		t.Fatalf("someone else's offer: %v", err)
	}
	o, err := f.svc.AnswerOffer(ctx, f.ws, holder, vto.ID, true)
	must(t, err)
	if o.Status != plan.OfferAccepted {
		t.Fatalf("offer %+v", o)
	}
	if _, err := f.svc.AnswerOffer(ctx, f.ws, holder, vto.ID, true); starpost.ErrorCode(err) != starpost.ECONFLICT {
		t.Fatalf("answer twice: %v", err)
	}
	mine, err := f.svc.MyShifts(ctx, f.ws, holder, today.Add(-12*time.Hour), today.Add(24*time.Hour))
	must(t, err)
	cut := false
	for _, sh := range mine {
		if sh.ID == vto.ShiftID {
			cut = sh.End.Equal(vto.Start)
		}
	}
	if !cut {
		t.Fatalf("the shift did not end at %v: %+v", vto.Start, mine)
	}
}

// TestOvertimeOffer: a surge imported into the history (ImportContacts)
// after a published schedule; re-planning at noon offers overtime next to
// the short stretch, and accepting it extends the shift within the rules.
func TestOvertimeOffer(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 24)
	ctx := f.ctx
	day := plan.DayStart(today)
	var cs []plan.Contact
	for d := 1; d <= 7; d++ {
		for k := 36; k < 72; k++ {
			for j := range 4 {
				at := day.AddDate(0, 0, -d).Add(time.Duration(k)*plan.Step + time.Duration(j)*time.Minute)
				cs = append(cs, plan.Contact{ID: at.Format(time.RFC3339), QueueID: f.queue.ID, Channel: starpost.ChannelChat,
					Arrived: at, Assigned: at.Add(time.Minute), Ended: at.Add(6 * time.Minute)})
			}
		}
	}
	must(t, f.svc.ImportContacts(ctx, f.ws, cs))
	must(t, f.svc.ImportContacts(ctx, f.ws, cs)) // again: nothing changes
	ivs, err := f.svc.Intervals(ctx, f.ws, f.queue.ID, day.AddDate(0, 0, -7), day)
	must(t, err)
	if len(ivs) != 7*36 || ivs[0].Contacts != 4 || ivs[0].HandleSeconds != 4*300 {
		t.Fatalf("imported history: %d intervals, first %+v", len(ivs), ivs[0])
	}
	if err := f.svc.ImportContacts(ctx, f.ws, []plan.Contact{{ID: "x", QueueID: "qu_nope", Channel: "chat", Arrived: today}}); starpost.ErrorCode(err) != starpost.ENOTFOUND {
		t.Fatalf("unknown queue: %v", err)
	}
	sc, err := f.svc.Generate(ctx, f.ws, f.queue.ID, day)
	must(t, err)
	_, err = f.svc.Publish(ctx, f.ws, sc.ID)
	must(t, err)
	// Today the morning is four times as busy.
	var surge []plan.Contact
	for k := 36; k < 48; k++ {
		for j := range 16 {
			at := day.Add(time.Duration(k)*plan.Step + time.Duration(j)*30*time.Second)
			surge = append(surge, plan.Contact{ID: "s" + at.Format(time.RFC3339), QueueID: f.queue.ID, Channel: starpost.ChannelChat, Arrived: at})
		}
	}
	must(t, f.svc.ImportContacts(ctx, f.ws, surge))
	noon := day.Add(12 * time.Hour)
	f.clock.set(noon)
	res, err := f.svc.Replan(ctx, f.ws, f.queue.ID, noon)
	must(t, err)
	if res.Factor <= 2 || res.SlotsOpened == 0 || res.Overtime == 0 {
		t.Fatalf("surge at noon: %+v", res)
	}
	// An offer can be answered until it starts (ClaimLead 0): at its
	// start it shows as expired and answering is refused.
	for _, a := range f.agents {
		os, err := f.svc.MyOffers(ctx, f.ws, a.ID)
		must(t, err)
		if len(os) == 0 {
			continue
		}
		o := os[0]
		if !o.ExpiresAt.Equal(o.Start) || o.Status != plan.OfferOpen {
			t.Fatalf("offer %+v", o)
		}
		f.clock.set(o.ExpiresAt)
		if os, err = f.svc.MyOffers(ctx, f.ws, a.ID); err != nil || os[0].ID != o.ID || os[0].Status != plan.OfferExpired {
			t.Fatalf("at its start the offer shows %+v (%v)", os, err)
		}
		if _, err := f.svc.AnswerOffer(ctx, f.ws, a.ID, o.ID, false); starpost.ErrorCode(err) != starpost.ECONFLICT || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("answer an expired offer: %v", err)
		}
		f.clock.set(noon)
		break
	}
	for _, a := range f.agents {
		os, err := f.svc.MyOffers(ctx, f.ws, a.ID)
		must(t, err)
		for _, o := range os {
			if o.Kind != plan.OfferOvertime {
				continue
			}
			if _, err := f.svc.AnswerOffer(ctx, f.ws, a.ID, o.ID, true); err != nil {
				continue // a rule may refuse this one (a 10-hour day)
			}
			mine, err := f.svc.MyShifts(ctx, f.ws, a.ID, day, day.Add(48*time.Hour))
			must(t, err)
			for _, sh := range mine {
				if sh.ID == o.ShiftID && (sh.End.Equal(o.End) || sh.Start.Equal(o.Start)) {
					return
				}
			}
			t.Fatalf("accepted overtime %+v did not extend the shift: %+v", o, mine)
		}
	}
	t.Fatal("no overtime offer could be accepted")
}

// TestSchedulesAcrossQueues: two queues scheduled for the same agents,
// one after the other; every agent's published week keeps the rules
// across both (no overlap, at most 10 paid hours a working day, 11 h
// rest), shifts that could not be kept became open slots.
func TestSchedulesAcrossQueues(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "starpost.db"), 5)
	ctx := f.ctx
	second := &starpost.Queue{WorkspaceID: f.ws, Name: "Refunds", Skills: f.queue.Skills}
	must(t, f.db.CreateQueue(ctx, second))
	day := plan.DayStart(today)
	var cs []plan.Contact
	for _, q := range []string{f.queue.ID, second.ID} {
		for d := 1; d <= 7; d++ {
			for k := 28; k < 92; k++ { // 07:00–23:00: long days, 8-hour shifts
				for j := range 3 {
					at := day.AddDate(0, 0, -d).Add(time.Duration(k)*plan.Step + time.Duration(j)*time.Minute)
					cs = append(cs, plan.Contact{ID: q + at.Format(time.RFC3339), QueueID: q, Channel: starpost.ChannelChat, Arrived: at})
				}
			}
		}
	}
	must(t, f.svc.ImportContacts(ctx, f.ws, cs))
	for _, q := range []string{f.queue.ID, second.ID} {
		sc, err := f.svc.Generate(ctx, f.ws, q, day)
		must(t, err)
		_, err = f.svc.Publish(ctx, f.ws, sc.ID)
		must(t, err)
	}
	rules := f.svc.Config().Rules
	total := 0
	for _, a := range f.agents {
		mine, err := f.svc.MyShifts(ctx, f.ws, a.ID, day.AddDate(0, 0, -1), day.AddDate(0, 0, 8))
		must(t, err)
		total += len(mine)
		for i, sh := range mine {
			var others []plan.Work
			for j, o := range mine {
				if j != i {
					others = append(others, plan.Work{Start: o.Start, End: o.End, PaidHours: o.PaidHours()})
				}
			}
			if err := rules.Check(others, plan.Work{Start: sh.Start, End: sh.End, PaidHours: sh.PaidHours()}); err != nil {
				t.Fatalf("agent %s, shift %v–%v: %v", a.Name, sh.Start, sh.End, err)
			}
		}
	}
	if total == 0 {
		t.Fatal("nobody was scheduled")
	}
	// The weekly limit holds over both queues' shifts together.
	for _, a := range f.agents {
		mine, err := f.svc.MyShifts(ctx, f.ws, a.ID, day, day.AddDate(0, 0, 7))
		must(t, err)
		h := 0.0
		for _, sh := range mine {
			if !sh.Start.Before(day) {
				h += sh.PaidHours()
			}
		}
		if h > rules.MaxWeekHours {
			t.Fatalf("agent %s works %.1f h in the week over two queues (at most %.1f)", a.Name, h, rules.MaxWeekHours)
		}
		// At most six days in a row over both queues.
		worked := map[string]bool{}
		for _, sh := range mine {
			worked[sh.Start.Format(time.DateOnly)] = true
		}
		run, best := 0, 0
		for d := day.AddDate(0, 0, -1); d.Before(day.AddDate(0, 0, 8)); d = d.AddDate(0, 0, 1) {
			if worked[d.Format(time.DateOnly)] {
				run++
				best = max(best, run)
			} else {
				run = 0
			}
		}
		if best > 6 {
			t.Fatalf("agent %s works %d days in a row over two queues", a.Name, best)
		}
	}
	open, err := f.svc.OpenSlots(ctx, f.ws, "")
	must(t, err)
	t.Logf("%d shifts assigned, %d open slots", total, len(open))
}
