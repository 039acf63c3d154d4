package http

import (
	"net/http"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/wfm/plan"
)

// Workforce-management routes (package wfm/plan). Supervisors plan: a
// queue's day (forecast vs actual, requirement vs scheduled), schedule
// generation and publishing, the published shift grid, hand-made open
// slots and adherence. Agents see their own shifts, the open slots they
// may claim and their overtime / time-off offers. Without a configured
// service every route answers 503.

// GenerateScheduleRequest is the body of POST /api/v1/wfm/queues/{id}/schedules.
type GenerateScheduleRequest struct {
	// WeekStart is the first day (YYYY-MM-DD) of the week to schedule;
	// empty (or no body) means the next Monday.
	WeekStart string `json:"week_start"`
}

// OpenSlotRequest is the body of POST /api/v1/wfm/slots.
type OpenSlotRequest struct {
	QueueID string    `json:"queue_id"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// ExpiresAt, when set, closes claiming earlier than the default (the
	// start less the service's claim lead).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// MySchedule is the answer of GET /api/v1/wfm/me. From, To and the days
// of the shifts are in TimeZone, the agent's site's time zone.
type MySchedule struct {
	From      time.Time          `json:"from"`
	To        time.Time          `json:"to"`
	TimeZone  string             `json:"time_zone"`
	Profile   *plan.AgentProfile `json:"profile"`
	Shifts    []*plan.Shift      `json:"shifts"`
	OpenSlots []*plan.Slot       `json:"open_slots"`
	Offers    []*plan.Offer      `json:"offers"`
}

// OptInRequest is the body of PUT /api/v1/wfm/me/profile.
type OptInRequest struct {
	// OptedIn says whether the agent wants to see and claim open slots.
	OptedIn *bool `json:"opted_in"`
}

// AgentProfileRequest is the body of PUT /api/v1/wfm/agents/{id}.
type AgentProfileRequest struct {
	Flexible     *bool    `json:"flexible"`
	MaxWeekHours *float64 `json:"max_week_hours"`
}

// MaxPlanRange is the longest span the shift and schedule reads accept.
const MaxPlanRange = 31 * 24 * time.Hour

func (s *Server) wfm() (*plan.Service, error) {
	if s.WFM == nil {
		return nil, starpost.Errorf(starpost.EUNAVAILABLE, "workforce management is not configured on this server")
	}
	return s.WFM, nil
}

// dayParam reads the date query parameter, a calendar date (today in loc
// when absent).
func (s *Server) dayParam(r *http.Request, name string, loc *time.Location) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return plan.DayIn(s.Clock.Now(), loc).Date0(), nil
	}
	return plan.ParseDay(name, v)
}

// rangeParams reads from and to (RFC 3339); from defaults to the start of
// today in loc and to to the local midnight seven days after from's day.
func (s *Server) rangeParams(r *http.Request, loc *time.Location) (time.Time, time.Time, error) {
	q := r.URL.Query()
	from, to := plan.DayIn(s.Clock.Now(), loc).Start, time.Time{}
	if v := q.Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return from, to, starpost.FieldError("from", "must be an RFC 3339 time")
		}
		from = t
	}
	y, m, d := from.In(loc).Date()
	to = plan.DayOf(y, m, d+7, loc).Start // seven local days, whatever the clocks do
	if v := q.Get("to"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return from, to, starpost.FieldError("to", "must be an RFC 3339 time")
		}
		to = t
	}
	if !to.After(from) || to.Sub(from) > MaxPlanRange {
		return from, to, starpost.FieldError("to", "must be after from and at most 31 days later")
	}
	return from, to, nil
}

// me returns the signed-in user's id; API tokens have no schedule.
func me(r *http.Request) (string, error) {
	p := principal(r)
	if p.UserID == "" {
		return "", starpost.Errorf(starpost.EFORBIDDEN, "only a signed-in user has a schedule")
	}
	return p.UserID, nil
}

func (s *Server) handleWFMDay(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	loc, err := svc.QueueZone(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	day, err := s.dayParam(r, "date", loc)
	if err != nil {
		return err
	}
	p, err := svc.Day(r.Context(), principal(r).WorkspaceID, r.PathValue("id"), day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) handleWFMGenerate(w http.ResponseWriter, r *http.Request) error {
	var req GenerateScheduleRequest
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	loc, err := svc.QueueZone(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	// The next Monday in the queue's time zone.
	today := plan.DayIn(s.Clock.Now(), loc).Date0()
	week := today.AddDate(0, 0, (8-int(today.Weekday()))%7)
	if week.Equal(today) {
		week = week.AddDate(0, 0, 7)
	}
	if req.WeekStart != "" {
		var err error
		if week, err = plan.ParseDay("week_start", req.WeekStart); err != nil {
			return err
		}
	}
	sc, err := svc.Generate(r.Context(), principal(r).WorkspaceID, r.PathValue("id"), week)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sc)
	return nil
}

func (s *Server) handleWFMListSchedules(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	week, err := s.dayParam(r, "week_start", time.UTC)
	if err != nil {
		return err
	}
	items, err := svc.ListSchedules(r.Context(), principal(r).WorkspaceID, week)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func (s *Server) handleWFMGetSchedule(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	sc, err := svc.GetSchedule(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

func (s *Server) handleWFMPublish(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	sc, err := svc.Publish(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc)
	return nil
}

func (s *Server) handleWFMShifts(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	from, to, err := s.rangeParams(r, time.UTC)
	if err != nil {
		return err
	}
	items, err := svc.Shifts(r.Context(), principal(r).WorkspaceID, r.URL.Query().Get("queue_id"), from, to)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func (s *Server) handleWFMOpenSlot(w http.ResponseWriter, r *http.Request) error {
	var req OpenSlotRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.QueueID == "" {
		return starpost.FieldError("queue_id", "required")
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	var expires time.Time
	if req.ExpiresAt != nil {
		expires = *req.ExpiresAt
	}
	sl, err := svc.OpenSlot(r.Context(), principal(r).WorkspaceID, req.QueueID, req.Start, req.End, expires)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sl)
	return nil
}

func (s *Server) handleWFMAdherence(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	// The day is the queue's local day when a queue is named, else UTC.
	loc := time.UTC
	if qid := r.URL.Query().Get("queue_id"); qid != "" {
		if loc, err = svc.QueueZone(r.Context(), principal(r).WorkspaceID, qid); err != nil {
			return err
		}
	}
	day, err := s.dayParam(r, "date", loc)
	if err != nil {
		return err
	}
	items, err := svc.Adherence(r.Context(), principal(r).WorkspaceID, day, loc)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func (s *Server) handleWFMMe(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	uid, err := me(r)
	if err != nil {
		return err
	}
	ws := principal(r).WorkspaceID
	loc, err := svc.AgentZone(r.Context(), ws, uid)
	if err != nil {
		return err
	}
	from, to, err := s.rangeParams(r, loc)
	if err != nil {
		return err
	}
	out := MySchedule{From: from, To: to, TimeZone: loc.String()}
	if out.Profile, err = svc.AgentProfile(r.Context(), ws, uid); err != nil {
		return err
	}
	if out.Shifts, err = svc.MyShifts(r.Context(), ws, uid, from, to); err != nil {
		return err
	}
	if out.OpenSlots, err = svc.OpenSlots(r.Context(), ws, uid); err != nil {
		return err
	}
	if out.Offers, err = svc.MyOffers(r.Context(), ws, uid); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleWFMClaim(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	if _, err := svc.FindSlot(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	uid, err := me(r)
	if err != nil {
		return err
	}
	sh, err := svc.Claim(r.Context(), principal(r).WorkspaceID, uid, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sh)
	return nil
}

func (s *Server) answerOffer(w http.ResponseWriter, r *http.Request, accept bool) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	if _, err := svc.FindOffer(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	uid, err := me(r)
	if err != nil {
		return err
	}
	o, err := svc.AnswerOffer(r.Context(), principal(r).WorkspaceID, uid, r.PathValue("id"), accept)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) handleWFMAcceptOffer(w http.ResponseWriter, r *http.Request) error {
	return s.answerOffer(w, r, true)
}

func (s *Server) handleWFMDeclineOffer(w http.ResponseWriter, r *http.Request) error {
	return s.answerOffer(w, r, false)
}

// Flexible agents (灵活用工): planners mark agents flexible and cap their
// weekly hours; an agent opts in or out of extra work. Only flexible or
// opted-in agents see and claim open slots.

func (s *Server) handleWFMListAgents(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	items, err := svc.ListAgentProfiles(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func (s *Server) handleWFMPutAgent(w http.ResponseWriter, r *http.Request) error {
	var req AgentProfileRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	p, err := svc.UpdateAgentProfile(r.Context(), principal(r).WorkspaceID, r.PathValue("id"),
		plan.AgentProfileUpdate{Flexible: req.Flexible, MaxWeekHours: req.MaxWeekHours})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) handleWFMOptIn(w http.ResponseWriter, r *http.Request) error {
	var req OptInRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.OptedIn == nil {
		return starpost.FieldError("opted_in", "required")
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	uid, err := me(r)
	if err != nil {
		return err
	}
	p, err := svc.UpdateAgentProfile(r.Context(), principal(r).WorkspaceID, uid, plan.AgentProfileUpdate{OptedIn: req.OptedIn})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
