package http

import (
	"context"
	"net/http"
	"sort"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bot"
	"github.com/starpost/starpost/kb"
)

// IntentTagRequest is the body of POST /api/v1/conversations/{id}/intent:
// which intent (a published FAQ) the conversation was about. Text, the
// customer's words that ask for it, defaults to the customer's first
// message. Once the conversation is resolved, the tag is a training example
// of the workspace's bot.
type IntentTagRequest struct {
	Intent string `json:"intent"`
	Text   string `json:"text"`
}

// Intent is one intent an agent may tag a conversation with.
type Intent struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Lang  string `json:"lang"`
}

// IntentsResponse is the body of GET /api/v1/bot/intents.
type IntentsResponse struct {
	Items []Intent `json:"items"`
}

// handleIntents lists the intents conversations can be tagged with: the
// workspace's published FAQs, titled by their first question, in title
// order. Agents read it for the tag picker.
func (s *Server) handleIntents(w http.ResponseWriter, r *http.Request) error {
	resp := IntentsResponse{Items: []Intent{}}
	if s.KB != nil {
		faqs, err := s.KB.ListFAQs(r.Context(), principal(r).WorkspaceID, kb.ArticleFilter{Status: kb.StatusPublished})
		if err != nil {
			return err
		}
		for _, f := range faqs {
			if len(f.Questions) > 0 {
				resp.Items = append(resp.Items, Intent{ID: f.ID, Title: f.Questions[0], Lang: f.Lang})
			}
		}
		sort.Slice(resp.Items, func(i, j int) bool { return resp.Items[i].Title < resp.Items[j].Title })
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleTagIntent tags a conversation with an intent. Agents tag what they
// hold or held; supervisors and admins any conversation of the workspace.
// The intent must be a published FAQ of the workspace.
func (s *Server) handleTagIntent(w http.ResponseWriter, r *http.Request) error {
	var req IntentTagRequest
	return s.conversationAction(w, r, &req, false, func(p *starpost.Principal, c *starpost.Conversation) (*starpost.Event, error) {
		if !seesWorkspace(p) && c.AgentID != p.UserID && !holds(p, c) {
			return nil, starpost.Errorf(starpost.EFORBIDDEN, "you do not hold this conversation")
		}
		body := bot.IntentTagBody{Intent: req.Intent, Text: req.Text}
		if body.Text == "" {
			text, err := s.firstCustomerText(r.Context(), p.WorkspaceID, c.ID)
			if err != nil {
				return nil, err
			}
			body.Text = text
		}
		if err := body.Validate(); err != nil {
			return nil, err
		}
		if s.KB == nil {
			return nil, starpost.FieldError("intent", "this server has no knowledge base")
		}
		f, err := s.KB.FAQ(r.Context(), p.WorkspaceID, body.Intent)
		if starpost.ErrorCode(err) == starpost.ENOTFOUND || err == nil && f.Status != kb.StatusPublished {
			return nil, starpost.FieldError("intent", "no published FAQ %s in this workspace", body.Intent)
		} else if err != nil {
			return nil, err
		}
		body.IntentTitle = f.Questions[0]
		return &starpost.Event{Kind: bot.KindIntentTagged, Actor: actorOf(p), Body: starpost.MustBody(body)}, nil
	})
}

// firstCustomerText returns the text of the customer's first message in a
// conversation (an attachment alone has none), or a field error on text
// when there is none to use.
func (s *Server) firstCustomerText(ctx context.Context, ws, conv string) (string, error) {
	f := starpost.EventFilter{WorkspaceID: ws, ConversationID: conv, Kinds: []starpost.EventKind{starpost.KindMessage}}
	for {
		evs, err := s.Store.ListEvents(ctx, f)
		if err != nil {
			return "", err
		}
		for _, e := range evs {
			var b starpost.MessageBody
			if e.Actor.Role == starpost.RoleCustomer && e.DecodeBody(&b) == nil && b.Text != "" {
				return b.Text, nil
			}
		}
		if len(evs) < starpost.MaxEventPage {
			return "", starpost.FieldError("text", "the conversation has no customer message: give the text to learn from")
		}
		f.AfterCursor = evs[len(evs)-1].Cursor
	}
}
