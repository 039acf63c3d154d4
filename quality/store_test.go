package quality_test

import (
	"context"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// world is a database with the QA engine and indexer, run by hand on each
// conversation (the runner is tested in TestEngineThroughStoreAndBus).
type world struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	qs  *quality.Store
	qa  *quality.Engine
	ix  *quality.Indexer
}

func newWorld(t *testing.T, dsn string) *world {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts := quality.StoreOptions{SQL: db.SQL(), Driver: db.Driver(), Conversations: db, Clock: &fixedClock{t0.Add(48 * time.Hour)}}
	if _, err := quality.Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	qs, err := quality.Open(ctx, opts) // idempotent
	if err != nil {
		t.Fatal(err)
	}
	qa, err := quality.NewEngine(db, quality.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	qa.UseStore(qs)
	return &world{t: t, ctx: ctx, db: db, qs: qs, qa: qa, ix: quality.NewIndexer(qs, db)}
}

// tenant creates a workspace with two agents at two sites in two teams.
func (w *world) tenant(name string) (ws string, ada, bob *starpost.User) {
	t := w.t
	t.Helper()
	wk := &starpost.Workspace{Name: name}
	must(t, w.db.CreateWorkspace(w.ctx, wk))
	var users []*starpost.User
	for _, n := range []string{"ada", "bob"} {
		site := &starpost.Site{WorkspaceID: wk.ID, Name: n + " town", TimeZone: "Asia/Shanghai"}
		must(t, w.db.CreateSite(w.ctx, site))
		team := &starpost.Team{WorkspaceID: wk.ID, Name: n + " team"}
		must(t, w.db.CreateTeam(w.ctx, team))
		u := &starpost.User{WorkspaceID: wk.ID, Email: n + "@" + wk.ID + ".test", Name: n, Role: starpost.RoleAgent, SiteID: site.ID, TeamID: team.ID}
		must(t, w.db.CreateUser(w.ctx, u, ""))
		users = append(users, u)
	}
	return wk.ID, users[0], users[1]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// line is one step of a conversation: who ("c" customer, "a" agent, "r"
// resolve, "csat" rating) at an offset from the start.
type line struct {
	d    time.Duration
	who  string
	text string
}

// converse stores a conversation handled by agent starting at start, runs
// the QA engine on its resolution (and rating) and indexes the scores.
func (w *world) converse(ws string, agent *starpost.User, start time.Time, lines ...line) string {
	t := w.t
	t.Helper()
	q := &starpost.Queue{WorkspaceID: ws, Name: "Q" + starpost.NewID("q")[:8], OfferTimeout: 60}
	must(t, w.db.CreateQueue(w.ctx, q))
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	ag := starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent.ID}
	app := func(e *starpost.Event) *starpost.Event {
		t.Helper()
		evs, err := w.db.Append(w.ctx, e)
		must(t, err)
		return evs[0]
	}
	conv := app(&starpost.Event{WorkspaceID: ws, Kind: starpost.KindCreated, Actor: cust, At: start,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: q.ID})}).ConversationID
	app(&starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindAssigned, Actor: starpost.System, At: start.Add(time.Second),
		Body: starpost.MustBody(starpost.AssignedBody{AgentID: agent.ID, By: "router"})})
	run := func(ev *starpost.Event) {
		t.Helper()
		out, err := w.qa.Handle(w.ctx, ev)
		must(t, err)
		for _, o := range out {
			o.WorkspaceID, o.Actor = ws, starpost.Actor{Role: starpost.RoleSystem, ID: quality.EngineName}
			c := app(o)
			if _, err := w.ix.Handle(w.ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, l := range lines {
		e := &starpost.Event{WorkspaceID: ws, ConversationID: conv, At: start.Add(l.d)}
		switch l.who {
		case "c":
			e.Kind, e.Actor, e.Body = starpost.KindMessage, cust, starpost.MustBody(starpost.MessageBody{Text: l.text})
		case "a":
			e.Kind, e.Actor, e.Body = starpost.KindMessage, ag, starpost.MustBody(starpost.MessageBody{Text: l.text})
		case "r":
			e.Kind, e.Actor, e.Body = starpost.KindState, ag, starpost.MustBody(starpost.StateBody{State: starpost.StateResolved})
		case "csat":
			e.Kind, e.Actor, e.Body = "csat", cust, starpost.MustBody(map[string]any{"score": int(l.text[0] - '0'), "comment": l.text[1:]})
		}
		run(app(e))
	}
	return conv
}

var (
	day1 = time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	day2 = day1.Add(24 * time.Hour)
)

// goodChat is well handled; ignoredChat leaves the customer 6 minutes.
var (
	goodChat = []line{{10 * time.Second, "c", "你好，我的快递还没到"}, {20 * time.Second, "a", "您好，我帮您查一下快递"},
		{40 * time.Second, "a", "已经发出，明天到，请问还有其他问题吗？"}, {50 * time.Second, "c", "没有了，谢谢"}, {time.Minute, "r", ""}}
	ignoredChat = []line{{10 * time.Second, "c", "hello"}, {20 * time.Second, "a", "Hello, how can I help?"},
		{30 * time.Second, "c", "my card is blocked"}, {7 * time.Minute, "a", "Unblocked. Anything else?"}, {8 * time.Minute, "c", "thanks"},
		{9 * time.Minute, "r", ""}}
)

func dialects(t *testing.T, run func(t *testing.T, w *world)) {
	for _, tc := range pgtest.Backends(nil) {
		t.Run(tc.Name, func(t *testing.T) { run(t, newWorld(t, tc.DSN(t))) })
	}
}

func ptr[T any](v T) *T { return &v }

func TestStoreScorecardsAndReviews(t *testing.T) {
	dialects(t, func(t *testing.T, w *world) {
		ctx := w.ctx
		wsA, ada, bob := w.tenant("Acme")
		wsB, eve, _ := w.tenant("Other")
		good := w.converse(wsA, ada, day1, goodChat...)
		ignored := w.converse(wsA, bob, day1.Add(time.Hour), ignoredChat...)
		// Day 2: rated 2 of 5 after the resolution (a re-score).
		rated := w.converse(wsA, ada, day2, append(goodChat[:len(goodChat):len(goodChat)], line{2 * time.Minute, "csat", "1慢"})...)
		other := w.converse(wsB, eve, day1, ignoredChat...)

		list := func(f quality.ScorecardFilter) []string {
			t.Helper()
			cs, err := w.qs.List(ctx, f)
			must(t, err)
			var ids []string
			for _, c := range cs {
				ids = append(ids, c.ConversationID)
			}
			return ids
		}
		filters := []struct {
			name string
			f    quality.ScorecardFilter
			want []string
		}{
			{"all, newest first", quality.ScorecardFilter{WorkspaceID: wsA}, []string{rated, ignored, good}},
			{"agent", quality.ScorecardFilter{WorkspaceID: wsA, AgentID: bob.ID}, []string{ignored}},
			{"team", quality.ScorecardFilter{WorkspaceID: wsA, TeamID: ada.TeamID}, []string{rated, good}},
			{"site", quality.ScorecardFilter{WorkspaceID: wsA, SiteID: bob.SiteID}, []string{ignored}},
			{"date range", quality.ScorecardFilter{WorkspaceID: wsA, From: day2, To: day2.Add(24 * time.Hour)}, []string{rated}},
			{"score below 50", quality.ScorecardFilter{WorkspaceID: wsA, ScoreBelow: ptr(50)}, []string{ignored}},
			{"auto-failed", quality.ScorecardFilter{WorkspaceID: wsA, Failed: ptr(true)}, []string{ignored}},
			{"other tenant", quality.ScorecardFilter{WorkspaceID: wsB}, []string{other}},
			{"limit", quality.ScorecardFilter{WorkspaceID: wsA, Limit: 1}, []string{rated}},
		}
		for _, f := range filters {
			if got := list(f.f); !equal(got, f.want) {
				t.Errorf("%s: %v, want %v", f.name, got, f.want)
			}
		}

		c, err := w.qs.Get(ctx, wsA, rated, 0)
		must(t, err)
		if c.CSAT != 1 || c.FailedByRule[quality.RuleCSAT] != 1 || c.AutoScore >= 100 {
			t.Errorf("rated card: csat %d, failed %v, score %d", c.CSAT, c.FailedByRule, c.AutoScore)
		}
		c, err = w.qs.Get(ctx, wsA, ignored, 0)
		must(t, err)
		if !c.AutoFailed || c.Score != 0 || c.FailedByRule[quality.RuleIgnoredCustomer] != 1 || c.TeamID != bob.TeamID ||
			c.FirstResponseSeconds == nil || *c.FirstResponseSeconds != 10 {
			t.Fatalf("ignored card %+v", c)
		}
		if _, err := w.qs.Get(ctx, wsB, ignored, 0); starpost.ErrorCode(err) != starpost.ENOTFOUND {
			t.Errorf("another tenant's card: %v", err)
		}

		// Reviews: validation, then an override that lifts the auto-fail.
		bad := []struct {
			name string
			ws   string
			r    quality.Review
			code string
		}{
			{"no items", wsA, quality.Review{}, starpost.EINVALID},
			{"unknown rule", wsA, quality.Review{Items: []quality.ItemReview{{Rule: "tone", Passed: true, Comment: "x"}}}, starpost.EINVALID},
			{"change without comment", wsA, quality.Review{Items: []quality.ItemReview{{Rule: quality.RuleIgnoredCustomer, Passed: true}}}, starpost.EINVALID},
			{"rule twice", wsA, quality.Review{Items: []quality.ItemReview{{Rule: quality.RuleGreeting, Passed: true}, {Rule: quality.RuleGreeting, Passed: true}}}, starpost.EINVALID},
			{"stale version", wsA, quality.Review{Version: 3, Items: []quality.ItemReview{{Rule: quality.RuleGreeting, Passed: true}}}, starpost.ECONFLICT},
			{"other tenant", wsB, quality.Review{Items: []quality.ItemReview{{Rule: quality.RuleGreeting, Passed: true}}}, starpost.ENOTFOUND},
		}
		for _, b := range bad {
			if _, err := w.qs.SaveReview(ctx, b.ws, ignored, 0, "us_boss", b.r); starpost.ErrorCode(err) != b.code {
				t.Errorf("%s: %v, want %s", b.name, err, b.code)
			}
		}
		r := quality.Review{Items: []quality.ItemReview{
			{Rule: quality.RuleIgnoredCustomer, Passed: true, Comment: "the customer said to take time"},
			{Rule: quality.RuleGreeting, Passed: true}}}
		c, err = w.qs.SaveReview(ctx, wsA, ignored, 0, "us_boss", r)
		must(t, err)
		if c.Failed || c.Score == 0 || c.AutoScore != 0 || c.ReviewVersion != 1 || c.ReviewedBy != "us_boss" || len(c.Overrides) != 2 {
			t.Fatalf("reviewed card %+v", c)
		}
		wantScore := c.Score
		if _, err := w.qs.SaveReview(ctx, wsA, ignored, 0, "us_other", r); starpost.ErrorCode(err) != starpost.ECONFLICT {
			t.Errorf("second review of version 0: %v", err)
		}
		r2 := quality.Review{Version: 1, Items: []quality.ItemReview{{Rule: quality.RuleIgnoredCustomer, Passed: false, Comment: "on second look, no"}}}
		c, err = w.qs.SaveReview(ctx, wsA, ignored, 0, "us_lead", r2)
		must(t, err)
		if !c.Failed || c.Score != 0 || c.ReviewVersion != 2 {
			t.Fatalf("re-reviewed card %+v", c)
		}
		chs, err := w.qs.Changes(ctx, wsA, ignored, c.ResolvedSeq)
		must(t, err)
		if len(chs) != 3 || chs[2].By != "us_lead" || chs[2].NewPassed || chs[2].OldPassed == nil || !*chs[2].OldPassed ||
			chs[2].AutoPassed == nil || *chs[2].AutoPassed || !chs[2].At.Equal(t0.Add(48*time.Hour)) {
			t.Errorf("changes %+v", chs)
		}
		// Replaying the score keeps the review.
		evs, err := w.db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: wsA, ConversationID: ignored, Kinds: []starpost.EventKind{quality.KindScore}})
		must(t, err)
		_, err = w.ix.Handle(ctx, evs[0])
		must(t, err)
		r3 := quality.Review{Version: 2, Items: []quality.ItemReview{{Rule: quality.RuleIgnoredCustomer, Passed: true, Comment: "final"}}}
		c, err = w.qs.SaveReview(ctx, wsA, ignored, 0, "us_boss", r3)
		must(t, err)
		if c.Score != wantScore {
			t.Errorf("score %d after the third review, want %d", c.Score, wantScore)
		}

		d, err := w.qs.Detail(ctx, wsA, ignored, 0)
		must(t, err)
		if len(d.Transcript) != 5 || len(d.Changes) != 4 {
			t.Errorf("detail: %d lines, %d changes", len(d.Transcript), len(d.Changes))
		}
		// Waits: 10 s for the first reply, 6 min 30 s for the second.
		if len(d.Waits) != 2 || d.Waits[0].Seconds != 10 || d.Waits[1].Seconds != 390 || !d.Waits[1].Breach ||
			d.Waits[1].MessageSeq != d.Transcript[2].Seq {
			t.Errorf("waits %+v", d.Waits)
		}
		linked := false
		for _, f := range d.Findings {
			if f.Rule == quality.RuleIgnoredCustomer && f.MessageSeq == d.Transcript[2].Seq && d.Transcript[2].Text == "my card is blocked" {
				linked = true
			}
		}
		if !linked {
			t.Errorf("ignored finding not linked to the waiting message: %+v", d.Findings)
		}

		// Agreement: good reviewed as is; ignored overridden on one item.
		g, err := w.qs.Get(ctx, wsA, good, 0)
		must(t, err)
		_, err = w.qs.SaveReview(ctx, wsA, good, 0, "us_boss", quality.Review{Items: []quality.ItemReview{{Rule: quality.RuleGreeting, Passed: true}}})
		must(t, err)
		ag, n, err := w.qs.Agreement(ctx, wsA, time.Time{}, time.Time{})
		must(t, err)
		if n != 2 {
			t.Fatalf("agreement over %d cards", n)
		}
		for _, a := range ag {
			if a.Rule == quality.RuleIgnoredCustomer {
				// auto: pass (good), fail (ignored); human: pass, pass.
				// p_o = 1/2, p_e = 1/2·1 + 1/2·0 = 1/2: kappa 0.
				if a.N != 2 || a.Changed != 1 || a.Value == nil || math.Abs(*a.Value) > 1e-9 {
					t.Errorf("ignored_customer agreement %+v", a)
				}
			}
			if a.Rule == quality.RuleGreeting && (a.Value != nil || a.Observed != 1) {
				t.Errorf("greeting agreement %+v (all pass on both sides: undefined)", a)
			}
		}
		_ = g

		// Dashboard per agent, in Shanghai time.
		sh, _ := time.LoadLocation("Asia/Shanghai")
		dash, err := w.qs.Dashboard(ctx, quality.DashboardQuery{WorkspaceID: wsA, GroupBy: quality.GroupAgent, From: day1, To: day2.Add(24 * time.Hour), Location: sh})
		must(t, err)
		if len(dash.Days) != 3 || len(dash.Series) != 2 {
			t.Fatalf("dashboard %+v", dash)
		}
		for _, s := range dash.Series {
			switch s.Key {
			case ada.ID:
				if s.Total.Conversations != 2 || s.Days[0].Conversations != 1 || s.Days[1].Conversations != 1 || s.Days[2].AvgScore != nil ||
					s.Total.Ratings != 1 || *s.Total.AvgCSAT != 1 || s.Days[1].Findings[quality.RuleCSAT] != 1 {
					t.Errorf("ada %+v", s)
				}
			case bob.ID:
				if s.Total.Conversations != 1 || *s.Total.AvgScore != float64(wantScore) || *s.Total.AutoFailRate != 0 ||
					*s.Total.AvgFirstResponse != 10 || s.Total.Findings[quality.RuleIgnoredCustomer] != 1 {
					t.Errorf("bob %+v", s.Total)
				}
			default:
				t.Errorf("series %q", s.Key)
			}
		}
		for _, q := range []quality.DashboardQuery{
			{WorkspaceID: wsA, GroupBy: "queue", From: day1, To: day2},
			{WorkspaceID: wsA, From: day2, To: day1},
			{WorkspaceID: wsA, From: day1, To: day1.AddDate(2, 0, 0)},
		} {
			if _, err := w.qs.Dashboard(ctx, q); starpost.ErrorCode(err) != starpost.EINVALID {
				t.Errorf("dashboard %+v: %v", q, err)
			}
		}
		site, err := w.qs.Dashboard(ctx, quality.DashboardQuery{WorkspaceID: wsB, GroupBy: quality.GroupSite, From: day1, To: day1})
		must(t, err)
		if len(site.Series) != 1 || site.Series[0].Key != eve.SiteID {
			t.Errorf("other tenant's dashboard %+v", site.Series)
		}
	})
}

func equal(a, b []string) bool {
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

// TestConcurrentReviews: two supervisors save a review of the same
// scorecard version at once: one wins, the other gets ECONFLICT, and the
// history holds the winner's change only.
func TestConcurrentReviews(t *testing.T) {
	dialects(t, func(t *testing.T, w *world) {
		ws, ada, _ := w.tenant("Acme")
		conv := w.converse(ws, ada, day1, ignoredChat...)
		const n = 4
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := w.qs.SaveReview(w.ctx, ws, conv, 0, "us_"+strconv.Itoa(i), quality.Review{Items: []quality.ItemReview{
					{Rule: quality.RuleIgnoredCustomer, Passed: true, Comment: "reviewer " + strconv.Itoa(i)}}})
				errs <- err
			}()
		}
		won := 0
		for range n {
			switch err := <-errs; starpost.ErrorCode(err) {
			case "":
				won++
			case starpost.ECONFLICT:
			default:
				t.Errorf("review: %v", err)
			}
		}
		c, err := w.qs.Get(w.ctx, ws, conv, 0)
		must(t, err)
		chs, err := w.qs.Changes(w.ctx, ws, conv, c.ResolvedSeq)
		must(t, err)
		if won != 1 || len(chs) != 1 || c.ReviewVersion != 1 || chs[0].By != c.ReviewedBy {
			t.Fatalf("%d reviews won, %d changes recorded", won, len(chs))
		}
	})
}

// TestWorkspaceConfig: a workspace saves its own configuration (a required
// disclosure); its next conversations are inspected with it, another
// workspace's are not; saves are versioned.
func TestWorkspaceConfig(t *testing.T) {
	dialects(t, func(t *testing.T, w *world) {
		wsA, ada, _ := w.tenant("Acme")
		wsB, eve, _ := w.tenant("Other")
		sc, err := w.qs.WorkspaceConfig(w.ctx, wsA, quality.DefaultConfig())
		must(t, err)
		if sc.Version != 0 || len(sc.Config.Disclosures) != 0 {
			t.Fatalf("default %+v", sc)
		}
		doc := sc.Config
		doc.Disclosures = []quality.Disclosure{{Name: "recording notice", Phrases: []string{"录音", "recorded"}}}
		saved, err := w.qs.SaveWorkspaceConfig(w.ctx, wsA, "us_admin", 0, doc)
		must(t, err)
		if saved.Version != 1 {
			t.Fatalf("saved %+v", saved)
		}
		if _, err := w.qs.SaveWorkspaceConfig(w.ctx, wsA, "us_admin", 0, doc); starpost.ErrorCode(err) != starpost.ECONFLICT {
			t.Errorf("second first save: %v", err)
		}
		bad := doc
		bad.CSATPass = 0
		if _, err := w.qs.SaveWorkspaceConfig(w.ctx, wsA, "us_admin", 1, bad); starpost.ErrorField(err) != "csat_pass" {
			t.Errorf("invalid save: %v", err)
		}
		got, err := w.qs.WorkspaceConfig(w.ctx, wsA, quality.DefaultConfig())
		must(t, err)
		if got.Version != 1 || got.UpdatedBy != "us_admin" || !reflect.DeepEqual(got.Config, doc) {
			t.Fatalf("read back %+v", got)
		}

		a := w.converse(wsA, ada, day1, goodChat...)
		b := w.converse(wsB, eve, day1, goodChat...)
		ca, err := w.qs.Get(w.ctx, wsA, a, 0)
		must(t, err)
		cb, err := w.qs.Get(w.ctx, wsB, b, 0)
		must(t, err)
		if ca.FailedByRule[quality.RuleDisclosure] != 1 || !ca.Failed || cb.FailedByRule[quality.RuleDisclosure] != 0 || cb.Failed {
			t.Errorf("A %v failed %v; B %v failed %v", ca.FailedByRule, ca.Failed, cb.FailedByRule, cb.Failed)
		}
		// Version 2 drops the disclosure again: the engine sees the change.
		doc.Disclosures = nil
		_, err = w.qs.SaveWorkspaceConfig(w.ctx, wsA, "us_admin", 1, doc)
		must(t, err)
		a2 := w.converse(wsA, ada, day2, goodChat...)
		c2, err := w.qs.Get(w.ctx, wsA, a2, 0)
		must(t, err)
		if c2.FailedByRule[quality.RuleDisclosure] != 0 || c2.Failed {
			t.Errorf("after version 2: %v failed %v", c2.FailedByRule, c2.Failed)
		}
	})
}
