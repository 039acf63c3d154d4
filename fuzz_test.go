package starpost_test

import (
	"encoding/json"
	"testing"

	"github.com/starpost/starpost"
)

// FuzzEventApply feeds outside-shaped events (any kind, any body) to Validate
// and Apply: neither may panic, and every refusal is a domain error with a
// code a client can be shown.
func FuzzEventApply(f *testing.F) {
	f.Add("message", "customer", `{"text":"hi"}`)
	f.Add("offer", "system", `{"agent_id":"ag_a","expires_at":"2026-11-11T00:00:00Z"}`)
	f.Add("assigned", "agent", `{"agent_id":"ag_a","by":"accept"}`)
	f.Add("transferred", "agent", `{"to_queue_id":"qu_2","note":"x"}`)
	f.Add("state", "agent", `{"state":"resolved"}`)
	f.Add("joined", "supervisor", `{"role":"supervisor","id":"su"}`)
	f.Add("created", "customer", `{"channel":"chat","contact_id":"c","queue_id":"q"}`)
	f.Add("emotion", "system", `[1,2,3]`)
	f.Fuzz(func(t *testing.T, kind, role, body string) {
		e := &starpost.Event{WorkspaceID: "ws_1", ConversationID: "cv_1", Kind: starpost.EventKind(kind),
			Actor: starpost.Actor{Role: starpost.ParticipantRole(role), ID: "ag_a"}, Body: json.RawMessage(body), At: t0}
		if err := e.Validate(); err != nil {
			if starpost.ErrorCode(err) != starpost.EINVALID {
				t.Fatalf("Validate: %v is not an invalid-input error", err)
			}
			return
		}
		c, err := apply(created(), ev(starpost.KindOffer, starpost.System, starpost.OfferBody{AgentID: "ag_a"}))
		if err != nil {
			t.Fatal(err)
		}
		e.Seq = 3
		if err := c.Apply(e); err != nil {
			switch starpost.ErrorCode(err) {
			case starpost.EINVALID, starpost.ECONFLICT, starpost.EFORBIDDEN:
			default:
				t.Fatalf("Apply(%s %s): %v", kind, body, err)
			}
			return
		}
		if !c.State.Valid() {
			t.Fatalf("Apply(%s %s) left state %q", kind, body, c.State)
		}
		if c.State == starpost.StateOffered && c.OfferedTo == "" || c.State.HeldByAgent() && c.AgentID == "" {
			t.Fatalf("Apply(%s %s) left %s with offered_to %q agent %q", kind, body, c.State, c.OfferedTo, c.AgentID)
		}
	})
}
