package starpost

import (
	"context"
	"time"
	"unicode/utf8"
)

// State is where a conversation is in its life.
type State string

// Conversation states. The usual path is
// bot → queued → offered → assigned ⇄ waiting → resolved → closed,
// and a resolved conversation can be reopened.
const (
	StateBot      State = "bot"      // a bot is answering
	StateQueued   State = "queued"   // waiting for an agent
	StateOffered  State = "offered"  // offered to one agent, who has not accepted yet
	StateAssigned State = "assigned" // an agent holds it
	StateWaiting  State = "waiting"  // waiting on the customer
	StateResolved State = "resolved" // done; reopens when the customer writes again
	StateClosed   State = "closed"   // final
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StateBot, StateQueued, StateOffered, StateAssigned, StateWaiting, StateResolved, StateClosed:
		return true
	}
	return false
}

// Open reports whether the conversation still needs work.
func (s State) Open() bool { return s != StateResolved && s != StateClosed }

// HeldByAgent reports whether an agent holds the conversation in state s
// (it counts against the agent's capacity).
func (s State) HeldByAgent() bool { return s == StateAssigned || s == StateWaiting }

// ParticipantRole is the part someone plays in a conversation.
type ParticipantRole string

// Participant roles. A training session is a conversation whose customer is
// simulated; an interview is a conversation whose agent is a bot.
const (
	RoleCustomer          ParticipantRole = "customer"
	RoleAgentParticipant  ParticipantRole = "agent"
	RoleBot               ParticipantRole = "bot"
	RoleSimulatedCustomer ParticipantRole = "simulated_customer"
	RoleCoach             ParticipantRole = "coach"
	RoleSupervisorWatcher ParticipantRole = "supervisor"
	RoleSystem            ParticipantRole = "system" // the router and other engines
)

// Valid reports whether r is a known participant role.
func (r ParticipantRole) Valid() bool {
	switch r {
	case RoleCustomer, RoleAgentParticipant, RoleBot, RoleSimulatedCustomer, RoleCoach, RoleSupervisorWatcher, RoleSystem:
		return true
	}
	return false
}

// Participant is someone taking part in a conversation.
type Participant struct {
	Role     ParticipantRole `json:"role"`
	ID       string          `json:"id"`
	JoinedAt time.Time       `json:"joined_at"`
	LeftAt   *time.Time      `json:"left_at,omitempty"`
}

// Conversation is one exchange with a customer on one channel. Its fields
// are a projection of its events (see Apply); the events are the truth.
type Conversation struct {
	ID           string        `json:"id"`
	WorkspaceID  string        `json:"workspace_id"`
	Channel      Channel       `json:"channel"`
	ContactID    string        `json:"contact_id"`
	QueueID      string        `json:"queue_id"`
	Priority     int           `json:"priority"`
	Subject      string        `json:"subject,omitempty"`
	State        State         `json:"state"`
	AgentID      string        `json:"agent_id,omitempty"`
	OfferedTo    string        `json:"offered_to,omitempty"`
	Participants []Participant `json:"participants"`
	// LastSeq is the seq of the conversation's newest event.
	LastSeq   int64     `json:"last_seq"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// QueuedAt is when the conversation last entered its queue.
	QueuedAt *time.Time `json:"queued_at,omitempty"`
	// AssignedAt is when the current agent took it.
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
	// FirstResponseAt is when an agent first answered.
	FirstResponseAt       *time.Time `json:"first_response_at,omitempty"`
	LastCustomerMessageAt *time.Time `json:"last_customer_message_at,omitempty"`
	LastAgentMessageAt    *time.Time `json:"last_agent_message_at,omitempty"`
	ResolvedAt            *time.Time `json:"resolved_at,omitempty"`
}

// AwaitingAgentReply reports whether the customer's last message is newer
// than the agent's last reply.
func (c *Conversation) AwaitingAgentReply() bool {
	if c.LastCustomerMessageAt == nil {
		return false
	}
	return c.LastAgentMessageAt == nil || c.LastAgentMessageAt.Before(*c.LastCustomerMessageAt)
}

// ConversationFilter selects conversations of one workspace.
type ConversationFilter struct {
	WorkspaceID string
	States      []State
	AgentID     string
	QueueID     string
	ContactID   string
	// Open selects conversations that are not resolved or closed.
	Open  bool
	Limit int
}

// EventFilter selects events of one workspace, in cursor order.
type EventFilter struct {
	WorkspaceID    string
	ConversationID string // all conversations when empty
	AfterCursor    int64
	// ConversationIDs, when not empty, restricts to these conversations.
	ConversationIDs []string
	Kinds           []EventKind
	Limit           int // at most MaxEventPage; 0 means MaxEventPage
}

// MaxEventPage is the most events one ListEvents call returns.
const MaxEventPage = 1000

// ConversationService reads conversations and appends events to them. Every
// change of a conversation is an appended event; Append applies each event to
// its conversation's projection in the same transaction.
type ConversationService interface {
	// Append validates and commits each event: it assigns Seq, Cursor and,
	// when zero, At, and returns the committed events. An event whose
	// idempotency key was committed before returns the original event
	// instead of a new one. Append is atomic: all events are committed or
	// none is. An event that does not apply to its conversation's current
	// state fails with ECONFLICT.
	//
	// An event of kind KindCreated with an empty ConversationID creates a
	// conversation (its id is assigned). Events with an empty ConversationID
	// of other kinds are workspace events (such as presence).
	Append(ctx context.Context, events ...*Event) ([]*Event, error)

	FindConversation(ctx context.Context, workspaceID, id string) (*Conversation, error)
	ListConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	// LastCursor returns the cursor of the workspace's newest event.
	LastCursor(ctx context.Context, workspaceID string) (int64, error)
}

// Store is everything the core persists.
type Store interface {
	DirectoryService
	ConversationService
	// Presence returns each agent's latest presence in the workspace.
	Presence(ctx context.Context, workspaceID string) ([]AgentPresence, error)
	Close() error
}

// Presence is an agent's availability.
type Presence string

// Presence states.
const (
	PresenceAvailable Presence = "available"
	PresenceBusy      Presence = "busy"
	PresenceBreak     Presence = "break"
	PresenceAfterWork Presence = "after_work" // wrap-up after a conversation
	PresenceOffline   Presence = "offline"
)

// Valid reports whether p is a known presence.
func (p Presence) Valid() bool {
	switch p {
	case PresenceAvailable, PresenceBusy, PresenceBreak, PresenceAfterWork, PresenceOffline:
		return true
	}
	return false
}

// AgentPresence is an agent's presence and since when.
type AgentPresence struct {
	AgentID  string    `json:"agent_id"`
	Presence Presence  `json:"presence"`
	Since    time.Time `json:"since"`
}

func validText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return FieldError(field, "longer than %d characters", max)
	}
	if !utf8.ValidString(s) {
		return FieldError(field, "not valid UTF-8")
	}
	return nil
}
