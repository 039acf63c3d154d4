package plan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm"
)

// MaxEventKindLen is the longest event kind, in characters.
const MaxEventKindLen = 40

// CalendarEvent is one day of a sale, festival or launch that changes a
// queue's demand (11.11, 618, a product launch). Forecasts learn each
// kind's uplift from its past days in the queue's history and apply it to
// the planned ones; a kind with no past day gets none (the planner is told).
type CalendarEvent struct {
	ID string `json:"id"`
	// QueueID is the queue the event is for; empty: every queue.
	QueueID string `json:"queue_id"`
	// Day is the local date, YYYY-MM-DD, in the queue's time zone.
	Day string `json:"day"`
	// Kind names the kind of event; days of the same kind share an uplift.
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate trims the event and checks it: a real date, a kind of 1 to
// MaxEventKindLen characters.
func (e *CalendarEvent) Validate() error {
	e.Day, e.Kind, e.QueueID = strings.TrimSpace(e.Day), strings.TrimSpace(e.Kind), strings.TrimSpace(e.QueueID)
	if _, err := time.Parse(time.DateOnly, e.Day); err != nil {
		return starpost.FieldError("day", "want a date as YYYY-MM-DD")
	}
	if e.Kind == "" {
		return starpost.FieldError("kind", "required, such as 11.11, 618 or launch")
	}
	if utf8.RuneCountInString(e.Kind) > MaxEventKindLen {
		return starpost.FieldError("kind", "longer than %d characters", MaxEventKindLen)
	}
	return nil
}

// AddEvent puts an event on workspace ws's calendar: ECONFLICT when the
// queue (or the whole workspace) already has an event that day.
func (s *Service) AddEvent(ctx context.Context, ws string, e CalendarEvent) (*CalendarEvent, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if e.QueueID != "" {
		if _, err := s.dir.FindQueue(ctx, ws, e.QueueID); err != nil {
			if starpost.ErrorCode(err) == starpost.ENOTFOUND {
				return nil, starpost.FieldError("queue_id", "no such queue")
			}
			return nil, err
		}
	}
	e.ID, e.CreatedAt = starpost.NewID("ce"), s.clock.Now().UTC().Truncate(time.Second)
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO wfm_events (workspace_id, id, queue_id, day, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, queue_id, day) DO NOTHING`), ws, e.ID, e.QueueID, e.Day, e.Kind, e.CreatedAt.Unix())
	if err != nil {
		return nil, fmt.Errorf("plan: add event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("plan: add event: %w", err)
	} else if n == 0 {
		return nil, &starpost.Error{Code: starpost.ECONFLICT, Field: "day", Message: "there is already an event on " + e.Day}
	}
	return &e, s.forgetForecasts(ctx, ws, e.QueueID)
}

// forgetForecasts drops the stored forecasts from today on of a queue (or
// of every queue), so the next read computes them with the changed
// calendar: an event day changes its own forecast and, through the uplift
// learned from it, those of later days of its kind.
func (s *Service) forgetForecasts(ctx context.Context, ws, queueID string) error {
	query, args := "DELETE FROM wfm_forecasts WHERE workspace_id = ? AND day >= ?", []any{ws, dayKey(DayStart(s.clock.Now()).AddDate(0, 0, -1))}
	if queueID != "" {
		query += " AND queue_id = ?"
		args = append(args, queueID)
	}
	if _, err := s.db.ExecContext(ctx, s.q(query), args...); err != nil {
		return fmt.Errorf("plan: forget forecasts: %w", err)
	}
	return nil
}

// ListEvents returns workspace ws's calendar in day order: every event, or
// with queueID those of that queue and those for every queue.
func (s *Service) ListEvents(ctx context.Context, ws, queueID string) ([]CalendarEvent, error) {
	query, args := "SELECT id, queue_id, day, kind, created_at FROM wfm_events WHERE workspace_id = ?", []any{ws}
	if queueID != "" {
		query += " AND queue_id IN (?, '')"
		args = append(args, queueID)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY day, queue_id"), args...)
	if err != nil {
		return nil, fmt.Errorf("plan: list events: %w", err)
	}
	defer rows.Close()
	out := []CalendarEvent{}
	for rows.Next() {
		var e CalendarEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.QueueID, &e.Day, &e.Kind, &at); err != nil {
			return nil, fmt.Errorf("plan: list events: %w", err)
		}
		e.CreatedAt = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteEvent takes an event off workspace ws's calendar.
func (s *Service) DeleteEvent(ctx context.Context, ws, id string) error {
	var queueID string
	err := s.db.QueryRowContext(ctx, s.q("SELECT queue_id FROM wfm_events WHERE workspace_id = ? AND id = ?"), ws, id).Scan(&queueID)
	if errors.Is(err, sql.ErrNoRows) {
		return starpost.Errorf(starpost.ENOTFOUND, "event not found")
	} else if err != nil {
		return fmt.Errorf("plan: delete event: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.q("DELETE FROM wfm_events WHERE workspace_id = ? AND id = ?"), ws, id); err != nil {
		return fmt.Errorf("plan: delete event: %w", err)
	}
	return s.forgetForecasts(ctx, ws, queueID)
}

// calendar returns a queue's events as the forecaster's calendar: each day
// at midnight in loc, the location the queue's history series dates its
// days in. A queue event wins over a workspace-wide one on the same day.
func (s *Service) calendar(ctx context.Context, ws, queueID string, loc *time.Location) (wfm.Calendar, error) {
	evs, err := s.ListEvents(ctx, ws, queueID)
	if err != nil {
		return wfm.Calendar{}, err
	}
	byDay := map[string]CalendarEvent{}
	for _, e := range evs {
		if prev, ok := byDay[e.Day]; !ok || prev.QueueID == "" {
			byDay[e.Day] = e
		}
	}
	var cal wfm.Calendar
	for _, e := range evs {
		if byDay[e.Day].ID != e.ID {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, e.Day, loc)
		if err != nil {
			return wfm.Calendar{}, fmt.Errorf("plan: stored event day %q: %w", e.Day, err)
		}
		cal.Events = append(cal.Events, wfm.Event{Kind: e.Kind, Date: d})
	}
	return cal, nil
}
