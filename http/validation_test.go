package http_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
)

// snapshot is everything a write could change in a workspace, as seen
// through the store.
type snapshot struct {
	Cursor                                    int64
	Users, Sites, Skills, Teams, Queues, Toks int
	Convs                                     []string
	UserRow, QueueRow                         string
}

func (e *env) snapshot(tn *tenant) snapshot {
	e.t.Helper()
	ctx, ws := e.ctx, tn.ws.ID
	var s snapshot
	var err error
	s.Cursor, err = e.db.LastCursor(ctx, ws)
	must(e.t, err)
	users, err := e.db.ListUsers(ctx, ws)
	must(e.t, err)
	sites, err := e.db.ListSites(ctx, ws)
	must(e.t, err)
	skills, err := e.db.ListSkills(ctx, ws)
	must(e.t, err)
	teams, err := e.db.ListTeams(ctx, ws)
	must(e.t, err)
	queues, err := e.db.ListQueues(ctx, ws)
	must(e.t, err)
	toks, err := e.db.ListAPITokens(ctx, ws)
	must(e.t, err)
	convs, err := e.db.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws, Limit: 1000})
	must(e.t, err)
	s.Users, s.Sites, s.Skills, s.Teams, s.Queues, s.Toks = len(users), len(sites), len(skills), len(teams), len(queues), len(toks)
	for _, c := range convs {
		s.Convs = append(s.Convs, c.ID+"/"+string(c.State)+"/"+itoa(c.LastSeq))
	}
	u, err := e.db.FindUser(ctx, ws, tn.agent.ID)
	must(e.t, err)
	q, err := e.db.FindQueue(ctx, ws, tn.queue.ID)
	must(e.t, err)
	s.UserRow = string(starpost.MustBody(u))
	s.QueueRow = string(starpost.MustBody(q))
	return s
}

// TestMalformedWritesWriteNothing sends malformed requests to every write
// endpoint of the route table and checks each gets a 4xx with a message and
// leaves the workspace untouched.
func TestMalformedWritesWriteNothing(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	conv := e.assigned(tn, tn.agent, "customer-1")
	admin := e.login(tn.admin)
	vis := e.visitor(tn.ws.ID)
	var started sphttp.ConversationResponse
	vis.mustJSON("POST", "/api/v1/widget/conversations", map[string]string{"text": "hi"}, 201, &started)

	ids := map[string]string{
		"/api/v1/users/":                tn.agent.ID,
		"/api/v1/queues/":               tn.queue.ID,
		"/api/v1/tokens/":               tn.tokenID,
		"/api/v1/conversations/":        conv.ID,
		"/api/v1/widget/conversations/": started.Conversation.ID,
		"/api/v1/widget/":               tn.ws.ID,
	}
	long := strings.Repeat("x", starpost.MaxMessageLen+1)
	// Bodies of the right shape with a wrong type or a missing or invalid
	// value, per route.
	specific := map[string][]string{
		"POST /api/v1/login":                              {`{"email":1,"password":"x"}`, `{}`, `{"email":"a@b.c"}`},
		"PUT /api/v1/me/presence":                         {`{"presence":true}`, `{}`, `{"presence":"asleep"}`},
		"POST /api/v1/users":                              {`{"email":"a@b.c","name":"n","skills":"x"}`, `{}`, `{"email":"nope","name":"n"}`, `{"email":"a@b.c","name":"n","password":"short"}`, `{"email":"a@b.c","name":"n","role":"god"}`},
		"PATCH /api/v1/users/{id}":                        {`{"capacity":{"chat":"x"}}`, `{"capacity":{"fax":1}}`, `{"skills":[{"skill_id":"","level":1}]}`, `{"name":""}`},
		"POST /api/v1/sites":                              {`{"name":1}`, `{}`, `{"name":"x","time_zone":"Mars/Base"}`},
		"POST /api/v1/skills":                             {`{"name":[]}`, `{}`, `{"name":"   "}`},
		"POST /api/v1/teams":                              {`{"name":{}}`, `{}`},
		"POST /api/v1/queues":                             {`{"name":"q","priority":"high"}`, `{}`, `{"name":"q","priority":500}`},
		"PATCH /api/v1/queues/{id}":                       {`{"offer_timeout":"x"}`, `{"offer_timeout":-1}`, `{"name":""}`},
		"POST /api/v1/tokens":                             {`{"name":"t","role":7}`, `{}`, `{"name":"t","role":"root"}`},
		"POST /api/v1/conversations":                      {`{"channel":"chat","identity":5}`, `{}`, `{"channel":"fax","identity":"x"}`, `{"channel":"chat","identity":"x","priority":101}`},
		"POST /api/v1/conversations/{id}/messages":        {`{"text":5}`, `{}`, `{"text":"` + long + `","idempotency_key":"k"}`, `{"text":"  ","idempotency_key":"k"}`},
		"POST /api/v1/conversations/{id}/notes":           {`{"text":{}}`, `{}`},
		"POST /api/v1/conversations/{id}/transfer":        {`{"to_agent_id":1}`, `{}`, `{"to_agent_id":"a","to_queue_id":"b"}`},
		"POST /api/v1/conversations/{id}/resolve":         {`{"reason":1}`},
		"POST /api/v1/conversations/{id}/reopen":          {`{"reason":false}`},
		"POST /api/v1/conversations/{id}/close":           {`{"reason":[]}`},
		"POST /api/v1/conversations/{id}/assign":          {`{"agent_id":1}`, `{}`},
		"POST /api/v1/widget/{workspace}/session":         {`{"name":1}`},
		"POST /api/v1/widget/conversations":               {`{"queue_id":1}`, `{"subject":"` + strings.Repeat("s", 300) + `"}`},
		"POST /api/v1/widget/conversations/{id}/messages": {`{"text":1}`, `{}`, `{"text":"hi"}`},
	}
	common := []struct {
		name, body, contentType string
	}{
		{"malformed", `{`, "application/json"},
		{"not an object", `[]`, "application/json"},
		{"unknown field", `{"unknown_field":1}`, "application/json"},
		{"trailing data", `{} {}`, "application/json"},
		{"wrong content type", `{}`, "text/plain"},
		{"too large", `{"text":"` + strings.Repeat("a", 300<<10) + `"}`, "application/json"},
	}

	before := e.snapshot(tn)
	seen := map[string]bool{}
	for _, rt := range admin.e.srv.Routes() {
		if rt.Method == "GET" || rt.Pattern == "/api/v1/logout" {
			continue
		}
		if strings.HasSuffix(rt.Pattern, "/attachments") {
			continue // raw file bodies, not JSON: see TestAttachmentRefusals
		}
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		// The longest matching prefix names the id: /api/v1/widget/ must
		// not win over /api/v1/widget/conversations/ by map order.
		path, best := rt.Pattern, ""
		for prefix := range ids {
			if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
				best = prefix
			}
		}
		if best != "" {
			path = strings.NewReplacer("{id}", ids[best], "{workspace}", ids[best]).Replace(path)
		}
		c := admin
		switch rt.Access {
		case sphttp.AccessVisitor:
			c = vis
		case sphttp.AccessPublic:
			c = e.anon()
		}
		type tc struct{ name, body, ct string }
		var cases []tc
		for _, cm := range common {
			cases = append(cases, tc{cm.name, cm.body, cm.contentType})
		}
		for i, b := range specific[key] {
			cases = append(cases, tc{"specific " + itoa(int64(i)), b, "application/json"})
		}
		for _, cs := range cases {
			t.Run(key+"/"+cs.name, func(t *testing.T) {
				r := c.do(rt.Method, path, cs.body, "Content-Type", cs.ct)
				if r.status < 400 || r.status >= 500 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				eb := r.errorBody(t)
				if eb.Message == "" || eb.Code == "" {
					t.Fatalf("error without code or message: %s", r.body)
				}
				if r.status == 400 && eb.Field == "" {
					t.Fatalf("400 without a field: %s", r.body)
				}
				if cs.name == "too large" && r.status != 413 {
					t.Fatalf("too large: status %d", r.status)
				}
			})
		}
	}
	for k := range specific {
		if !seen[k] {
			t.Errorf("specific cases for %s, which is not a write route", k)
		}
	}
	if after := e.snapshot(tn); !reflect.DeepEqual(before, after) {
		t.Fatalf("malformed requests wrote something:\nbefore %+v\nafter  %+v", before, after)
	}
}
