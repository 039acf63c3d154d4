package quality

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/starpost/starpost"
)

// Dashboard groupings.
const (
	GroupAll   = "all"
	GroupAgent = "agent"
	GroupTeam  = "team"
	GroupSite  = "site"
)

// DashboardQuery selects a dashboard: one series per agent, team or site
// (or one for the whole workspace), per day from From to To inclusive, in
// Location.
type DashboardQuery struct {
	WorkspaceID string
	GroupBy     string
	From, To    time.Time // dates: only their year, month and day count
	Location    *time.Location
}

// ValidGroup checks a dashboard grouping ("" means GroupAll).
func ValidGroup(g string) error {
	switch g {
	case "", GroupAll, GroupAgent, GroupTeam, GroupSite:
		return nil
	}
	return starpost.FieldError("group_by", "must be all, agent, team or site")
}

// MaxDashboardDays is the longest range of a dashboard.
const MaxDashboardDays = 366

// MaxDashboardCards bounds the scorecards one dashboard reads.
const MaxDashboardCards = 200000

// DayStats are the QA figures of one group on one day (or over the whole
// range, for a group's Total). Averages are nil when there was nothing to
// average.
type DayStats struct {
	Date          string   `json:"date,omitempty"`
	Conversations int      `json:"conversations"`
	AvgScore      *float64 `json:"avg_score"`
	// AutoFailRate is the share of conversations whose final result
	// auto-failed (0 to 1).
	AutoFailRate *float64 `json:"auto_fail_rate"`
	// Findings counts the failed findings of each rule.
	Findings             map[string]int `json:"findings"`
	AvgFirstResponse     *float64       `json:"avg_first_response_seconds"`
	AvgCSAT              *float64       `json:"avg_csat"`
	Ratings              int            `json:"ratings"`
	sumScore, sumFRT     float64
	nFRT, fails, sumCSAT int
}

func (d *DayStats) add(c *Scorecard) {
	d.Conversations++
	d.sumScore += float64(c.Score)
	if c.Failed {
		d.fails++
	}
	for r, n := range c.FailedByRule {
		d.Findings[r] += n
	}
	if c.FirstResponseSeconds != nil {
		d.sumFRT += *c.FirstResponseSeconds
		d.nFRT++
	}
	if c.CSAT > 0 {
		d.sumCSAT += c.CSAT
		d.Ratings++
	}
}

func round2(v float64) *float64 {
	r := math.Round(v*100) / 100
	return &r
}

func (d *DayStats) finish() {
	if d.Conversations > 0 {
		d.AvgScore = round2(d.sumScore / float64(d.Conversations))
		d.AutoFailRate = round2(float64(d.fails) / float64(d.Conversations))
	}
	if d.nFRT > 0 {
		d.AvgFirstResponse = round2(d.sumFRT / float64(d.nFRT))
	}
	if d.Ratings > 0 {
		d.AvgCSAT = round2(float64(d.sumCSAT) / float64(d.Ratings))
	}
}

// Series is one group's figures.
type Series struct {
	// Key is the agent, team or site id ("" for agents without a team or
	// site; "all" for the workspace).
	Key   string     `json:"key"`
	Total DayStats   `json:"total"`
	Days  []DayStats `json:"days"`
}

// Dashboard is the answer of Store.Dashboard.
type Dashboard struct {
	GroupBy string   `json:"group_by"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Zone    string   `json:"zone"`
	Days    []string `json:"days"`
	Series  []Series `json:"series"`
	// Truncated is true when the range held more than MaxDashboardCards
	// scorecards and only the newest were counted.
	Truncated bool `json:"truncated,omitempty"`
}

// days returns the dates from from to to inclusive (YYYY-MM-DD).
func days(from, to time.Time) []string {
	var out []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// Dashboard computes per-day QA figures for each agent, team or site (see
// DashboardQuery) from the stored scorecards, with final (reviewed) scores.
func (s *Store) Dashboard(ctx context.Context, q DashboardQuery) (*Dashboard, error) {
	if q.WorkspaceID == "" {
		return nil, starpost.FieldError("workspace_id", "required")
	}
	if err := ValidGroup(q.GroupBy); err != nil {
		return nil, err
	}
	if q.GroupBy == "" {
		q.GroupBy = GroupAll
	}
	if q.Location == nil {
		q.Location = time.UTC
	}
	from := time.Date(q.From.Year(), q.From.Month(), q.From.Day(), 0, 0, 0, 0, q.Location)
	to := time.Date(q.To.Year(), q.To.Month(), q.To.Day(), 0, 0, 0, 0, q.Location)
	if to.Before(from) {
		return nil, starpost.FieldError("to", "must not be before from")
	}
	dayList := days(from, to)
	if len(dayList) > MaxDashboardDays {
		return nil, starpost.FieldError("to", "the range is longer than %d days", MaxDashboardDays)
	}
	f := ScorecardFilter{WorkspaceID: q.WorkspaceID, From: from, To: to.AddDate(0, 0, 1)}
	starts := make([]int64, len(dayList)+1) // the start of each day, and the end of the last
	for i := range starts {
		starts[i] = from.AddDate(0, 0, i).UnixNano()
	}
	where, args := f.where()
	// Only the columns a dashboard needs: no item lists to decode.
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT resolved_at, agent_id, team_id, site_id, score, failed, failed_by_rule,
		first_response_ms, csat FROM qa_scorecards WHERE `+where+` ORDER BY resolved_at DESC LIMIT ?`), append(args, MaxDashboardCards+1)...)
	if err != nil {
		return nil, fmt.Errorf("quality: dashboard: %w", err)
	}
	defer rows.Close()
	dash := &Dashboard{GroupBy: q.GroupBy, From: dayList[0], To: dayList[len(dayList)-1], Zone: q.Location.String(), Days: dayList}
	groups := map[string]*Series{}
	n := 0
	for rows.Next() {
		if n++; n > MaxDashboardCards {
			dash.Truncated = true
			break
		}
		var c Scorecard
		var at int64
		var failed int
		var byRule string
		var frt sql.NullInt64
		if err := rows.Scan(&at, &c.AgentID, &c.TeamID, &c.SiteID, &c.Score, &failed, &byRule, &frt, &c.CSAT); err != nil {
			return nil, fmt.Errorf("quality: dashboard: %w", err)
		}
		c.Failed = failed != 0
		if byRule != "{}" && byRule != "null" {
			if err := json.Unmarshal([]byte(byRule), &c.FailedByRule); err != nil {
				return nil, fmt.Errorf("quality: dashboard: failed_by_rule: %w", err)
			}
		}
		if frt.Valid {
			v := float64(frt.Int64) / 1000
			c.FirstResponseSeconds = &v
		}
		key := GroupAll
		switch q.GroupBy {
		case GroupAgent:
			key = c.AgentID
		case GroupTeam:
			key = c.TeamID
		case GroupSite:
			key = c.SiteID
		}
		g := groups[key]
		if g == nil {
			g = &Series{Key: key, Total: DayStats{Findings: map[string]int{}}, Days: make([]DayStats, len(dayList))}
			for i, d := range dayList {
				g.Days[i] = DayStats{Date: d, Findings: map[string]int{}}
			}
			groups[key] = g
		}
		// Day i starts at midnight of dayList[i] in the zone (DST-safe).
		i := sort.Search(len(starts), func(i int) bool { return starts[i] > at }) - 1
		if i < 0 || i >= len(dayList) {
			continue
		}
		g.Days[i].add(&c)
		g.Total.add(&c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quality: dashboard: %w", err)
	}
	dash.Series = []Series{}
	for _, g := range groups {
		g.Total.finish()
		for i := range g.Days {
			g.Days[i].finish()
		}
		dash.Series = append(dash.Series, *g)
	}
	sort.Slice(dash.Series, func(i, j int) bool { return dash.Series[i].Key < dash.Series[j].Key })
	return dash, nil
}
