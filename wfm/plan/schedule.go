package plan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/schedule"
)

// Schedule statuses.
const (
	StatusDraft      = "draft"
	StatusPublished  = "published"
	StatusSuperseded = "superseded"
)

// Shift kinds.
const (
	KindPlanned  = "planned"  // from a generated schedule
	KindSlot     = "slot"     // a claimed open slot
	KindOvertime = "overtime" // marks a planned shift extended by overtime
)

// Shift is one agent's working time in a queue.
type Shift struct {
	ID         string    `json:"id"`
	ScheduleID string    `json:"schedule_id"`
	QueueID    string    `json:"queue_id"`
	AgentID    string    `json:"agent_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	// BreakStart and BreakEnd bound the unpaid lunch break, when any.
	BreakStart *time.Time `json:"break_start,omitempty"`
	BreakEnd   *time.Time `json:"break_end,omitempty"`
	Kind       string     `json:"kind"`
	Published  bool       `json:"published"`
}

// PaidHours is the shift's span minus its break.
func (sh *Shift) PaidHours() float64 {
	h := sh.End.Sub(sh.Start).Hours()
	if sh.BreakStart != nil {
		h -= sh.BreakEnd.Sub(*sh.BreakStart).Hours()
	}
	return h
}

// Working returns the spans the shift covers, its break cut out.
func (sh *Shift) Working() []Span {
	if sh.BreakStart == nil {
		return []Span{{sh.Start, sh.End}}
	}
	return []Span{{sh.Start, *sh.BreakStart}, {*sh.BreakEnd, sh.End}}
}

func (sh *Shift) work() Work { return Work{Start: sh.Start, End: sh.End, PaidHours: sh.PaidHours()} }

// Schedule is a generated week of shifts for one queue.
type Schedule struct {
	ID        string `json:"id"`
	QueueID   string `json:"queue_id"`
	WeekStart string `json:"week_start"`
	Status    string `json:"status"`
	// PaidHours is the schedule's cost and LowerBound the optimiser's
	// proven lower bound on it; Gap is their relative difference.
	PaidHours  float64   `json:"paid_hours"`
	LowerBound float64   `json:"lower_bound"`
	Gap        float64   `json:"gap"`
	CreatedAt  time.Time `json:"created_at"`
	// Shifts are the shifts; those without an agent become open slots
	// when the schedule is published.
	Shifts []*Shift `json:"shifts"`
}

// Templates are the shift kinds generated schedules use over a horizon of
// n intervals: a full 8-hour shift with a one-hour unpaid lunch between
// its 4th and 5th hour, and a 4-hour part-time shift, both starting on the
// hour.
func Templates(n int) []schedule.Template {
	hourly := make([]int, 0, n/4+1)
	for i := 0; i < n; i += 4 {
		hourly = append(hourly, i)
	}
	return []schedule.Template{
		{Name: "full-8h", Length: 32, Starts: hourly, Breaks: []schedule.Break{{Length: 4, EarliestOffset: 14, LatestOffset: 18}}},
		{Name: "part-4h", Length: 16, Starts: hourly},
	}
}

// Generate builds a draft schedule for a queue's week of seven local days
// from the calendar date weekStart in the queue's time zone (a week with
// a daylight-saving change is an hour shorter or longer): it forecasts
// the seven days, staffs every interval, solves the shift-covering
// problem (wfm/schedule, with its proven lower bound), and assigns the
// shifts to the queue's qualified agents under the rules (11 h rest, at
// most MaxWeekHours, six days in a row), avoiding their published shifts
// in other queues. Shifts no agent can take stay without an agent.
// Earlier drafts of the same week are replaced.
func (s *Service) Generate(ctx context.Context, ws, queueID string, weekStart time.Time) (*Schedule, error) {
	q, err := s.findQueue(ctx, ws, queueID)
	if err != nil {
		return nil, err
	}
	loc, err := s.queueLocation(ctx, ws, q)
	if err != nil {
		return nil, err
	}
	days := make([]time.Time, 7)
	ldays := make([]LocalDay, 7)
	ldays[0] = DateIn(weekStart, loc)
	for i := range days {
		if i > 0 {
			ldays[i] = ldays[i-1].Next()
		}
		days[i] = ldays[i].Date0()
	}
	if _, err := s.Forecast(ctx, ws, queueID, days); err != nil {
		return nil, err
	}
	var req []int
	total := 0
	for _, day := range ldays {
		f, _, err := s.loadForecast(ctx, ws, queueID, day)
		if err != nil {
			return nil, err
		}
		req = append(req, f.required...)
		for _, r := range f.required {
			total += r
		}
	}
	sc := &Schedule{ID: starpost.NewID("sch"), QueueID: queueID, WeekStart: ldays[0].Date, Status: StatusDraft,
		CreatedAt: s.clock.Now().UTC().Truncate(time.Second), Shifts: []*Shift{}}
	if total > 0 {
		if err := s.solve(ctx, ws, q, loc, ldays[0].Start, req, sc); err != nil {
			return nil, err
		}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM wfm_shifts WHERE workspace_id = ? AND schedule_id IN
(SELECT id FROM wfm_schedules WHERE workspace_id = ? AND queue_id = ? AND week_start = ? AND status = ?)`), ws, ws, queueID, sc.WeekStart, StatusDraft); err != nil {
			return fmt.Errorf("plan: drop old drafts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM wfm_schedules WHERE workspace_id = ? AND queue_id = ? AND week_start = ? AND status = ?`),
			ws, queueID, sc.WeekStart, StatusDraft); err != nil {
			return fmt.Errorf("plan: drop old drafts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_schedules (workspace_id, id, queue_id, week_start, status, paid_hours, lower_bound, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), ws, sc.ID, queueID, sc.WeekStart, sc.Status, sc.PaidHours, sc.LowerBound, unix(sc.CreatedAt)); err != nil {
			return fmt.Errorf("plan: save schedule: %w", err)
		}
		for _, sh := range sc.Shifts {
			if err := s.insertShift(ctx, tx, ws, sh); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func (s *Service) insertShift(ctx context.Context, tx *sql.Tx, ws string, sh *Shift) error {
	var bs, be int64
	if sh.BreakStart != nil {
		bs, be = unix(*sh.BreakStart), unix(*sh.BreakEnd)
	}
	pub := 0
	if sh.Published {
		pub = 1
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_shifts (workspace_id, id, schedule_id, queue_id, agent_id, start_at, end_at, break_start, break_end, kind, published)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), ws, sh.ID, sh.ScheduleID, sh.QueueID, sh.AgentID, unix(sh.Start), unix(sh.End), bs, be, sh.Kind, pub); err != nil {
		return fmt.Errorf("plan: save shift: %w", err)
	}
	return nil
}

// qualified reports whether u has every skill q requires at its level.
func qualified(u *starpost.User, q *starpost.Queue) bool {
	if u.Disabled {
		return false
	}
	for _, need := range q.Skills {
		if !slices.ContainsFunc(u.Skills, func(h starpost.Skilled) bool { return h.SkillID == need.SkillID && h.Level >= need.MinLevel }) {
			return false
		}
	}
	return true
}

// solve fills sc with the optimised, rostered shifts of requirement req
// (one week of intervals from the instant weekStart). The roster counts
// working days as runs of SlotsPerDay intervals from weekStart, which on
// a daylight-saving week is off by the hour the clocks moved.
func (s *Service) solve(ctx context.Context, ws string, q *starpost.Queue, loc *time.Location, weekStart time.Time, req []int, sc *Schedule) error {
	n := len(req)
	p := &schedule.Problem{Required: req, IntervalMinutes: int(Step / time.Minute), Templates: Templates(n)}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SolveTime)
	defer cancel()
	sol, err := schedule.Solve(sctx, p, schedule.Options{Seed: 1})
	if sol == nil {
		return fmt.Errorf("plan: solve schedule: %w", err)
	}
	sc.PaidHours, sc.LowerBound, sc.Gap = sol.Cost, sol.LowerBound, sol.Gap
	users, err := s.dir.ListUsers(ctx, ws)
	if err != nil {
		return fmt.Errorf("plan: list agents: %w", err)
	}
	weekEnd := weekStart.Add(time.Duration(n) * Step)
	var agents []schedule.Agent
	elsewhere := map[string][]Work{} // agents' published work outside this queue's planned shifts
	for _, u := range users {
		if u.Role != starpost.RoleAgent || !qualified(u, q) {
			continue
		}
		// A day either side for rest; a run of days for days in a row.
		runs := time.Duration(s.cfg.Rules.MaxConsecutiveDays+1) * 24 * time.Hour
		busy, err := s.agentShifts(ctx, ws, u.ID, weekStart.Add(-runs), weekEnd.Add(runs))
		if err != nil {
			return err
		}
		prof, err := s.agentProfile(ctx, nil, ws, u.ID)
		if err != nil {
			return err
		}
		// The week's hours are shared with the agent's work in other
		// queues (and claimed slots): the roster gets what is left.
		left := prof.WeekLimit
		for _, sh := range busy {
			if sh.QueueID != q.ID || sh.Kind != KindPlanned {
				elsewhere[u.ID] = append(elsewhere[u.ID], sh.work())
				if !sh.Start.Before(weekStart) && sh.Start.Before(weekEnd) {
					left -= sh.PaidHours()
				}
			}
		}
		if prof.WeekLimit <= 0 {
			left = 0 // no weekly limit
		} else if left <= 0 {
			continue // no hours left this week
		}
		agents = append(agents, schedule.Agent{ID: u.ID, MaxHours: left, Available: freeWindows(busy, q.ID, weekStart, n)})
	}
	rules := schedule.Rules{MinRest: int(s.cfg.Rules.MinRest / Step), IntervalsPerDay: SlotsPerDay, MaxConsecutiveDays: s.cfg.Rules.MaxConsecutiveDays}
	r, err := schedule.NewRoster(p, sol, agents, rules)
	if err != nil {
		return fmt.Errorf("plan: roster: %w", err)
	}
	if _, err := r.Assign(ctx); err != nil {
		return fmt.Errorf("plan: assign shifts: %w", err)
	}
	at := func(i int) time.Time { return weekStart.Add(time.Duration(i) * Step) }
	for _, sl := range r.Slots() {
		c := sl.Column
		tp := p.Templates[c.Template]
		sh := &Shift{ID: starpost.NewID("sh"), ScheduleID: sc.ID, QueueID: q.ID, Start: at(c.Start), End: at(c.Start + tp.Length), Kind: KindPlanned}
		if a := r.Owner(sl.ID); a >= 0 {
			sh.AgentID = agents[a].ID
		}
		for k, b := range tp.Breaks {
			if !b.Paid && k < len(c.BreakStarts) {
				bs, be := at(c.Start+c.BreakStarts[k]), at(c.Start+c.BreakStarts[k]+b.Length)
				sh.BreakStart, sh.BreakEnd = &bs, &be
				break
			}
		}
		sc.Shifts = append(sc.Shifts, sh)
	}
	slices.SortFunc(sc.Shifts, func(a, b *Shift) int { return a.Start.Compare(b.Start) })
	// The roster knows this queue only: a shift that would break a rule
	// with the agent's work elsewhere (other queues, claimed slots) — the
	// day and rest rules, or days in a row counted in the queue's time
	// zone — is left without an agent, to be published as an open slot.
	for _, sh := range sc.Shifts {
		if sh.AgentID == "" {
			continue
		}
		if s.cfg.Rules.Check(elsewhere[sh.AgentID], sh.work()) != nil || s.cfg.Rules.CheckRun(elsewhere[sh.AgentID], sh.work(), loc) != nil {
			sh.AgentID = ""
			continue
		}
		elsewhere[sh.AgentID] = append(elsewhere[sh.AgentID], sh.work())
	}
	return nil
}

// freeWindows returns the horizon windows outside the agent's published
// shifts in other queues (nil when there are none: always available).
func freeWindows(busy []*Shift, queueID string, start time.Time, n int) []schedule.Window {
	var taken []schedule.Window
	for _, sh := range busy {
		if sh.QueueID == queueID && sh.Kind == KindPlanned {
			continue // replaced when this queue's schedule is published
		}
		a := int(sh.Start.Sub(start) / Step)
		b := int((sh.End.Sub(start) + Step - 1) / Step)
		if b <= 0 || a >= n {
			continue // outside the horizon
		}
		taken = append(taken, schedule.Window{Start: max(0, a), End: min(n, b)})
	}
	if len(taken) == 0 {
		return nil
	}
	slices.SortFunc(taken, func(x, y schedule.Window) int { return x.Start - y.Start })
	var out []schedule.Window
	at := 0
	for _, t := range taken {
		if t.Start > at {
			out = append(out, schedule.Window{Start: at, End: t.Start})
		}
		at = max(at, t.End)
	}
	if at < n {
		out = append(out, schedule.Window{Start: at, End: n})
	}
	if len(out) == 0 {
		out = []schedule.Window{{Start: 0, End: 1}} // fully booked: a window no shift fits
	}
	return out
}

const shiftCols = `id, schedule_id, queue_id, agent_id, start_at, end_at, break_start, break_end, kind, published`

func scanShifts(rows *sql.Rows) ([]*Shift, error) {
	defer rows.Close()
	out := []*Shift{}
	for rows.Next() {
		var sh Shift
		var st, en, bs, be, pub int64
		if err := rows.Scan(&sh.ID, &sh.ScheduleID, &sh.QueueID, &sh.AgentID, &st, &en, &bs, &be, &sh.Kind, &pub); err != nil {
			return nil, fmt.Errorf("plan: read shifts: %w", err)
		}
		sh.Start, sh.End, sh.Published = fromUnix(st), fromUnix(en), pub != 0
		if bs != 0 {
			b, e := fromUnix(bs), fromUnix(be)
			sh.BreakStart, sh.BreakEnd = &b, &e
		}
		out = append(out, &sh)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: read shifts: %w", err)
	}
	return out, nil
}

// agentShifts returns an agent's published shifts overlapping [from, to).
func (s *Service) agentShifts(ctx context.Context, ws, agentID string, from, to time.Time) ([]*Shift, error) {
	return s.shiftsWhere(ctx, nil, "agent_id = ? AND published = 1 AND start_at < ? AND end_at > ?", ws, agentID, unix(to), unix(from))
}

func (s *Service) shiftsWhere(ctx context.Context, tx *sql.Tx, where string, ws string, args ...any) ([]*Shift, error) {
	query := s.q(`SELECT ` + shiftCols + ` FROM wfm_shifts WHERE workspace_id = ? AND ` + where + ` ORDER BY start_at, id`)
	all := append([]any{ws}, args...)
	rows, err := s.on(tx).QueryContext(ctx, query, all...)
	if err != nil {
		return nil, fmt.Errorf("plan: read shifts: %w", err)
	}
	return scanShifts(rows)
}

// MyShifts returns an agent's published shifts overlapping [from, to).
func (s *Service) MyShifts(ctx context.Context, ws, agentID string, from, to time.Time) ([]*Shift, error) {
	return s.agentShifts(ctx, ws, agentID, from, to)
}

// Shifts returns the published shifts of every agent overlapping
// [from, to), of one queue when queueID is set.
func (s *Service) Shifts(ctx context.Context, ws, queueID string, from, to time.Time) ([]*Shift, error) {
	if queueID != "" {
		return s.shiftsWhere(ctx, nil, "queue_id = ? AND published = 1 AND start_at < ? AND end_at > ?", ws, queueID, unix(to), unix(from))
	}
	return s.shiftsWhere(ctx, nil, "published = 1 AND start_at < ? AND end_at > ?", ws, unix(to), unix(from))
}

// GetSchedule returns a schedule with its shifts.
func (s *Service) GetSchedule(ctx context.Context, ws, id string) (*Schedule, error) {
	var sc Schedule
	var created int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, queue_id, week_start, status, paid_hours, lower_bound, created_at FROM wfm_schedules
WHERE workspace_id = ? AND id = ?`), ws, id).Scan(&sc.ID, &sc.QueueID, &sc.WeekStart, &sc.Status, &sc.PaidHours, &sc.LowerBound, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "schedule %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("plan: read schedule: %w", err)
	}
	sc.CreatedAt = fromUnix(created)
	if sc.LowerBound > 0 {
		sc.Gap = (sc.PaidHours - sc.LowerBound) / sc.LowerBound
	}
	if sc.Shifts, err = s.shiftsWhere(ctx, nil, "schedule_id = ?", ws, id); err != nil {
		return nil, err
	}
	return &sc, nil
}

// ListSchedules returns the workspace's schedules of a week, newest first.
func (s *Service) ListSchedules(ctx context.Context, ws string, weekStart time.Time) ([]*Schedule, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, queue_id, week_start, status, paid_hours, lower_bound, created_at FROM wfm_schedules
WHERE workspace_id = ? AND week_start = ? ORDER BY created_at DESC, id`), ws, dayKey(weekStart))
	if err != nil {
		return nil, fmt.Errorf("plan: list schedules: %w", err)
	}
	defer rows.Close()
	out := []*Schedule{}
	for rows.Next() {
		var sc Schedule
		var created int64
		if err := rows.Scan(&sc.ID, &sc.QueueID, &sc.WeekStart, &sc.Status, &sc.PaidHours, &sc.LowerBound, &created); err != nil {
			return nil, fmt.Errorf("plan: list schedules: %w", err)
		}
		sc.CreatedAt = fromUnix(created)
		if sc.LowerBound > 0 {
			sc.Gap = (sc.PaidHours - sc.LowerBound) / sc.LowerBound
		}
		out = append(out, &sc)
	}
	return out, rows.Err()
}

// Publish publishes a draft schedule: its assigned shifts become the
// agents' published shifts, its unassigned shifts become open slots, and
// the queue's previously published schedule of the same week is
// superseded (its planned shifts withdrawn). Publishing twice is a
// conflict.
func (s *Service) Publish(ctx context.Context, ws, id string) (*Schedule, error) {
	now := s.clock.Now().UTC()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var queueID, week, status string
		err := tx.QueryRowContext(ctx, s.q(`SELECT queue_id, week_start, status FROM wfm_schedules WHERE workspace_id = ? AND id = ?`), ws, id).Scan(&queueID, &week, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return starpost.Errorf(starpost.ENOTFOUND, "schedule %s not found", id)
		} else if err != nil {
			return fmt.Errorf("plan: read schedule: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_schedules SET status = ?, published_at = ? WHERE workspace_id = ? AND id = ? AND status = ?`),
			StatusPublished, unix(now), ws, id, StatusDraft)
		if err != nil {
			return fmt.Errorf("plan: publish: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return starpost.Errorf(starpost.ECONFLICT, "schedule %s is %s, not a draft", id, status)
		}
		var old []string
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM wfm_schedules WHERE workspace_id = ? AND queue_id = ? AND week_start = ? AND status = ? AND id <> ?`),
			ws, queueID, week, StatusPublished, id)
		if err != nil {
			return fmt.Errorf("plan: publish: %w", err)
		}
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return fmt.Errorf("plan: publish: %w", err)
			}
			old = append(old, o)
		}
		rows.Close()
		for _, o := range old {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_schedules SET status = ? WHERE workspace_id = ? AND id = ?`), StatusSuperseded, ws, o); err != nil {
				return fmt.Errorf("plan: supersede: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_shifts SET published = 0 WHERE workspace_id = ? AND schedule_id = ?`), ws, o); err != nil {
				return fmt.Errorf("plan: supersede: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_slots SET status = ? WHERE workspace_id = ? AND reason = ? AND status = ?`),
				SlotWithdrawn, ws, "schedule:"+o, SlotOpen); err != nil {
				return fmt.Errorf("plan: supersede: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE wfm_shifts SET published = 1 WHERE workspace_id = ? AND schedule_id = ? AND agent_id <> ''`), ws, id); err != nil {
			return fmt.Errorf("plan: publish shifts: %w", err)
		}
		open, err := s.shiftsWhere(ctx, tx, "schedule_id = ? AND agent_id = ''", ws, id)
		if err != nil {
			return err
		}
		for _, sh := range open {
			if err := s.insertSlot(ctx, tx, ws, &Slot{ID: starpost.NewID("slot"), QueueID: queueID, Start: sh.Start, End: sh.End,
				BreakStart: sh.BreakStart, BreakEnd: sh.BreakEnd, Status: SlotOpen, Reason: "schedule:" + id}, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM wfm_shifts WHERE workspace_id = ? AND schedule_id = ? AND agent_id = ''`), ws, id); err != nil {
			return fmt.Errorf("plan: publish: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetSchedule(ctx, ws, id)
}

// coverage returns, per interval of the day (n intervals from day), the
// agents working on published shifts of the queue (breaks excluded) and
// the agents on its open slots that may still be claimed.
func (s *Service) coverage(ctx context.Context, ws, queueID string, day time.Time, n int) ([]int, []int, error) {
	end := day.Add(time.Duration(n) * Step)
	shifts, err := s.Shifts(ctx, ws, queueID, day, end)
	if err != nil {
		return nil, nil, err
	}
	sched, open := make([]int, n), make([]int, n)
	add := func(cov []int, sp Span) {
		a := max(0, int(sp.Start.Sub(day)/Step))
		b := min(n, int((sp.End.Sub(day)+Step-1)/Step))
		for i := a; i < b; i++ {
			cov[i]++
		}
	}
	for _, sh := range shifts {
		for _, sp := range sh.Working() {
			add(sched, sp)
		}
	}
	slots, err := s.slotsWhere(ctx, nil, "queue_id = ? AND status = ? AND start_at < ? AND end_at > ?", ws, queueID, SlotOpen, unix(end), unix(day))
	if err != nil {
		return nil, nil, err
	}
	now := s.clock.Now()
	for _, sl := range slots {
		if !sl.claimable(now) {
			continue // expired unclaimed: covers nothing
		}
		for _, sp := range sl.working() {
			add(open, sp)
		}
	}
	return sched, open, nil
}
