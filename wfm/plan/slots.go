package plan

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// Slot statuses.
const (
	SlotOpen      = "open"
	SlotClaimed   = "claimed"
	SlotWithdrawn = "withdrawn"
)

// Slot is an open shift that a flexible agent may claim: an unassigned
// shift of a published schedule, or a surge slot published intraday.
type Slot struct {
	ID         string     `json:"id"`
	QueueID    string     `json:"queue_id"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end"`
	BreakStart *time.Time `json:"break_start,omitempty"`
	BreakEnd   *time.Time `json:"break_end,omitempty"`
	Status     string     `json:"status"`
	AgentID    string     `json:"agent_id,omitempty"`
	// Reason is "surge" for intraday slots or "schedule:<id>".
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func (sl *Slot) shift() *Shift {
	return &Shift{Start: sl.Start, End: sl.End, BreakStart: sl.BreakStart, BreakEnd: sl.BreakEnd}
}

func (sl *Slot) working() []Span { return sl.shift().Working() }

// PaidHours is the slot's span minus its break.
func (sl *Slot) PaidHours() float64 { return sl.shift().PaidHours() }

func (s *Service) insertSlot(ctx context.Context, tx *sql.Tx, ws string, sl *Slot, now time.Time) error {
	var bs, be int64
	if sl.BreakStart != nil {
		bs, be = unix(*sl.BreakStart), unix(*sl.BreakEnd)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_slots (workspace_id, id, queue_id, start_at, end_at, break_start, break_end, status, reason, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), ws, sl.ID, sl.QueueID, unix(sl.Start), unix(sl.End), bs, be, sl.Status, sl.Reason, unix(now)); err != nil {
		return fmt.Errorf("plan: save slot: %w", err)
	}
	return nil
}

const slotCols = `id, queue_id, start_at, end_at, break_start, break_end, status, agent_id, reason, created_at`

func (s *Service) slotsWhere(ctx context.Context, tx *sql.Tx, where string, ws string, args ...any) ([]*Slot, error) {
	query := s.q(`SELECT ` + slotCols + ` FROM wfm_slots WHERE workspace_id = ? AND ` + where + ` ORDER BY start_at, id`)
	all := append([]any{ws}, args...)
	rows, err := s.on(tx).QueryContext(ctx, query, all...)
	if err != nil {
		return nil, fmt.Errorf("plan: read slots: %w", err)
	}
	defer rows.Close()
	out := []*Slot{}
	for rows.Next() {
		var sl Slot
		var st, en, bs, be, cr int64
		if err := rows.Scan(&sl.ID, &sl.QueueID, &st, &en, &bs, &be, &sl.Status, &sl.AgentID, &sl.Reason, &cr); err != nil {
			return nil, fmt.Errorf("plan: read slots: %w", err)
		}
		sl.Start, sl.End, sl.CreatedAt = fromUnix(st), fromUnix(en), fromUnix(cr)
		if bs != 0 {
			b, e := fromUnix(bs), fromUnix(be)
			sl.BreakStart, sl.BreakEnd = &b, &e
		}
		out = append(out, &sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: read slots: %w", err)
	}
	return out, nil
}

// OpenSlots returns the open slots that have not ended, of the queues the
// agent is qualified for (every queue when agentID is empty).
func (s *Service) OpenSlots(ctx context.Context, ws, agentID string) ([]*Slot, error) {
	now := s.clock.Now().UTC()
	all, err := s.slotsWhere(ctx, nil, "status = ? AND end_at > ?", ws, SlotOpen, unix(now))
	if err != nil || agentID == "" {
		return all, err
	}
	u, err := s.dir.FindUser(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	queues, err := s.dir.ListQueues(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("plan: list queues: %w", err)
	}
	ok := map[string]bool{}
	for _, q := range queues {
		ok[q.ID] = qualified(u, q)
	}
	out := []*Slot{}
	for _, sl := range all {
		if ok[sl.QueueID] {
			out = append(out, sl)
		}
	}
	return out, nil
}

// lockAgent serialises the claims and offers of one agent: on PostgreSQL
// with a transaction-scoped advisory lock; SQLite has a single writer.
func (s *Service) lockAgent(ctx context.Context, tx *sql.Tx, ws, agentID string) error {
	if s.driver != "postgres" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 71))", ws+"/"+agentID); err != nil {
		return fmt.Errorf("plan: lock agent: %w", err)
	}
	return nil
}

// Claim gives an open slot to an agent, first come first served: the
// agent must be qualified for the slot's queue, the slot must not have
// ended, and the agent's working days must keep the rules (Rules.Check)
// with the slot added. The slot is taken by one conditional UPDATE inside
// a transaction that also re-reads the agent's shifts under a per-agent
// lock, so of concurrent claimers exactly one wins and an agent never
// holds overlapping work. A lost race is ECONFLICT.
func (s *Service) Claim(ctx context.Context, ws, agentID, slotID string) (*Shift, error) {
	u, err := s.dir.FindUser(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	// The slot's queue never changes: check the skills before the
	// transaction (on PostgreSQL the directory shares the pool, and a
	// transaction must not wait for a second connection).
	sls, err := s.slotsWhere(ctx, nil, "id = ?", ws, slotID)
	if err != nil {
		return nil, err
	}
	if len(sls) == 0 {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "slot %s not found", slotID)
	}
	q, err := s.findQueue(ctx, ws, sls[0].QueueID)
	if err != nil {
		return nil, err
	}
	if !qualified(u, q) {
		return nil, starpost.Errorf(starpost.EFORBIDDEN, "you lack a skill the queue %s needs", q.Name)
	}
	var out *Shift
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAgent(ctx, tx, ws, agentID); err != nil {
			return err
		}
		sls, err := s.slotsWhere(ctx, tx, "id = ?", ws, slotID)
		if err != nil {
			return err
		}
		sl := sls[0]
		if sl.Status != SlotOpen {
			return starpost.Errorf(starpost.ECONFLICT, "the slot is no longer open")
		}
		if !sl.End.After(now) {
			return starpost.Errorf(starpost.ECONFLICT, "the slot has ended")
		}
		mine, err := s.shiftsWhere(ctx, tx, "agent_id = ? AND published = 1 AND start_at < ? AND end_at > ?", ws, agentID,
			unix(sl.End.Add(24*time.Hour)), unix(sl.Start.Add(-24*time.Hour)))
		if err != nil {
			return err
		}
		work := make([]Work, len(mine))
		for i, sh := range mine {
			work[i] = sh.work()
		}
		sh := sl.shift()
		if err := s.cfg.Rules.Check(work, sh.work()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_slots SET status = ?, agent_id = ?, claimed_at = ? WHERE workspace_id = ? AND id = ? AND status = ?`),
			SlotClaimed, agentID, unix(now), ws, slotID, SlotOpen)
		if err != nil {
			return fmt.Errorf("plan: claim: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("plan: claim: %w", err)
		} else if n != 1 {
			return starpost.Errorf(starpost.ECONFLICT, "the slot is no longer open")
		}
		sh.ID, sh.ScheduleID, sh.QueueID, sh.AgentID, sh.Kind, sh.Published = starpost.NewID("sh"), slotID, sl.QueueID, agentID, KindSlot, true
		out = sh
		return s.insertShift(ctx, tx, ws, sh)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Offer kinds and statuses.
const (
	OfferOvertime = "overtime"
	OfferVTO      = "vto"

	OfferOpen      = "open"
	OfferAccepted  = "accepted"
	OfferDeclined  = "declined"
	OfferWithdrawn = "withdrawn"
)

// Offer proposes a change of a scheduled agent's shift: overtime extends
// it by [Start, End); voluntary time off (vto) frees [Start, End) of it.
type Offer struct {
	ID        string    `json:"id"`
	QueueID   string    `json:"queue_id"`
	AgentID   string    `json:"agent_id"`
	ShiftID   string    `json:"shift_id"`
	Kind      string    `json:"kind"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Service) offersWhere(ctx context.Context, tx *sql.Tx, where string, ws string, args ...any) ([]*Offer, error) {
	query := s.q(`SELECT id, queue_id, agent_id, shift_id, kind, start_at, end_at, status, created_at FROM wfm_offers WHERE workspace_id = ? AND ` + where + ` ORDER BY start_at, id`)
	all := append([]any{ws}, args...)
	rows, err := s.on(tx).QueryContext(ctx, query, all...)
	if err != nil {
		return nil, fmt.Errorf("plan: read offers: %w", err)
	}
	defer rows.Close()
	out := []*Offer{}
	for rows.Next() {
		var o Offer
		var st, en, cr int64
		if err := rows.Scan(&o.ID, &o.QueueID, &o.AgentID, &o.ShiftID, &o.Kind, &st, &en, &o.Status, &cr); err != nil {
			return nil, fmt.Errorf("plan: read offers: %w", err)
		}
		o.Start, o.End, o.CreatedAt = fromUnix(st), fromUnix(en), fromUnix(cr)
		out = append(out, &o)
	}
	return out, rows.Err()
}

// MyOffers returns the agent's open offers that have not started.
func (s *Service) MyOffers(ctx context.Context, ws, agentID string) ([]*Offer, error) {
	return s.offersWhere(ctx, nil, "agent_id = ? AND status = ? AND start_at > ?", ws, agentID, OfferOpen, unix(s.clock.Now()))
}

// AnswerOffer accepts or declines an agent's open offer. Accepting
// overtime extends the shift (the rules are checked again); accepting
// voluntary time off cuts the offered period from the shift. An offer
// that was answered, withdrawn or has started is ECONFLICT.
func (s *Service) AnswerOffer(ctx context.Context, ws, agentID, offerID string, accept bool) (*Offer, error) {
	now := s.clock.Now().UTC()
	var out *Offer
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAgent(ctx, tx, ws, agentID); err != nil {
			return err
		}
		os, err := s.offersWhere(ctx, tx, "id = ? AND agent_id = ?", ws, offerID, agentID)
		if err != nil {
			return err
		}
		if len(os) == 0 {
			return starpost.Errorf(starpost.ENOTFOUND, "offer %s not found", offerID)
		}
		o := os[0]
		if o.Status != OfferOpen {
			return starpost.Errorf(starpost.ECONFLICT, "the offer is %s", o.Status)
		}
		if !o.Start.After(now) {
			return starpost.Errorf(starpost.ECONFLICT, "the offer has started")
		}
		status := OfferDeclined
		if accept {
			status = OfferAccepted
			shs, err := s.shiftsWhere(ctx, tx, "id = ? AND agent_id = ? AND published = 1", ws, o.ShiftID, agentID)
			if err != nil {
				return err
			}
			if len(shs) == 0 {
				return starpost.Errorf(starpost.ECONFLICT, "the shift of the offer is no longer yours")
			}
			sh := shs[0]
			switch o.Kind {
			case OfferOvertime:
				mine, err := s.shiftsWhere(ctx, tx, "agent_id = ? AND published = 1 AND id <> ? AND start_at < ? AND end_at > ?", ws, agentID, sh.ID,
					unix(o.End.Add(24*time.Hour)), unix(o.Start.Add(-24*time.Hour)))
				if err != nil {
					return err
				}
				work := make([]Work, len(mine))
				for i, m := range mine {
					work[i] = m.work()
				}
				ext := *sh
				if o.Start.Equal(sh.End) {
					ext.End = o.End
				} else if o.End.Equal(sh.Start) {
					ext.Start = o.Start
				} else {
					return starpost.Errorf(starpost.ECONFLICT, "the shift changed since the offer")
				}
				if err := s.cfg.Rules.Check(work, ext.work()); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_shifts SET start_at = ?, end_at = ? WHERE workspace_id = ? AND id = ?`),
					unix(ext.Start), unix(ext.End), ws, sh.ID); err != nil {
					return fmt.Errorf("plan: extend shift: %w", err)
				}
			case OfferVTO:
				if !o.End.Equal(sh.End) || !o.Start.After(sh.Start) {
					return starpost.Errorf(starpost.ECONFLICT, "the shift changed since the offer")
				}
				if sh.BreakStart != nil && !o.Start.After(*sh.BreakStart) {
					// The time off starts before or in the break: drop it.
					if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_shifts SET end_at = ?, break_start = 0, break_end = 0 WHERE workspace_id = ? AND id = ?`),
						unix(minTime(o.Start, *sh.BreakStart)), ws, sh.ID); err != nil {
						return fmt.Errorf("plan: shorten shift: %w", err)
					}
				} else if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_shifts SET end_at = ? WHERE workspace_id = ? AND id = ?`), unix(o.Start), ws, sh.ID); err != nil {
					return fmt.Errorf("plan: shorten shift: %w", err)
				}
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_offers SET status = ?, answered_at = ? WHERE workspace_id = ? AND id = ? AND status = ?`),
			status, unix(now), ws, offerID, OfferOpen)
		if err != nil {
			return fmt.Errorf("plan: answer offer: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return starpost.Errorf(starpost.ECONFLICT, "the offer is no longer open")
		}
		o.Status = status
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// MaxSlotLength is the longest open slot a planner may publish.
const MaxSlotLength = 12 * time.Hour

// OpenSlot publishes an open slot of a queue by hand (a planner expecting
// a surge). Start and end must be on the 15-minute grid, in the future,
// and at most MaxSlotLength apart.
func (s *Service) OpenSlot(ctx context.Context, ws, queueID string, start, end time.Time) (*Slot, error) {
	if _, err := s.findQueue(ctx, ws, queueID); err != nil {
		return nil, err
	}
	start, end = start.UTC(), end.UTC()
	switch {
	case !start.Equal(start.Truncate(Step)) || !end.Equal(end.Truncate(Step)):
		return nil, starpost.FieldError("start", "start and end must be on a 15-minute boundary")
	case !end.After(start) || end.Sub(start) > MaxSlotLength:
		return nil, starpost.FieldError("end", "must be after start and at most %v later", MaxSlotLength)
	case !start.After(s.clock.Now()):
		return nil, starpost.FieldError("start", "must be in the future")
	}
	now := s.clock.Now().UTC()
	sl := &Slot{ID: starpost.NewID("slot"), QueueID: queueID, Start: start, End: end, Status: SlotOpen, Reason: "planner", CreatedAt: now.Truncate(time.Second)}
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return s.insertSlot(ctx, tx, ws, sl, now) }); err != nil {
		return nil, err
	}
	return sl, nil
}

// FindSlot returns a slot of the workspace.
func (s *Service) FindSlot(ctx context.Context, ws, id string) (*Slot, error) {
	sls, err := s.slotsWhere(ctx, nil, "id = ?", ws, id)
	if err != nil {
		return nil, err
	}
	if len(sls) == 0 {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "slot %s not found", id)
	}
	return sls[0], nil
}

// FindOffer returns an offer of the workspace.
func (s *Service) FindOffer(ctx context.Context, ws, id string) (*Offer, error) {
	os, err := s.offersWhere(ctx, nil, "id = ?", ws, id)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "offer %s not found", id)
	}
	return os[0], nil
}
