package kb

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/starpost/starpost"
)

// Event kinds of the knowledge base.
const (
	// KindSuggestion is the suggestion engine's answer to a customer
	// message; body: SuggestionBody.
	KindSuggestion starpost.EventKind = "suggestion"
	// KindFeedback is an agent's verdict on one suggested item; body:
	// FeedbackBody.
	KindFeedback starpost.EventKind = "suggestion.feedback"
)

// EngineName is the suggestion engine's name: its checkpoint, its system
// actor's id and the prefix of its idempotency keys.
const EngineName = "kb"

// SuggestCount is how many items a suggestion holds at most.
const SuggestCount = 3

// maxSuggestedAnswer bounds a FAQ answer carried in a suggestion event, so
// three of them stay well inside an event body.
const maxSuggestedAnswer = 8000

// SuggestionBody lists the best answers for one customer message.
type SuggestionBody struct {
	// MessageSeq is the seq of the customer message.
	MessageSeq int64    `json:"message_seq"`
	Items      []Result `json:"items"`
}

// FeedbackBody is an agent's verdict on item ID of the suggestion event at
// SuggestionSeq of the same conversation.
type FeedbackBody struct {
	SuggestionSeq int64  `json:"suggestion_seq"`
	ID            string `json:"id"`
	Helpful       bool   `json:"helpful"`
}

// Validate checks the body.
func (b *FeedbackBody) Validate() error {
	if b.SuggestionSeq <= 0 {
		return starpost.FieldError("suggestion_seq", "must be positive")
	}
	if b.ID == "" {
		return starpost.FieldError("id", "required")
	}
	return nil
}

// Suggester is the suggestion engine, an engine.Handler: for every customer
// message it appends a suggestion event with the best SuggestCount answers
// of the workspace's knowledge base, and it records every
// suggestion.feedback event so that feedback re-ranks later suggestions.
type Suggester struct {
	kb *KB
}

// NewSuggester returns the suggestion engine over k.
func NewSuggester(k *KB) *Suggester { return &Suggester{kb: k} }

// Name returns EngineName.
func (s *Suggester) Name() string { return EngineName }

// Handle implements engine.Handler.
func (s *Suggester) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	if ev.ConversationID == "" {
		return nil, nil
	}
	switch ev.Kind {
	case starpost.KindMessage:
		if ev.Actor.Role != starpost.RoleCustomer && ev.Actor.Role != starpost.RoleSimulatedCustomer {
			return nil, nil
		}
		var b starpost.MessageBody
		if ev.DecodeBody(&b) != nil || strings.TrimSpace(b.Text) == "" {
			return nil, nil
		}
		items, err := s.kb.Search(ctx, ev.WorkspaceID, b.Text, SuggestCount)
		if err != nil || len(items) == 0 {
			return nil, err
		}
		for i := range items {
			items[i].Answer = cut(items[i].Answer, maxSuggestedAnswer)
		}
		return []*starpost.Event{{
			ConversationID: ev.ConversationID, Kind: KindSuggestion,
			Body: starpost.MustBody(SuggestionBody{MessageSeq: ev.Seq, Items: items}),
		}}, nil
	case KindFeedback:
		var b FeedbackBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		if err := b.Validate(); err != nil {
			return nil, err
		}
		return nil, s.kb.RecordFeedback(ctx, ev.WorkspaceID, ev.ConversationID, ev.Seq, b.ID, b.Helpful)
	}
	return nil, nil
}

// cut shortens s to at most n bytes at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
