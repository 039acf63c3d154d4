package http

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/emotion"
)

// Routes of the agent's assist tools: canned replies (package canned), the
// agent-readable directory used by the transfer dialog, and the agent's
// well-being count (hostile conversations today, from the emotion engine's
// events).

// ---- canned replies ----

func (s *Server) cannedWritable() error {
	if s.Canned == nil {
		return starpost.Errorf(starpost.EUNAVAILABLE, "canned replies are not configured on this server")
	}
	return nil
}

// handleListCanned lists the canned replies the caller may use: agents see
// the replies for everyone and for their own team, supervisors and admins
// see all. ?lang=zh|en keeps that language and "any".
func (s *Server) handleListCanned(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	f := canned.Filter{Lang: r.URL.Query().Get("lang")}
	if f.Lang != "" && f.Lang != canned.LangZH && f.Lang != canned.LangEN {
		return starpost.FieldError("lang", "must be zh or en")
	}
	if s.Canned == nil {
		writeList[*canned.Reply](w, nil)
		return nil
	}
	if !p.Role.AtLeast(starpost.RoleSupervisor) {
		f.Agent = true
		if p.UserID != "" {
			u, err := s.Store.FindUser(r.Context(), p.WorkspaceID, p.UserID)
			if err != nil {
				return err
			}
			f.ForTeam = u.TeamID
		}
	}
	items, err := s.Canned.List(r.Context(), p.WorkspaceID, f)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

// CannedRequest is the body of POST /api/v1/canned.
type CannedRequest struct {
	Title    string `json:"title"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
	Lang     string `json:"lang"`
	TeamID   string `json:"team_id"`
}

// checkTeam returns an EINVALID error naming team_id when team is set and
// is not a team of workspace ws (another tenant's team included).
func (s *Server) checkTeam(ctx context.Context, ws, team string) error {
	if team == "" {
		return nil
	}
	teams, err := s.Store.ListTeams(ctx, ws)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(teams, func(t *starpost.Team) bool { return t.ID == team }) {
		return starpost.FieldError("team_id", "no such team")
	}
	return nil
}

func (s *Server) handleCreateCanned(w http.ResponseWriter, r *http.Request) error {
	var req CannedRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.cannedWritable(); err != nil {
		return err
	}
	p := principal(r)
	c := &canned.Reply{Title: req.Title, Shortcut: req.Shortcut, Body: req.Body, Lang: req.Lang, TeamID: req.TeamID}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.checkTeam(r.Context(), p.WorkspaceID, c.TeamID); err != nil {
		return err
	}
	if err := s.Canned.Create(r.Context(), p.WorkspaceID, editor(p), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) handleUpdateCanned(w http.ResponseWriter, r *http.Request) error {
	var req canned.Patch
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.cannedWritable(); err != nil {
		return err
	}
	p := principal(r)
	if req.TeamID != nil {
		if err := s.checkTeam(r.Context(), p.WorkspaceID, *req.TeamID); err != nil {
			return err
		}
	}
	c, err := s.Canned.Update(r.Context(), p.WorkspaceID, r.PathValue("id"), editor(p), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) handleDeleteCanned(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	if err := s.cannedWritable(); err != nil {
		return err
	}
	if err := s.Canned.Delete(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- directory for agents ----

// DirectoryAgent is a colleague as any agent may see them: enough to pick a
// transfer target, nothing sensitive (no email, skills or capacity).
type DirectoryAgent struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Role     starpost.Role     `json:"role"`
	SiteID   string            `json:"site_id,omitempty"`
	Site     string            `json:"site,omitempty"`
	Presence starpost.Presence `json:"presence"`
}

// DirectoryQueue is a queue as any agent may see it.
type DirectoryQueue struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DirectoryResponse is the answer of GET /api/v1/directory.
type DirectoryResponse struct {
	Agents []DirectoryAgent `json:"agents"`
	Queues []DirectoryQueue `json:"queues"`
}

// handleDirectory lists the workspace's enabled users and queues for the
// transfer dialog of any agent.
func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request) error {
	ctx, ws := r.Context(), principal(r).WorkspaceID
	users, err := s.Store.ListUsers(ctx, ws)
	if err != nil {
		return err
	}
	sites, err := s.Store.ListSites(ctx, ws)
	if err != nil {
		return err
	}
	queues, err := s.Store.ListQueues(ctx, ws)
	if err != nil {
		return err
	}
	ps, err := s.Store.Presence(ctx, ws)
	if err != nil {
		return err
	}
	siteName := make(map[string]string, len(sites))
	for _, x := range sites {
		siteName[x.ID] = x.Name
	}
	presence := make(map[string]starpost.Presence, len(ps))
	for _, x := range ps {
		presence[x.AgentID] = x.Presence
	}
	out := DirectoryResponse{Agents: []DirectoryAgent{}, Queues: []DirectoryQueue{}}
	for _, u := range users {
		if u.Disabled {
			continue
		}
		pr := presence[u.ID]
		if pr == "" {
			pr = starpost.PresenceOffline
		}
		out.Agents = append(out.Agents, DirectoryAgent{ID: u.ID, Name: u.Name, Role: u.Role, SiteID: u.SiteID, Site: siteName[u.SiteID], Presence: pr})
	}
	for _, q := range queues {
		out.Queues = append(out.Queues, DirectoryQueue{ID: q.ID, Name: q.Name})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ---- well-being ----

// WellbeingPolicy is a workspace's well-being setting: after BreakAfter
// hostile conversations in a day an agent is offered a break. TimeZone
// (an IANA name) says when the day starts for agents without a site; an
// agent's site's time zone wins.
type WellbeingPolicy struct {
	BreakAfter int
	TimeZone   string
}

// DefaultBreakAfter is the break threshold of workspaces without a policy.
const DefaultBreakAfter = 3

// WellbeingResponse is the answer of GET /api/v1/me/wellbeing.
type WellbeingResponse struct {
	// Date is today in TimeZone (YYYY-MM-DD).
	Date     string `json:"date"`
	TimeZone string `json:"time_zone"`
	// Hostile counts the conversations the agent handled today in which
	// the emotion engine coached them (rising anger) or raised an abuse
	// alert; Abusive counts those with abuse.
	Hostile        int      `json:"hostile"`
	Abusive        int      `json:"abusive"`
	Conversations  []string `json:"conversation_ids"`
	BreakAfter     int      `json:"break_after"`
	SuggestBreak   bool     `json:"suggest_break"`
	OnBreakAlready bool     `json:"on_break"`
}

func (s *Server) wellbeingPolicy(ws string) WellbeingPolicy {
	p, ok := s.Wellbeing[ws]
	if !ok {
		p = s.Wellbeing[""]
	}
	if p.BreakAfter <= 0 {
		p.BreakAfter = DefaultBreakAfter
	}
	if p.TimeZone == "" {
		p.TimeZone = "UTC"
	}
	return p
}

// handleWellbeing counts the caller's hostile conversations today.
func (s *Server) handleWellbeing(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.UserID == "" {
		return starpost.Errorf(starpost.EFORBIDDEN, "well-being is counted for signed-in users only")
	}
	ctx := r.Context()
	pol := s.wellbeingPolicy(p.WorkspaceID)
	tz := pol.TimeZone
	u, err := s.Store.FindUser(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		return err
	}
	if u.SiteID != "" {
		sites, err := s.Store.ListSites(ctx, p.WorkspaceID)
		if err != nil {
			return err
		}
		for _, x := range sites {
			if x.ID == u.SiteID && x.TimeZone != "" {
				tz = x.TimeZone
			}
		}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("well-being time zone %q: %w", tz, err)
	}
	now := s.Clock.Now().In(loc)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	hostile, abusive, err := s.hostileSince(ctx, p.WorkspaceID, p.UserID, start)
	if err != nil {
		return err
	}
	out := WellbeingResponse{Date: start.Format(time.DateOnly), TimeZone: tz, Conversations: hostile,
		Hostile: len(hostile), Abusive: abusive, BreakAfter: pol.BreakAfter}
	out.SuggestBreak = out.Hostile >= pol.BreakAfter
	ps, err := s.Store.Presence(ctx, p.WorkspaceID)
	if err != nil {
		return err
	}
	for _, x := range ps {
		if x.AgentID == p.UserID && x.Presence == starpost.PresenceBreak && !x.Since.Before(start) {
			out.OnBreakAlready = true
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// firstCursorSince returns the first cursor of workspace ws committed at or
// after t (last+1 when none): a binary search over the gapless cursors,
// about log2(events) one-row reads.
func (s *Server) firstCursorSince(ctx context.Context, ws string, t time.Time) (int64, error) {
	last, err := s.Store.LastCursor(ctx, ws)
	if err != nil {
		return 0, err
	}
	lo, hi := int64(1), last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		evs, err := s.Store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, AfterCursor: mid - 1, Limit: 1})
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			hi = mid
			continue
		}
		if evs[0].At.Before(t) {
			lo = evs[0].Cursor + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// hostileDay is what one node has counted of a workspace's day (from the
// instant Start): the hostile conversations per agent, from the events up
// to cursor Last. Later requests scan only the events committed since.
type hostileDay struct {
	mu      sync.Mutex
	start   time.Time
	last    int64
	convs   map[string][]string        // agent -> conversations, in order
	seen    map[string]map[string]bool // agent -> conversation -> counted
	abusive map[string]map[string]bool // agent -> conversation -> abuse seen
}

// hostileCache holds the days being counted, by workspace and day start.
type hostileCache struct {
	mu   sync.Mutex
	days map[string]*hostileDay
}

// day returns the counter of workspace ws's day starting at start, and
// forgets days that ended more than a day ago.
func (c *hostileCache) day(ws string, start, now time.Time) *hostileDay {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = map[string]*hostileDay{}
	}
	for k, d := range c.days {
		if now.Sub(d.start) > 49*time.Hour {
			delete(c.days, k)
		}
	}
	key := ws + "|" + start.UTC().Format(time.RFC3339)
	d := c.days[key]
	if d == nil {
		d = &hostileDay{start: start, convs: map[string][]string{}, seen: map[string]map[string]bool{}, abusive: map[string]map[string]bool{}}
		c.days[key] = d
	}
	return d
}

// hostileSince returns the conversations in which the emotion engine
// coached agent or alerted about abuse while agent held them, since t, and
// how many of them saw abuse. The first call of a day finds the day's first
// cursor and scans its coaching and alert events; later calls scan only
// what was committed since.
func (s *Server) hostileSince(ctx context.Context, ws, agent string, t time.Time) ([]string, int, error) {
	d := s.hostile.day(ws, t, s.Clock.Now())
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last == 0 {
		from, err := s.firstCursorSince(ctx, ws, t)
		if err != nil {
			return nil, 0, err
		}
		d.last = from - 1
	}
	for {
		evs, err := s.Store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, AfterCursor: d.last,
			Kinds: []starpost.EventKind{emotion.KindCoaching, emotion.KindAlert}})
		if err != nil {
			return nil, 0, err
		}
		for _, e := range evs {
			d.last = e.Cursor
			if e.At.Before(t) {
				continue
			}
			var b struct {
				AgentID string `json:"agent_id"`
				Reason  string `json:"reason"`
			}
			if e.DecodeBody(&b) != nil || b.AgentID == "" {
				continue
			}
			if d.seen[b.AgentID] == nil {
				d.seen[b.AgentID], d.abusive[b.AgentID] = map[string]bool{}, map[string]bool{}
			}
			if !d.seen[b.AgentID][e.ConversationID] {
				d.seen[b.AgentID][e.ConversationID] = true
				d.convs[b.AgentID] = append(d.convs[b.AgentID], e.ConversationID)
			}
			if e.Kind == emotion.KindAlert || b.Reason == "abuse" {
				d.abusive[b.AgentID][e.ConversationID] = true
			}
		}
		if len(evs) < starpost.MaxEventPage {
			break
		}
	}
	return append([]string{}, d.convs[agent]...), len(d.abusive[agent]), nil
}
