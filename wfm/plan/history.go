package plan

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// RecordArrival records a conversation that arrived in a queue. Recording
// the same conversation again changes nothing.
func (s *Service) RecordArrival(ctx context.Context, ws, conversationID, queueID string, ch starpost.Channel, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO wfm_contacts (workspace_id, conversation_id, queue_id, channel, arrived_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace_id, conversation_id) DO NOTHING`), ws, conversationID, queueID, string(ch), unix(at))
	if err != nil {
		return fmt.Errorf("plan: record arrival: %w", err)
	}
	return nil
}

// RecordAssigned records when a conversation was first given to an agent.
func (s *Service) RecordAssigned(ctx context.Context, ws, conversationID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE wfm_contacts SET assigned_at = ? WHERE workspace_id = ? AND conversation_id = ? AND assigned_at = 0`),
		unix(at), ws, conversationID)
	if err != nil {
		return fmt.Errorf("plan: record assignment: %w", err)
	}
	return nil
}

// RecordEnded records when a conversation was first resolved or closed;
// its handle time is from the first assignment to then.
func (s *Service) RecordEnded(ctx context.Context, ws, conversationID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE wfm_contacts SET ended_at = ? WHERE workspace_id = ? AND conversation_id = ? AND ended_at = 0`),
		unix(at), ws, conversationID)
	if err != nil {
		return fmt.Errorf("plan: record end: %w", err)
	}
	return nil
}

// RecordPresence records an agent's presence change, keyed by the event's
// cursor.
func (s *Service) RecordPresence(ctx context.Context, ws string, cursor int64, agentID string, p starpost.Presence, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO wfm_presence (workspace_id, cursor, agent_id, at, presence) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, cursor) DO NOTHING`), ws, cursor, agentID, unix(at), string(p))
	if err != nil {
		return fmt.Errorf("plan: record presence: %w", err)
	}
	return nil
}

// Interval is one planning interval's history.
type Interval struct {
	Start    time.Time
	Contacts float64
	// HandleSeconds is the summed handle time of the contacts that
	// arrived in the interval and have ended.
	HandleSeconds float64
	// Handled counts those contacts.
	Handled float64
}

// Intervals returns the queue's contacts per interval in [from, to),
// only for intervals that had contacts.
func (s *Service) Intervals(ctx context.Context, ws, queueID string, from, to time.Time) ([]Interval, error) {
	step := int64(Step / time.Second)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT arrived_at - (arrived_at % ?) AS b, COUNT(*),
COALESCE(SUM(CASE WHEN ended_at > 0 AND assigned_at > 0 AND ended_at >= assigned_at THEN ended_at - assigned_at ELSE 0 END), 0),
COALESCE(SUM(CASE WHEN ended_at > 0 AND assigned_at > 0 AND ended_at >= assigned_at THEN 1 ELSE 0 END), 0)
FROM wfm_contacts WHERE workspace_id = ? AND queue_id = ? AND arrived_at >= ? AND arrived_at < ?
GROUP BY b ORDER BY b`), step, ws, queueID, unix(from), unix(to))
	if err != nil {
		return nil, fmt.Errorf("plan: read intervals: %w", err)
	}
	defer rows.Close()
	var out []Interval
	for rows.Next() {
		var b, n, hs, hn int64
		if err := rows.Scan(&b, &n, &hs, &hn); err != nil {
			return nil, fmt.Errorf("plan: read intervals: %w", err)
		}
		out = append(out, Interval{Start: fromUnix(b), Contacts: float64(n), HandleSeconds: float64(hs), Handled: float64(hn)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: read intervals: %w", err)
	}
	return out, nil
}

// dayActuals returns the contacts per interval of the local day and the
// mean handle time per interval (0 when none ended).
func (s *Service) dayActuals(ctx context.Context, ws, queueID string, day LocalDay) ([]float64, []float64, error) {
	ivs, err := s.Intervals(ctx, ws, queueID, day.Start, day.End)
	if err != nil {
		return nil, nil, err
	}
	n := day.Len()
	counts, aht := make([]float64, n), make([]float64, n)
	for _, iv := range ivs {
		k := day.Index(iv.Start)
		if k < 0 || k >= n {
			continue
		}
		counts[k] = iv.Contacts
		if iv.Handled > 0 {
			aht[k] = iv.HandleSeconds / iv.Handled
		}
	}
	return counts, aht, nil
}

// presenceChanges returns an agent's presence changes in [from, to) with,
// first, the last change before from.
func (s *Service) presenceChanges(ctx context.Context, ws, agentID string, from, to time.Time) ([]PresenceChange, error) {
	var out []PresenceChange
	var at int64
	var p string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT at, presence FROM wfm_presence WHERE workspace_id = ? AND agent_id = ? AND at < ?
ORDER BY at DESC, cursor DESC LIMIT 1`), ws, agentID, unix(from)).Scan(&at, &p)
	if err == nil {
		out = append(out, PresenceChange{At: fromUnix(at), Presence: starpost.Presence(p)})
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT at, presence FROM wfm_presence WHERE workspace_id = ? AND agent_id = ? AND at >= ? AND at < ?
ORDER BY at, cursor`), ws, agentID, unix(from), unix(to))
	if err != nil {
		return nil, fmt.Errorf("plan: read presence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&at, &p); err != nil {
			return nil, fmt.Errorf("plan: read presence: %w", err)
		}
		out = append(out, PresenceChange{At: fromUnix(at), Presence: starpost.Presence(p)})
	}
	return out, rows.Err()
}

// Contact is a past contact imported from elsewhere (a planner's export of
// an older system, or the demo): it counts in the history exactly as a
// conversation recorded by the engine does.
type Contact struct {
	// ID identifies the contact; importing the same ID again changes
	// nothing.
	ID      string
	QueueID string
	Channel starpost.Channel
	// Arrived is when it arrived; Assigned and Ended, when known, give its
	// handle time.
	Arrived, Assigned, Ended time.Time
}

// ImportContacts adds past contacts to the workspace's history in one
// transaction. Every queue must exist.
func (s *Service) ImportContacts(ctx context.Context, ws string, cs []Contact) error {
	queues := map[string]bool{}
	for i, c := range cs {
		if c.ID == "" || c.Arrived.IsZero() {
			return starpost.FieldError("contacts", "entry %d needs an id and an arrival time", i)
		}
		if !c.Channel.Valid() {
			return starpost.FieldError("contacts", "entry %d: unknown channel %q", i, c.Channel)
		}
		if !queues[c.QueueID] {
			if _, err := s.findQueue(ctx, ws, c.QueueID); err != nil {
				return err
			}
			queues[c.QueueID] = true
		}
	}
	opt := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return unix(t)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO wfm_contacts (workspace_id, conversation_id, queue_id, channel, arrived_at, assigned_at, ended_at)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, conversation_id) DO NOTHING`), ws, c.ID, c.QueueID, string(c.Channel), unix(c.Arrived), opt(c.Assigned), opt(c.Ended)); err != nil {
				return fmt.Errorf("plan: import contacts: %w", err)
			}
		}
		return nil
	})
}
