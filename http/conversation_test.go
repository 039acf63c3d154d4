package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

func TestConversationLifecycle(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	agent, sup := e.login(tn.agent), e.login(tn.supervisor)

	c := e.startConversation(tn, "customer-1")
	if c.State != starpost.StateQueued || c.QueueID != tn.queue.ID || c.LastSeq != 2 {
		t.Fatalf("created %+v", c)
	}
	// Not offered yet: the agent cannot see it.
	if r := agent.do("GET", "/api/v1/conversations/"+c.ID, nil); r.status != 404 {
		t.Fatalf("agent reads unoffered conversation: %d", r.status)
	}
	e.offer(tn.ws.ID, c.ID, tn.agent.ID)
	var list sphttp.ListResponse[*starpost.Conversation]
	agent.mustJSON("GET", "/api/v1/conversations?open=true", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID != c.ID {
		t.Fatalf("agent list %+v", list.Items)
	}
	path := "/api/v1/conversations/" + c.ID
	agent.mustJSON("POST", path+"/accept", nil, 200, nil)

	// Messages need an idempotency key; a retry returns the original.
	msg := map[string]string{"text": "How can I help?"}
	if r := agent.do("POST", path+"/messages", msg); r.status != 400 || r.errorBody(t).Field != "idempotency_key" {
		t.Fatalf("message without key: %d %s", r.status, r.body)
	}
	var first, again starpost.Event
	agent.mustJSON("POST", path+"/messages", msg, 201, &first, "Idempotency-Key", "k-1")
	agent.mustJSON("POST", path+"/messages", msg, 201, &again, "Idempotency-Key", "k-1")
	if first.Cursor == 0 || first.Cursor != again.Cursor || first.Seq != again.Seq {
		t.Fatalf("retry gave %+v, first %+v", again, first)
	}
	// The body field works too, and must agree with the header.
	agent.mustJSON("POST", path+"/messages", map[string]string{"text": "more", "idempotency_key": "k-2"}, 201, nil)
	if r := agent.do("POST", path+"/messages", map[string]string{"text": "x", "idempotency_key": "a"}, "Idempotency-Key", "b"); r.status != 400 {
		t.Fatalf("disagreeing keys: %d", r.status)
	}
	// Another client's key is not a way to read its event.
	other := e.withToken(tn.token)
	if r := other.do("POST", path+"/messages", map[string]string{"text": "x"}, "Idempotency-Key", "k-1"); r.status != 409 {
		t.Fatalf("foreign key reuse: %d %s", r.status, r.body)
	}

	agent.mustJSON("POST", path+"/notes", map[string]string{"text": "VIP customer"}, 201, nil)
	// Agent2 may not write into it.
	agent2 := e.login(tn.agent2)
	if r := agent2.do("POST", path+"/messages", msg, "Idempotency-Key", "z"); r.status != 404 {
		t.Fatalf("other agent writes: %d", r.status)
	}
	// Supervisor must join before writing, then may.
	if r := sup.do("POST", path+"/messages", msg, "Idempotency-Key", "s-1"); r.status != 403 {
		t.Fatalf("supervisor writes without joining: %d", r.status)
	}
	sup.mustJSON("POST", path+"/join", nil, 200, nil)
	sup.mustJSON("POST", path+"/messages", msg, 201, nil, "Idempotency-Key", "s-1")

	// Transfer to agent2 with a note, resolve, reopen, force-assign, close.
	agent.mustJSON("POST", path+"/transfer", map[string]string{"to_agent_id": tn.agent2.ID, "note": "billing"}, 200, nil)
	if r := agent.do("POST", path+"/resolve", nil); r.status != 404 {
		t.Fatalf("resolve after transfer away: %d", r.status)
	}
	agent2.mustJSON("POST", path+"/resolve", map[string]string{"reason": "answered"}, 200, nil)
	agent2.mustJSON("POST", path+"/reopen", nil, 200, nil)
	sup.mustJSON("POST", path+"/assign", map[string]string{"agent_id": tn.agent.ID}, 200, nil)
	if r := sup.do("POST", path+"/assign", map[string]string{"agent_id": "us_nobody"}); r.status != 404 || r.errorBody(t).Field != "agent_id" {
		t.Fatalf("assign to unknown agent: %d %s", r.status, r.body)
	}
	agent.mustJSON("POST", path+"/close", nil, 200, nil)
	if r := agent.do("POST", path+"/resolve", nil); r.status != 409 {
		t.Fatalf("resolve closed: %d", r.status)
	}

	var page sphttp.EventPage
	sup.mustJSON("GET", path+"/events?after=0&limit=3", nil, 200, &page)
	if len(page.Items) != 3 || !page.HasMore {
		t.Fatalf("page %+v", page)
	}
	var rest sphttp.EventPage
	sup.mustJSON("GET", path+"/events?after="+itoa(page.NextCursor), nil, 200, &rest)
	kinds := []starpost.EventKind{}
	for _, ev := range append(page.Items, rest.Items...) {
		kinds = append(kinds, ev.Kind)
	}
	want := []starpost.EventKind{"created", "message", "offer", "assigned", "message", "message", "note", "joined", "message", "transferred", "state", "state", "assigned", "state"}
	if !equalKinds(kinds, want) {
		t.Fatalf("kinds %v\nwant  %v", kinds, want)
	}

	// Decline: a second conversation offered to agent2, who declines it.
	c2 := e.startConversation(tn, "customer-2")
	e.offer(tn.ws.ID, c2.ID, tn.agent2.ID)
	var ended starpost.Event
	agent2.mustJSON("POST", "/api/v1/conversations/"+c2.ID+"/decline", nil, 200, &ended)
	var b starpost.OfferEndBody
	if err := json.Unmarshal(ended.Body, &b); err != nil || b.Reason != "declined" || ended.Kind != starpost.KindOfferEnd {
		t.Fatalf("decline event %+v", ended)
	}

	// The contact is readable by supervisors, not by an agent without its
	// conversation.
	sup.mustJSON("GET", "/api/v1/contacts/"+c2.ContactID, nil, 200, nil)
	if r := agent.do("GET", "/api/v1/contacts/"+c2.ContactID, nil); r.status != 404 {
		t.Fatalf("agent reads unrelated contact: %d", r.status)
	}
}

func TestDirectoryWritesAppendDirectoryEvents(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	admin := e.login(tn.admin)
	before, err := e.db.LastCursor(e.ctx, tn.ws.ID)
	must(t, err)

	var u starpost.User
	admin.mustJSON("POST", "/api/v1/users", map[string]any{
		"email": "new@acme.test", "name": "New", "role": "agent", "password": "long enough pw",
		"site_id": tn.site.ID, "team_id": tn.team.ID, "skills": []map[string]any{{"skill_id": tn.skill.ID, "level": 3}},
		"capacity": map[string]int{"chat": 4},
	}, 201, &u)
	admin.mustJSON("PATCH", "/api/v1/users/"+u.ID, map[string]any{"capacity": map[string]int{"chat": 2}, "role": "supervisor"}, 200, &u)
	if u.Capacity[starpost.ChannelChat] != 2 || u.Role != starpost.RoleSupervisor || u.SiteID != tn.site.ID {
		t.Fatalf("updated %+v", u)
	}
	var q starpost.Queue
	admin.mustJSON("POST", "/api/v1/queues", map[string]any{"name": "VIP", "priority": 10,
		"skills": []map[string]any{{"skill_id": tn.skill.ID, "min_level": 2}}}, 201, &q)
	admin.mustJSON("PATCH", "/api/v1/queues/"+q.ID, map[string]any{"offer_timeout": 20}, 200, &q)
	if q.OfferTimeout != 20 || q.Priority != 10 || q.Name != "VIP" {
		t.Fatalf("queue %+v", q)
	}
	var tok starpost.APIToken
	admin.mustJSON("POST", "/api/v1/tokens", map[string]string{"name": "crm", "role": "agent"}, 201, &tok)
	if tok.Secret == "" {
		t.Fatal("no secret")
	}
	var me sphttp.MeResponse
	e.withToken(tok.Secret).mustJSON("GET", "/api/v1/me", nil, 200, &me)
	if me.TokenID != tok.ID || me.Role != starpost.RoleAgent {
		t.Fatalf("token me %+v", me)
	}
	var toks sphttp.ListResponse[starpost.APIToken]
	admin.mustJSON("GET", "/api/v1/tokens", nil, 200, &toks)
	for _, x := range toks.Items {
		if x.Secret != "" {
			t.Fatal("list shows a secret")
		}
	}
	admin.mustJSON("DELETE", "/api/v1/tokens/"+tok.ID, nil, 204, nil)
	if r := e.withToken(tok.Secret).do("GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("deleted token: %d", r.status)
	}

	evs, err := e.db.ListEvents(e.ctx, starpost.EventFilter{WorkspaceID: tn.ws.ID, AfterCursor: before, Kinds: []starpost.EventKind{starpost.KindDirectory}})
	must(t, err)
	var objects []string
	for _, ev := range evs {
		var b starpost.DirectoryBody
		must(t, json.Unmarshal(ev.Body, &b))
		objects = append(objects, b.Object)
	}
	want := []string{"user", "user", "queue", "queue", "token", "token"}
	if len(objects) != len(want) {
		t.Fatalf("directory events %v, want %v", objects, want)
	}
	for i := range want {
		if objects[i] != want[i] {
			t.Fatalf("directory events %v, want %v", objects, want)
		}
	}
	// The new user can sign in with the password set by the admin.
	e.anon().mustJSON("POST", "/api/v1/login", map[string]string{"email": "new@acme.test", "password": "long enough pw"}, 200, nil)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func equalKinds(a, b []starpost.EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMeCursorAndListLimit: GET /me tells a client where the stream stands
// now and its own presence; the conversation list is bounded.
func TestMeCursorAndListLimit(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	agent, sup := e.login(tn.agent), e.login(tn.supervisor)
	for i := range 3 {
		e.startConversation(tn, fmt.Sprintf("customer-%d", i))
	}
	agent.mustJSON("PUT", "/api/v1/me/presence", map[string]string{"presence": "available"}, 200, nil)
	var me sphttp.MeResponse
	agent.mustJSON("GET", "/api/v1/me", nil, 200, &me)
	last, err := e.db.LastCursor(context.Background(), tn.ws.ID)
	must(t, err)
	if me.Cursor != last || me.Cursor == 0 || me.Presence == nil || me.Presence.Presence != starpost.PresenceAvailable {
		t.Fatalf("me: cursor %d (store %d), presence %+v", me.Cursor, last, me.Presence)
	}
	var list sphttp.ListResponse[*starpost.Conversation]
	sup.mustJSON("GET", "/api/v1/conversations?limit=2", nil, 200, &list)
	if len(list.Items) != 2 {
		t.Fatalf("limit=2 gave %d", len(list.Items))
	}
	for _, bad := range []string{"0", "-1", "501", "x"} {
		if r := sup.do("GET", "/api/v1/conversations?limit="+bad, nil); r.status != 400 || r.errorBody(t).Field != "limit" {
			t.Fatalf("limit=%s: %d %s", bad, r.status, r.body)
		}
	}
}
