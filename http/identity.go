package http

import (
	"net/http"

	"github.com/starpost/starpost/auth"
)

// WidgetIdentityResponse is the body of GET /api/v1/widget-identity.
type WidgetIdentityResponse struct {
	// Secret keys the HMAC-SHA256 that a business's server computes over a
	// user's id to identify that user to the widget (data-user-id and
	// data-user-hash). Keep it on the server: whoever holds it can sign in
	// as any of the business's users.
	Secret string `json:"secret"`
	// Algorithm is "HMAC-SHA256, hex", for the record.
	Algorithm string `json:"algorithm"`
}

// identitySecret is workspace ws's widget identity secret: derived from the
// server's secret, so every node of a cluster computes the same one and
// nothing is stored. It changes only with the server's secret.
func (s *Server) identitySecret(ws string) []byte {
	return []byte(auth.HMACHex(s.Secret, "widget-identity\x00"+ws))
}

// handleWidgetIdentity shows an admin the workspace's widget identity
// secret.
func (s *Server) handleWidgetIdentity(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, WidgetIdentityResponse{Secret: string(s.identitySecret(principal(r).WorkspaceID)), Algorithm: "HMAC-SHA256, hex"})
	return nil
}
