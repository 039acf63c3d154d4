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
	// SlotExpired is shown for an open slot whose claim window closed
	// (ExpiresAt passed); it is never stored.
	SlotExpired = "expired"
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
	// ExpiresAt is when claiming closes: by default the slot's start less
	// Config.ClaimLead.
	ExpiresAt time.Time `json:"expires_at"`
}

// claimable reports whether the slot is open and its claim window has not
// closed at now.
func (sl *Slot) claimable(now time.Time) bool {
	return sl.Status == SlotOpen && sl.ExpiresAt.After(now)
}

// shown returns the slot as a reader sees it at now: an open slot past
// its expiry is SlotExpired.
func (sl *Slot) shown(now time.Time) *Slot {
	if sl.Status == SlotOpen && !sl.ExpiresAt.After(now) {
		c := *sl
		c.Status = SlotExpired
		return &c
	}
	return sl
}

// expiry is when claiming or answering something that starts at start
// closes by default: Config.ClaimLead before it.
func (s *Service) expiry(start time.Time) time.Time { return start.Add(-s.cfg.ClaimLead) }

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
	if sl.ExpiresAt.IsZero() {
		sl.ExpiresAt = s.expiry(sl.Start)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_slots (workspace_id, id, queue_id, start_at, end_at, break_start, break_end, status, reason, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), ws, sl.ID, sl.QueueID, unix(sl.Start), unix(sl.End), bs, be, sl.Status, sl.Reason, unix(now), unix(sl.ExpiresAt)); err != nil {
		return fmt.Errorf("plan: save slot: %w", err)
	}
	return nil
}

const slotCols = `id, queue_id, start_at, end_at, break_start, break_end, status, agent_id, reason, created_at, expires_at`

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
		var st, en, bs, be, cr, ex int64
		if err := rows.Scan(&sl.ID, &sl.QueueID, &st, &en, &bs, &be, &sl.Status, &sl.AgentID, &sl.Reason, &cr, &ex); err != nil {
			return nil, fmt.Errorf("plan: read slots: %w", err)
		}
		sl.Start, sl.End, sl.CreatedAt, sl.ExpiresAt = fromUnix(st), fromUnix(en), fromUnix(cr), fromUnix(ex)
		if ex == 0 { // a slot stored before expiries: claimable until it starts
			sl.ExpiresAt = sl.Start
		}
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

// OpenSlots returns the open slots that have not ended, expired ones
// marked SlotExpired. With an agent, only the slots of the queues the
// agent is qualified for, and none unless the agent is flexible or opted
// in (AgentProfile.MayClaim); without one, every queue's.
func (s *Service) OpenSlots(ctx context.Context, ws, agentID string) ([]*Slot, error) {
	now := s.clock.Now().UTC()
	all, err := s.slotsWhere(ctx, nil, "status = ? AND end_at > ?", ws, SlotOpen, unix(now))
	if err != nil {
		return nil, err
	}
	for i, sl := range all {
		all[i] = sl.shown(now)
	}
	if agentID == "" {
		return all, nil
	}
	u, err := s.dir.FindUser(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	prof, err := s.agentProfile(ctx, nil, ws, agentID)
	if err != nil {
		return nil, err
	}
	if !prof.MayClaim() {
		return []*Slot{}, nil
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

// agentWork returns the agent's published work overlapping [from, to),
// leaving out the shift skip (when not empty).
func (s *Service) agentWork(ctx context.Context, tx *sql.Tx, ws, agentID, skip string, from, to time.Time) ([]Work, error) {
	mine, err := s.shiftsWhere(ctx, tx, "agent_id = ? AND published = 1 AND id <> ? AND start_at < ? AND end_at > ?", ws, agentID, skip, unix(to), unix(from))
	if err != nil {
		return nil, err
	}
	work := make([]Work, len(mine))
	for i, sh := range mine {
		work[i] = sh.work()
	}
	return work, nil
}

// checkLimits checks add against the agent's published work (the shift
// skip left out): the day and rest rules (Rules.Check), the days in a row
// (Rules.CheckRun) and the paid hours of the agent's local calendar week
// (CheckWeek with the profile's limit), across every queue, in the agent's
// time zone.
func (s *Service) checkLimits(ctx context.Context, tx *sql.Tx, ws, agentID, skip string, add Work, loc *time.Location, prof *AgentProfile) error {
	ws0, ws1 := WeekOf(add.Start, loc)
	// The week, the day either side (rest) and the runs of days before
	// and after (consecutive days).
	runs := time.Duration(s.cfg.Rules.MaxConsecutiveDays+1) * 24 * time.Hour
	from, to := minTime(ws0, add.Start.Add(-runs)), maxTime(ws1, add.End.Add(runs))
	work, err := s.agentWork(ctx, tx, ws, agentID, skip, from, to)
	if err != nil {
		return err
	}
	// In the agent's zone, so a refusal names the agent's own clock times.
	for i := range work {
		work[i].Start, work[i].End = work[i].Start.In(loc), work[i].End.In(loc)
	}
	add.Start, add.End = add.Start.In(loc), add.End.In(loc)
	if err := s.cfg.Rules.Check(work, add); err != nil {
		return err
	}
	if err := s.cfg.Rules.CheckRun(work, add, loc); err != nil {
		return err
	}
	return CheckWeek(work, add, ws0, ws1, prof.WeekLimit)
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
// agent must be flexible or have opted in (AgentProfile.MayClaim) and be
// qualified for the slot's queue, the slot's claim window must be open
// (ExpiresAt in the future), and the agent's work must keep the rules
// with the slot added: the day and rest rules (Rules.Check) and the
// agent's weekly hours (CheckWeek), over every queue. The slot is taken
// by one conditional UPDATE inside a transaction that also re-reads the
// agent's shifts under a per-agent lock, so of concurrent claimers
// exactly one wins and an agent never holds overlapping work. A lost race
// or an expired slot is ECONFLICT.
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
	loc, err := s.userZone(ctx, ws, u)
	if err != nil {
		return nil, err
	}
	var out *Shift
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAgent(ctx, tx, ws, agentID); err != nil {
			return err
		}
		prof, err := s.agentProfile(ctx, tx, ws, agentID)
		if err != nil {
			return err
		}
		if !prof.MayClaim() {
			return errNotFlexible
		}
		sls, err := s.slotsWhere(ctx, tx, "id = ?", ws, slotID)
		if err != nil {
			return err
		}
		sl := sls[0]
		if sl.Status != SlotOpen {
			return starpost.Errorf(starpost.ECONFLICT, "the slot is no longer open")
		}
		if !sl.claimable(now) {
			return starpost.Errorf(starpost.ECONFLICT, "the slot expired at %s: it can no longer be claimed", sl.ExpiresAt.Format(time.RFC3339))
		}
		sh := sl.shift()
		if err := s.checkLimits(ctx, tx, ws, agentID, "", sh.work(), loc, prof); err != nil {
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
	// OfferExpired is shown for an open offer whose answer window closed;
	// it is never stored.
	OfferExpired = "expired"
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
	// ExpiresAt is when answering closes: the offer's start less
	// Config.ClaimLead.
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Service) offersWhere(ctx context.Context, tx *sql.Tx, where string, ws string, args ...any) ([]*Offer, error) {
	query := s.q(`SELECT id, queue_id, agent_id, shift_id, kind, start_at, end_at, status, created_at, expires_at FROM wfm_offers WHERE workspace_id = ? AND ` + where + ` ORDER BY start_at, id`)
	all := append([]any{ws}, args...)
	rows, err := s.on(tx).QueryContext(ctx, query, all...)
	if err != nil {
		return nil, fmt.Errorf("plan: read offers: %w", err)
	}
	defer rows.Close()
	out := []*Offer{}
	for rows.Next() {
		var o Offer
		var st, en, cr, ex int64
		if err := rows.Scan(&o.ID, &o.QueueID, &o.AgentID, &o.ShiftID, &o.Kind, &st, &en, &o.Status, &cr, &ex); err != nil {
			return nil, fmt.Errorf("plan: read offers: %w", err)
		}
		o.Start, o.End, o.CreatedAt, o.ExpiresAt = fromUnix(st), fromUnix(en), fromUnix(cr), fromUnix(ex)
		if ex == 0 { // an offer stored before expiries: open until it starts
			o.ExpiresAt = o.Start
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

// MyOffers returns the agent's open offers that have not ended, those
// whose answer window closed marked OfferExpired.
func (s *Service) MyOffers(ctx context.Context, ws, agentID string) ([]*Offer, error) {
	now := s.clock.Now().UTC()
	os, err := s.offersWhere(ctx, nil, "agent_id = ? AND status = ? AND end_at > ?", ws, agentID, OfferOpen, unix(now))
	if err != nil {
		return nil, err
	}
	for _, o := range os {
		if !o.ExpiresAt.After(now) {
			o.Status = OfferExpired
		}
	}
	return os, nil
}

// AnswerOffer accepts or declines an agent's open offer. Accepting
// overtime extends the shift (the rules are checked again); accepting
// voluntary time off cuts the offered period from the shift. An offer
// that was answered, withdrawn or has expired (ExpiresAt passed) is
// ECONFLICT. Accepted overtime must keep the day, rest and weekly-hours
// limits over every queue (as Claim).
func (s *Service) AnswerOffer(ctx context.Context, ws, agentID, offerID string, accept bool) (*Offer, error) {
	now := s.clock.Now().UTC()
	loc, err := s.AgentZone(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	var out *Offer
	err = s.inTx(ctx, func(tx *sql.Tx) error {
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
		if !o.ExpiresAt.After(now) {
			return starpost.Errorf(starpost.ECONFLICT, "the offer expired at %s: it can no longer be answered", o.ExpiresAt.Format(time.RFC3339))
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
				ext := *sh
				if o.Start.Equal(sh.End) {
					ext.End = o.End
				} else if o.End.Equal(sh.Start) {
					ext.Start = o.Start
				} else {
					return starpost.Errorf(starpost.ECONFLICT, "the shift changed since the offer")
				}
				prof, err := s.agentProfile(ctx, tx, ws, agentID)
				if err != nil {
					return err
				}
				if err := s.checkLimits(ctx, tx, ws, agentID, sh.ID, ext.work(), loc, prof); err != nil {
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

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// MaxSlotLength is the longest open slot a planner may publish.
const MaxSlotLength = 12 * time.Hour

// OpenSlot publishes an open slot of a queue by hand (a planner expecting
// a surge). Start and end must be on the 15-minute grid, in the future,
// and at most MaxSlotLength apart. Claiming closes at expires (zero: the
// start less Config.ClaimLead, or the start when that has passed), which
// must be in the future and not after the start.
func (s *Service) OpenSlot(ctx context.Context, ws, queueID string, start, end, expires time.Time) (*Slot, error) {
	if _, err := s.findQueue(ctx, ws, queueID); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	start, end = start.UTC(), end.UTC()
	switch {
	case !start.Equal(start.Truncate(Step)) || !end.Equal(end.Truncate(Step)):
		return nil, starpost.FieldError("start", "start and end must be on a 15-minute boundary")
	case !end.After(start) || end.Sub(start) > MaxSlotLength:
		return nil, starpost.FieldError("end", "must be after start and at most %v later", MaxSlotLength)
	case !start.After(now):
		return nil, starpost.FieldError("start", "must be in the future")
	}
	if expires.IsZero() {
		if expires = s.expiry(start); !expires.After(now) {
			expires = start
		}
	}
	expires = expires.UTC().Truncate(time.Second)
	if !expires.After(now) || expires.After(start) {
		return nil, starpost.FieldError("expires_at", "must be in the future and not after the start")
	}
	sl := &Slot{ID: starpost.NewID("slot"), QueueID: queueID, Start: start, End: end, Status: SlotOpen, Reason: "planner",
		CreatedAt: now.Truncate(time.Second), ExpiresAt: expires}
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
	return sls[0].shown(s.clock.Now().UTC()), nil
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
	if o := os[0]; o.Status == OfferOpen && !o.ExpiresAt.After(s.clock.Now()) {
		o.Status = OfferExpired
	}
	return os[0], nil
}
