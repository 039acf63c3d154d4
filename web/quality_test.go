package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/quality"
	"github.com/starpost/starpost/store"
)

// openQuality opens the quality store of a test node.
func openQuality(t *testing.T, ctx context.Context, db *store.DB) *quality.Store {
	t.Helper()
	qs, err := quality.Open(ctx, quality.StoreOptions{SQL: db.SQL(), Driver: db.Driver(), Conversations: db})
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// scoreChat stores a resolved chat of agent in the demo workspace, runs
// the QA engine on it and indexes the score, as the engine runners do. In
// the chat the customer waits wait for the agent's second reply.
func scoreChat(t *testing.T, n *testNode, agentID string, start time.Time, wait time.Duration) (conv string, waited int64) {
	t.Helper()
	ctx := context.Background()
	ws := n.world.Workspace.ID
	qs := openQuality(t, ctx, n.db)
	qa, err := quality.NewEngine(n.db, quality.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ix := quality.NewIndexer(qs, n.db)
	app := func(e *starpost.Event) *starpost.Event {
		t.Helper()
		e.WorkspaceID = ws
		evs, err := n.db.Append(ctx, e)
		if err != nil {
			t.Fatalf("append %s: %v", e.Kind, err)
		}
		return evs[0]
	}
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_qa"}
	ag := starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agentID}
	conv = app(&starpost.Event{Kind: starpost.KindCreated, Actor: cust, At: start,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_qa", QueueID: n.world.Queues[0].ID})}).ConversationID
	step := func(d time.Duration, k starpost.EventKind, who starpost.Actor, body any) *starpost.Event {
		return app(&starpost.Event{ConversationID: conv, Kind: k, Actor: who, At: start.Add(d), Body: starpost.MustBody(body)})
	}
	step(time.Second, starpost.KindAssigned, starpost.System, starpost.AssignedBody{AgentID: agentID, By: "router"})
	step(10*time.Second, starpost.KindMessage, cust, starpost.MessageBody{Text: "Hello"})
	step(20*time.Second, starpost.KindMessage, ag, starpost.MessageBody{Text: "Hello, how can I help?"})
	waited = step(30*time.Second, starpost.KindMessage, cust, starpost.MessageBody{Text: "My card is blocked"}).Seq
	step(30*time.Second+wait, starpost.KindMessage, ag, starpost.MessageBody{Text: "Unblocked it. Anything else?"})
	res := step(time.Minute+wait, starpost.KindState, ag, starpost.StateBody{State: starpost.StateResolved})
	out, err := qa.Handle(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		o.Actor = starpost.Actor{Role: starpost.RoleSystem, ID: quality.EngineName}
		if _, err := ix.Handle(ctx, app(o)); err != nil {
			t.Fatal(err)
		}
	}
	return conv, waited
}

// TestBrowserQuality: a supervisor opens the review screen (three scored
// conversations over two days), reads a
// conversation where the customer was ignored (the finding sits on the
// waiting message), overrides the item with a comment (the score changes,
// the history shows the change and the agreement table appears), then
// opens the dashboards (four accessible line charts with data tables).
// axe-core on both, at desktop and phone sizes, in English and Chinese.
func TestBrowserQuality(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	agents := n.world.Agents()
	now := time.Now().UTC()
	ignored, waited := scoreChat(t, n, agents[0].UserID, now.Add(-3*time.Hour), 6*time.Minute)
	good, _ := scoreChat(t, n, agents[1].UserID, now.Add(-2*time.Hour), 20*time.Second)
	scoreChat(t, n, agents[0].UserID, now.Add(-72*time.Hour), 20*time.Second) // an earlier day: a trend

	sup := newTab(t, browser, sizes[2])
	sv := n.world.Logins[1]
	signIn(t, sup, n.base, "/app/quality", sv.Email, sv.Password, "#qa-list")
	wait(t, sup, "the three scored conversations listed", `document.querySelectorAll('#qa-list tr[data-conv]').length === 3`)
	if got := eval[string](t, sup, `document.querySelector('#qa-list tr[data-conv="`+good+`"] .score').textContent`); got != "100" {
		t.Errorf("the good chat's score %q, want 100", got)
	}
	do(t, sup, "open the ignored chat", chromedp.Click(chromedp.CSS(`button[data-open="`+ignored+`"]`)))
	wait(t, sup, "its scorecard", `document.querySelector('#qa-score')?.textContent.startsWith('Score 0')`)
	wait(t, sup, "the ignored finding on the waiting message", `document.querySelector('#m-`+itoa(waited)+`.flagged .qa-badges')?.textContent.includes('Ignored customer')`)
	wait(t, sup, "the long wait marked", `document.querySelector('#qa-waits tr.breach th a')?.getAttribute('href') === '#m-`+itoa(waited)+`'`)
	do(t, sup, "follow the finding's link to the message", chromedp.Click(chromedp.CSS(`.qa-findings li[data-rule="ignored_customer"] a`)))
	wait(t, sup, "the message focused", `document.activeElement.id === 'm-`+itoa(waited)+`'`)
	sh.take(sup, "desktop-quality-review")
	audit(t, sup, "the review screen", "")

	// A change without a comment is refused by the server and shown.
	do(t, sup, "pass the ignored item", chromedp.SetValue(chromedp.CSS("#qa-item-ignored_customer"), "pass"))
	do(t, sup, "save without a comment", chromedp.Click(chromedp.CSS("#qa-save")))
	wait(t, sup, "the error shown", `document.querySelector('.qa-items .error').textContent.includes('comment')`)
	do(t, sup, "comment and save", chromedp.SendKeys(chromedp.CSS("#qa-note-ignored_customer"), "The customer asked for time to find the card"),
		chromedp.Click(chromedp.CSS("#qa-save")))
	wait(t, sup, "the overridden score", `/^Score [1-9][0-9]* \(automatic 0\)$/.test(document.querySelector('#qa-score').textContent)`)
	wait(t, sup, "the change in the history", `document.querySelector('#qa-history tbody tr')?.textContent.includes('The customer asked for time')`)
	wait(t, sup, "the list updated", `document.querySelector('#qa-list tr[data-conv="`+ignored+`"] .score').textContent !== '0 ✗'`)
	wait(t, sup, "the agreement per item", `document.querySelector('#qa-agreement tr[data-rule="ignored_customer"] .kappa') !== null`)
	qs := openQuality(t, context.Background(), n.db)
	card, err := qs.Get(context.Background(), n.world.Workspace.ID, ignored, 0)
	if err != nil {
		t.Fatal(err)
	}
	shown := eval[string](t, sup, `document.querySelector('#qa-score').textContent`)
	if card.Score == 0 || card.Failed || card.ReviewedBy != sv.UserID || !strings.HasPrefix(shown, "Score "+itoa(int64(card.Score))) {
		t.Errorf("stored card score %d failed %v by %q; page shows %q", card.Score, card.Failed, card.ReviewedBy, shown)
	}

	// Dashboards.
	do(t, sup, "open the dashboards", chromedp.Click(chromedp.CSS(`.qa-tabs a[data-section="dashboard"]`)))
	wait(t, sup, "four charts", `document.querySelectorAll('svg.qa-chart').length === 4`)
	desc := eval[string](t, sup, `document.querySelector('svg.qa-chart[data-metric="avg_score"] desc').textContent`)
	if !strings.Contains(desc, "Average score per day") {
		t.Errorf("chart description %q", desc)
	}
	if got := eval[string](t, sup, `document.querySelector('#qa-totals tbody tr td').textContent`); got != "3" {
		t.Errorf("conversations in the totals: %q, want 3", got)
	}
	do(t, sup, "group by agent", chromedp.SetValue(chromedp.CSS("#qd-group"), "agent"), chromedp.Click(chromedp.CSS(".qa-filters button.primary")))
	wait(t, sup, "one row per agent", `document.querySelectorAll('#qa-totals tbody tr').length === 2`)
	sh.take(sup, "desktop-quality-dashboard")
	audit(t, sup, "the dashboards", "")

	for _, sz := range sizes[:2] {
		resize(t, sup, sz)
		if sz.lang != "en" {
			setLang(t, sup, sz.lang)
			wait(t, sup, "the dashboards in Chinese", `document.querySelector('.qa h1').textContent === '质检复核' && document.querySelectorAll('svg.qa-chart').length === 4`)
		}
		wait(t, sup, "the charts", `document.querySelectorAll('svg.qa-chart').length === 4`)
		sh.take(sup, sz.name+"-quality-dashboard")
		do(t, sup, "scroll to the charts", chromedp.Evaluate[chromedp.Void](`document.querySelector('.qa-fig').scrollIntoView()`))
		wait(t, sup, "the chart drawn at its shown width (its text not scaled)",
			`(r => r > 0.9 && r < 1.1)(document.querySelector('svg.qa-chart').viewBox.baseVal.width / document.querySelector('svg.qa-chart').getBoundingClientRect().width)`)
		sh.take(sup, sz.name+"-quality-chart")
		do(t, sup, "open the review", chromedp.Click(chromedp.CSS(`.qa-tabs a[data-section="review"]`)))
		wait(t, sup, "the list", `document.querySelectorAll('#qa-list tr[data-conv]').length === 3`)
		do(t, sup, "open the reviewed chat", chromedp.Click(chromedp.CSS(`button[data-open="`+ignored+`"]`)))
		wait(t, sup, "its history", `document.querySelector('#qa-history tbody tr') !== null`)
		sh.take(sup, sz.name+"-quality-review")
		audit(t, sup, "the review screen at "+sz.name+" size", "")
		if w := eval[int](t, sup, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("%s: the page scrolls sideways by %d px", sz.name, w)
		}
		do(t, sup, "back to the dashboards", chromedp.Click(chromedp.CSS(`.qa-tabs a[data-section="dashboard"]`)))
		wait(t, sup, "the charts", `document.querySelectorAll('svg.qa-chart').length === 4`)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestBrowserQualityRules: an admin adds a required disclosure and makes
// greetings weigh more on the rules tab; the workspace's configuration is
// saved (version 1); a malformed line is refused with a message; a
// supervisor sees the rules read-only. axe-core on the tab.
func TestBrowserQualityRules(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	ctx := context.Background()
	adm := newTab(t, browser, sizes[2])
	ad := n.world.Logins[0]
	signIn(t, adm, n.base, "/app/quality#rules", ad.Email, ad.Password, "#qa-rules")
	wait(t, adm, "the default rules", `document.querySelector('#qr-save') !== null && document.querySelector('#qr-w-greeting').value === '5'`)
	do(t, adm, "a malformed disclosure line", chromedp.SendKeys(chromedp.CSS("#qr-disc"), "no colon here"), chromedp.Click(chromedp.CSS("#qr-save")))
	wait(t, adm, "the line refused", `document.querySelector('.qa-rules .error').textContent.includes('line 1')`)
	do(t, adm, "a disclosure and a weight",
		chromedp.SetValue(chromedp.CSS("#qr-disc"), "recording notice: 录音 | recorded"),
		chromedp.SetValue(chromedp.CSS("#qr-w-greeting"), "12"),
		chromedp.Click(chromedp.CSS("#qr-save")))
	wait(t, adm, "version 1 saved", `document.querySelector('#qr-version').textContent.startsWith('Version 1')`)
	audit(t, adm, "the rules tab", "")
	qs := openQuality(t, ctx, n.db)
	sc, err := qs.WorkspaceConfig(ctx, n.world.Workspace.ID, quality.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var greeting float64
	for _, it := range sc.Config.Scorecard {
		if it.Rule == quality.RuleGreeting {
			greeting = it.Weight
		}
	}
	if sc.Version != 1 || len(sc.Config.Disclosures) != 1 || len(sc.Config.Disclosures[0].Phrases) != 2 || greeting != 12 ||
		len(sc.Config.Forbidden) != len(quality.DefaultConfig().Forbidden) {
		t.Fatalf("stored %+v", sc)
	}

	sup := newTab(t, browser, sizes[0])
	sv := n.world.Logins[1]
	signIn(t, sup, n.base, "/app/quality#rules", sv.Email, sv.Password, "#qa-rules")
	wait(t, sup, "the rules read-only", `document.querySelector('#qr-save') === null && document.querySelector('#qr-disc').disabled &&
		document.querySelector('#qr-disc').value.startsWith('recording notice: 录音')`)
	audit(t, sup, "the rules tab, read-only at phone size", "")
}
