package http

import (
	"net/http"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/draft"
)

// FeatureDraft is listed in MeResponse.Features when reply drafting is
// configured.
const FeatureDraft = "draft"

// features lists the optional capabilities this server offers.
func (s *Server) features() []string {
	out := []string{}
	if s.Drafts != nil {
		out = append(out, FeatureDraft)
	}
	return out
}

// handleDraft drafts the agent's next reply in a conversation with the
// configured language model, grounded in the knowledge base. The draft is
// returned to the agent only; nothing is stored or sent to the customer.
func (s *Server) handleDraft(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	if s.Drafts == nil {
		return starpost.Errorf(starpost.ENOTFOUND, "reply drafting is not configured on this server (start it with --llm-url)")
	}
	p := principal(r)
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	turns, err := s.transcript(r, c)
	if err != nil {
		return err
	}
	d, err := s.Drafts.Write(r.Context(), p.WorkspaceID, turns)
	if err != nil {
		return err
	}
	if d.Citations == nil {
		d.Citations = []draft.Source{}
	}
	if d.Sources == nil {
		d.Sources = []draft.Source{}
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// transcript returns the last draft.MaxTurns messages of conversation c.
func (s *Server) transcript(r *http.Request, c *starpost.Conversation) ([]draft.Turn, error) {
	var turns []draft.Turn
	var after int64
	for {
		page, err := s.listEvents(r.Context(), c.WorkspaceID, c.ID, after, 500, func(e *starpost.Event) bool { return e.Kind == starpost.KindMessage })
		if err != nil {
			return nil, err
		}
		for _, e := range page.Items {
			var b starpost.MessageBody
			if e.DecodeBody(&b) != nil || b.Text == "" {
				continue
			}
			role := "agent"
			switch e.Actor.Role {
			case starpost.RoleCustomer, starpost.RoleSimulatedCustomer:
				role = "customer"
			case starpost.RoleBot:
				role = "bot"
			}
			turns = append(turns, draft.Turn{Role: role, Text: b.Text})
		}
		if len(turns) > draft.MaxTurns {
			turns = turns[len(turns)-draft.MaxTurns:]
		}
		if !page.HasMore {
			return turns, nil
		}
		after = page.NextCursor
	}
}
