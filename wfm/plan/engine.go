package plan

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// EngineName is the name of the workforce-management engine (its
// checkpoint row).
const EngineName = "wfm"

// LiveWindow is how recent an event must be (by the clock) for the engine
// to re-plan the day on it; older events, replayed from history, only feed
// the interval history.
const LiveWindow = time.Hour

// Engine is the engine.Handler that keeps the intraday picture: it records
// every conversation's arrival, first assignment and end (the interval
// history and actuals per queue) and every presence change (adherence),
// and, on the first live event of each new interval, re-plans the rest of
// the day of every queue of the workspace (Replan). It appends no events:
// its output is the plan's own tables. Every write is keyed by the event,
// so a replay changes nothing.
type Engine struct {
	svc   *Service
	clock starpost.Clock

	mu   sync.Mutex
	last map[string]time.Time // workspace -> interval last re-planned
}

// NewEngine returns the engine over svc.
func NewEngine(svc *Service) *Engine {
	return &Engine{svc: svc, clock: svc.clock, last: map[string]time.Time{}}
}

// Name implements engine.Handler.
func (e *Engine) Name() string { return EngineName }

// Handle implements engine.Handler.
func (e *Engine) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	ws := ev.WorkspaceID
	switch ev.Kind {
	case starpost.KindCreated:
		var b starpost.CreatedBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		if b.QueueID != "" {
			if err := e.svc.RecordArrival(ctx, ws, ev.ConversationID, b.QueueID, b.Channel, ev.At); err != nil {
				return nil, err
			}
		}
	case starpost.KindAssigned:
		if err := e.svc.RecordAssigned(ctx, ws, ev.ConversationID, ev.At); err != nil {
			return nil, err
		}
	case starpost.KindState:
		var b starpost.StateBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		if b.State == starpost.StateResolved || b.State == starpost.StateClosed {
			if err := e.svc.RecordEnded(ctx, ws, ev.ConversationID, ev.At); err != nil {
				return nil, err
			}
		}
	case starpost.KindPresence:
		var b starpost.PresenceBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		if err := e.svc.RecordPresence(ctx, ws, ev.Cursor, ev.Actor.ID, b.Presence, ev.At); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	return nil, e.maybeReplan(ctx, ws, ev.At)
}

// maybeReplan re-plans the workspace's queues when at is live and in an
// interval not re-planned yet.
func (e *Engine) maybeReplan(ctx context.Context, ws string, at time.Time) error {
	now := e.clock.Now()
	if at.Before(now.Add(-LiveWindow)) || at.After(now.Add(LiveWindow)) {
		return nil
	}
	iv := at.UTC().Truncate(Step)
	e.mu.Lock()
	done := !e.last[ws].Before(iv)
	e.mu.Unlock()
	if done {
		return nil
	}
	if _, err := e.svc.ReplanWorkspace(ctx, ws, at); err != nil {
		return err
	}
	e.mu.Lock()
	e.last[ws] = iv
	e.mu.Unlock()
	return nil
}

// ReplanWorkspace re-plans every queue of the workspace at now.
func (s *Service) ReplanWorkspace(ctx context.Context, ws string, now time.Time) ([]*ReplanResult, error) {
	qs, err := s.dir.ListQueues(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("plan: list queues: %w", err)
	}
	var out []*ReplanResult
	for _, q := range qs {
		r, err := s.Replan(ctx, ws, q.ID, now)
		if err != nil {
			return nil, fmt.Errorf("plan: re-plan %s: %w", q.ID, err)
		}
		out = append(out, r)
	}
	return out, nil
}
