package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/emotion"
	sphttp "github.com/starpost/starpost/http"
)

func withCanned(t *testing.T, e *env) { // newEnv wires the canned store; this reopens it (idempotent table)
	t.Helper()
	s, err := canned.Open(e.ctx, canned.Options{SQL: e.db.SQL(), Driver: e.db.Driver(), Clock: e.clock})
	must(t, err)
	e.srv.Canned = s
}

func TestCannedRoutes(t *testing.T) {
	e := newEnv(t)
	withCanned(t, e)
	a, b := e.newTenant("alpha"), e.newTenant("beta")
	// The second agent is in team Blue.
	a.agent2.TeamID = a.team.ID
	must(t, e.db.UpdateUser(e.ctx, a.agent2))
	admin, agent, agent2, sup := e.login(a.admin), e.login(a.agent), e.login(a.agent2), e.login(a.supervisor)

	var refund, blue canned.Reply
	admin.mustJSON("POST", "/api/v1/canned", map[string]string{"title": "Refund", "shortcut": "/Refund", "body": "Hi {{customer.name}}, refunded.", "lang": "en"}, 201, &refund)
	if refund.Shortcut != "refund" || refund.UpdatedBy != a.admin.ID || refund.WorkspaceID != a.ws.ID {
		t.Fatalf("created %+v", refund)
	}
	admin.mustJSON("POST", "/api/v1/canned", map[string]string{"title": "Blue only", "shortcut": "blue", "body": "For team Blue.", "team_id": a.team.ID}, 201, &blue)

	// Validation and access: 4xx with a message, nothing written.
	for _, tt := range []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"agent cannot create", agent, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "x", "body": "x"}, 403, ""},
		{"supervisor cannot create", sup, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "x", "body": "x"}, 403, ""},
		{"anonymous cannot list", e.anon(), "GET", "/api/v1/canned", nil, 401, ""},
		{"no title", admin, "POST", "/api/v1/canned", map[string]string{"shortcut": "x", "body": "x"}, 400, "title"},
		{"space in shortcut", admin, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "a b", "body": "x"}, 400, "shortcut"},
		{"empty body", admin, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "x", "body": " "}, 400, "body"},
		{"bad lang", admin, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "x", "body": "x", "lang": "fr"}, 400, "lang"},
		{"other tenant's team", admin, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "x", "body": "x", "team_id": b.team.ID}, 400, "team_id"},
		{"unknown field", admin, "POST", "/api/v1/canned", `{"title":"x","shortcut":"x","body":"x","color":"red"}`, 400, ""},
		{"not JSON", admin, "POST", "/api/v1/canned", `{"title":`, 400, ""},
		{"duplicate shortcut", admin, "POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "REFUND", "body": "x", "lang": "en"}, 409, ""},
		{"bad list lang", agent, "GET", "/api/v1/canned?lang=fr", nil, 400, "lang"},
		{"patch to a clash", admin, "PATCH", "/api/v1/canned/" + blue.ID, map[string]string{"shortcut": "refund", "lang": "en"}, 409, ""},
		{"patch unknown team", admin, "PATCH", "/api/v1/canned/" + blue.ID, map[string]string{"team_id": "tm_nope"}, 400, "team_id"},
		{"agent cannot delete", agent, "DELETE", "/api/v1/canned/" + refund.ID, nil, 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.do(tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status >= 400 && tt.status != 401 && tt.status != 403 {
				eb := r.errorBody(t)
				if eb.Message == "" || tt.field != "" && eb.Field != tt.field {
					t.Fatalf("error %+v, want field %q", eb, tt.field)
				}
			}
		})
	}

	list := func(c *client, q string) string {
		var out sphttp.ListResponse[canned.Reply]
		c.mustJSON("GET", "/api/v1/canned"+q, nil, 200, &out)
		var s []string
		for _, r := range out.Items {
			s = append(s, r.Shortcut)
		}
		return strings.Join(s, ",")
	}
	for _, tt := range []struct {
		who  string
		c    *client
		q    string
		want string
	}{
		{"agent outside the team", agent, "", "refund"},
		{"agent in team Blue", agent2, "", "blue,refund"},
		{"agent in Chinese", agent2, "?lang=zh", "blue"},
		{"supervisor sees all", sup, "", "blue,refund"},
		{"admin sees all", admin, "", "blue,refund"},
	} {
		if got := list(tt.c, tt.q); got != tt.want {
			t.Errorf("%s lists %q, want %q", tt.who, got, tt.want)
		}
	}

	// Tenants never reach each other's replies.
	adminB := e.login(b.admin)
	if got := list(adminB, ""); got != "" {
		t.Errorf("beta lists %q", got)
	}
	adminB.mustJSON("PATCH", "/api/v1/canned/"+refund.ID, map[string]string{"body": "stolen"}, 404, nil)
	adminB.mustJSON("DELETE", "/api/v1/canned/"+refund.ID, nil, 404, nil)
	adminB.mustJSON("POST", "/api/v1/canned", map[string]string{"title": "Refund", "shortcut": "refund", "body": "beta's own", "lang": "en"}, 201, nil)

	var up canned.Reply
	admin.mustJSON("PATCH", "/api/v1/canned/"+refund.ID, map[string]string{"body": "Refunded, {{customer.name}}."}, 200, &up)
	if up.Body != "Refunded, {{customer.name}}." || up.Shortcut != "refund" {
		t.Fatalf("patched %+v", up)
	}
	admin.mustJSON("DELETE", "/api/v1/canned/"+refund.ID, nil, 204, nil)
	admin.mustJSON("DELETE", "/api/v1/canned/"+refund.ID, nil, 404, nil)
	if got := list(admin, ""); got != "blue" {
		t.Errorf("after delete %q", got)
	}

	// Without the canned store the list is empty and writes say so.
	e.srv.Canned = nil
	if got := list(admin, ""); got != "" {
		t.Errorf("no store lists %q", got)
	}
	admin.mustJSON("POST", "/api/v1/canned", map[string]string{"title": "x", "shortcut": "x", "body": "x"}, 503, nil)
}

func TestAgentDirectory(t *testing.T) {
	e := newEnv(t)
	a, b := e.newTenant("alpha"), e.newTenant("beta")
	a.agent2.SiteID = a.site.ID
	must(t, e.db.UpdateUser(e.ctx, a.agent2))
	_ = b
	agent := e.login(a.agent2)
	agent.mustJSON("PUT", "/api/v1/me/presence", map[string]string{"presence": "available"}, 200, nil)
	var dir sphttp.DirectoryResponse
	r := e.login(a.agent).mustJSON("GET", "/api/v1/directory", nil, 200, &dir)
	if strings.Contains(string(r.body), "@") || strings.Contains(string(r.body), "skills") || strings.Contains(string(r.body), b.ws.ID) {
		t.Fatalf("the directory shows too much: %s", r.body)
	}
	if len(dir.Agents) != 4 || len(dir.Queues) != 1 || dir.Queues[0].ID != a.queue.ID {
		t.Fatalf("directory %+v", dir)
	}
	for _, x := range dir.Agents {
		if x.ID == a.agent2.ID && (x.Site != "Home" || x.Presence != starpost.PresenceAvailable || x.Name != "agent2") {
			t.Errorf("agent2 is %+v", x)
		}
		if x.ID == a.agent.ID && x.Presence != starpost.PresenceOffline {
			t.Errorf("agent is %+v", x)
		}
	}
	e.anon().mustJSON("GET", "/api/v1/directory", nil, 401, nil)
}

func TestWellbeing(t *testing.T) {
	e := newEnv(t)
	a := e.newTenant("alpha")
	b := e.newTenant("beta")
	a.agent.SiteID = a.site.ID // Asia/Shanghai
	must(t, e.db.UpdateUser(e.ctx, a.agent))
	hostile := func(tn *tenant, conv string, kind starpost.EventKind, agent, reason string) {
		t.Helper()
		var body any = emotion.CoachingBody{AgentID: agent, Reason: reason}
		if kind == emotion.KindAlert {
			body = emotion.AlertBody{AgentID: agent, Reason: reason}
		}
		_, err := e.db.Append(e.ctx, &starpost.Event{WorkspaceID: tn.ws.ID, ConversationID: conv, Kind: kind,
			Actor: starpost.Actor{Role: starpost.RoleSystem, ID: emotion.EngineName}, Body: starpost.MustBody(body)})
		must(t, err)
	}
	get := func(c *client) sphttp.WellbeingResponse {
		t.Helper()
		var out sphttp.WellbeingResponse
		c.mustJSON("GET", "/api/v1/me/wellbeing", nil, 200, &out)
		return out
	}
	// Yesterday (2025-11-11 17:00 in Shanghai): one hostile conversation.
	old := e.assigned(a, a.agent, "old")
	hostile(a, old.ID, emotion.KindCoaching, a.agent.ID, "escalating")
	e.clock.Advance(24 * time.Hour) // 2025-11-12 09:00 UTC, 17:00 in Shanghai
	c1 := e.assigned(a, a.agent, "c1")
	c2 := e.assigned(a, a.agent, "c2")
	c3 := e.assigned(a, a.agent2, "c3")
	hostile(a, c1.ID, emotion.KindCoaching, a.agent.ID, "escalating")
	hostile(a, c1.ID, emotion.KindCoaching, a.agent.ID, "escalating") // the same conversation counts once
	hostile(a, c2.ID, emotion.KindCoaching, a.agent.ID, "abuse")
	hostile(a, c2.ID, emotion.KindAlert, a.agent.ID, "abuse")
	hostile(a, c3.ID, emotion.KindAlert, a.agent2.ID, "abuse")
	bc := e.assigned(b, b.agent, "b1")
	hostile(b, bc.ID, emotion.KindAlert, b.agent.ID, "abuse")

	agent, agent2 := e.login(a.agent), e.login(a.agent2)
	w := get(agent)
	if w.Date != "2025-11-12" || w.TimeZone != "Asia/Shanghai" || w.Hostile != 2 || w.Abusive != 1 || w.BreakAfter != sphttp.DefaultBreakAfter || w.SuggestBreak {
		t.Fatalf("agent: %+v", w)
	}
	if w2 := get(agent2); w2.Hostile != 1 || w2.Abusive != 1 || w2.TimeZone != "UTC" || w2.Conversations[0] != c3.ID {
		t.Fatalf("agent2: %+v", w2)
	}
	if wb := get(e.login(b.agent)); wb.Hostile != 1 || wb.Conversations[0] != bc.ID {
		t.Fatalf("beta's agent: %+v", wb)
	}

	// The workspace's threshold decides the break suggestion.
	e.srv.Wellbeing = map[string]sphttp.WellbeingPolicy{a.ws.ID: {BreakAfter: 2}}
	if w := get(agent); !w.SuggestBreak || w.BreakAfter != 2 {
		t.Fatalf("threshold 2: %+v", w)
	}
	// At 01:00 the next day in Shanghai (17:00 UTC) the count starts again
	// for the agent of the Shanghai site; in UTC it is still the same day.
	e.clock.Advance(8 * time.Hour)
	if w := get(agent); w.Hostile != 0 || w.Date != "2025-11-13" || w.SuggestBreak {
		t.Fatalf("next day in Shanghai: %+v", w)
	}
	if w2 := get(agent2); w2.Hostile != 1 || w2.Date != "2025-11-12" {
		t.Fatalf("same day in UTC: %+v", w2)
	}
	e.withToken(a.token).mustJSON("GET", "/api/v1/me/wellbeing", nil, 403, nil)
	e.anon().mustJSON("GET", "/api/v1/me/wellbeing", nil, 401, nil)
}
