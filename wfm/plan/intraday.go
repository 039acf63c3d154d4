package plan

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// MaxSlotsPerReplan bounds the open slots one re-plan publishes.
const MaxSlotsPerReplan = 200

// ReplanResult says what a re-plan of a queue's day changed.
type ReplanResult struct {
	QueueID string  `json:"queue_id"`
	Factor  float64 `json:"factor"`
	// SlotsOpened and SlotsWithdrawn count open slots published and taken
	// back; Overtime and VTO count the offers made.
	SlotsOpened, SlotsWithdrawn, Overtime, VTO int
}

// Replan re-forecasts the rest of a queue's day at now (Reforecast with
// the service's damping), re-staffs it, and compares the requirement with
// the published shifts and open slots from the next interval on:
//
//   - where it is short, open surge slots of SlotLength (cut at the end of
//     the day) are published greedily from the earliest short interval,
//     and agents whose shift ends (or starts) next to a short stretch are
//     offered an hour of overtime;
//   - where it is over, open surge slots no longer needed are withdrawn,
//     then agents whose shift ends inside an over-staffed stretch are
//     offered that stretch (up to 2 hours, at least an hour into their
//     shift) as voluntary time off.
//
// Each shift gets at most one offer of each kind. Replan run twice at the
// same time publishes nothing the second time.
func (s *Service) Replan(ctx context.Context, ws, queueID string, now time.Time) (*ReplanResult, error) {
	now = now.UTC()
	q, err := s.findQueue(ctx, ws, queueID)
	if err != nil {
		return nil, err
	}
	loc, err := s.queueLocation(ctx, ws, q)
	if err != nil {
		return nil, err
	}
	ld := DayIn(now, loc)
	day, n := ld.Start, ld.Len()
	f, err := s.dayForecast(ctx, ws, queueID, ld)
	if err != nil {
		return nil, err
	}
	actual, _, err := s.dayActuals(ctx, ws, queueID, ld)
	if err != nil {
		return nil, err
	}
	cur := ld.Index(now)
	re, k := Reforecast(f.contacts, actual, cur, s.cfg.Damping)
	ch, err := s.mainChannel(ctx, ws, queueID)
	if err != nil {
		return nil, err
	}
	reReq := make([]int, n)
	for i := range reReq {
		aht := time.Duration(f.aht[i] * float64(time.Second))
		if aht <= 0 {
			aht = s.cfg.DefaultAHT
		}
		if reReq[i], err = s.required(q, ch, re[i], aht); err != nil {
			return nil, err
		}
	}
	res := &ReplanResult{QueueID: queueID, Factor: k}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for i := 0; i < n; i++ {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_forecasts SET reforecast = ?, re_required = ? WHERE workspace_id = ? AND queue_id = ? AND day = ? AND slot = ?`),
				re[i], reReq[i], ws, queueID, ld.Date, i); err != nil {
				return fmt.Errorf("plan: save re-forecast: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sched, open, err := s.coverage(ctx, ws, queueID, day, n)
	if err != nil {
		return nil, err
	}
	from := cur + 1
	at := func(i int) time.Time { return day.Add(time.Duration(i) * Step) }
	slotLen := int(s.cfg.SlotLength / Step)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// Withdraw surge slots that are no longer needed.
		surge, err := s.slotsWhere(ctx, tx, "queue_id = ? AND status = ? AND reason = ? AND start_at >= ? AND start_at < ?", ws, queueID, SlotOpen, "surge", unix(at(from)), unix(ld.End))
		if err != nil {
			return err
		}
		for _, sl := range surge {
			a, b := int(sl.Start.Sub(day)/Step), min(n, int(sl.End.Sub(day)/Step))
			needed := false
			for i := a; i < b; i++ {
				if sched[i]+open[i]-1 < reReq[i] {
					needed = true
					break
				}
			}
			if needed {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_slots SET status = ? WHERE workspace_id = ? AND id = ? AND status = ?`), SlotWithdrawn, ws, sl.ID, SlotOpen); err != nil {
				return fmt.Errorf("plan: withdraw slot: %w", err)
			}
			for i := a; i < b; i++ {
				open[i]--
			}
			res.SlotsWithdrawn++
		}
		// Publish surge slots for the shortfall.
		short := make([]int, n)
		for i := from; i < n; i++ {
			short[i] = reReq[i] - sched[i] - open[i]
		}
		for i := from; i < n && res.SlotsOpened < MaxSlotsPerReplan; {
			if short[i] <= 0 || !s.expiry(at(i)).After(now) {
				i++ // covered, or too close to claim in time
				continue
			}
			end := min(n, i+slotLen)
			if err := s.insertSlot(ctx, tx, ws, &Slot{ID: starpost.NewID("slot"), QueueID: queueID, Start: at(i), End: at(end), Status: SlotOpen, Reason: "surge"}, now); err != nil {
				return err
			}
			for j := i; j < end; j++ {
				short[j]--
			}
			res.SlotsOpened++
		}
		shifts, err := s.shiftsWhere(ctx, tx, "queue_id = ? AND published = 1 AND start_at < ? AND end_at > ?", ws, queueID, unix(ld.End), unix(day))
		if err != nil {
			return err
		}
		gap := func(i int) int { // agents missing at interval i before slots are claimed
			if i < from || i >= n {
				return 0
			}
			return reReq[i] - sched[i]
		}
		over := make([]int, n)
		for i := from; i < n; i++ {
			over[i] = sched[i] - reReq[i]
		}
		// Time off already offered counts as taken.
		offered, err := s.offersWhere(ctx, tx, "queue_id = ? AND kind = ? AND status = ? AND end_at > ? AND start_at < ?", ws, queueID, OfferVTO, OfferOpen,
			unix(day), unix(ld.End))
		if err != nil {
			return err
		}
		for _, o := range offered {
			for i := max(0, int(o.Start.Sub(day)/Step)); i < min(n, int(o.End.Sub(day)/Step)); i++ {
				over[i]--
			}
		}
		for _, sh := range shifts {
			e := int(sh.End.Sub(day) / Step)
			b := int(sh.Start.Sub(day) / Step)
			// Overtime: an hour after the shift, or before it, when short.
			var os, oe int
			switch {
			case gap(e) > 0 && gap(e+3) > 0:
				os, oe = e, e+4
			case b-4 >= from && gap(b-1) > 0 && gap(b-4) > 0:
				os, oe = b-4, b
			}
			if oe > os && oe <= n {
				made, err := s.offer(ctx, tx, ws, sh, OfferOvertime, at(os), at(oe), now)
				if err != nil {
					return err
				}
				if made {
					res.Overtime++
				}
			}
			// Voluntary time off: the over-staffed tail of the shift.
			if e > n {
				continue
			}
			t := e
			for t-1 >= max(from, b+4, e-8) && over[t-1] >= 1 {
				t--
			}
			if e-t >= 4 {
				made, err := s.offer(ctx, tx, ws, sh, OfferVTO, at(t), at(e), now)
				if err != nil {
					return err
				}
				if made {
					res.VTO++
					for i := t; i < e; i++ {
						over[i]--
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// offer makes an open offer unless the shift already had one of the kind.
// An offer whose answer window (see Config.ClaimLead) would already be
// closed is not made.
func (s *Service) offer(ctx context.Context, tx *sql.Tx, ws string, sh *Shift, kind string, start, end, now time.Time) (bool, error) {
	exp := s.expiry(start)
	if !exp.After(now) {
		return false, nil
	}
	r, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_offers (workspace_id, id, queue_id, agent_id, shift_id, kind, start_at, end_at, status, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, shift_id, kind) DO NOTHING`),
		ws, starpost.NewID("off"), sh.QueueID, sh.AgentID, sh.ID, kind, unix(start), unix(end), OfferOpen, unix(now), unix(exp))
	if err != nil {
		return false, fmt.Errorf("plan: save offer: %w", err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// Adherence returns the schedule adherence of every agent with published
// shifts on a day, up to now (or the day's end). The day is the calendar
// date in loc (nil is UTC).
func (s *Service) Adherence(ctx context.Context, ws string, date time.Time, loc *time.Location) ([]Adherence, error) {
	if loc == nil {
		loc = time.UTC
	}
	ld := DateIn(date, loc)
	day, end := ld.Start, ld.End
	to := s.clock.Now().UTC()
	if to.After(end) {
		to = end
	}
	shifts, err := s.Shifts(ctx, ws, "", day, end)
	if err != nil {
		return nil, err
	}
	byAgent := map[string][]Span{}
	var order []string
	for _, sh := range shifts {
		if _, ok := byAgent[sh.AgentID]; !ok {
			order = append(order, sh.AgentID)
		}
		byAgent[sh.AgentID] = append(byAgent[sh.AgentID], sh.Working()...)
	}
	out := []Adherence{}
	for _, a := range order {
		ch, err := s.presenceChanges(ctx, ws, a, day, to)
		if err != nil {
			return nil, err
		}
		out = append(out, ComputeAdherence(a, byAgent[a], ch, day, to))
	}
	return out, nil
}
