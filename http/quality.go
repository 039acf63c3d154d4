package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
)

// Quality routes (package quality): supervisors list the scored
// conversations of their workspace, open one (transcript, findings,
// history), review it (override item results), and read the agreement
// between automatic and human results and the dashboards. When the Server
// has no Quality store the lists read as empty, a scorecard is not found,
// and reviews and dashboards answer 503.

// ReviewRequest is the body of PUT
// /api/v1/quality/scorecards/{conversation}/review.
type ReviewRequest struct {
	// ResolvedSeq names the resolution reviewed (0: the latest).
	ResolvedSeq int64 `json:"resolved_seq"`
	quality.Review
}

// AgreementResponse is the answer of GET /api/v1/quality/agreement.
type AgreementResponse struct {
	// Reviewed counts the reviewed scorecards the figures come from.
	Reviewed int                     `json:"reviewed"`
	Items    []quality.ItemAgreement `json:"items"`
}

func (s *Server) qualityReady() error {
	if s.Quality == nil {
		return starpost.Errorf(starpost.EUNAVAILABLE, "quality review is not configured on this server")
	}
	return nil
}

// dateRange reads from and to (YYYY-MM-DD, to inclusive) in the time zone
// tz (IANA, default UTC). Missing dates leave the range open on that side
// unless required.
func dateRange(r *http.Request, required bool) (from, to time.Time, loc *time.Location, err error) {
	q := r.URL.Query()
	loc = time.UTC
	if tz := q.Get("tz"); tz != "" {
		if len(tz) > 64 {
			return from, to, nil, starpost.FieldError("tz", "not an IANA time zone")
		}
		if loc, err = time.LoadLocation(tz); err != nil {
			return from, to, nil, starpost.FieldError("tz", "not an IANA time zone")
		}
	}
	parse := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			if required {
				return time.Time{}, starpost.FieldError(name, "required (YYYY-MM-DD)")
			}
			return time.Time{}, nil
		}
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return time.Time{}, starpost.FieldError(name, "must be a date YYYY-MM-DD")
		}
		return d, nil
	}
	if from, err = parse("from"); err != nil {
		return
	}
	if to, err = parse("to"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, loc, starpost.FieldError("to", "must not be before from")
	}
	return from, to, loc, nil
}

func boolParam(r *http.Request, name string) (*bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "":
		return nil, nil
	case "true", "1":
		t := true
		return &t, nil
	case "false", "0":
		f := false
		return &f, nil
	default:
		return nil, starpost.FieldError(name, "must be true or false")
	}
}

func (s *Server) handleListScorecards(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := quality.ScorecardFilter{WorkspaceID: principal(r).WorkspaceID, AgentID: q.Get("agent"), TeamID: q.Get("team"), SiteID: q.Get("site")}
	for name, v := range map[string]string{"agent": f.AgentID, "team": f.TeamID, "site": f.SiteID} {
		if len(v) > 64 {
			return starpost.FieldError(name, "longer than 64 bytes")
		}
	}
	from, to, _, err := dateRange(r, false)
	if err != nil {
		return err
	}
	f.From = from
	if !to.IsZero() {
		f.To = to.AddDate(0, 0, 1)
	}
	if v := q.Get("score_below"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 101 {
			return starpost.FieldError("score_below", "must be a whole number from 0 to 101")
		}
		f.ScoreBelow = &n
	}
	if f.Failed, err = boolParam(r, "auto_failed"); err != nil {
		return err
	}
	if f.Reviewed, err = boolParam(r, "reviewed"); err != nil {
		return err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > quality.MaxScorecards {
			return starpost.FieldError("limit", "must be 1 to %d", quality.MaxScorecards)
		}
		f.Limit = n
	}
	if s.Quality == nil {
		writeList[*quality.Scorecard](w, nil)
		return nil
	}
	items, err := s.Quality.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, items)
	return nil
}

func resolvedSeqParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("resolved_seq")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, starpost.FieldError("resolved_seq", "must be a positive whole number")
	}
	return n, nil
}

func (s *Server) handleGetScorecard(w http.ResponseWriter, r *http.Request) error {
	seq, err := resolvedSeqParam(r)
	if err != nil {
		return err
	}
	if s.Quality == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "no scorecard for conversation %s", r.PathValue("conversation"))
	}
	d, err := s.Quality.Detail(r.Context(), principal(r).WorkspaceID, r.PathValue("conversation"), seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) handleReviewScorecard(w http.ResponseWriter, r *http.Request) error {
	var req ReviewRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.ResolvedSeq < 0 {
		return starpost.FieldError("resolved_seq", "must not be negative")
	}
	if err := s.qualityReady(); err != nil {
		return err
	}
	p := principal(r)
	if _, err := s.Quality.SaveReview(r.Context(), p.WorkspaceID, r.PathValue("conversation"), req.ResolvedSeq, editor(p), req.Review); err != nil {
		return err
	}
	d, err := s.Quality.Detail(r.Context(), p.WorkspaceID, r.PathValue("conversation"), req.ResolvedSeq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) handleQualityAgreement(w http.ResponseWriter, r *http.Request) error {
	from, to, _, err := dateRange(r, false)
	if err != nil {
		return err
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1)
	}
	if s.Quality == nil {
		writeJSON(w, http.StatusOK, AgreementResponse{Items: []quality.ItemAgreement{}})
		return nil
	}
	items, n, err := s.Quality.Agreement(r.Context(), principal(r).WorkspaceID, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AgreementResponse{Reviewed: n, Items: items})
	return nil
}

func (s *Server) handleQualityDashboard(w http.ResponseWriter, r *http.Request) error {
	from, to, loc, err := dateRange(r, true)
	if err != nil {
		return err
	}
	group := r.URL.Query().Get("group_by")
	if err := quality.ValidGroup(group); err != nil {
		return err
	}
	if err := s.qualityReady(); err != nil {
		return err
	}
	d, err := s.Quality.Dashboard(r.Context(), quality.DashboardQuery{WorkspaceID: principal(r).WorkspaceID, GroupBy: group,
		From: from, To: to, Location: loc})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// ConfigRequest is the body of PUT /api/v1/quality/config.
type ConfigRequest struct {
	// Version is the stored version read (0 when the workspace had none).
	Version int64             `json:"version"`
	Config  quality.ConfigDoc `json:"config"`
}

func (s *Server) handleGetQualityConfig(w http.ResponseWriter, r *http.Request) error {
	if s.Quality == nil {
		writeJSON(w, http.StatusOK, quality.StoredConfig{Config: quality.DefaultConfig().Doc()})
		return nil
	}
	c, err := s.Quality.WorkspaceConfig(r.Context(), principal(r).WorkspaceID, quality.DefaultConfig())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) handlePutQualityConfig(w http.ResponseWriter, r *http.Request) error {
	var req ConfigRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Version < 0 {
		return starpost.FieldError("version", "must not be negative")
	}
	if _, err := req.Config.Config(); err != nil {
		return err
	}
	if err := s.qualityReady(); err != nil {
		return err
	}
	p := principal(r)
	c, err := s.Quality.SaveWorkspaceConfig(r.Context(), p.WorkspaceID, editor(p), req.Version, req.Config)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
