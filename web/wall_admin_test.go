package web_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
)

// axeSource is axe-core 4.14.1 (MPL-2.0, from npm), vendored so the audit
// runs offline.
//
//go:embed testdata/axe.min.js
var axeSource string

// audit injects axe-core into the page and fails the test on any serious
// or critical violation. include, when set, limits the audit to one
// element (with its shadow tree).
func audit(t *testing.T, ctx context.Context, what, include string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	target := "document"
	if include != "" {
		target = "{ include: [[" + jsString(include) + "]] }"
	}
	js := `axe.run(` + target + `, { resultTypes: ['violations'] }).then(r => JSON.stringify(r.violations
		.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + n.failureSummary) }))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core on %s: %v", what, err)
	}
	var vs []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe-core result on %s: %v", what, err)
	}
	for _, v := range vs {
		t.Errorf("axe-core on %s: %s (%s): %s\n  %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

// signIn opens path and signs in through the form.
func signIn(t *testing.T, ctx context.Context, base, path, email, password, ready string) {
	t.Helper()
	do(t, ctx, "open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(t, ctx, "sign in as "+email,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form.login-card button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(ready)))
}

func resize(t *testing.T, ctx context.Context, sz size) {
	t.Helper()
	var emu []chromedp.EmulateViewportOption
	if sz.mobile {
		emu = append(emu, chromedp.EmulateMobile)
	}
	do(t, ctx, "resize to "+sz.name, chromedp.EmulateViewport(sz.w, sz.h, emu...))
}

// setLang switches the page's language through its menu.
func setLang(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	do(t, ctx, "switch to "+lang, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#app-lang'); s.value = `+jsString(lang)+`; s.dispatchEvent(new Event('change')) })()`))
	wait(t, ctx, "the page in "+lang, `document.documentElement.lang === `+jsString(lang))
}

func startChat(t *testing.T, c *client.Client, ws, queue, name, text string) string {
	t.Helper()
	v, err := c.NewVisitor(context.Background(), ws, name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Start(context.Background(), sphttp.WidgetStartRequest{QueueID: queue, Text: text, IdempotencyKey: "k-" + name})
	if err != nil {
		t.Fatal(err)
	}
	return res.Conversation.ID
}

// TestBrowserWall: a supervisor watches the wall while customers start
// chats (the queue count rises) and an agent accepts one (it falls); the
// supervisor reads a live conversation, joins it and force-assigns the
// other. Screenshots at each size; axe-core on the wall.
func TestBrowserWall(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	q := n.world.Queues[0]
	anon := client.New(n.base, nil)

	sup := newTab(t, browser, sizes[2])
	sv := n.world.Logins[1]
	signIn(t, sup, n.base, "/app/wall", sv.Email, sv.Password, "#wall")
	cell := `document.querySelector('tr[data-queue="` + q.ID + `"] .waiting')`
	wait(t, sup, "the queue on the wall with nobody waiting", cell+`?.textContent === '0'`)
	wait(t, sup, "the wall's stream online", `document.querySelector('.banner').hidden`)

	// Customers start chats: the count rises live.
	c1 := startChat(t, anon, ws, q.ID, "Wall customer one", "My parcel is late")
	wait(t, sup, "one waiting", cell+`.textContent === '1'`)
	startChat(t, anon, ws, q.ID, "Wall customer two", "I want to change my address")
	wait(t, sup, "two waiting", cell+`.textContent === '2'`)
	wait(t, sup, "two live conversations listed", `document.querySelectorAll('tr[data-conv]').length === 2`)
	sh.take(sup, "desktop-wall")

	// An agent goes available, is offered the chats, accepts the first:
	// the count falls.
	li := n.world.Agents()[0]
	agent := client.New(n.base, nil)
	if _, err := agent.Login(ctx, li.Email, li.Password); err != nil {
		t.Fatal(err)
	}
	if err := agent.SetPresence(ctx, starpost.PresenceAvailable); err != nil {
		t.Fatal(err)
	}
	wait(t, sup, "the agent available on the wall", `document.querySelector('tr[data-agent="`+li.UserID+`"] .st-available') !== null`)
	waitOffered(t, agent, c1, li.UserID)
	if err := agent.Accept(ctx, c1); err != nil {
		t.Fatal(err)
	}
	wait(t, sup, "one waiting after the accept", cell+`.textContent === '1'`)
	wait(t, sup, "the agent's load", `document.querySelector('tr[data-agent="`+li.UserID+`"] .meter-text').textContent.startsWith('1')`)

	// Monitor the accepted chat: its messages show, live.
	do(t, sup, "open the conversation", chromedp.Click(chromedp.CSS(`button[data-open="`+c1+`"]`)))
	wait(t, sup, "the customer's message in the monitor", `[...document.querySelectorAll('.monitor .msg.them')].some(m => m.textContent.includes('My parcel is late'))`)
	if _, err := agent.PostMessage(ctx, c1, "Checking your parcel now", "k-agent-1"); err != nil {
		t.Fatal(err)
	}
	wait(t, sup, "the agent's reply live in the monitor", `[...document.querySelectorAll('.monitor .msg.agent')].some(m => m.textContent.includes('Checking your parcel now'))`)
	do(t, sup, "join", chromedp.Click(chromedp.CSS(".monitor .join")))
	wait(t, sup, "joined", `document.querySelector('.monitor .reply') && !document.querySelector('.monitor .reply').hidden`)
	do(t, sup, "write to the customer", chromedp.SendKeys(chromedp.CSS("#mon-msg"), "Supervisor here, we are on it"), chromedp.Click(chromedp.CSS(".monitor .reply button")))
	wait(t, sup, "the supervisor's message in the monitor", `[...document.querySelectorAll('.monitor .msg.agent')].some(m => m.textContent.includes('Supervisor here'))`)
	sh.take(sup, "desktop-wall-monitor")
	audit(t, sup, "the wall with the monitor open", "")
	do(t, sup, "close the monitor", chromedp.Click(chromedp.CSS(".mon-head button")))

	// Force-assign the other waiting chat to the agent.
	other := eval[string](t, sup, `[...document.querySelectorAll('tr[data-conv]')].map(r => r.dataset.conv).find(id => id !== `+jsString(c1)+`)`)
	do(t, sup, "open the other conversation", chromedp.Click(chromedp.CSS(`button[data-open="`+other+`"]`)))
	wait(t, sup, "the assign menu", `document.querySelector('#assign-agent option[value="`+li.UserID+`"]') !== null`)
	do(t, sup, "choose the agent", chromedp.SetValue(chromedp.CSS("#assign-agent"), li.UserID))
	do(t, sup, "force-assign", chromedp.Click(chromedp.CSS(".assign button")))
	wait(t, sup, "nobody waiting after the force-assign", cell+`.textContent === '0'`)
	wait(t, sup, "the agent's load of two", `document.querySelector('tr[data-agent="`+li.UserID+`"] .meter-text').textContent.startsWith('2')`)
	if got := eval[string](t, sup, `document.querySelector('#sl-d').textContent`); !strings.Contains(got, "100%") {
		t.Errorf("service-level chart text %q does not say both chats were answered within the target", got)
	}
	if got := eval[string](t, sup, `document.querySelector('#chart-d').textContent`); !strings.Contains(got, "0 now") {
		t.Errorf("chart text alternative %q does not say nobody waits now", got)
	}

	do(t, sup, "close the monitor", chromedp.Click(chromedp.CSS(".mon-head button")))
	for _, sz := range sizes[:2] {
		resize(t, sup, sz)
		if sz.lang != "en" {
			setLang(t, sup, sz.lang)
			wait(t, sup, "the wall in Chinese", `document.querySelector('.wall h1').textContent.includes('监控')`)
		}
		sh.take(sup, sz.name+"-wall")
		do(t, sup, "open the conversation", chromedp.Click(chromedp.CSS(`button[data-open="`+c1+`"]`)))
		wait(t, sup, "the monitor, with the message box since the supervisor has joined", `!document.querySelector('.monitor').hidden && document.querySelector('.monitor .msg.them') !== null &&
			document.querySelector('.monitor .join').hidden && !document.querySelector('.monitor .reply').hidden`)
		sh.take(sup, sz.name+"-wall-monitor")
		if sz.name == "phone" {
			audit(t, sup, "the wall at phone size", "")
		}
		do(t, sup, "close the monitor with Escape", chromedp.KeyEvent("\x1b"))
		wait(t, sup, "the monitor closed", `document.querySelector('.monitor').hidden`)
	}
}

// waitOffered waits until the agent is offered conversation id.
func waitOffered(t *testing.T, c *client.Client, id, agentID string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var conv starpost.Conversation
		if err := c.Do(context.Background(), "GET", "/api/v1/conversations/"+id, nil, &conv); err == nil && conv.OfferedTo == agentID {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("conversation %s never offered to %s", id, agentID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserAdmin: an admin creates a skill, a queue and an agent through
// the UI; the new agent signs in, goes available and is offered a chat of
// the new queue, which the router gave them. Also an API token, shown once
// and deleted, and the widget snippet. Screenshots of every admin section
// at each size; axe-core on the admin screens, the workspace and the widget.
func TestBrowserAdmin(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID

	adm := newTab(t, browser, sizes[2])
	ad := n.world.Logins[0]
	do(t, adm, "open the sign-in page", chromedp.Navigate(n.base+"/app/admin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	audit(t, adm, "the sign-in page", "")
	signIn(t, adm, n.base, "/app/admin", ad.Email, ad.Password, "#admin")
	wait(t, adm, "the agent form", `document.querySelector('#agent-form') !== null && document.querySelectorAll('tr[data-user]').length > 0`)
	audit(t, adm, "admin: agents", "")

	// A skill.
	do(t, adm, "open skills", chromedp.Click(chromedp.CSS(`a[data-section="skills"]`)))
	wait(t, adm, "the skill form", `document.querySelector('#skills-form') !== null`)
	do(t, adm, "create a skill", chromedp.SendKeys(chromedp.CSS("#skills-name"), "Festival 双11"), chromedp.Click(chromedp.CSS("#skills-form button[type=submit]")))
	wait(t, adm, "the skill listed", `[...document.querySelectorAll('tbody th')].some(n => n.textContent === 'Festival 双11')`)

	// A queue needing it at level 3, with an overflow step.
	do(t, adm, "open queues", chromedp.Click(chromedp.CSS(`a[data-section="queues"]`)))
	wait(t, adm, "the queue form", `document.querySelector('#queue-form') !== null`)
	skillID := eval[string](t, adm, `document.querySelector('#queue-form input[data-skill]:last-of-type') && [...document.querySelectorAll('#queue-form .levels .field')].find(f => f.textContent.includes('Festival')).querySelector('input').dataset.skill`)
	do(t, adm, "fill in the queue",
		chromedp.SendKeys(chromedp.CSS("#q-name"), "Singles Day 双11"),
		chromedp.SetValue(chromedp.CSS("#q-priority"), "50"),
		chromedp.SetValue(chromedp.CSS("#q-skill-"+skillID), "3"),
		chromedp.Click(chromedp.CSS("fieldset.overflow > button")))
	do(t, adm, "set the overflow step", chromedp.SetValue(chromedp.CSS(".step .after"), "90"), chromedp.SetValue(chromedp.CSS(".step .drop"), "1"))
	sh.take(adm, "desktop-admin-queue-form")
	audit(t, adm, "admin: queues", "")
	do(t, adm, "create the queue", chromedp.Click(chromedp.CSS("#queue-form button[type=submit]")))
	wait(t, adm, "the queue listed", `[...document.querySelectorAll('tr[data-queue] th')].some(n => n.textContent === 'Singles Day 双11')`)
	var queueID string
	qs, err := adminClient(t, n).ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Name == "Singles Day 双11" {
			queueID = q.ID
			if len(q.Skills) != 1 || q.Skills[0].SkillID != skillID || q.Skills[0].MinLevel != 3 || q.Priority != 50 || len(q.Overflow) != 1 || q.Overflow[0].AfterSeconds != 90 {
				t.Errorf("stored queue %+v is not what the form said", q)
			}
		}
	}
	if queueID == "" {
		t.Fatal("the new queue is not stored")
	}

	// An agent with that skill at level 4.
	do(t, adm, "open agents", chromedp.Click(chromedp.CSS(`a[data-section="agents"]`)))
	wait(t, adm, "the agent form", `document.querySelector('#agent-form') !== null`)
	email, password := "festival.agent@example.com", "festival-pass-2026"
	do(t, adm, "fill in the agent",
		chromedp.SendKeys(chromedp.CSS("#ag-name"), "Festival Agent 节日坐席"),
		chromedp.SendKeys(chromedp.CSS("#ag-email"), email),
		chromedp.SendKeys(chromedp.CSS("#ag-password"), password),
		chromedp.SetValue(chromedp.CSS("#ag-skill-"+skillID), "4"),
		chromedp.SetValue(chromedp.CSS("#ag-capacity"), "2"))
	do(t, adm, "create the agent", chromedp.Click(chromedp.CSS("#agent-form button[type=submit]")))
	wait(t, adm, "the agent listed", `[...document.querySelectorAll('tr[data-user] .email')].some(n => n.textContent === `+jsString(email)+`)`)

	// The new agent signs in, goes available and is offered a chat of the
	// new queue.
	ag := newTab(t, browser, sizes[2])
	// An agent who opens the wall's address gets the workspace instead.
	signIn(t, ag, n.base, "/app/wall", email, password, ".presence")
	if p := eval[string](t, ag, `location.pathname`); p != "/app/" || eval[bool](t, ag, `document.querySelector('#wall') !== null`) {
		t.Errorf("an agent at /app/wall is shown %s, not the workspace at /app/", p)
	}
	if eval[bool](t, ag, `document.querySelector('nav.pages a[href="/app/wall"], nav.pages a[href="/app/admin"]') !== null`) {
		t.Error("an agent is shown links to the wall and admin pages")
	}
	do(t, ag, "go available", chromedp.Click(chromedp.CSS(`.seg[data-p="available"]`)))
	wait(t, ag, "presence available", `document.querySelector('input[value=available]').checked`)
	me, err := client.New(n.base, nil).Login(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	waitPresence(t, adminClient(t, n), me.ID, starpost.PresenceAvailable)
	conv := startChat(t, client.New(n.base, nil), ws, queueID, "Festival customer", "Is the 11.11 discount still on?")
	wait(t, ag, "the offer of the new queue's chat", `document.querySelector('.offer[data-id="`+conv+`"] .accept') !== null`)
	sh.take(ag, "desktop-new-agent-offer")
	audit(t, ag, "the workspace with an offer", "")
	jsClick(t, ag, "accept", ".offer .accept")
	wait(t, ag, "the conversation open", `[...document.querySelectorAll('.log .msg.them')].some(m => m.textContent.includes('11.11'))`)
	audit(t, ag, "the workspace with a conversation", "")

	// An API token: shown once, listed, deleted.
	do(t, adm, "open tokens", chromedp.Click(chromedp.CSS(`a[data-section="tokens"]`)))
	wait(t, adm, "the token form", `document.querySelector('#tokens-form') !== null`)
	do(t, adm, "create a token", chromedp.SendKeys(chromedp.CSS("#tok-name"), "CRM sync"), chromedp.Click(chromedp.CSS("#tokens-form button[type=submit]")))
	wait(t, adm, "the secret shown", `document.querySelector('#token-secret')?.textContent.length > 10 && document.querySelectorAll('tr[data-token]').length === 1`)
	secret := eval[string](t, adm, `document.querySelector('#token-secret').textContent`)
	if err := client.New(n.base, nil).WithToken(secret).Do(ctx, "GET", "/api/v1/conversations", nil, nil); err != nil {
		t.Errorf("the token shown does not work: %v", err)
	}
	sh.take(adm, "desktop-admin-token-secret")
	audit(t, adm, "admin: tokens", "")
	do(t, adm, "delete the token", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), chromedp.Click(chromedp.CSS("tr[data-token] button")))
	wait(t, adm, "the token gone", `document.querySelectorAll('tr[data-token]').length === 0 && document.querySelector('#token-secret') === null`)

	// The widget snippet, and the widget it describes on a page.
	do(t, adm, "open the widget settings", chromedp.Click(chromedp.CSS(`a[data-section="widget"]`)))
	wait(t, adm, "the snippet", `document.querySelector('#widget-snippet')?.textContent.includes('data-workspace="`+ws+`"')`)
	do(t, adm, "set a greeting", chromedp.SendKeys(chromedp.CSS("#w-greeting"), "双11 快乐!"))
	wait(t, adm, "the greeting in the snippet and preview", `document.querySelector('#widget-snippet').textContent.includes('data-greeting="双11 快乐!"') && document.querySelector('.wp-bubble').textContent === '双11 快乐!'`)
	audit(t, adm, "admin: widget", "")
	snippet := eval[string](t, adm, `document.querySelector('#widget-snippet').textContent`)
	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head>
<body><main><h1>Shop</h1><p>Paste test.</p></main>%s</body></html>`, snippet)
	}))
	t.Cleanup(shop.Close)
	cust := newTab(t, browser, sizes[0])
	do(t, cust, "open the shop with the pasted snippet", chromedp.Navigate(shop.URL))
	wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
	audit(t, cust, "the closed widget", "")
	do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, cust, "the greeting", `!`+w+`.querySelector('.panel').hidden && `+w+`.querySelector('.panel').textContent.includes('双11 快乐!')`)
	audit(t, cust, "the open widget", "")

	// Every section at every size.
	for _, sz := range sizes {
		resize(t, adm, sz)
		setLang(t, adm, sz.lang)
		for _, sec := range []string{"agents", "queues", "skills", "sites", "teams", "tokens", "widget"} {
			do(t, adm, "open "+sec, chromedp.Click(chromedp.CSS(`a[data-section="`+sec+`"]`)))
			wait(t, adm, sec+" shown", `document.querySelector('a[data-section="`+sec+`"]').getAttribute('aria-current') === 'page' && document.querySelector('.adm-body h2') !== null`)
			sh.take(adm, sz.name+"-admin-"+sec)
		}
	}
	audit(t, adm, "admin in Chinese at desktop size", "")
}

func adminClient(t *testing.T, n *testNode) *client.Client {
	t.Helper()
	c := client.New(n.base, nil)
	if _, err := c.Login(context.Background(), n.world.Logins[0].Email, n.world.Logins[0].Password); err != nil {
		t.Fatal(err)
	}
	return c
}
