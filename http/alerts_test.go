package http_test

import (
	"testing"
	"time"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// TestAlerts: a supervisor sees the workspace's recent abuse alerts and the
// coaching of escalating anger, newest first; other coaching, other
// tenants' alerts and agents are left out; ?hours= is checked.
func TestAlerts(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	other := e.newTenant("other")
	conv := e.assigned(tn, tn.agent, "angry-1")
	otherConv := e.assigned(other, other.agent, "angry-2")
	add := func(ws, c string, kind starpost.EventKind, body map[string]string) {
		t.Helper()
		_, err := e.db.Append(e.ctx, &starpost.Event{WorkspaceID: ws, ConversationID: c, Kind: kind, Actor: starpost.System,
			Body: starpost.MustBody(body)})
		must(t, err)
	}
	add(tn.ws.ID, conv.ID, "coaching", map[string]string{"reason": "escalating"})
	add(tn.ws.ID, conv.ID, "coaching", map[string]string{"reason": "abuse"})
	add(tn.ws.ID, conv.ID, "alert", map[string]string{"reason": "abuse", "agent_id": tn.agent.ID})
	add(other.ws.ID, otherConv.ID, "alert", map[string]string{"reason": "abuse"})

	var got sphttp.AlertsResponse
	e.login(tn.supervisor).mustJSON("GET", "/api/v1/alerts", nil, 200, &got)
	if len(got.Items) != 2 || got.Items[0].Kind != "alert" || got.Items[1].Kind != "coaching" || got.Items[0].WorkspaceID != tn.ws.ID {
		t.Fatalf("alerts %+v", got.Items)
	}
	// 90 minutes later the same events are within the last 2 hours, not the last hour.
	e.clock.Advance(90 * time.Minute)
	e.login(tn.supervisor).mustJSON("GET", "/api/v1/alerts?hours=2", nil, 200, &got)
	if len(got.Items) != 2 {
		t.Fatalf("within 2 hours: %d", len(got.Items))
	}
	e.login(tn.supervisor).mustJSON("GET", "/api/v1/alerts?hours=1", nil, 200, &got)
	if len(got.Items) != 0 {
		t.Fatalf("within 1 hour: %d", len(got.Items))
	}
	for _, bad := range []string{"0", "73", "x"} {
		if r := e.login(tn.supervisor).do("GET", "/api/v1/alerts?hours="+bad, nil); r.status != 400 || r.errorBody(t).Field != "hours" {
			t.Errorf("hours=%s: %d", bad, r.status)
		}
	}
	if r := e.login(tn.agent).do("GET", "/api/v1/alerts", nil); r.status != 403 {
		t.Errorf("agent: %d", r.status)
	}
}
