package http

import (
	"context"
	"net/http"

	"github.com/starpost/starpost/bot"
)

// BotModelLister lists a workspace's bot model versions, newest first;
// *bot.Models implements it.
type BotModelLister interface {
	Versions(ctx context.Context, ws string) ([]bot.ModelInfo, error)
}

// BotModelsResponse is the body of GET /api/v1/bot/models.
type BotModelsResponse struct {
	Items []bot.ModelInfo `json:"items"`
}

// handleBotModels lists the versions of the workspace's bot intent model:
// when each was trained, on which knowledge-base revision, and its
// cross-validated quality, so a supervisor can see what the bot answers
// with.
func (s *Server) handleBotModels(w http.ResponseWriter, r *http.Request) error {
	resp := BotModelsResponse{Items: []bot.ModelInfo{}}
	if s.BotModels != nil {
		items, err := s.BotModels.Versions(r.Context(), principal(r).WorkspaceID)
		if err != nil {
			return err
		}
		if items != nil {
			resp.Items = items
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
