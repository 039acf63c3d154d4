package router

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/starpost/starpost"
)

// DecisionKind names what a Decision does.
type DecisionKind string

// Decision kinds.
const (
	// DecideOffer offers a waiting conversation to an agent until
	// ExpiresAt (event kind offer).
	DecideOffer DecisionKind = "offer"
	// DecideExpireOffer ends an open offer: Reason "expired" when the
	// accept timeout passed, "withdrawn" when the agent is no longer
	// available and connected (event kind offer.ended).
	DecideExpireOffer DecisionKind = "expire_offer"
	// DecideUnassign gives a held conversation back to its queue: Reason
	// "offline", "disconnected" (the grace period passed) or
	// "reply_timeout" (event kind unassigned).
	DecideUnassign DecisionKind = "unassign"
	// DecideQueueStatus tells a waiting customer their position and
	// estimated wait (ephemeral event kind queue.status).
	DecideQueueStatus DecisionKind = "queue_status"
)

// Decision is one thing the engine wants done. The engine learns that it was
// done only by observing the committed event; until then the decision is in
// flight and is not taken again (for the retry delay).
type Decision struct {
	Kind           DecisionKind
	WorkspaceID    string
	ConversationID string
	// AgentID is the agent offered to, whose offer ends, or who loses the
	// conversation.
	AgentID string
	// At is when the decision was taken.
	At time.Time
	// ExpiresAt is when an offer lapses.
	ExpiresAt time.Time
	// Reason explains an ExpireOffer or Unassign decision.
	Reason string
	// Position (1 = next) and EstimatedWait (seconds, -1 when no agent
	// qualifies) are set for QueueStatus decisions.
	Position      int
	EstimatedWait int
	// Key is the deterministic idempotency key of the event: a retry of the
	// same decision after a crash or a lost reply commits nothing new.
	Key string
}

// Ephemeral reports whether the decision's event is a signal to publish on
// the bus rather than an event to append to the store.
func (d *Decision) Ephemeral() bool { return d.Kind == DecideQueueStatus }

// Event renders the decision as an event draft for Store.Append (or, when
// Ephemeral, for EventBus.Publish), acted by starpost.System.
func (d *Decision) Event() *starpost.Event {
	ev := &starpost.Event{
		WorkspaceID:    d.WorkspaceID,
		ConversationID: d.ConversationID,
		Actor:          starpost.System,
		At:             d.At,
		IdempotencyKey: d.Key,
	}
	switch d.Kind {
	case DecideOffer:
		ev.Kind = starpost.KindOffer
		ev.Body = starpost.MustBody(starpost.OfferBody{AgentID: d.AgentID, ExpiresAt: d.ExpiresAt})
	case DecideExpireOffer:
		ev.Kind = starpost.KindOfferEnd
		ev.Body = starpost.MustBody(starpost.OfferEndBody{AgentID: d.AgentID, Reason: d.Reason})
	case DecideUnassign:
		ev.Kind = starpost.KindUnassigned
		ev.Body = starpost.MustBody(starpost.UnassignedBody{AgentID: d.AgentID, Reason: d.Reason})
	case DecideQueueStatus:
		ev.Kind = starpost.KindQueueStatus
		ev.Body = starpost.MustBody(starpost.QueueStatusBody{Position: d.Position, EstimatedWait: d.EstimatedWait})
	}
	return ev
}

// String describes the decision for logs.
func (d *Decision) String() string {
	var b strings.Builder
	b.WriteString(string(d.Kind))
	b.WriteString(" ")
	b.WriteString(d.ConversationID)
	if d.AgentID != "" {
		b.WriteString(" agent=")
		b.WriteString(d.AgentID)
	}
	if d.Reason != "" {
		b.WriteString(" reason=")
		b.WriteString(d.Reason)
	}
	if d.Kind == DecideQueueStatus {
		b.WriteString(" position=")
		b.WriteString(strconv.Itoa(d.Position))
		b.WriteString(" wait=")
		b.WriteString(strconv.Itoa(d.EstimatedWait))
	}
	return b.String()
}

// idemKey joins parts with ":" and, when the result is longer than
// starpost.MaxKeyLen, replaces everything after the first part by a hash.
func idemKey(parts ...string) string {
	k := strings.Join(parts, ":")
	if len(k) <= starpost.MaxKeyLen {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return parts[0] + ":" + hex.EncodeToString(sum[:])
}
