package http

import (
	"net/http"

	"github.com/starpost/starpost"
)

// handlePreferences returns the signed-in user's own settings.
func (s *Server) handlePreferences(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := needUser(p); err != nil {
		return err
	}
	prefs, err := s.Store.Preferences(r.Context(), p.WorkspaceID, p.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prefs)
	return nil
}

// handleSetPreferences replaces the signed-in user's own settings, so that
// they follow the user to every device.
func (s *Server) handleSetPreferences(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := needUser(p); err != nil {
		return err
	}
	var prefs starpost.Preferences
	if err := s.decode(w, r, &prefs); err != nil {
		return err
	}
	if err := s.Store.SetPreferences(r.Context(), p.WorkspaceID, p.UserID, &prefs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prefs)
	return nil
}
