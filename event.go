package starpost

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// EventKind names what happened. New capabilities add kinds; they never add
// a second event log.
type EventKind string

// Core event kinds. Engines add their own (emotion, qa.finding, suggestion,
// action ...); any kind of the form "name" or "name.name" made of lower-case
// letters, digits and underscores is accepted and stored as it is.
const (
	KindCreated     EventKind = "created"      // body: CreatedBody
	KindMessage     EventKind = "message"      // body: MessageBody
	KindNote        EventKind = "note"         // body: MessageBody (internal, agents only)
	KindOffer       EventKind = "offer"        // body: OfferBody
	KindOfferEnd    EventKind = "offer.ended"  // body: OfferEndBody (declined, expired, withdrawn)
	KindAssigned    EventKind = "assigned"     // body: AssignedBody
	KindUnassigned  EventKind = "unassigned"   // body: UnassignedBody
	KindTransferred EventKind = "transferred"  // body: TransferBody
	KindState       EventKind = "state"        // body: StateBody
	KindPresence    EventKind = "presence"     // workspace event; body: PresenceBody
	KindJoined      EventKind = "joined"       // body: JoinedBody (supervisor barge-in, coach ...)
	KindQueueStatus EventKind = "queue.status" // ephemeral signal; body: QueueStatusBody
	KindTyping      EventKind = "typing"       // ephemeral signal; no body
	KindConnection  EventKind = "connection"   // ephemeral signal; body: ConnectionBody
	KindDirectory   EventKind = "directory"    // workspace event; body: DirectoryBody
)

// Valid reports whether k is a well-formed kind name.
func (k EventKind) Valid() bool {
	if len(k) == 0 || len(k) > 64 {
		return false
	}
	for _, part := range strings.Split(string(k), ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Ephemeral reports whether events of kind k are signals that are published
// on the bus but never stored (typing indicators, queue positions).
func (k EventKind) Ephemeral() bool {
	return k == KindQueueStatus || k == KindTyping || k == KindConnection || k == KindQueueStatusRequest
}

// WorkspaceWide reports whether events of kind k belong to the workspace
// rather than to one conversation.
func (k EventKind) WorkspaceWide() bool { return k == KindPresence || k == KindDirectory }

// Actor is who caused an event.
type Actor struct {
	Role ParticipantRole `json:"role"`
	ID   string          `json:"id"`
}

// System is the actor of router and engine decisions.
var System = Actor{Role: RoleSystem, ID: "router"}

// Event is the one envelope for everything that happens in a workspace.
type Event struct {
	WorkspaceID    string `json:"workspace_id"`
	ConversationID string `json:"conversation_id,omitempty"`
	// Seq is the event's number in its conversation: 1, 2, 3 ... without gaps.
	// Workspace events (no conversation) have Seq 0.
	Seq int64 `json:"seq"`
	// Cursor orders all events of a workspace by commit; a stream resumes
	// after the last cursor it saw. Ephemeral signals have Cursor 0.
	Cursor int64           `json:"cursor"`
	Kind   EventKind       `json:"kind"`
	Actor  Actor           `json:"actor"`
	At     time.Time       `json:"at"`
	Body   json.RawMessage `json:"body,omitempty"`
	// IdempotencyKey is the client's key: a retry with the same key returns
	// the original event.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// MaxBodyLen is the largest event body accepted.
const MaxBodyLen = 64 * 1024

// Validate checks the envelope and, for core kinds, the body.
func (e *Event) Validate() error {
	if e.WorkspaceID == "" {
		return FieldError("workspace_id", "required")
	}
	if !e.Kind.Valid() {
		return FieldError("kind", "must be lower-case words separated by dots")
	}
	if !e.Actor.Role.Valid() {
		return FieldError("actor", "unknown role %q", e.Actor.Role)
	}
	if len(e.IdempotencyKey) > MaxKeyLen {
		return FieldError("idempotency_key", "longer than %d bytes", MaxKeyLen)
	}
	if len(e.Body) > MaxBodyLen {
		return FieldError("body", "larger than %d bytes", MaxBodyLen)
	}
	if len(e.Body) > 0 && !json.Valid(e.Body) {
		return FieldError("body", "not valid JSON")
	}
	if e.ConversationID == "" && e.Kind != KindCreated && !e.Kind.WorkspaceWide() && !e.Kind.Ephemeral() {
		return FieldError("conversation_id", "required for %s events", e.Kind)
	}
	switch e.Kind {
	case KindCreated:
		var b CreatedBody
		return decodeValid(e.Body, &b)
	case KindMessage, KindNote:
		var b MessageBody
		return decodeValid(e.Body, &b)
	case KindPresence:
		var b PresenceBody
		return decodeValid(e.Body, &b)
	case KindState:
		var b StateBody
		return decodeValid(e.Body, &b)
	case KindTransferred:
		var b TransferBody
		return decodeValid(e.Body, &b)
	case KindRead: // widget: read receipts and rating
		var b ReadBody
		return decodeValid(e.Body, &b)
	case KindCSAT:
		var b CSATBody
		return decodeValid(e.Body, &b)
	}
	return nil
}

// DecodeBody decodes the event's body into v.
func (e *Event) DecodeBody(v any) error {
	if len(e.Body) == 0 {
		return FieldError("body", "required")
	}
	if err := json.Unmarshal(e.Body, v); err != nil {
		return FieldError("body", "%v", err)
	}
	return nil
}

func decodeValid(raw json.RawMessage, v Validator) error {
	if len(raw) == 0 {
		return FieldError("body", "required")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return FieldError("body", "%v", err)
	}
	return v.Validate()
}

// MustBody encodes v as an event body. It panics only if v cannot be encoded
// as JSON, which is a programming error.
func MustBody(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("starpost: body not encodable: " + err.Error())
	}
	return b
}

// CreatedBody opens a conversation.
type CreatedBody struct {
	Channel   Channel `json:"channel"`
	ContactID string  `json:"contact_id"`
	QueueID   string  `json:"queue_id"`
	Priority  int     `json:"priority"`
	Subject   string  `json:"subject,omitempty"`
	// State is the first state: queued (default) or bot.
	State State `json:"state,omitempty"`
}

// Validate checks the body.
func (b *CreatedBody) Validate() error {
	if !b.Channel.Valid() {
		return FieldError("channel", "must be chat, email, voice or video")
	}
	if b.ContactID == "" {
		return FieldError("contact_id", "required")
	}
	if b.State != "" && b.State != StateQueued && b.State != StateBot {
		return FieldError("state", "a conversation starts queued or with a bot")
	}
	if b.State != StateBot && b.QueueID == "" {
		return FieldError("queue_id", "required")
	}
	if b.Priority < 0 || b.Priority > 100 {
		return FieldError("priority", "must be 0 to 100")
	}
	return validText("subject", b.Subject, MaxNameLen)
}

// MessageBody is a message or an internal note.
type MessageBody struct {
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment refers to a stored file (package attachment). Clients send
// only the id; the server fills the rest from the stored file.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// Width and Height are an image's dimensions; Thumbnail says a preview
	// can be fetched.
	Width     int  `json:"width,omitempty"`
	Height    int  `json:"height,omitempty"`
	Thumbnail bool `json:"thumbnail,omitempty"`
}

// MaxAttachments is the most attachments one message carries.
const MaxAttachments = 10

// Validate checks the body.
func (b *MessageBody) Validate() error {
	if strings.TrimSpace(b.Text) == "" && len(b.Attachments) == 0 {
		return FieldError("text", "required")
	}
	if len(b.Attachments) > MaxAttachments {
		return FieldError("attachments", "at most %d", MaxAttachments)
	}
	for i, a := range b.Attachments {
		if a.ID == "" || len(a.ID) > MaxKeyLen {
			return FieldError("attachments", "entry %d needs an id", i)
		}
	}
	return validText("text", b.Text, MaxMessageLen)
}

// OfferBody offers a conversation to an agent until ExpiresAt.
type OfferBody struct {
	AgentID   string    `json:"agent_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// OfferEndBody ends an offer without an assignment.
type OfferEndBody struct {
	AgentID string `json:"agent_id"`
	// Reason is "declined", "expired" or "withdrawn".
	Reason string `json:"reason"`
}

// AssignedBody gives a conversation to an agent.
type AssignedBody struct {
	AgentID string `json:"agent_id"`
	// By is "accept" (the agent accepted an offer), "router" (assigned
	// without an offer), "force" (a supervisor) or "transfer".
	By string `json:"by"`
}

// UnassignedBody takes a conversation back from its agent and queues it.
type UnassignedBody struct {
	AgentID string `json:"agent_id"`
	// Reason is "offline", "disconnected", "reply_timeout" or "released".
	Reason string `json:"reason"`
}

// TransferBody moves a conversation to another agent or queue, with a note
// for the next agent.
type TransferBody struct {
	ToAgentID string `json:"to_agent_id,omitempty"`
	ToQueueID string `json:"to_queue_id,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Validate checks the body.
func (b *TransferBody) Validate() error {
	if (b.ToAgentID == "") == (b.ToQueueID == "") {
		return FieldError("to_agent_id", "give exactly one of to_agent_id and to_queue_id")
	}
	return validText("note", b.Note, MaxMessageLen)
}

// StateBody sets a conversation's state directly: waiting, resolved, closed,
// or queued to reopen.
type StateBody struct {
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Validate checks the body.
func (b *StateBody) Validate() error {
	switch b.State {
	case StateWaiting, StateResolved, StateClosed, StateQueued, StateAssigned:
		return validText("reason", b.Reason, MaxNameLen)
	}
	return FieldError("state", "must be waiting, assigned, resolved, closed or queued")
}

// PresenceBody changes an agent's presence.
type PresenceBody struct {
	Presence Presence `json:"presence"`
	Reason   string   `json:"reason,omitempty"`
}

// Validate checks the body.
func (b *PresenceBody) Validate() error {
	if !b.Presence.Valid() {
		return FieldError("presence", "must be available, busy, break, after_work or offline")
	}
	return validText("reason", b.Reason, MaxNameLen)
}

// ConnectionBody tells that an agent's realtime connection came or went
// (AgentID), or, as a heartbeat, which agents a node still serves a
// connection for (AgentIDs, Connected true); the router gives a
// disconnected agent's work back after a grace period.
type ConnectionBody struct {
	AgentID   string `json:"agent_id"`
	Connected bool   `json:"connected"`
	// Node names the node that serves the connections, and Seq numbers
	// that node's signals in the order it took them (0: unordered), so
	// that a reordered heartbeat cannot undo a later disconnect.
	Node string `json:"node,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`
	// EveryMS is the node's heartbeat interval in milliseconds: its
	// connections lapse when no heartbeat names them for a few intervals.
	// 0: the node sends no heartbeats and its connections never lapse.
	EveryMS int64 `json:"every_ms,omitempty"`
	// AgentIDs, in a heartbeat, are the agents the node serves.
	AgentIDs []string `json:"agent_ids,omitempty"`
}

// Heartbeat reports whether the body is a node's heartbeat.
func (b *ConnectionBody) Heartbeat() bool { return len(b.AgentIDs) > 0 }

// DirectoryBody tells engines that a workspace's configuration changed.
type DirectoryBody struct {
	// Object is "user", "queue", "skill", "site", "team" or "token".
	Object string `json:"object"`
	ID     string `json:"id"`
}

// JoinedBody adds a participant such as a supervisor barging in.
type JoinedBody struct {
	Role ParticipantRole `json:"role"`
	ID   string          `json:"id"`
}

// QueueStatusBody tells a waiting customer where they stand.
type QueueStatusBody struct {
	Position int `json:"position"`
	// EstimatedWait is in seconds; -1 when no agent could take it now.
	EstimatedWait int `json:"estimated_wait"`
}

// Apply changes the conversation c as event e says, or returns ECONFLICT when
// e does not apply to c's current state. For KindCreated, c is the zero
// conversation to fill. Apply sets c.LastSeq and c.UpdatedAt from e.
func (c *Conversation) Apply(e *Event) error {
	at := e.At
	switch e.Kind {
	case KindCreated:
		if c.LastSeq != 0 {
			return Errorf(ECONFLICT, "conversation %s already exists", c.ID)
		}
		var b CreatedBody
		if err := decodeValid(e.Body, &b); err != nil {
			return err
		}
		c.ID, c.WorkspaceID = e.ConversationID, e.WorkspaceID
		c.Channel, c.ContactID, c.QueueID = b.Channel, b.ContactID, b.QueueID
		c.Priority, c.Subject, c.State = b.Priority, b.Subject, b.State
		if c.State == "" {
			c.State = StateQueued
		}
		if c.State == StateQueued {
			c.QueuedAt = &at
		}
		c.CreatedAt = at
		c.join(RoleCustomer, b.ContactID, at)

	case KindMessage:
		if c.State == StateClosed {
			return Errorf(ECONFLICT, "conversation is closed")
		}
		switch e.Actor.Role {
		case RoleCustomer, RoleSimulatedCustomer:
			c.LastCustomerMessageAt = &at
			switch c.State {
			case StateWaiting:
				c.State = StateAssigned
			case StateResolved: // the customer wrote again: reopen
				c.reopen(at)
			}
		case RoleAgentParticipant:
			if c.AgentID != e.Actor.ID && !c.hasParticipant(RoleAgentParticipant, e.Actor.ID) {
				return Errorf(EFORBIDDEN, "agent %s does not take part in this conversation", e.Actor.ID)
			}
			c.LastAgentMessageAt = &at
			if c.FirstResponseAt == nil {
				c.FirstResponseAt = &at
			}
		}

	case KindNote:
		if e.Actor.Role == RoleCustomer {
			return Errorf(EFORBIDDEN, "customers cannot write notes")
		}

	case KindOffer:
		var b OfferBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		if b.AgentID == "" {
			return FieldError("agent_id", "required")
		}
		if c.State != StateQueued {
			return Errorf(ECONFLICT, "cannot offer a %s conversation", c.State)
		}
		c.State, c.OfferedTo = StateOffered, b.AgentID

	case KindOfferEnd:
		var b OfferEndBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		if c.State != StateOffered || c.OfferedTo != b.AgentID {
			return Errorf(ECONFLICT, "no open offer to %s", b.AgentID)
		}
		c.State, c.OfferedTo = StateQueued, ""

	case KindAssigned:
		var b AssignedBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		if b.AgentID == "" {
			return FieldError("agent_id", "required")
		}
		switch b.By {
		case "accept":
			if c.State != StateOffered || c.OfferedTo != b.AgentID {
				return Errorf(ECONFLICT, "the offer is no longer open")
			}
		case "router":
			if c.State != StateQueued {
				return Errorf(ECONFLICT, "cannot assign a %s conversation", c.State)
			}
		case "force":
			if !c.State.Open() {
				return Errorf(ECONFLICT, "cannot assign a %s conversation", c.State)
			}
		default:
			return FieldError("by", "must be accept, router or force")
		}
		c.leave(RoleAgentParticipant, c.AgentID, at)
		c.State, c.AgentID, c.OfferedTo = StateAssigned, b.AgentID, ""
		c.AssignedAt = &at
		c.join(RoleAgentParticipant, b.AgentID, at)

	case KindUnassigned:
		var b UnassignedBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		if !c.State.HeldByAgent() || c.AgentID != b.AgentID {
			return Errorf(ECONFLICT, "conversation is not held by %s", b.AgentID)
		}
		c.leave(RoleAgentParticipant, c.AgentID, at)
		c.requeue(at)

	case KindTransferred:
		var b TransferBody
		if err := decodeValid(e.Body, &b); err != nil {
			return err
		}
		if !c.State.Open() {
			return Errorf(ECONFLICT, "cannot transfer a %s conversation", c.State)
		}
		c.leave(RoleAgentParticipant, c.AgentID, at)
		if b.ToQueueID != "" {
			c.QueueID = b.ToQueueID
			c.requeue(at)
		} else {
			c.State, c.AgentID, c.OfferedTo = StateAssigned, b.ToAgentID, ""
			c.AssignedAt = &at
			c.join(RoleAgentParticipant, b.ToAgentID, at)
		}

	case KindState:
		var b StateBody
		if err := decodeValid(e.Body, &b); err != nil {
			return err
		}
		if err := c.setState(b.State, at); err != nil {
			return err
		}

	case KindJoined:
		var b JoinedBody
		if err := e.DecodeBody(&b); err != nil {
			return err
		}
		if !b.Role.Valid() || b.ID == "" {
			return FieldError("body", "role and id required")
		}
		c.join(b.Role, b.ID, at)
	}
	c.LastSeq = e.Seq
	c.UpdatedAt = at
	return nil
}

// setState applies a direct state change.
func (c *Conversation) setState(to State, at time.Time) error {
	from := c.State
	ok := false
	switch to {
	case StateWaiting:
		ok = from == StateAssigned
	case StateAssigned:
		ok = from == StateWaiting
	case StateResolved:
		ok = from.Open()
	case StateClosed:
		ok = from != StateClosed
	case StateQueued: // reopen, or a bot hands over
		ok = from == StateResolved || from == StateBot
	}
	if !ok {
		return Errorf(ECONFLICT, "cannot go from %s to %s", from, to)
	}
	switch to {
	case StateResolved, StateClosed:
		if to == StateResolved {
			c.ResolvedAt = &at
		}
		c.State, c.OfferedTo = to, ""
	case StateQueued:
		c.reopen(at)
	default:
		c.State = to
	}
	return nil
}

// reopen queues a resolved (or bot) conversation again, keeping its agent
// out: the router may prefer them but must offer again.
func (c *Conversation) reopen(at time.Time) {
	c.leave(RoleAgentParticipant, c.AgentID, at)
	c.ResolvedAt = nil
	c.requeue(at)
}

func (c *Conversation) requeue(at time.Time) {
	c.State, c.AgentID, c.OfferedTo = StateQueued, "", ""
	c.AssignedAt = nil
	c.QueuedAt = &at
}

func (c *Conversation) join(role ParticipantRole, id string, at time.Time) {
	if id == "" || c.hasParticipant(role, id) {
		return
	}
	c.Participants = append(c.Participants, Participant{Role: role, ID: id, JoinedAt: at})
}

func (c *Conversation) leave(role ParticipantRole, id string, at time.Time) {
	if id == "" {
		return
	}
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.Role == role && p.ID == id && p.LeftAt == nil {
			p.LeftAt = &at
		}
	}
}

func (c *Conversation) hasParticipant(role ParticipantRole, id string) bool {
	return slices.ContainsFunc(c.Participants, func(p Participant) bool {
		return p.Role == role && p.ID == id && p.LeftAt == nil
	})
}
