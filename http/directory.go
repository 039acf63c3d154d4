package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
)

// commit appends events to the store and publishes the committed events on
// the bus. It is the only place handlers append: whoever appends publishes.
// A failed publish is logged, not returned: the events are committed, and
// streams and the router recover them from the store by cursor.
func (s *Server) commit(ctx context.Context, events ...*starpost.Event) ([]*starpost.Event, error) {
	done := s.pressure.write()
	out, err := s.Store.Append(ctx, events...)
	done()
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", events[0].Kind, err)
	}
	if err := s.Bus.Publish(context.WithoutCancel(ctx), out...); err != nil {
		s.Logger.ErrorContext(ctx, "publish committed events", slog.Int64("cursor", out[len(out)-1].Cursor),
			slog.String("workspace", out[0].WorkspaceID), slog.Any("err", err))
	}
	return out, nil
}

// actorOf is who a principal is when it writes workspace-level events.
func actorOf(p *starpost.Principal) starpost.Actor {
	switch {
	case p.UserID == "":
		return starpost.Actor{Role: starpost.RoleSystem, ID: "token:" + p.TokenID}
	case p.Role == starpost.RoleAgent:
		return starpost.Actor{Role: starpost.RoleAgentParticipant, ID: p.UserID}
	default:
		return starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: p.UserID}
	}
}

// directoryChanged appends and publishes a KindDirectory event so engines
// reload the workspace's configuration. The change itself is already
// stored, so a failure here is logged rather than failing the request.
func (s *Server) directoryChanged(ctx context.Context, p *starpost.Principal, object, id string) {
	_, err := s.commit(ctx, &starpost.Event{
		WorkspaceID: p.WorkspaceID,
		Kind:        starpost.KindDirectory,
		Actor:       actorOf(p),
		Body:        starpost.MustBody(starpost.DirectoryBody{Object: object, ID: id}),
	})
	if err != nil {
		s.Logger.ErrorContext(ctx, "directory event", slog.String("object", object), slog.String("id", id), slog.Any("err", err))
	}
}

// ListResponse wraps every list.
type ListResponse[T any] struct {
	Items []T `json:"items"`
}

func writeList[T any](w http.ResponseWriter, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, ListResponse[T]{Items: items})
}

// ---- users ----

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Email    string                   `json:"email"`
	Name     string                   `json:"name"`
	Role     starpost.Role            `json:"role"`
	Password string                   `json:"password"`
	SiteID   string                   `json:"site_id"`
	TeamID   string                   `json:"team_id"`
	Skills   []starpost.Skilled       `json:"skills"`
	Capacity map[starpost.Channel]int `json:"capacity"`
}

// UpdateUserRequest is the body of PATCH /api/v1/users/{id}; absent fields
// keep their value.
type UpdateUserRequest struct {
	Name     *string                   `json:"name"`
	Role     *starpost.Role            `json:"role"`
	SiteID   *string                   `json:"site_id"`
	TeamID   *string                   `json:"team_id"`
	Skills   *[]starpost.Skilled       `json:"skills"`
	Capacity *map[starpost.Channel]int `json:"capacity"`
	Disabled *bool                     `json:"disabled"`
	Password *string                   `json:"password"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req CreateUserRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = starpost.RoleAgent
	}
	u := &starpost.User{
		ID: starpost.NewID("us"), WorkspaceID: p.WorkspaceID, Email: strings.TrimSpace(req.Email),
		Name: strings.TrimSpace(req.Name), Role: req.Role, SiteID: req.SiteID, TeamID: req.TeamID,
		Skills: req.Skills, Capacity: req.Capacity, CreatedAt: s.Clock.Now(),
	}
	if u.Skills == nil {
		u.Skills = []starpost.Skilled{}
	}
	if u.Capacity == nil {
		u.Capacity = map[starpost.Channel]int{}
	}
	if err := u.Validate(); err != nil {
		return err
	}
	var hash string
	if req.Password != "" {
		if err := auth.CheckPasswordPolicy(req.Password); err != nil {
			return starpost.FieldError("password", "must be %d to %d bytes", auth.MinPasswordLen, auth.MaxPasswordBytes)
		}
	}
	if err := s.checkUserRefs(r.Context(), u); err != nil {
		return err
	}
	if req.Password != "" {
		h, err := auth.HashPassword(req.Password)
		if err != nil {
			return err
		}
		hash = h
	}
	if err := s.Store.CreateUser(r.Context(), u, hash); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	s.directoryChanged(r.Context(), p, "user", u.ID)
	writeJSON(w, http.StatusCreated, u)
	return nil
}

// checkUserRefs makes sure the site, team and skills a user refers to belong
// to the user's workspace.
func (s *Server) checkUserRefs(ctx context.Context, u *starpost.User) error {
	if u.SiteID != "" {
		sites, err := s.Store.ListSites(ctx, u.WorkspaceID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(sites, func(x *starpost.Site) bool { return x.ID == u.SiteID }) {
			return &starpost.Error{Code: starpost.ENOTFOUND, Field: "site_id", Message: "no such site"}
		}
	}
	if u.TeamID != "" {
		teams, err := s.Store.ListTeams(ctx, u.WorkspaceID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(teams, func(x *starpost.Team) bool { return x.ID == u.TeamID }) {
			return &starpost.Error{Code: starpost.ENOTFOUND, Field: "team_id", Message: "no such team"}
		}
	}
	ids := make([]string, 0, len(u.Skills))
	for _, sk := range u.Skills {
		ids = append(ids, sk.SkillID)
	}
	return s.checkSkills(ctx, u.WorkspaceID, ids)
}

func (s *Server) checkSkills(ctx context.Context, workspaceID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	skills, err := s.Store.ListSkills(ctx, workspaceID)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return starpost.FieldError("skills", "skill %s listed twice", id)
		}
		seen[id] = true
		if !slices.ContainsFunc(skills, func(x *starpost.Skill) bool { return x.ID == id }) {
			return &starpost.Error{Code: starpost.ENOTFOUND, Field: "skills", Message: "no such skill " + id}
		}
	}
	return nil
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.Store.ListUsers(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, users)
	return nil
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.Store.FindUser(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req UpdateUserRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	u, err := s.Store.FindUser(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if req.Password != nil {
		return starpost.FieldError("password", "cannot be changed here")
	}
	if req.Name != nil {
		u.Name = strings.TrimSpace(*req.Name)
	}
	if req.Role != nil {
		if u.ID == p.UserID && *req.Role != u.Role {
			return &starpost.Error{Code: starpost.ECONFLICT, Field: "role", Message: "you cannot change your own role"}
		}
		u.Role = *req.Role
	}
	if req.SiteID != nil {
		u.SiteID = *req.SiteID
	}
	if req.TeamID != nil {
		u.TeamID = *req.TeamID
	}
	if req.Skills != nil {
		u.Skills = *req.Skills
		if u.Skills == nil {
			u.Skills = []starpost.Skilled{}
		}
	}
	if req.Capacity != nil {
		u.Capacity = *req.Capacity
		if u.Capacity == nil {
			u.Capacity = map[starpost.Channel]int{}
		}
	}
	if req.Disabled != nil {
		if u.ID == p.UserID && *req.Disabled {
			return &starpost.Error{Code: starpost.ECONFLICT, Field: "disabled", Message: "you cannot disable yourself"}
		}
		u.Disabled = *req.Disabled
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if err := s.checkUserRefs(r.Context(), u); err != nil {
		return err
	}
	if err := s.Store.UpdateUser(r.Context(), u); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	s.directoryChanged(r.Context(), p, "user", u.ID)
	writeJSON(w, http.StatusOK, u)
	return nil
}

// ---- sites, skills, teams ----

// CreateSiteRequest is the body of POST /api/v1/sites.
type CreateSiteRequest struct {
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
}

// NameRequest is the body of POST /api/v1/skills and POST /api/v1/teams.
type NameRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleCreateSite(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req CreateSiteRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	site := &starpost.Site{ID: starpost.NewID("st"), WorkspaceID: p.WorkspaceID, Name: strings.TrimSpace(req.Name), TimeZone: req.TimeZone}
	if err := site.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateSite(r.Context(), site); err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	s.directoryChanged(r.Context(), p, "site", site.ID)
	writeJSON(w, http.StatusCreated, site)
	return nil
}

func (s *Server) handleListSites(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Store.ListSites(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, v)
	return nil
}

func (s *Server) handleCreateSkill(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req NameRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	sk := &starpost.Skill{ID: starpost.NewID("sk"), WorkspaceID: p.WorkspaceID, Name: strings.TrimSpace(req.Name)}
	if err := sk.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateSkill(r.Context(), sk); err != nil {
		return fmt.Errorf("create skill: %w", err)
	}
	s.directoryChanged(r.Context(), p, "skill", sk.ID)
	writeJSON(w, http.StatusCreated, sk)
	return nil
}

func (s *Server) handleListSkills(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Store.ListSkills(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, v)
	return nil
}

func (s *Server) handleCreateTeam(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req NameRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	t := &starpost.Team{ID: starpost.NewID("tm"), WorkspaceID: p.WorkspaceID, Name: strings.TrimSpace(req.Name)}
	if err := t.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateTeam(r.Context(), t); err != nil {
		return fmt.Errorf("create team: %w", err)
	}
	s.directoryChanged(r.Context(), p, "team", t.ID)
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) handleListTeams(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Store.ListTeams(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, v)
	return nil
}

// ---- queues ----

// QueueRequest is the body of POST /api/v1/queues (name required) and PATCH
// /api/v1/queues/{id} (absent fields keep their value).
type QueueRequest struct {
	Name          *string                   `json:"name"`
	Skills        *[]starpost.SkillRequired `json:"skills"`
	Priority      *int                      `json:"priority"`
	ServiceLevel  *starpost.ServiceLevel    `json:"service_level"`
	BusinessHours **starpost.BusinessHours  `json:"business_hours"`
	Overflow      *[]starpost.OverflowStep  `json:"overflow"`
	OfferTimeout  *int                      `json:"offer_timeout"`
	ReplyTimeout  *int                      `json:"reply_timeout"`
	// The bot (package bot): answer first, hand over after failed turns.
	Bot               *bool `json:"bot"`
	BotMaxFailedTurns *int  `json:"bot_max_failed_turns"`
}

func (req *QueueRequest) apply(q *starpost.Queue) {
	if req.Name != nil {
		q.Name = strings.TrimSpace(*req.Name)
	}
	if req.Skills != nil {
		q.Skills = *req.Skills
	}
	if req.Priority != nil {
		q.Priority = *req.Priority
	}
	if req.ServiceLevel != nil {
		q.ServiceLevel = *req.ServiceLevel
	}
	if req.BusinessHours != nil {
		q.BusinessHours = *req.BusinessHours
	}
	if req.Overflow != nil {
		q.Overflow = *req.Overflow
	}
	if req.OfferTimeout != nil {
		q.OfferTimeout = *req.OfferTimeout
	}
	if req.ReplyTimeout != nil {
		q.ReplyTimeout = *req.ReplyTimeout
	}
	if req.Bot != nil {
		q.Bot = *req.Bot
	}
	if req.BotMaxFailedTurns != nil {
		q.BotMaxFailedTurns = *req.BotMaxFailedTurns
	}
	if q.Skills == nil {
		q.Skills = []starpost.SkillRequired{}
	}
	if q.Overflow == nil {
		q.Overflow = []starpost.OverflowStep{}
	}
}

// checkQueueRefs makes sure the skills, sites and overflow queues a queue
// refers to belong to its workspace.
func (s *Server) checkQueueRefs(ctx context.Context, q *starpost.Queue) error {
	ids := make([]string, 0, len(q.Skills))
	for _, sk := range q.Skills {
		ids = append(ids, sk.SkillID)
	}
	if err := s.checkSkills(ctx, q.WorkspaceID, ids); err != nil {
		return err
	}
	var sites []*starpost.Site
	for i, o := range q.Overflow {
		if o.QueueID != "" && o.QueueID != q.ID {
			if _, err := s.Store.FindQueue(ctx, q.WorkspaceID, o.QueueID); starpost.ErrorCode(err) == starpost.ENOTFOUND {
				return &starpost.Error{Code: starpost.ENOTFOUND, Field: "overflow", Message: fmt.Sprintf("step %d: no such queue", i)}
			} else if err != nil {
				return err
			}
		}
		if len(o.SiteIDs) > 0 && sites == nil {
			var err error
			if sites, err = s.Store.ListSites(ctx, q.WorkspaceID); err != nil {
				return err
			}
		}
		for _, id := range o.SiteIDs {
			if !slices.ContainsFunc(sites, func(x *starpost.Site) bool { return x.ID == id }) {
				return &starpost.Error{Code: starpost.ENOTFOUND, Field: "overflow", Message: fmt.Sprintf("step %d: no such site", i)}
			}
		}
	}
	return nil
}

func (s *Server) handleCreateQueue(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req QueueRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return starpost.FieldError("name", "required")
	}
	q := &starpost.Queue{ID: starpost.NewID("qu"), WorkspaceID: p.WorkspaceID, CreatedAt: s.Clock.Now()}
	req.apply(q)
	if err := q.Validate(); err != nil {
		return err
	}
	if err := s.checkQueueRefs(r.Context(), q); err != nil {
		return err
	}
	if err := s.Store.CreateQueue(r.Context(), q); err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	s.directoryChanged(r.Context(), p, "queue", q.ID)
	writeJSON(w, http.StatusCreated, q)
	return nil
}

func (s *Server) handleListQueues(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Store.ListQueues(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, v)
	return nil
}

func (s *Server) handleGetQueue(w http.ResponseWriter, r *http.Request) error {
	q, err := s.Store.FindQueue(r.Context(), principal(r).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) handleUpdateQueue(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req QueueRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	q, err := s.Store.FindQueue(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	req.apply(q)
	if err := q.Validate(); err != nil {
		return err
	}
	if err := s.checkQueueRefs(r.Context(), q); err != nil {
		return err
	}
	if err := s.Store.UpdateQueue(r.Context(), q); err != nil {
		return fmt.Errorf("update queue: %w", err)
	}
	s.directoryChanged(r.Context(), p, "queue", q.ID)
	writeJSON(w, http.StatusOK, q)
	return nil
}

// ---- API tokens ----

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	Name string        `json:"name"`
	Role starpost.Role `json:"role"`
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req CreateTokenRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := validateName("name", req.Name); err != nil {
		return err
	}
	if !req.Role.Valid() {
		return starpost.FieldError("role", "must be admin, supervisor or agent")
	}
	secret, err := auth.NewSecret(apiTokenPrefix)
	if err != nil {
		return err
	}
	t := &starpost.APIToken{ID: starpost.NewID("tk"), WorkspaceID: p.WorkspaceID, Name: strings.TrimSpace(req.Name),
		Role: req.Role, CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateAPIToken(r.Context(), t, auth.HashSecret(secret)); err != nil {
		return fmt.Errorf("create API token: %w", err)
	}
	s.directoryChanged(r.Context(), p, "token", t.ID)
	t.Secret = secret
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Store.ListAPITokens(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	for _, t := range v {
		t.Secret = ""
	}
	writeList(w, v)
	return nil
}

func (s *Server) handleDeleteToken(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	id := r.PathValue("id")
	if id == p.TokenID {
		return starpost.Errorf(starpost.ECONFLICT, "a token cannot delete itself")
	}
	if err := s.Store.DeleteAPIToken(r.Context(), p.WorkspaceID, id); err != nil {
		return fmt.Errorf("delete API token: %w", err)
	}
	s.directoryChanged(r.Context(), p, "token", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- contacts ----

func (s *Server) handleGetContact(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	c, err := s.Store.FindContact(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !seesWorkspace(p) {
		// An agent sees the contacts of conversations they hold or are offered.
		convs, err := s.agentConversations(r.Context(), p, starpost.ConversationFilter{ContactID: c.ID})
		if err != nil {
			return err
		}
		if len(convs) == 0 {
			return starpost.Errorf(starpost.ENOTFOUND, "contact not found")
		}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func validateName(field, s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return starpost.FieldError(field, "required")
	}
	if len([]rune(s)) > starpost.MaxNameLen {
		return starpost.FieldError(field, "longer than %d characters", starpost.MaxNameLen)
	}
	return nil
}
