package http

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/starpost/starpost"
)

// seesWorkspace reports whether p sees every conversation of its workspace:
// supervisors, admins and API tokens (server-to-server integrations) do;
// agents see the conversations they hold or are offered.
func seesWorkspace(p *starpost.Principal) bool {
	return p.UserID == "" || p.Role.AtLeast(starpost.RoleSupervisor)
}

// canSee reports whether p may read conversation c.
func canSee(p *starpost.Principal, c *starpost.Conversation) bool {
	if c.WorkspaceID != p.WorkspaceID {
		return false
	}
	return seesWorkspace(p) || holds(p, c) || c.OfferedTo == p.UserID
}

// holds reports whether the user p is the agent of c or a current agent
// participant of it.
func holds(p *starpost.Principal, c *starpost.Conversation) bool {
	if p.UserID == "" {
		return false
	}
	return c.AgentID == p.UserID || isParticipant(c, starpost.RoleAgentParticipant, p.UserID)
}

func isParticipant(c *starpost.Conversation, role starpost.ParticipantRole, id string) bool {
	return slices.ContainsFunc(c.Participants, func(x starpost.Participant) bool {
		return x.Role == role && x.ID == id && x.LeftAt == nil
	})
}

// findConversation returns conversation id of p's workspace when p may read
// it; otherwise ENOTFOUND, so a caller learns nothing about others' ids.
func (s *Server) findConversation(ctx context.Context, p *starpost.Principal, id string) (*starpost.Conversation, error) {
	c, err := s.Store.FindConversation(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, c) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "conversation not found")
	}
	return c, nil
}

// agentConversations lists the conversations of filter f that the agent p
// holds or is offered.
func (s *Server) agentConversations(ctx context.Context, p *starpost.Principal, f starpost.ConversationFilter) ([]*starpost.Conversation, error) {
	f.WorkspaceID = p.WorkspaceID
	held := f
	held.AgentID = p.UserID
	out, err := s.Store.ListConversations(ctx, held)
	if err != nil {
		return nil, fmt.Errorf("list held conversations: %w", err)
	}
	if len(f.States) == 0 || slices.Contains(f.States, starpost.StateOffered) {
		offered := f
		offered.AgentID = ""
		offered.States = []starpost.State{starpost.StateOffered}
		more, err := s.Store.ListConversations(ctx, offered)
		if err != nil {
			return nil, fmt.Errorf("list offered conversations: %w", err)
		}
		for _, c := range more {
			if c.OfferedTo == p.UserID && !slices.ContainsFunc(out, func(x *starpost.Conversation) bool { return x.ID == c.ID }) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// actorIn is who p is when writing to conversation c, or EFORBIDDEN when p
// takes no part in it. API tokens relay the customer's side.
func actorIn(p *starpost.Principal, c *starpost.Conversation, kind starpost.EventKind) (starpost.Actor, error) {
	switch {
	case p.UserID == "":
		if kind == starpost.KindNote {
			return starpost.Actor{Role: starpost.RoleSystem, ID: "token:" + p.TokenID}, nil
		}
		return starpost.Actor{Role: starpost.RoleCustomer, ID: c.ContactID}, nil
	case holds(p, c):
		return starpost.Actor{Role: starpost.RoleAgentParticipant, ID: p.UserID}, nil
	case isParticipant(c, starpost.RoleSupervisorWatcher, p.UserID):
		return starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: p.UserID}, nil
	case kind == starpost.KindNote && p.Role.AtLeast(starpost.RoleSupervisor):
		return starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: p.UserID}, nil
	case p.Role.AtLeast(starpost.RoleSupervisor):
		return starpost.Actor{}, starpost.Errorf(starpost.EFORBIDDEN, "join the conversation first")
	}
	return starpost.Actor{}, starpost.Errorf(starpost.EFORBIDDEN, "you do not hold this conversation")
}

// idempotencyKey returns the request's key from the Idempotency-Key header
// or the body field; both present must agree.
func idempotencyKey(r *http.Request, body string) (string, error) {
	h := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	switch {
	case h != "" && body != "" && h != body:
		return "", starpost.FieldError("idempotency_key", "differs from the Idempotency-Key header")
	case h != "":
		body = h
	}
	if len(body) > starpost.MaxKeyLen {
		return "", starpost.FieldError("idempotency_key", "longer than %d bytes", starpost.MaxKeyLen)
	}
	return body, nil
}

// appendOne commits one event and checks that an idempotent replay returned
// the caller's own event, not another client's event under the same key.
func (s *Server) appendOne(ctx context.Context, e *starpost.Event) (*starpost.Event, error) {
	out, err := s.commit(ctx, e)
	if err != nil {
		return nil, err
	}
	got := out[0]
	if e.IdempotencyKey != "" && (got.ConversationID != e.ConversationID && e.ConversationID != "" ||
		got.Kind != e.Kind || got.Actor != e.Actor) {
		return nil, &starpost.Error{Code: starpost.ECONFLICT, Field: "idempotency_key", Message: "already used for another request"}
	}
	return got, nil
}

// ---- create, list, read ----

// CreateConversationRequest is the body of POST /api/v1/conversations. The
// contact is found, or created, by its identity on the channel.
type CreateConversationRequest struct {
	Channel  starpost.Channel `json:"channel"`
	Identity string           `json:"identity"`
	Name     string           `json:"name"`
	QueueID  string           `json:"queue_id"`
	Priority int              `json:"priority"`
	Subject  string           `json:"subject"`
	// Text, when set, is the customer's first message.
	Text           string `json:"text"`
	IdempotencyKey string `json:"idempotency_key"`
}

// ConversationResponse is a conversation with the events that created it.
type ConversationResponse struct {
	Conversation *starpost.Conversation `json:"conversation"`
	Events       []*starpost.Event      `json:"events"`
}

func (s *Server) handleCreateConversation(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req CreateConversationRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(r, req.IdempotencyKey)
	if err != nil {
		return err
	}
	if len(key) > starpost.MaxKeyLen-2 {
		return starpost.FieldError("idempotency_key", "longer than %d bytes", starpost.MaxKeyLen-2)
	}
	if !req.Channel.Valid() {
		return starpost.FieldError("channel", "must be chat, email, voice or video")
	}
	req.Identity = strings.TrimSpace(req.Identity)
	if req.Identity == "" || len(req.Identity) > 320 {
		return starpost.FieldError("identity", "must be 1 to 320 bytes")
	}
	if len([]rune(req.Name)) > starpost.MaxNameLen {
		return starpost.FieldError("name", "longer than %d characters", starpost.MaxNameLen)
	}
	return s.startConversation(w, r, startParams{
		workspaceID: p.WorkspaceID, channel: req.Channel, identity: req.Identity, name: req.Name,
		queueID: req.QueueID, priority: req.Priority, subject: req.Subject, text: req.Text, key: key,
		actor: func(contactID string) starpost.Actor { return actorOf(p) },
	})
}

type startParams struct {
	workspaceID    string
	channel        starpost.Channel
	identity, name string
	queueID        string
	priority       int
	subject, text  string
	key            string
	actor          func(contactID string) starpost.Actor
	contactID      string // set when the contact is known (widget)
}

// startConversation validates, finds or creates the contact, and appends
// the created event and the optional first message in one atomic Append.
func (s *Server) startConversation(w http.ResponseWriter, r *http.Request, sp startParams) error {
	ctx := r.Context()
	created := starpost.CreatedBody{Channel: sp.channel, ContactID: "pending", QueueID: sp.queueID, Priority: sp.priority, Subject: sp.subject}
	if sp.queueID == "" {
		created.QueueID = "pending"
	}
	if err := created.Validate(); err != nil {
		return err
	}
	msg := starpost.MessageBody{Text: sp.text}
	if sp.text != "" {
		if err := msg.Validate(); err != nil {
			return err
		}
	}
	// Resolve the queue inside the caller's workspace before writing anything.
	var queue *starpost.Queue
	if sp.queueID != "" {
		var err error
		if queue, err = s.Store.FindQueue(ctx, sp.workspaceID, sp.queueID); starpost.ErrorCode(err) == starpost.ENOTFOUND {
			return &starpost.Error{Code: starpost.ENOTFOUND, Field: "queue_id", Message: "no such queue"}
		} else if err != nil {
			return err
		}
	} else {
		qs, err := s.Store.ListQueues(ctx, sp.workspaceID)
		if err != nil {
			return err
		}
		if len(qs) == 0 {
			return starpost.Errorf(starpost.ECONFLICT, "the workspace has no queue yet")
		}
		queue = defaultQueue(qs)
		sp.queueID = queue.ID
	}
	if queue.Bot { // a bot queue's conversations start with its bot
		created.State = starpost.StateBot
	}
	contactID := sp.contactID
	if contactID == "" {
		c, err := s.Store.FindOrCreateContact(ctx, sp.workspaceID, sp.channel, sp.identity, sp.name)
		if err != nil {
			return fmt.Errorf("find or create contact: %w", err)
		}
		contactID = c.ID
	}
	created.ContactID, created.QueueID = contactID, sp.queueID
	convID := starpost.NewID("cv")
	events := []*starpost.Event{{
		WorkspaceID: sp.workspaceID, ConversationID: convID, Kind: starpost.KindCreated,
		Actor: sp.actor(contactID), Body: starpost.MustBody(created), IdempotencyKey: prefixKey("c:", sp.key),
	}}
	if sp.text != "" {
		events = append(events, &starpost.Event{
			WorkspaceID: sp.workspaceID, ConversationID: convID, Kind: starpost.KindMessage,
			Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: contactID}, Body: starpost.MustBody(msg),
			IdempotencyKey: prefixKey("m:", sp.key),
		})
	}
	out, err := s.commit(ctx, events...)
	if err != nil {
		return err
	}
	first := out[0]
	if first.Kind != starpost.KindCreated || first.Actor != events[0].Actor || !createdFor(first, contactID) {
		return &starpost.Error{Code: starpost.ECONFLICT, Field: "idempotency_key", Message: "already used for another request"}
	}
	c, err := s.Store.FindConversation(ctx, sp.workspaceID, first.ConversationID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ConversationResponse{Conversation: c, Events: out})
	return nil
}

// createdFor reports whether the created event e opened a conversation of
// contact.
func createdFor(e *starpost.Event, contact string) bool {
	var b starpost.CreatedBody
	return e.DecodeBody(&b) == nil && b.ContactID == contact
}

func prefixKey(prefix, key string) string {
	if key == "" {
		return ""
	}
	return prefix + key
}

// defaultQueue is the queue new widget conversations go to when none is
// named: the one with the highest priority, the oldest among equals.
func defaultQueue(qs []*starpost.Queue) *starpost.Queue {
	best := qs[0]
	for _, q := range qs[1:] {
		if q.Priority > best.Priority || q.Priority == best.Priority && q.CreatedAt.Before(best.CreatedAt) {
			best = q
		}
	}
	return best
}

func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	f, err := conversationFilter(r)
	if err != nil {
		return err
	}
	f.WorkspaceID = p.WorkspaceID
	var out []*starpost.Conversation
	if seesWorkspace(p) {
		out, err = s.Store.ListConversations(r.Context(), f)
	} else {
		if f.AgentID != "" && f.AgentID != p.UserID {
			return &starpost.Error{Code: starpost.EFORBIDDEN, Field: "agent", Message: "agents list their own conversations"}
		}
		f.AgentID = ""
		out, err = s.agentConversations(r.Context(), p, f)
	}
	if err != nil {
		return err
	}
	writeList(w, out)
	return nil
}

// MaxListLimit is the default and largest limit of GET /api/v1/conversations.
const MaxListLimit = 500

func conversationFilter(r *http.Request) (starpost.ConversationFilter, error) {
	q := r.URL.Query()
	var f starpost.ConversationFilter
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			st := starpost.State(strings.TrimSpace(st))
			if !st.Valid() {
				return f, starpost.FieldError("state", "unknown state %q", st)
			}
			f.States = append(f.States, st)
		}
	}
	f.Limit = MaxListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return f, starpost.FieldError("limit", "must be 1 to %d", MaxListLimit)
		}
		f.Limit = n
	}
	f.QueueID = q.Get("queue")
	f.AgentID = q.Get("agent")
	f.ContactID = q.Get("contact")
	if v := q.Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, starpost.FieldError("open", "must be true or false")
		}
		f.Open = b
	}
	return f, nil
}

func (s *Server) handleGetConversation(w http.ResponseWriter, r *http.Request) error {
	c, err := s.findConversation(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// EventPage is a page of events. Ask for the next page with
// after=NextCursor while HasMore is true.
type EventPage struct {
	Items      []*starpost.Event `json:"items"`
	NextCursor int64             `json:"next_cursor"`
	HasMore    bool              `json:"has_more"`
}

func pageParams(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			return 0, 0, starpost.FieldError("after", "must be a cursor (an integer ≥ 0)")
		}
	}
	limit = 200
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > starpost.MaxEventPage {
			return 0, 0, starpost.FieldError("limit", "must be 1 to %d", starpost.MaxEventPage)
		}
	}
	return after, limit, nil
}

// listEvents reads a page of one conversation's events, keeping those keep
// accepts.
func (s *Server) listEvents(ctx context.Context, ws, conv string, after int64, limit int, keep func(*starpost.Event) bool) (EventPage, error) {
	evs, err := s.Store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: conv, AfterCursor: after, Limit: limit})
	if err != nil {
		return EventPage{}, fmt.Errorf("list events: %w", err)
	}
	page := EventPage{Items: []*starpost.Event{}, NextCursor: after, HasMore: len(evs) == limit}
	for _, e := range evs {
		page.NextCursor = e.Cursor
		if keep == nil || keep(e) {
			page.Items = append(page.Items, e)
		}
	}
	return page, nil
}

func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	after, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	page, err := s.listEvents(r.Context(), p.WorkspaceID, c.ID, after, limit, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// ---- writes ----

// MessageRequest is the body of POST .../messages and .../notes.
type MessageRequest struct {
	Text           string                `json:"text"`
	Attachments    []starpost.Attachment `json:"attachments"`
	IdempotencyKey string                `json:"idempotency_key"`
}

func (s *Server) handlePostMessage(w http.ResponseWriter, r *http.Request) error {
	return s.handleWrite(w, r, starpost.KindMessage)
}

func (s *Server) handlePostNote(w http.ResponseWriter, r *http.Request) error {
	return s.handleWrite(w, r, starpost.KindNote)
}

func (s *Server) handleWrite(w http.ResponseWriter, r *http.Request, kind starpost.EventKind) error {
	var req MessageRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(r, req.IdempotencyKey)
	if err != nil {
		return err
	}
	e, err := s.postMessage(r.Context(), principal(r), r.PathValue("id"), kind,
		starpost.MessageBody{Text: req.Text, Attachments: req.Attachments}, key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// postMessage appends a message or note by p to conversation convID. A
// message needs an idempotency key; a retry returns the original event.
func (s *Server) postMessage(ctx context.Context, p *starpost.Principal, convID string, kind starpost.EventKind, body starpost.MessageBody, key string) (*starpost.Event, error) {
	if kind == starpost.KindMessage && key == "" {
		return nil, starpost.FieldError("idempotency_key", "required: send an Idempotency-Key header or idempotency_key field")
	}
	if len(key) > starpost.MaxKeyLen {
		return nil, starpost.FieldError("idempotency_key", "longer than %d bytes", starpost.MaxKeyLen)
	}
	if err := body.Validate(); err != nil {
		return nil, err
	}
	c, err := s.findConversation(ctx, p, convID)
	if err != nil {
		return nil, err
	}
	actor, err := actorIn(p, c, kind)
	if err != nil {
		return nil, err
	}
	if err := s.resolveAttachments(ctx, p.WorkspaceID, c.ID, &body, kind == starpost.KindNote); err != nil {
		return nil, err
	}
	return s.appendOne(ctx, &starpost.Event{
		WorkspaceID: p.WorkspaceID, ConversationID: c.ID, Kind: kind, Actor: actor,
		Body: starpost.MustBody(body), IdempotencyKey: key,
	})
}

// ReasonRequest is the optional body of resolve, reopen and close.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

// conversationAction decodes an optional or required body, loads the
// conversation p may see, builds the event with build and commits it.
func (s *Server) conversationAction(w http.ResponseWriter, r *http.Request, req any, optional bool,
	build func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error)) error {
	var err error
	switch {
	case req == nil: // no body expected: refuse anything but nothing or {}
		err = s.decodeOptional(w, r, &struct{}{})
	case optional:
		err = s.decodeOptional(w, r, req)
	default:
		err = s.decode(w, r, req)
	}
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r, "")
	if err != nil {
		return err
	}
	p := principal(r)
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	e, err := build(p, c)
	if err != nil {
		return err
	}
	e.WorkspaceID, e.ConversationID, e.IdempotencyKey = p.WorkspaceID, c.ID, key
	if err := e.Validate(); err != nil {
		return err
	}
	out, err := s.appendOne(r.Context(), e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func needUser(p *starpost.Principal) error {
	if p.UserID == "" {
		return starpost.Errorf(starpost.EFORBIDDEN, "this needs a signed-in user, not an API token")
	}
	return nil
}

func (s *Server) handleAccept(w http.ResponseWriter, r *http.Request) error {
	return s.conversationAction(w, r, nil, false, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		if err := needUser(p); err != nil {
			return nil, err
		}
		return &starpost.Event{WorkspaceID: p.WorkspaceID, Kind: starpost.KindAssigned,
			Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: p.UserID},
			Body:  starpost.MustBody(starpost.AssignedBody{AgentID: p.UserID, By: "accept"})}, nil
	})
}

func (s *Server) handleDecline(w http.ResponseWriter, r *http.Request) error {
	return s.conversationAction(w, r, nil, false, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		if err := needUser(p); err != nil {
			return nil, err
		}
		return &starpost.Event{WorkspaceID: p.WorkspaceID, Kind: starpost.KindOfferEnd,
			Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: p.UserID},
			Body:  starpost.MustBody(starpost.OfferEndBody{AgentID: p.UserID, Reason: "declined"})}, nil
	})
}

// TransferRequest is the body of POST .../transfer: exactly one of
// to_agent_id and to_queue_id, and an optional note for the next agent.
type TransferRequest struct {
	ToAgentID string `json:"to_agent_id"`
	ToQueueID string `json:"to_queue_id"`
	Note      string `json:"note"`
}

func (s *Server) handleTransfer(w http.ResponseWriter, r *http.Request) error {
	var req TransferRequest
	return s.conversationAction(w, r, &req, false, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		body := starpost.TransferBody{ToAgentID: req.ToAgentID, ToQueueID: req.ToQueueID, Note: req.Note}
		if err := body.Validate(); err != nil {
			return nil, err
		}
		if !seesWorkspace(p) && !holds(p, c) {
			return nil, starpost.Errorf(starpost.EFORBIDDEN, "you do not hold this conversation")
		}
		if err := s.checkAgent(r.Context(), p.WorkspaceID, req.ToAgentID, "to_agent_id"); err != nil {
			return nil, err
		}
		if req.ToQueueID != "" {
			if _, err := s.Store.FindQueue(r.Context(), p.WorkspaceID, req.ToQueueID); starpost.ErrorCode(err) == starpost.ENOTFOUND {
				return nil, &starpost.Error{Code: starpost.ENOTFOUND, Field: "to_queue_id", Message: "no such queue"}
			} else if err != nil {
				return nil, err
			}
		}
		return &starpost.Event{Kind: starpost.KindTransferred, Actor: actorOf(p), Body: starpost.MustBody(body)}, nil
	})
}

// checkAgent makes sure id, when set, is an enabled user of the workspace.
func (s *Server) checkAgent(ctx context.Context, ws, id, field string) error {
	if id == "" {
		return nil
	}
	u, err := s.Store.FindUser(ctx, ws, id)
	if starpost.ErrorCode(err) == starpost.ENOTFOUND {
		return &starpost.Error{Code: starpost.ENOTFOUND, Field: field, Message: "no such user"}
	} else if err != nil {
		return err
	}
	if u.Disabled {
		return &starpost.Error{Code: starpost.ECONFLICT, Field: field, Message: "the user is disabled"}
	}
	return nil
}

func (s *Server) stateAction(w http.ResponseWriter, r *http.Request, to starpost.State) error {
	var req ReasonRequest
	return s.conversationAction(w, r, &req, true, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		// Agents change the state of what they hold (or held, to reopen).
		if !seesWorkspace(p) && c.AgentID != p.UserID && !holds(p, c) {
			return nil, starpost.Errorf(starpost.EFORBIDDEN, "you do not hold this conversation")
		}
		return &starpost.Event{Kind: starpost.KindState, Actor: actorOf(p),
			Body: starpost.MustBody(starpost.StateBody{State: to, Reason: req.Reason})}, nil
	})
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request) error {
	return s.stateAction(w, r, starpost.StateResolved)
}

func (s *Server) handleReopen(w http.ResponseWriter, r *http.Request) error {
	return s.stateAction(w, r, starpost.StateQueued)
}

func (s *Server) handleClose(w http.ResponseWriter, r *http.Request) error {
	return s.stateAction(w, r, starpost.StateClosed)
}

// AssignRequest is the body of POST .../assign (supervisor force-assign).
type AssignRequest struct {
	AgentID string `json:"agent_id"`
}

func (s *Server) handleForceAssign(w http.ResponseWriter, r *http.Request) error {
	var req AssignRequest
	return s.conversationAction(w, r, &req, false, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		if req.AgentID == "" {
			return nil, starpost.FieldError("agent_id", "required")
		}
		if err := s.checkAgent(r.Context(), p.WorkspaceID, req.AgentID, "agent_id"); err != nil {
			return nil, err
		}
		return &starpost.Event{Kind: starpost.KindAssigned, Actor: actorOf(p),
			Body: starpost.MustBody(starpost.AssignedBody{AgentID: req.AgentID, By: "force"})}, nil
	})
}

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) error {
	return s.conversationAction(w, r, nil, false, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		if err := needUser(p); err != nil {
			return nil, err
		}
		if !c.State.Open() {
			return nil, starpost.Errorf(starpost.ECONFLICT, "cannot join a %s conversation", c.State)
		}
		return &starpost.Event{Kind: starpost.KindJoined,
			Actor: starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: p.UserID},
			Body:  starpost.MustBody(starpost.JoinedBody{Role: starpost.RoleSupervisorWatcher, ID: p.UserID})}, nil
	})
}

// ---- presence ----

// PresenceRequest is the body of PUT /api/v1/me/presence.
type PresenceRequest struct {
	Presence starpost.Presence `json:"presence"`
	Reason   string            `json:"reason"`
}

func (s *Server) handleSetPresence(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var req PresenceRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	body := starpost.PresenceBody{Presence: req.Presence, Reason: req.Reason}
	if err := body.Validate(); err != nil {
		return err
	}
	if err := needUser(p); err != nil {
		return err
	}
	key, err := idempotencyKey(r, "")
	if err != nil {
		return err
	}
	e, err := s.appendOne(r.Context(), &starpost.Event{
		WorkspaceID: p.WorkspaceID, Kind: starpost.KindPresence,
		Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: p.UserID},
		Body:  starpost.MustBody(body), IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) handleListPresence(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Store.Presence(r.Context(), principal(r).WorkspaceID)
	if err != nil {
		return err
	}
	writeList(w, v)
	return nil
}
