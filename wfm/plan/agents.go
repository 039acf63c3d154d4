package plan

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// AgentProfile is an agent's flexible-work profile (灵活用工). Only a
// flexible agent, or one who opted in, sees and claims open slots; the
// weekly hours of every claim and accepted overtime stay within
// MaxWeekHours (or the service's rule, whichever is lower).
type AgentProfile struct {
	AgentID string `json:"agent_id"`
	// Flexible is set by a planner: the agent works on a flexible contract.
	Flexible bool `json:"flexible"`
	// OptedIn is set by the agent: they want to pick up extra slots.
	OptedIn bool `json:"opted_in"`
	// MaxWeekHours caps the agent's paid hours in a local calendar week;
	// 0 means the service's Rules.MaxWeekHours.
	MaxWeekHours float64 `json:"max_week_hours"`
	// WeekLimit is the limit in force: the lower of MaxWeekHours (when
	// set) and the service's rule.
	WeekLimit float64   `json:"week_limit"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// MayClaim reports whether the agent sees and claims open slots.
func (p *AgentProfile) MayClaim() bool { return p.Flexible || p.OptedIn }

// MaxWeekHoursLimit bounds AgentProfile.MaxWeekHours.
const MaxWeekHoursLimit = 80

// AgentProfile returns an agent's flexible-work profile (all false when
// never set). The agent must exist in the workspace.
func (s *Service) AgentProfile(ctx context.Context, ws, agentID string) (*AgentProfile, error) {
	if _, err := s.dir.FindUser(ctx, ws, agentID); err != nil {
		return nil, err
	}
	return s.agentProfile(ctx, nil, ws, agentID)
}

func (s *Service) agentProfile(ctx context.Context, tx *sql.Tx, ws, agentID string) (*AgentProfile, error) {
	p := &AgentProfile{AgentID: agentID}
	var flex, opt, upd int64
	rows, err := s.on(tx).QueryContext(ctx, s.q(`SELECT flexible, opted_in, max_week_hours, updated_at FROM wfm_agents WHERE workspace_id = ? AND agent_id = ?`), ws, agentID)
	if err != nil {
		return nil, fmt.Errorf("plan: read agent profile: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&flex, &opt, &p.MaxWeekHours, &upd); err != nil {
			return nil, fmt.Errorf("plan: read agent profile: %w", err)
		}
		p.Flexible, p.OptedIn, p.UpdatedAt = flex != 0, opt != 0, fromUnix(upd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: read agent profile: %w", err)
	}
	p.WeekLimit = s.cfg.Rules.MaxWeekHours
	if p.MaxWeekHours > 0 && (p.WeekLimit <= 0 || p.MaxWeekHours < p.WeekLimit) {
		p.WeekLimit = p.MaxWeekHours
	}
	return p, nil
}

// ListAgentProfiles returns the profiles that were set in the workspace.
func (s *Service) ListAgentProfiles(ctx context.Context, ws string) ([]*AgentProfile, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT agent_id FROM wfm_agents WHERE workspace_id = ? ORDER BY agent_id`), ws)
	if err != nil {
		return nil, fmt.Errorf("plan: list agent profiles: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("plan: list agent profiles: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: list agent profiles: %w", err)
	}
	out := []*AgentProfile{}
	for _, id := range ids {
		p, err := s.agentProfile(ctx, nil, ws, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// AgentProfileUpdate changes a profile; nil fields stay as they are.
type AgentProfileUpdate struct {
	Flexible     *bool    `json:"flexible,omitempty"`
	OptedIn      *bool    `json:"opted_in,omitempty"`
	MaxWeekHours *float64 `json:"max_week_hours,omitempty"`
}

// UpdateAgentProfile applies u to an agent's profile and returns it. The
// agent must exist and have the agent role; MaxWeekHours is 0 to
// MaxWeekHoursLimit. Who may change which field is the caller's rule (a
// planner sets Flexible and MaxWeekHours, the agent OptedIn).
func (s *Service) UpdateAgentProfile(ctx context.Context, ws, agentID string, u AgentProfileUpdate) (*AgentProfile, error) {
	usr, err := s.dir.FindUser(ctx, ws, agentID)
	if err != nil {
		return nil, err
	}
	if usr.Role != starpost.RoleAgent {
		return nil, starpost.Errorf(starpost.EINVALID, "%s is not an agent", usr.Name)
	}
	if u.MaxWeekHours != nil && (*u.MaxWeekHours < 0 || *u.MaxWeekHours > MaxWeekHoursLimit) {
		return nil, starpost.FieldError("max_week_hours", "must be 0 to %d", MaxWeekHoursLimit)
	}
	now := s.clock.Now().UTC()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		p, err := s.agentProfile(ctx, tx, ws, agentID)
		if err != nil {
			return err
		}
		if u.Flexible != nil {
			p.Flexible = *u.Flexible
		}
		if u.OptedIn != nil {
			p.OptedIn = *u.OptedIn
		}
		if u.MaxWeekHours != nil {
			p.MaxWeekHours = *u.MaxWeekHours
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO wfm_agents (workspace_id, agent_id, flexible, opted_in, max_week_hours, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, agent_id) DO UPDATE SET flexible = excluded.flexible, opted_in = excluded.opted_in,
max_week_hours = excluded.max_week_hours, updated_at = excluded.updated_at`), ws, agentID, b2i(p.Flexible), b2i(p.OptedIn), p.MaxWeekHours, unix(now))
		if err != nil {
			return fmt.Errorf("plan: save agent profile: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.agentProfile(ctx, nil, ws, agentID)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// errNotFlexible is the answer to a claim by an agent who is neither
// flexible nor opted in.
var errNotFlexible = starpost.Errorf(starpost.EFORBIDDEN, "open slots are for flexible agents: opt in to extra work first")
