package http

import (
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/starpost/starpost"
)

// CallbackRequest is the body of POST /api/v1/widget/callbacks: a customer
// whom a surge limit turned away leaves a message and a way to reach them.
//
// The request is stored durably as an ordinary conversation of the
// visitor's contact, so nothing new is needed for agents to see, route,
// answer or report on it: on the email channel when the customer left an
// email address, on the voice channel (a call back) when they left only a
// phone number. The first message holds the customer's text and contact
// details; the subject starts with "Callback". Because the surge limit
// counts only waiting chat conversations, callbacks never count against it
// and never hold a chat slot: the router offers them to agents with free
// email or voice capacity, which during a chat surge is when the chat load
// lets them, and they wait in the queue, in order, until then.
type CallbackRequest struct {
	QueueID        string `json:"queue_id"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	Phone          string `json:"phone"`
	Text           string `json:"text"`
	IdempotencyKey string `json:"idempotency_key"`
}

// Validate trims the request's fields and checks them: a message, and an
// email address or a phone number (digits, spaces, +, -, parentheses, 5 to
// 20 digits).
func (c *CallbackRequest) Validate() error {
	c.Name, c.Email, c.Phone, c.Text = strings.TrimSpace(c.Name), strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone), strings.TrimSpace(c.Text)
	if utf8.RuneCountInString(c.Name) > starpost.MaxNameLen {
		return starpost.FieldError("name", "longer than %d characters", starpost.MaxNameLen)
	}
	if c.Email == "" && c.Phone == "" {
		return starpost.FieldError("email", "leave an email address or a phone number")
	}
	if c.Email != "" {
		a, err := mail.ParseAddress(c.Email)
		if err != nil || a.Address != c.Email || len(c.Email) > 254 {
			return starpost.FieldError("email", "not an email address")
		}
	}
	if c.Phone != "" {
		digits := 0
		for _, r := range c.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '+' || r == '-' || r == '(' || r == ')' || r == ' ' || r == '.':
			default:
				return starpost.FieldError("phone", "may hold only digits, spaces and + - ( ) .")
			}
		}
		if digits < 5 || digits > 20 || len(c.Phone) > 32 {
			return starpost.FieldError("phone", "must have 5 to 20 digits")
		}
	}
	if c.Text == "" {
		return starpost.FieldError("text", "required")
	}
	if !utf8.ValidString(c.Text) || strings.ContainsFunc(c.Text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return starpost.FieldError("text", "must be text")
	}
	return nil
}

// channel is where the callback conversation lives.
func (c *CallbackRequest) channel() starpost.Channel {
	if c.Email != "" {
		return starpost.ChannelEmail
	}
	return starpost.ChannelVoice
}

// message is the conversation's first message: the customer's text, then
// how to reach them.
func (c *CallbackRequest) message() string {
	var b strings.Builder
	b.WriteString(c.Text)
	b.WriteString("\n\n—")
	for _, f := range []struct{ label, v string }{{"name", c.Name}, {"email", c.Email}, {"phone", c.Phone}} {
		if f.v != "" {
			fmt.Fprintf(&b, " %s: %s;", f.label, f.v)
		}
	}
	return strings.TrimSuffix(b.String(), ";")
}

// handleCallback stores a visitor's leave-a-message / callback request as a
// conversation (see CallbackRequest). The waiting and in-flight-write
// limits never refuse it; the visitor's rate and the overload limit apply.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	var req CallbackRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(r, req.IdempotencyKey)
	if err != nil {
		return err
	}
	if key == "" {
		return starpost.FieldError("idempotency_key", "required: send an Idempotency-Key header or idempotency_key field")
	}
	if len(key) > starpost.MaxKeyLen-5 {
		return starpost.FieldError("idempotency_key", "longer than %d bytes", starpost.MaxKeyLen-5)
	}
	if err := req.Validate(); err != nil {
		return err
	}
	text := req.message()
	if utf8.RuneCountInString(text) > starpost.MaxMessageLen {
		return starpost.FieldError("text", "longer than %d characters", starpost.MaxMessageLen-200)
	}
	subject := "Callback: " + req.Text
	if r := []rune(subject); len(r) > 80 {
		subject = string(r[:79]) + "…"
	}
	subject = strings.Join(strings.Fields(subject), " ")
	customer := starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID}
	return s.startConversation(w, r, startParams{
		workspaceID: v.WorkspaceID, channel: req.channel(), identity: v.VisitorID,
		queueID: req.QueueID, subject: subject, text: text, key: "cb:" + key,
		actor:     func(string) starpost.Actor { return customer },
		contactID: v.ContactID,
	})
}
