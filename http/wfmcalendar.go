package http

import (
	"net/http"

	"github.com/starpost/starpost/wfm/plan"
)

// WFMEventRequest is the body of POST /api/v1/wfm/events: a day (local
// date YYYY-MM-DD), the kind of event (11.11, 618, launch) and the queue
// (empty: every queue).
type WFMEventRequest struct {
	QueueID string `json:"queue_id"`
	Day     string `json:"day"`
	Kind    string `json:"kind"`
}

// WFMEventsResponse is the body of GET /api/v1/wfm/events.
type WFMEventsResponse struct {
	Items []plan.CalendarEvent `json:"items"`
}

// handleWFMEvents lists the events calendar: all of it, or with ?queue_id=
// the queue's events and those for every queue.
func (s *Server) handleWFMEvents(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	items, err := svc.ListEvents(r.Context(), principal(r).WorkspaceID, r.URL.Query().Get("queue_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, WFMEventsResponse{Items: items})
	return nil
}

// handleWFMAddEvent puts a sale, festival or launch day on the calendar;
// the next forecast of the queue applies the uplift its kind had before.
func (s *Server) handleWFMAddEvent(w http.ResponseWriter, r *http.Request) error {
	var req WFMEventRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	e, err := svc.AddEvent(r.Context(), principal(r).WorkspaceID, plan.CalendarEvent{QueueID: req.QueueID, Day: req.Day, Kind: req.Kind})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// handleWFMDeleteEvent takes an event off the calendar.
func (s *Server) handleWFMDeleteEvent(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	svc, err := s.wfm()
	if err != nil {
		return err
	}
	if err := svc.DeleteEvent(r.Context(), principal(r).WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
