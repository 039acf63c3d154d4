// Package bustest provides an in-memory event log for tests of code that
// reads events from a starpost.ConversationService (the bus's gap filling,
// streams) without a database.
package bustest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/starpost/starpost"
)

// Log is an in-memory, append-only event log. It implements Append,
// ListEvents and LastCursor of starpost.ConversationService; the other
// methods belong to the embedded (nil) interface and panic if called.
//
// Append assigns gapless per-workspace cursors and per-conversation seqs and
// does not validate or project events. It is safe for concurrent use.
type Log struct {
	starpost.ConversationService

	mu     sync.Mutex
	events map[string][]*starpost.Event // by workspace, in cursor order
	seqs   map[string]int64             // by conversation

	// ListCalls counts ListEvents calls.
	ListCalls atomic.Int64
	// Fail, when set, makes ListEvents fail with this error.
	Fail atomic.Pointer[error]
}

// NewLog returns an empty log.
func NewLog() *Log {
	return &Log{events: map[string][]*starpost.Event{}, seqs: map[string]int64{}}
}

// Append commits copies of events, assigning Cursor and (for conversation
// events) Seq, and returns the committed copies.
func (l *Log) Append(_ context.Context, events ...*starpost.Event) ([]*starpost.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*starpost.Event, len(events))
	for i, e := range events {
		if e == nil || e.WorkspaceID == "" {
			return nil, fmt.Errorf("bustest: append event %d: %w", i, starpost.FieldError("workspace_id", "required"))
		}
		c := *e
		c.Cursor = int64(len(l.events[c.WorkspaceID])) + 1
		if c.ConversationID != "" {
			l.seqs[c.ConversationID]++
			c.Seq = l.seqs[c.ConversationID]
		}
		l.events[c.WorkspaceID] = append(l.events[c.WorkspaceID], &c)
		out[i] = &c
	}
	return out, nil
}

// ListEvents returns the workspace's events after f.AfterCursor that match
// f.ConversationID, f.ConversationIDs and f.Kinds, in cursor order, at most
// f.Limit (or starpost.MaxEventPage) of them.
func (l *Log) ListEvents(ctx context.Context, f starpost.EventFilter) ([]*starpost.Event, error) {
	l.ListCalls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bustest: list events: %w", err)
	}
	if p := l.Fail.Load(); p != nil {
		return nil, fmt.Errorf("bustest: list events: %w", *p)
	}
	limit := f.Limit
	if limit <= 0 || limit > starpost.MaxEventPage {
		limit = starpost.MaxEventPage
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	all := l.events[f.WorkspaceID]
	start := int(max(f.AfterCursor, 0))
	var out []*starpost.Event
	for i := start; i < len(all) && len(out) < limit; i++ {
		e := all[i]
		if f.ConversationID != "" && e.ConversationID != f.ConversationID {
			continue
		}
		if len(f.ConversationIDs) > 0 && !slices.Contains(f.ConversationIDs, e.ConversationID) {
			continue
		}
		if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind) {
			continue
		}
		c := *e
		out = append(out, &c)
	}
	return out, nil
}

// LastCursor returns the cursor of the workspace's newest event.
func (l *Log) LastCursor(_ context.Context, workspaceID string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.events[workspaceID])), nil
}
