package plan_test

import (
	"path/filepath"
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
