package http_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/starpost/starpost"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/quality"
)

// withQuality gives the env's server a quality store on its database.
func (e *env) withQuality() *quality.Store {
	e.t.Helper()
	qs, err := quality.Open(e.ctx, quality.StoreOptions{SQL: e.db.SQL(), Driver: e.db.Driver(), Conversations: e.db, Clock: e.clock})
	must(e.t, err)
	e.srv.Quality = qs
	return qs
}

// scoredChat stores a chat handled by tn.agent in which the agent leaves
// the customer waiting six minutes (an auto-fail), runs the QA engine on
// its resolution and indexes the score, as the engine runners would.
func (e *env) scoredChat(tn *tenant, start time.Time) string {
	e.t.Helper()
	qa, err := quality.NewEngine(e.db, quality.DefaultConfig(), nil)
	must(e.t, err)
	ix := quality.NewIndexer(e.srv.Quality, e.db)
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	ag := starpost.Actor{Role: starpost.RoleAgentParticipant, ID: tn.agent.ID}
	app := func(e2 *starpost.Event) *starpost.Event {
		evs, err := e.db.Append(e.ctx, e2)
		must(e.t, err)
		return evs[0]
	}
	conv := app(&starpost.Event{WorkspaceID: tn.ws.ID, Kind: starpost.KindCreated, Actor: cust, At: start,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: tn.queue.ID})}).ConversationID
	step := func(d time.Duration, k starpost.EventKind, who starpost.Actor, body any) *starpost.Event {
		return app(&starpost.Event{WorkspaceID: tn.ws.ID, ConversationID: conv, Kind: k, Actor: who, At: start.Add(d), Body: starpost.MustBody(body)})
	}
	step(time.Second, starpost.KindAssigned, starpost.System, starpost.AssignedBody{AgentID: tn.agent.ID, By: "router"})
	step(10*time.Second, starpost.KindMessage, cust, starpost.MessageBody{Text: "hello"})
	step(20*time.Second, starpost.KindMessage, ag, starpost.MessageBody{Text: "Hello, how can I help?"})
	step(30*time.Second, starpost.KindMessage, cust, starpost.MessageBody{Text: "my card is blocked"})
	step(7*time.Minute, starpost.KindMessage, ag, starpost.MessageBody{Text: "Unblocked. Anything else?"})
	res := step(8*time.Minute, starpost.KindState, ag, starpost.StateBody{State: starpost.StateResolved})
	out, err := qa.Handle(e.ctx, res)
	must(e.t, err)
	for _, o := range out {
		o.WorkspaceID, o.Actor = tn.ws.ID, starpost.Actor{Role: starpost.RoleSystem, ID: quality.EngineName}
		_, err := ix.Handle(e.ctx, app(o))
		must(e.t, err)
	}
	return conv
}

func TestQualityReviewFlow(t *testing.T) {
	e := newEnv(t)
	e.withQuality()
	tn := e.newTenant("acme")
	tn.agent.TeamID, tn.agent.SiteID = tn.team.ID, tn.site.ID
	must(t, e.db.UpdateUser(e.ctx, tn.agent))
	day := time.Date(2025, 11, 11, 2, 0, 0, 0, time.UTC)
	conv := e.scoredChat(tn, day)
	sup := e.login(tn.supervisor)

	var list sphttp.ListResponse[quality.Scorecard]
	for _, q := range []string{"", "?agent=" + tn.agent.ID, "?team=" + tn.team.ID, "?site=" + tn.site.ID, "?from=2025-11-11&to=2025-11-11",
		"?score_below=1", "?auto_failed=true", "?reviewed=false", "?from=2025-11-11&tz=Asia/Shanghai"} {
		sup.mustJSON("GET", "/api/v1/quality/scorecards"+q, nil, 200, &list)
		if len(list.Items) != 1 || list.Items[0].ConversationID != conv || !list.Items[0].Failed {
			t.Fatalf("list %q: %+v", q, list.Items)
		}
	}
	for _, q := range []string{"?agent=us_nobody", "?from=2025-11-12", "?to=2025-11-10", "?auto_failed=false", "?reviewed=true"} {
		sup.mustJSON("GET", "/api/v1/quality/scorecards"+q, nil, 200, &list)
		if len(list.Items) != 0 {
			t.Fatalf("list %q: %+v", q, list.Items)
		}
	}

	var d quality.Detail
	sup.mustJSON("GET", "/api/v1/quality/scorecards/"+conv, nil, 200, &d)
	if d.Scorecard.Score != 0 || len(d.Transcript) != 4 || len(d.Findings) == 0 || len(d.Changes) != 0 {
		t.Fatalf("detail %+v", d)
	}
	seq := strconv.FormatInt(d.Scorecard.ResolvedSeq, 10)
	sup.mustJSON("GET", "/api/v1/quality/scorecards/"+conv+"?resolved_seq="+seq, nil, 200, &d)
	if r := sup.do("GET", "/api/v1/quality/scorecards/"+conv+"?resolved_seq=999", nil); r.status != 404 {
		t.Fatalf("another resolution: %d", r.status)
	}
	review := map[string]any{"version": 0, "items": []map[string]any{
		{"rule": quality.RuleIgnoredCustomer, "passed": true, "comment": "the customer asked for time to find the card"}}}
	sup.mustJSON("PUT", "/api/v1/quality/scorecards/"+conv+"/review", review, 200, &d)
	if d.Scorecard.Score == 0 || d.Scorecard.Failed || d.Scorecard.ReviewedBy != tn.supervisor.ID || len(d.Changes) != 1 ||
		d.Changes[0].By != tn.supervisor.ID {
		t.Fatalf("reviewed %+v changes %+v", d.Scorecard, d.Changes)
	}
	// The same review again is stale: version 0 was reviewed.
	if r := sup.do("PUT", "/api/v1/quality/scorecards/"+conv+"/review", review); r.status != 409 {
		t.Fatalf("stale review: %d %s", r.status, r.body)
	}
	sup.mustJSON("GET", "/api/v1/quality/scorecards?reviewed=true&auto_failed=false", nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Score != d.Scorecard.Score {
		t.Fatalf("reviewed list %+v", list.Items)
	}

	var ag sphttp.AgreementResponse
	sup.mustJSON("GET", "/api/v1/quality/agreement", nil, 200, &ag)
	if ag.Reviewed != 1 || len(ag.Items) == 0 {
		t.Fatalf("agreement %+v", ag)
	}
	var dash quality.Dashboard
	sup.mustJSON("GET", "/api/v1/quality/dashboard?group_by=site&from=2025-11-10&to=2025-11-12&tz=Asia/Shanghai", nil, 200, &dash)
	if len(dash.Days) != 3 || len(dash.Series) != 1 || dash.Series[0].Key != tn.site.ID || dash.Series[0].Days[1].Conversations != 1 {
		t.Fatalf("dashboard %+v", dash)
	}
}

func TestQualityValidationAndAccess(t *testing.T) {
	e := newEnv(t)
	e.withQuality()
	tn := e.newTenant("acme")
	conv := e.scoredChat(tn, time.Date(2025, 11, 11, 2, 0, 0, 0, time.UTC))
	sup, agent, anon := e.login(tn.supervisor), e.login(tn.agent), e.anon()
	review := "/api/v1/quality/scorecards/" + conv + "/review"
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/quality/scorecards"}, {"GET", "/api/v1/quality/scorecards/" + conv}, {"PUT", review},
		{"GET", "/api/v1/quality/agreement"}, {"GET", "/api/v1/quality/dashboard?from=2025-11-11&to=2025-11-11"},
	}
	for _, rt := range routes {
		if r := agent.do(rt.method, rt.path, map[string]any{"items": []any{}}); r.status != 403 {
			t.Errorf("agent %s %s: %d", rt.method, rt.path, r.status)
		}
		if r := anon.do(rt.method, rt.path, map[string]any{"items": []any{}}); r.status != 401 {
			t.Errorf("anonymous %s %s: %d", rt.method, rt.path, r.status)
		}
	}
	bad := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"GET", "/api/v1/quality/scorecards?from=11/11/2025", nil, 400, "from"},
		{"GET", "/api/v1/quality/scorecards?from=2025-11-12&to=2025-11-11", nil, 400, "to"},
		{"GET", "/api/v1/quality/scorecards?tz=Mars/Olympus", nil, 400, "tz"},
		{"GET", "/api/v1/quality/scorecards?score_below=abc", nil, 400, "score_below"},
		{"GET", "/api/v1/quality/scorecards?score_below=-1", nil, 400, "score_below"},
		{"GET", "/api/v1/quality/scorecards?auto_failed=maybe", nil, 400, "auto_failed"},
		{"GET", "/api/v1/quality/scorecards?limit=100000", nil, 400, "limit"},
		{"GET", "/api/v1/quality/scorecards/" + conv + "?resolved_seq=0", nil, 400, "resolved_seq"},
		{"GET", "/api/v1/quality/scorecards/cv_missing", nil, 404, ""},
		{"GET", "/api/v1/quality/dashboard", nil, 400, "from"},
		{"GET", "/api/v1/quality/dashboard?from=2025-11-11&to=2025-11-11&group_by=queue", nil, 400, "group_by"},
		{"GET", "/api/v1/quality/dashboard?from=2020-01-01&to=2025-11-11", nil, 400, "to"},
		{"GET", "/api/v1/quality/agreement?to=yesterday", nil, 400, "to"},
		{"PUT", review, "{not json", 400, "body"},
		{"PUT", review, map[string]any{"items": []any{}}, 400, "items"},
		{"PUT", review, map[string]any{"items": []any{map[string]any{"rule": "tone", "passed": true, "comment": "x"}}}, 400, "items"},
		{"PUT", review, map[string]any{"items": []any{map[string]any{"rule": quality.RuleIgnoredCustomer, "passed": true}}}, 400, "items"},
		{"PUT", review, map[string]any{"resolved_seq": -1, "items": []any{}}, 400, "resolved_seq"},
		{"PUT", review, map[string]any{"version": 5, "items": []any{map[string]any{"rule": quality.RuleGreeting, "passed": true}}}, 409, ""},
		{"PUT", "/api/v1/quality/scorecards/cv_missing/review", map[string]any{"items": []any{map[string]any{"rule": quality.RuleGreeting, "passed": true}}}, 404, ""},
	}
	for _, b := range bad {
		r := sup.do(b.method, b.path, b.body)
		if r.status != b.status {
			t.Errorf("%s %s: %d, want %d: %s", b.method, b.path, r.status, b.status, r.body)
			continue
		}
		if b.field != "" {
			if f := r.errorBody(t).Field; f != b.field {
				t.Errorf("%s %s: field %q, want %q", b.method, b.path, f, b.field)
			}
		}
	}
	// Nothing was half-written: the scorecard is still unreviewed.
	var d quality.Detail
	sup.mustJSON("GET", "/api/v1/quality/scorecards/"+conv, nil, 200, &d)
	if d.Scorecard.ReviewVersion != 0 || len(d.Changes) != 0 || len(d.Scorecard.Overrides) != 0 {
		t.Fatalf("after rejected reviews: %+v", d)
	}
	// Without a quality store: lists are empty, the rest unavailable.
	e.srv.Quality = nil
	var list sphttp.ListResponse[quality.Scorecard]
	sup.mustJSON("GET", "/api/v1/quality/scorecards", nil, 200, &list)
	if r := sup.do("GET", "/api/v1/quality/scorecards/"+conv, nil); r.status != 404 || len(list.Items) != 0 {
		t.Fatalf("no store: %d, %d items", r.status, len(list.Items))
	}
	if r := sup.do("PUT", review, map[string]any{"items": []any{map[string]any{"rule": quality.RuleGreeting, "passed": true}}}); r.status != 503 {
		t.Fatalf("no store, review: %d", r.status)
	}
}

func TestQualityTenantIsolation(t *testing.T) {
	e := newEnv(t)
	e.withQuality()
	a, b := e.newTenant("acme"), e.newTenant("other")
	conv := e.scoredChat(a, time.Date(2025, 11, 11, 2, 0, 0, 0, time.UTC))
	supB := e.login(b.supervisor)
	var list sphttp.ListResponse[quality.Scorecard]
	supB.mustJSON("GET", "/api/v1/quality/scorecards?agent="+a.agent.ID, nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("B lists A's scorecards: %+v", list.Items)
	}
	if r := supB.do("GET", "/api/v1/quality/scorecards/"+conv, nil); r.status != 404 {
		t.Fatalf("B reads A's scorecard: %d", r.status)
	}
	if r := supB.do("PUT", "/api/v1/quality/scorecards/"+conv+"/review",
		map[string]any{"items": []any{map[string]any{"rule": quality.RuleIgnoredCustomer, "passed": true, "comment": "mine now"}}}); r.status != 404 {
		t.Fatalf("B reviews A's scorecard: %d", r.status)
	}
	var dash quality.Dashboard
	supB.mustJSON("GET", "/api/v1/quality/dashboard?from=2025-11-11&to=2025-11-11", nil, 200, &dash)
	if len(dash.Series) != 0 {
		t.Fatalf("B's dashboard shows A: %+v", dash.Series)
	}
	var ag sphttp.AgreementResponse
	supB.mustJSON("GET", "/api/v1/quality/agreement", nil, 200, &ag)
	if ag.Reviewed != 0 {
		t.Fatalf("B's agreement %+v", ag)
	}
	// A's supervisor still sees it, unreviewed.
	var d quality.Detail
	e.login(a.supervisor).mustJSON("GET", "/api/v1/quality/scorecards/"+conv, nil, 200, &d)
	if d.Scorecard.ReviewVersion != 0 {
		t.Fatalf("A's card changed: %+v", d.Scorecard)
	}
}

func TestQualityConfigRoutes(t *testing.T) {
	e := newEnv(t)
	e.withQuality()
	a, b := e.newTenant("acme"), e.newTenant("other")
	admin, sup, agent := e.login(a.admin), e.login(a.supervisor), e.login(a.agent)

	var sc quality.StoredConfig
	sup.mustJSON("GET", "/api/v1/quality/config", nil, 200, &sc)
	if sc.Version != 0 || sc.Config.CSATPass != 4 || len(sc.Config.Scorecard) == 0 {
		t.Fatalf("default %+v", sc)
	}
	doc := sc.Config
	doc.Disclosures = []quality.Disclosure{{Name: "recording notice", Phrases: []string{"录音", "recorded"}}}
	body := map[string]any{"version": 0, "config": doc}
	if r := sup.do("PUT", "/api/v1/quality/config", body); r.status != 403 {
		t.Fatalf("supervisor saves: %d", r.status)
	}
	if r := agent.do("GET", "/api/v1/quality/config", nil); r.status != 403 {
		t.Fatalf("agent reads: %d", r.status)
	}
	admin.mustJSON("PUT", "/api/v1/quality/config", body, 200, &sc)
	if sc.Version != 1 || sc.UpdatedBy != a.admin.ID || len(sc.Config.Disclosures) != 1 {
		t.Fatalf("saved %+v", sc)
	}
	bad := []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"version": 0, "config": doc}, 409, ""},
		{map[string]any{"version": 1, "config": map[string]any{"first_response_seconds": 0}}, 400, "first_response_seconds"},
		{map[string]any{"version": 1, "config": map[string]any{"first_response_seconds": 60, "colour": "red"}}, 400, "colour"},
		{map[string]any{"version": -1, "config": doc}, 400, "version"},
		{"[1,2]", 400, "body"},
	}
	for i, c := range bad {
		r := admin.do("PUT", "/api/v1/quality/config", c.body)
		if r.status != c.status || (c.field != "" && r.errorBody(t).Field != c.field) {
			t.Errorf("bad %d: %d %s", i, r.status, r.body)
		}
	}
	sup.mustJSON("GET", "/api/v1/quality/config", nil, 200, &sc)
	if sc.Version != 1 {
		t.Fatalf("after rejected saves: version %d", sc.Version)
	}
	// Tenant B still has the default.
	e.login(b.supervisor).mustJSON("GET", "/api/v1/quality/config", nil, 200, &sc)
	if sc.Version != 0 || len(sc.Config.Disclosures) != 0 {
		t.Fatalf("B sees %+v", sc)
	}
}
