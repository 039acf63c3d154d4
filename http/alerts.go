package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/starpost/starpost"
)

// Alerts of the emotion engine, for a supervisor's wall that opens after
// they were raised.
const (
	// DefaultAlertHours is how far back GET /api/v1/alerts looks by default.
	DefaultAlertHours = 12
	// MaxAlertHours bounds ?hours=.
	MaxAlertHours = 72
	// MaxAlerts is the most alerts GET /api/v1/alerts returns.
	MaxAlerts = 50
)

// AlertsResponse is the body of GET /api/v1/alerts: the newest first.
type AlertsResponse struct {
	Items []*starpost.Event `json:"items"`
}

// handleAlerts lists the workspace's recent alerts: the emotion engine's
// "alert" events (abuse) and its "coaching" events for a customer whose
// anger escalates, newest first, so a wall opened later still shows them.
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) error {
	hours := DefaultAlertHours
	if v := r.URL.Query().Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAlertHours {
			return starpost.FieldError("hours", "must be 1 to %d", MaxAlertHours)
		}
		hours = n
	}
	ws := principal(r).WorkspaceID
	from, err := s.firstCursorSince(r.Context(), ws, s.Clock.Now().Add(-time.Duration(hours)*time.Hour))
	if err != nil {
		return err
	}
	var out []*starpost.Event
	after := from - 1
	for {
		evs, err := s.Store.ListEvents(r.Context(), starpost.EventFilter{WorkspaceID: ws, AfterCursor: after,
			Kinds: []starpost.EventKind{"alert", "coaching"}})
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.Kind == "coaching" && !escalating(e) {
				continue
			}
			out = append(out, e)
		}
		if len(evs) < starpost.MaxEventPage {
			break
		}
		after = evs[len(evs)-1].Cursor
	}
	// Newest first, at most MaxAlerts.
	items := make([]*starpost.Event, 0, min(len(out), MaxAlerts))
	for i := len(out) - 1; i >= 0 && len(items) < MaxAlerts; i-- {
		items = append(items, out[i])
	}
	writeJSON(w, http.StatusOK, AlertsResponse{Items: items})
	return nil
}

// escalating reports whether a coaching event is about a customer whose
// anger escalates (as opposed to one about abuse, which has its alert).
func escalating(e *starpost.Event) bool {
	var b struct {
		Reason string `json:"reason"`
	}
	return json.Unmarshal(e.Body, &b) == nil && b.Reason == "escalating"
}
