package http_test

import (
	"testing"

	"github.com/starpost/starpost"
)

// TestPreferences: a user's own settings round-trip and follow them to a
// second session; an API token has no user and gets 403; an unknown field
// is refused and writes nothing.
func TestPreferences(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("Acme")
	phone, laptop := e.login(tn.agent), e.login(tn.agent)
	var p starpost.Preferences
	phone.mustJSON("GET", "/api/v1/me/preferences", nil, 200, &p)
	if p.MaskAbuse != nil {
		t.Fatalf("default preferences %+v", p)
	}
	phone.mustJSON("PUT", "/api/v1/me/preferences", map[string]any{"mask_abuse": false}, 200, &p)
	laptop.mustJSON("GET", "/api/v1/me/preferences", nil, 200, &p)
	if p.MaskAbuse == nil || *p.MaskAbuse {
		t.Fatalf("preferences on the second session %+v", p)
	}
	if r := laptop.do("PUT", "/api/v1/me/preferences", map[string]any{"mask": true}); r.status != 400 {
		t.Fatalf("unknown field: status %d: %s", r.status, r.body)
	}
	if r := e.withToken(tn.token).do("GET", "/api/v1/me/preferences", nil); r.status != 403 {
		t.Fatalf("API token: status %d: %s", r.status, r.body)
	}
	got, err := e.db.Preferences(e.ctx, tn.ws.ID, tn.agent.ID)
	if err != nil || got.MaskAbuse == nil || *got.MaskAbuse {
		t.Fatalf("stored %+v, %v", got, err)
	}
}
