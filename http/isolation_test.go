package http_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/starpost/starpost/canned"
	sphttp "github.com/starpost/starpost/http"
)

// TestTenantIsolation calls every route as workspace A — with an admin
// session, an admin API token and a visitor token — naming workspace B's
// objects, and checks that B's objects are never found, never shown and
// never changed.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	a, b := e.newTenant("alpha"), e.newTenant("beta")
	aConv := e.assigned(a, a.agent, "a-customer")
	bConv := e.assigned(b, b.agent, "b-customer")
	bVis := e.visitor(b.ws.ID)
	var bStarted sphttp.ConversationResponse
	bVis.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "hi"}, 201, &bStarted)
	aVis, aVis2 := e.visitor(a.ws.ID), e.visitor(a.ws.ID)
	var aOther sphttp.ConversationResponse
	aVis2.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "mine"}, 201, &aOther)

	bCanned := &canned.Reply{Title: "B", Shortcut: "b", Body: "B's reply"}
	must(t, e.srv.Canned.Create(e.ctx, b.ws.ID, b.admin.ID, bCanned))

	// B's ids by path prefix.
	bIDs := map[string]string{
		"/api/v1/canned/":        bCanned.ID,
		"/api/v1/users/":         b.agent.ID,
		"/api/v1/queues/":        b.queue.ID,
		"/api/v1/tokens/":        b.tokenID,
		"/api/v1/contacts/":      bConv.ContactID,
		"/api/v1/conversations/": bConv.ID,
		"/api/v1/wfm/agents/":    b.agent.ID, // workforce management: flexible agents
	}
	// Valid bodies, so that only isolation can refuse them.
	bodies := map[string]any{
		"PATCH /api/v1/users/{id}":                 map[string]any{"name": "hacked"},
		"PATCH /api/v1/queues/{id}":                map[string]any{"name": "hacked"},
		"PATCH /api/v1/canned/{id}":                map[string]any{"body": "hacked"},
		"PUT /api/v1/wfm/agents/{id}":              map[string]any{"flexible": true},
		"POST /api/v1/conversations/{id}/messages": map[string]any{"text": "x"},
		"POST /api/v1/conversations/{id}/notes":    map[string]any{"text": "x"},
		"POST /api/v1/conversations/{id}/transfer": map[string]any{"to_queue_id": a.queue.ID},
		"POST /api/v1/conversations/{id}/assign":   map[string]any{"agent_id": a.agent.ID},
		"POST /api/v1/conversations/{id}/intent":   map[string]any{"intent": "fq_1", "text": "x"},
	}
	// Routes without an id in the path that take B's ids in the body.
	bodyRefs := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users", map[string]any{"email": "x1@alpha.test", "name": "x", "site_id": b.site.ID}},
		{"POST", "/api/v1/users", map[string]any{"email": "x2@alpha.test", "name": "x", "team_id": b.team.ID}},
		{"POST", "/api/v1/users", map[string]any{"email": "x3@alpha.test", "name": "x", "skills": []map[string]any{{"skill_id": b.skill.ID, "level": 1}}}},
		{"PATCH", "/api/v1/users/" + a.agent.ID, map[string]any{"site_id": b.site.ID}},
		{"POST", "/api/v1/queues", map[string]any{"name": "q", "skills": []map[string]any{{"skill_id": b.skill.ID, "min_level": 1}}}},
		{"POST", "/api/v1/queues", map[string]any{"name": "q", "overflow": []map[string]any{{"after_seconds": 10, "queue_id": b.queue.ID}}}},
		{"POST", "/api/v1/conversations", map[string]any{"channel": "chat", "identity": "x", "queue_id": b.queue.ID}},
		{"POST", "/api/v1/conversations/" + aConv.ID + "/transfer", map[string]any{"to_agent_id": b.agent.ID}},
		{"POST", "/api/v1/conversations/" + aConv.ID + "/transfer", map[string]any{"to_queue_id": b.queue.ID}},
		{"POST", "/api/v1/conversations/" + aConv.ID + "/assign", map[string]any{"agent_id": b.agent.ID}},
	}

	before := e.snapshot(b)
	for _, who := range []struct {
		name string
		c    *client
	}{{"session", e.login(a.admin)}, {"token", e.withToken(a.token)}} {
		c := who.c
		for _, rt := range e.srv.Routes() {
			key := rt.Method + " " + rt.Pattern
			if rt.Access == sphttp.AccessPublic || rt.Access == sphttp.AccessVisitor || rt.Pattern == "/api/v1/stream" {
				continue
			}
			t.Run(who.name+"/"+key, func(t *testing.T) {
				path := rt.Pattern
				if strings.Contains(path, "{id}") {
					for prefix, id := range bIDs {
						if strings.HasPrefix(path, prefix) {
							path = strings.Replace(path, "{id}", id, 1)
						}
					}
					r := c.do(rt.Method, path, bodies[key], "Idempotency-Key", "iso-"+who.name+rt.Pattern)
					if r.status != 404 {
						t.Fatalf("%s %s with B's id: status %d: %s", rt.Method, path, r.status, r.body)
					}
					return
				}
				if rt.Method != "GET" {
					return // creations in A; references are checked below
				}
				r := c.do("GET", path, nil)
				if r.status >= 500 {
					t.Fatalf("status %d", r.status)
				}
				if strings.Contains(string(r.body), b.ws.ID) {
					t.Fatalf("%s shows workspace B: %s", path, r.body)
				}
			})
		}
		for i, br := range bodyRefs {
			t.Run(who.name+"/ref "+itoa(int64(i)), func(t *testing.T) {
				r := c.do(br.method, br.path, br.body)
				if r.status != 404 {
					t.Fatalf("%s %s naming B's object: status %d: %s", br.method, br.path, r.status, r.body)
				}
			})
		}
	}

	// A visitor of A reaches neither B's conversations nor another visitor's.
	for _, conv := range []string{bStarted.Conversation.ID, bConv.ID, aOther.Conversation.ID, aConv.ID} {
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/widget/conversations/" + conv + "/events", nil},
			{"POST", "/api/v1/widget/conversations/" + conv + "/messages", map[string]string{"text": "x", "idempotency_key": "v-" + conv}},
		} {
			if r := aVis.do(req.method, req.path, req.body); r.status != 404 {
				t.Errorf("visitor %s %s: status %d: %s", req.method, req.path, r.status, r.body)
			}
		}
	}
	var list sphttp.ListResponse[sphttp.VisitorConversation]
	aVis.mustJSON("GET", "/api/v1/widget/conversations", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Errorf("visitor sees %+v", list.Items)
	}
	// The visitor's queue must be in its own workspace.
	if r := aVis.do("POST", "/api/v1/widget/conversations", map[string]string{"queue_id": b.queue.ID}); r.status != 404 {
		t.Errorf("visitor starts in B's queue: %d", r.status)
	}
	// A visitor token is bound to its workspace: B's visitor cannot read A.
	if r := bVis.do("GET", "/api/v1/widget/conversations/"+aOther.Conversation.ID+"/events", nil); r.status != 404 {
		t.Errorf("B's visitor reads A: %d", r.status)
	}

	if after := e.snapshot(b); !reflect.DeepEqual(before, after) {
		t.Fatalf("workspace B changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if got, err := e.srv.Canned.Get(e.ctx, b.ws.ID, bCanned.ID); err != nil || got.Body != "B's reply" {
		t.Fatalf("B's canned reply: %+v, %v", got, err)
	}
}
