package http

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
)

// WidgetSessionRequest is the optional body of POST
// /api/v1/widget/{workspace}/session.
//
// An identified visitor is a user the business knows: its page passes the
// user's id and user_hash, the hex HMAC-SHA256 of the id under the
// workspace's identity secret (GET /api/v1/widget-identity), computed on the
// business's server. The visitor then gets the same contact, and so the same
// history, on every device; without a valid hash nobody can claim another
// user's conversations.
type WidgetSessionRequest struct {
	Name     string `json:"name"`
	UserID   string `json:"user_id"`
	UserHash string `json:"user_hash"`
}

// MaxUserIDLen is the longest identified-visitor user id, in bytes.
const MaxUserIDLen = 128

// WidgetSessionResponse carries a visitor token. Send it as
// "Authorization: Bearer <token>" (or ?token= on the widget stream).
type WidgetSessionResponse struct {
	Token     string    `json:"token"`
	VisitorID string    `json:"visitor_id"`
	ContactID string    `json:"contact_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// handleWidgetSession starts a visitor of the workspace named in the URL:
// a random visitor id, or for an identified visitor "user:" and the
// business's user id, becomes the contact's chat identity, and the signed
// token binds the visitor to that workspace and contact.
func (s *Server) handleWidgetSession(w http.ResponseWriter, r *http.Request) error {
	var req WidgetSessionRequest
	if err := s.decodeOptional(w, r, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if len([]rune(req.Name)) > starpost.MaxNameLen {
		return starpost.FieldError("name", "longer than %d characters", starpost.MaxNameLen)
	}
	switch {
	case req.UserID == "" && req.UserHash != "":
		return starpost.FieldError("user_id", "required with user_hash")
	case req.UserID != "" && req.UserHash == "":
		return starpost.FieldError("user_hash", "required with user_id: the HMAC-SHA256 of user_id under the workspace's identity secret")
	case len(req.UserID) > MaxUserIDLen || strings.TrimSpace(req.UserID) != req.UserID || !utf8.ValidString(req.UserID):
		return starpost.FieldError("user_id", "must be at most %d bytes of UTF-8 without surrounding spaces", MaxUserIDLen)
	}
	now := s.Clock.Now()
	if ok, wait := s.widgetIP.allow(clientIP(r), now); !ok {
		return tooMany(wait, "too many new visitors from this address")
	}
	ws, err := s.Store.FindWorkspace(r.Context(), r.PathValue("workspace"))
	if err != nil {
		return err
	}
	var visitor string
	if req.UserID != "" {
		if !auth.VerifyHex(s.identitySecret(ws.ID), req.UserID, req.UserHash) {
			return starpost.Errorf(starpost.EFORBIDDEN, "user_hash does not match user_id: compute it on your server with the workspace's identity secret")
		}
		visitor = "user:" + req.UserID
	} else if visitor, err = auth.NewSecret("vi_"); err != nil {
		return err
	}
	c, err := s.Store.FindOrCreateContact(r.Context(), ws.ID, starpost.ChannelChat, visitor, req.Name)
	if err != nil {
		return fmt.Errorf("create visitor contact: %w", err)
	}
	exp := now.Add(s.limits.VisitorTTL)
	tok, err := s.visitors.Sign(visitorClaims{WorkspaceID: ws.ID, VisitorID: visitor, ContactID: c.ID}, exp)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, WidgetSessionResponse{Token: visitorPrefix + tok, VisitorID: visitor, ContactID: c.ID, ExpiresAt: exp})
	return nil
}

// WidgetStartRequest is the body of POST /api/v1/widget/conversations.
type WidgetStartRequest struct {
	QueueID        string `json:"queue_id"`
	Subject        string `json:"subject"`
	Text           string `json:"text"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (s *Server) handleWidgetStart(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	var req WidgetStartRequest
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
	if err := s.admitConversation(r.Context(), v.WorkspaceID); err != nil {
		return err
	}
	customer := starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID}
	return s.startConversation(w, r, startParams{
		workspaceID: v.WorkspaceID, channel: starpost.ChannelChat, identity: v.VisitorID,
		queueID: req.QueueID, subject: req.Subject, text: req.Text, key: key,
		actor:     func(string) starpost.Actor { return customer },
		contactID: v.ContactID,
	})
}

// findVisitorConversation returns conversation id when it belongs to the
// visitor's contact in the visitor's workspace; otherwise ENOTFOUND.
func (s *Server) findVisitorConversation(ctx context.Context, v *visitorClaims, id string) (*starpost.Conversation, error) {
	c, err := s.Store.FindConversation(ctx, v.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	if c.WorkspaceID != v.WorkspaceID || c.ContactID != v.ContactID {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "conversation not found")
	}
	return c, nil
}

// VisitorConversation is what a customer sees of their conversation.
type VisitorConversation struct {
	ID        string         `json:"id"`
	State     starpost.State `json:"state"`
	Subject   string         `json:"subject,omitempty"`
	LastSeq   int64          `json:"last_seq"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

func visitorConversation(c *starpost.Conversation) VisitorConversation {
	return VisitorConversation{ID: c.ID, State: c.State, Subject: c.Subject, LastSeq: c.LastSeq, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) handleWidgetList(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	cs, err := s.Store.ListConversations(r.Context(), starpost.ConversationFilter{WorkspaceID: v.WorkspaceID, ContactID: v.ContactID, Limit: 100})
	if err != nil {
		return err
	}
	out := make([]VisitorConversation, 0, len(cs))
	for _, c := range cs {
		if c.ContactID == v.ContactID {
			out = append(out, visitorConversation(c))
		}
	}
	writeList(w, out)
	return nil
}

// visitorVisible tells the event kinds a customer may see: their
// conversation's messages and states, who serves them, and when that
// changes (an agent taking over, the conversation handed back to the queue
// or transferred); notes, offers and engine findings stay internal.
func visitorVisible(e *starpost.Event) bool {
	switch e.Kind {
	case starpost.KindCreated, starpost.KindMessage, starpost.KindState, starpost.KindAssigned,
		starpost.KindTyping, starpost.KindQueueStatus, starpost.KindRead, starpost.KindCSAT, starpost.KindUnassigned, starpost.KindTransferred:
		return true
	}
	return false
}

// visitorEvent strips what a customer must not see from an event: agent
// identities stay; internal idempotency keys of others, the reason an
// agent lost a conversation and the note of a transfer (written for the
// next agent) go.
func visitorEvent(e *starpost.Event, contactID string) *starpost.Event {
	c := *e
	if c.Actor.ID != contactID {
		c.IdempotencyKey = ""
	}
	switch c.Kind {
	case starpost.KindUnassigned:
		var b starpost.UnassignedBody
		if c.DecodeBody(&b) == nil {
			c.Body = starpost.MustBody(starpost.UnassignedBody{AgentID: b.AgentID})
		}
	case starpost.KindTransferred:
		var b starpost.TransferBody
		if c.DecodeBody(&b) == nil {
			c.Body = starpost.MustBody(starpost.TransferBody{ToAgentID: b.ToAgentID, ToQueueID: b.ToQueueID})
		}
	}
	return &c
}

func (s *Server) handleWidgetEvents(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	after, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	c, err := s.findVisitorConversation(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	page, err := s.listEvents(r.Context(), v.WorkspaceID, c.ID, after, limit, visitorVisible)
	if err != nil {
		return err
	}
	for i, e := range page.Items {
		page.Items[i] = visitorEvent(e, v.ContactID)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleWidgetMessage(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	var req MessageRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(r, req.IdempotencyKey)
	if err != nil {
		return err
	}
	e, err := s.visitorMessage(r.Context(), v, r.PathValue("id"), starpost.MessageBody{Text: req.Text, Attachments: req.Attachments}, key, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// visitorMessage appends the visitor's message to their own conversation.
// visitorMessage appends a visitor's message. known says the caller has
// already checked that convID is one of the visitor's conversations (a
// conversation's contact never changes, so a socket remembers it and skips
// the store read on later messages).
func (s *Server) visitorMessage(ctx context.Context, v *visitorClaims, convID string, body starpost.MessageBody, key string, known bool) (*starpost.Event, error) {
	if key == "" {
		return nil, starpost.FieldError("idempotency_key", "required: send an Idempotency-Key header or idempotency_key field")
	}
	if len(key) > starpost.MaxKeyLen {
		return nil, starpost.FieldError("idempotency_key", "longer than %d bytes", starpost.MaxKeyLen)
	}
	if err := body.Validate(); err != nil {
		return nil, err
	}
	if !known {
		c, err := s.findVisitorConversation(ctx, v, convID)
		if err != nil {
			return nil, err
		}
		convID = c.ID
	}
	if err := s.resolveAttachments(ctx, v.WorkspaceID, convID, &body, false); err != nil {
		return nil, err
	}
	e, err := s.appendOne(ctx, &starpost.Event{
		WorkspaceID: v.WorkspaceID, ConversationID: convID, Kind: starpost.KindMessage,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID},
		Body:  starpost.MustBody(body), IdempotencyKey: key,
	})
	if err != nil {
		return nil, err
	}
	return visitorEvent(e, v.ContactID), nil
}
