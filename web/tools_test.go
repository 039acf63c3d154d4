package web_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
)

// formPage is a shop's page whose widget tag carries the optional forms'
// data- attributes.
var formPage = template.Must(template.New("forms").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example shop</title></head>
<body><h1>Example shop</h1>
<script src="{{.Src}}" data-workspace="{{.Workspace}}" data-lang="en" {{.Attrs}}></script>
</body></html>`))

// TestBrowserWorkspaceTools drives the agent workspace's conversation tools
// and the widget's forms at desktop size: a customer fills in the pre-chat
// form and writes; a supervisor holding the chat reads the contact panel,
// inserts a canned reply by its shortcut, writes an internal note and
// transfers the chat with a note to an agent, in whose inbox it appears
// (with the note, which the widget never shows); the agent resolves and
// the customer rates the chat. Then a visitor outside business hours
// leaves a message through the offline form.
func TestBrowserWorkspaceTools(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	admin := adminClient(t, n)
	ws := n.world.Workspace.ID

	// A page per set of widget attributes: ?form=prechat or ?form=offline.
	// The offline page's only opening hours are on yesterday's weekday.
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Weekday().String()[:3]
	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		attrs := template.HTMLAttr(`data-prechat="name,email"`)
		switch r.URL.Query().Get("form") {
		case "offline":
			attrs = template.HTMLAttr(`data-hours="` + yesterday + ` 09:00-17:00" data-timezone="UTC"`)
		}
		_ = formPage.Execute(rw, map[string]any{"Src": n.base + "/widget.js", "Workspace": ws, "Attrs": attrs})
	}))
	t.Cleanup(shop.Close)

	sup := n.world.Logins[1]
	if sup.Role != starpost.RoleSupervisor {
		t.Fatalf("second demo login is %s, want the supervisor", sup.Role)
	}
	agent := n.world.Agents()[0]

	// The agent was on a break when the page was closed: the workspace
	// shows it from GET /me on load.
	ac := client.New(n.base, nil)
	if _, err := ac.Login(context.Background(), agent.Email, agent.Password); err != nil {
		t.Fatal(err)
	}
	if err := ac.Do(context.Background(), "PUT", "/api/v1/me/presence", sphttp.PresenceRequest{Presence: starpost.PresenceBreak}, nil); err != nil {
		t.Fatal(err)
	}

	desk := sizes[2]

	// The customer fills in the pre-chat form and writes.
	cust := newTab(t, browser, desk)
	do(t, cust, "open the shop", chromedp.Navigate(shop.URL+"/?form=prechat"))
	wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
	do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, cust, "the pre-chat form with focus on the name", `document.querySelector('starpost-widget').getAttribute('data-view') === 'prechat' && `+w+`.activeElement?.id === 'sp-name'`)
	do(t, cust, "submit without a name", chromedp.Click(inWidget(".pane button[type=submit]")))
	wait(t, cust, "the name marked required", w+`.querySelector('#sp-name').getAttribute('aria-invalid') === 'true' && `+w+`.querySelector('#sp-name-err').textContent !== ''`)
	audit(t, cust, "widget pre-chat form", "starpost-widget")
	sh.take(cust, "tools-customer-prechat")
	do(t, cust, "fill in the pre-chat form",
		chromedp.SendKeys(inWidget("#sp-name"), "Wang Fang"),
		chromedp.SendKeys(inWidget("#sp-email"), "wang.fang@example.com"),
		chromedp.Click(inWidget(".pane button[type=submit]")))
	wait(t, cust, "the chat", `document.querySelector('starpost-widget').getAttribute('data-view') === 'chat' && `+w+`.activeElement === `+w+`.querySelector('textarea')`)
	first := "My parcel 77 arrived damaged."
	do(t, cust, "write", chromedp.SendKeys(inWidget("textarea"), first+kb.Enter))
	wait(t, cust, "the first message sent", `[...`+w+`.querySelectorAll('.msg.me')].some(m => !m.hasAttribute('data-pending') && m.textContent.includes(`+jsString(first)+`))`)
	convID := eval[string](t, cust, `JSON.parse(localStorage.getItem('starpost.widget.`+ws+`')).conv`)
	var conv starpost.Conversation
	if err := admin.Do(context.Background(), "GET", "/api/v1/conversations/"+convID, nil, &conv); err != nil {
		t.Fatal(err)
	}
	if conv.Subject != "Wang Fang <wang.fang@example.com>" {
		t.Errorf("subject %q, want the pre-chat name and email", conv.Subject)
	}

	// The agent signs in on another browser: the break shows.
	// The sign-in page is the app itself, so a WebSocket wrapper put in
	// before signing in sees the stream open: it starts at GET /me's
	// cursor, not at 0 (no replay of the workspace's history).
	ag := newTab(t, browser, desk)
	do(t, ag, "open the workspace", chromedp.Navigate(n.base+"/app/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(t, ag, "watch the stream", chromedp.Evaluate[chromedp.Void](`(() => { window.__ws = []; const W = window.WebSocket;
		window.WebSocket = class extends W { constructor(u, p) { super(u, p); window.__ws.push(String(u)); } }; })()`))
	do(t, ag, "sign in as the agent",
		chromedp.SendKeys(chromedp.CSS("#email"), agent.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), agent.Password),
		chromedp.Click(chromedp.CSS("form.login-card button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".presence")))
	wait(t, ag, "the agent's real presence", `document.querySelector('input[value=break]').checked`)
	wait(t, ag, "the stream", `window.__ws.length > 0`)
	if u := eval[string](t, ag, `window.__ws[0]`); !strings.Contains(u, "/api/v1/stream?cursor=") || strings.HasSuffix(u, "cursor=0") {
		t.Errorf("the workspace opened its stream at %s, want GET /me's cursor", u)
	}

	// The supervisor is given the chat and opens it with its contact details.
	sp := newTab(t, browser, desk)
	signIn(t, sp, n.base, "/app/", sup.Email, sup.Password, ".presence")
	if err := admin.Do(context.Background(), "POST", "/api/v1/conversations/"+convID+"/assign", sphttp.AssignRequest{AgentID: sup.UserID}, nil); err != nil {
		t.Fatal(err)
	}
	item := `.list .item[data-id="` + convID + `"]`
	wait(t, sp, "the chat in the supervisor's inbox", `document.querySelector(`+jsString(item)+`) !== null`)
	jsClick(t, sp, "open it", item)
	wait(t, sp, "the customer's message", `[...document.querySelectorAll('.log .msg.them')].some(m => m.textContent.includes(`+jsString(first)+`))`)
	do(t, sp, "open the contact details", chromedp.Click(chromedp.CSS(".contact-btn")))
	wait(t, sp, "the contact panel", `(() => { const p = document.querySelector('#contact-panel'); return !p.hidden && p.textContent.includes('Wang Fang') && p.textContent.includes('wang.fang@example.com') })()`)

	// A canned reply by its shortcut.
	do(t, sp, "type a shortcut", chromedp.SendKeys(chromedp.CSS("#reply"), "/tha"))
	wait(t, sp, "the matching canned reply", `!document.querySelector('#canned-list').hidden && document.querySelector('#canned-list li.sel').dataset.k === 'thanks'`)
	sh.take(sp, "tools-supervisor-canned")
	do(t, sp, "insert it", chromedp.SendKeys(chromedp.CSS("#reply"), kb.Tab))
	canned := "Thank you! Is there anything else I can help you with?"
	wait(t, sp, "the canned text in the reply box", `document.querySelector('#reply').value === `+jsString(canned)+` && document.activeElement.id === 'reply'`)
	do(t, sp, "send it", chromedp.SendKeys(chromedp.CSS("#reply"), kb.Enter))
	wait(t, sp, "the reply stored", `[...document.querySelectorAll('.log .msg.me:not(.pending)')].some(m => m.textContent.includes(`+jsString(canned)+`))`)

	// An internal note.
	note := "Internal: customer sent photos by email, refund approved."
	do(t, sp, "switch to note", chromedp.Click(chromedp.CSS(`.seg[data-m="note"]`)))
	wait(t, sp, "the note mode", `document.querySelector('form.reply').classList.contains('note-mode')`)
	do(t, sp, "write the note", chromedp.SendKeys(chromedp.CSS("#reply"), note+kb.Enter))
	wait(t, sp, "the note stored", `[...document.querySelectorAll('.log .msg.note:not(.pending)')].some(m => m.textContent.includes(`+jsString(note)+`))`)
	sh.take(sp, "tools-supervisor-note-contact")
	audit(t, sp, "workspace with a note and the contact panel", "")
	for _, sz := range sizes[:2] {
		resize(t, sp, sz)
		sh.take(sp, "tools-supervisor-contact-"+sz.name)
	}
	audit(t, sp, "workspace with the contact panel at tablet size", "")
	resize(t, sp, desk)
	setLang(t, sp, "zh-CN")
	wait(t, sp, "the Chinese contact panel and composer", `document.querySelector('#contact-h')?.textContent === '客户资料' && document.querySelector('.seg[data-m=note]').textContent === '内部备注'`)
	sh.take(sp, "tools-supervisor-zh")
	setLang(t, sp, "en")

	// Transfer to the agent with a note.
	do(t, sp, "open the transfer dialog", chromedp.Click(chromedp.CSS(".transfer-btn")))
	wait(t, sp, "the transfer dialog", `document.querySelector('dialog.transfer').open && document.activeElement.id === 'tr-agent'`)
	do(t, sp, "pick the agent", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#tr-agent'); s.value = `+jsString(agent.UserID)+`; s.dispatchEvent(new Event('change')) })()`))
	handover := "Please take over: refund approved, confirm the new address."
	do(t, sp, "write the handover note", chromedp.SendKeys(chromedp.CSS("#tr-note"), handover))
	sh.take(sp, "tools-supervisor-transfer")
	audit(t, sp, "transfer dialog", "")
	do(t, sp, "transfer", chromedp.Click(chromedp.CSS("dialog.transfer button[type=submit]")))
	wait(t, sp, "the chat gone from the supervisor's inbox", `!document.querySelector('dialog.transfer').open && document.querySelector(`+jsString(item)+`) === null`)

	// It shows up in the agent's inbox, with both notes.
	wait(t, ag, "the transferred chat in the agent's inbox", `document.querySelector(`+jsString(item)+`) !== null`)
	jsClick(t, ag, "open it", item)
	wait(t, ag, "the notes and the history", `(() => { const t = [...document.querySelectorAll('.log .msg.note')].map(n => n.textContent).join('\n');
		return t.includes(`+jsString(note)+`) && t.includes(`+jsString(handover)+`) && document.querySelector('.log').textContent.includes(`+jsString(first)+`) })()`)
	sh.take(ag, "tools-agent-transferred")
	audit(t, ag, "agent workspace after a transfer", "")

	// The customer saw the canned reply but neither note.
	wait(t, cust, "the canned reply in the widget", `[...`+w+`.querySelectorAll('.msg.them')].some(m => m.textContent.includes(`+jsString(canned)+`))`)
	if txt := eval[string](t, cust, w+`.querySelector('.root').textContent`); strings.Contains(txt, "refund approved") {
		t.Errorf("the widget shows an internal note: %q", txt)
	}

	// The agent resolves; the customer rates the chat.
	do(t, ag, "resolve", chromedp.Click(chromedp.CSS(".resolve")))
	wait(t, cust, "the rating form", `document.querySelector('starpost-widget').getAttribute('data-rating') === 'asked' && !`+w+`.querySelector('.ask-rating').hidden`)
	do(t, cust, "choose 4 stars", chromedp.Click(inWidget(`label[for="sp-star-4"]`)),
		chromedp.SendKeys(inWidget("#sp-rate-c"), "Quick and kind"))
	sh.take(cust, "tools-customer-rating")
	audit(t, cust, "widget rating form", "starpost-widget")
	do(t, cust, "send the rating", chromedp.Click(inWidget(`.ask-rating button[type=submit]`)))
	wait(t, cust, "the rating sent", w+`.querySelector('.ask-rating').hidden && `+w+`.querySelectorAll('.msg.me[data-pending]').length === 0`)
	if got := customerMessages(t, admin, convID); len(got) != 1 {
		t.Errorf("customer messages %q, want only the first (the rating is a csat event)", got)
	}
	if got := csatEvents(t, admin, convID); len(got) != 1 || got[0] != (starpost.CSATBody{Score: 4, Comment: "Quick and kind"}) {
		t.Errorf("csat events %+v, want one 4-star rating", got)
	}

	// Outside business hours: the offline form.
	off := newTab(t, browser, desk)
	do(t, off, "open the shop after hours", chromedp.Navigate(shop.URL+"/?form=offline"))
	wait(t, off, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
	do(t, off, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, off, "the offline form", `document.querySelector('starpost-widget').getAttribute('data-view') === 'offline' && `+w+`.activeElement?.id === 'sp-oname' && `+
		w+`.querySelector('.pane:not([hidden])').textContent.includes(`+jsString("on "+yesterday+" at 09:00 (UTC)")+`)`)
	do(t, off, "send it empty", chromedp.Click(inWidget(".pane:not([hidden]) button[type=submit]")))
	wait(t, off, "three fields marked", w+`.querySelectorAll('[aria-invalid]').length === 3`)
	audit(t, off, "widget offline form", "starpost-widget")
	do(t, off, "fill in the offline form",
		chromedp.SendKeys(inWidget("#sp-oname"), "Zhang Wei"),
		chromedp.SendKeys(inWidget("#sp-oemail"), "zhang.wei@example.com"),
		chromedp.SendKeys(inWidget("#sp-omsg"), "Do you ship to Hangzhou?"))
	sh.take(off, "tools-customer-offline")
	do(t, off, "send it", chromedp.Click(inWidget(".pane:not([hidden]) button[type=submit]")))
	wait(t, off, "the honest thank-you", `document.querySelector('starpost-widget').getAttribute('data-view') === 'chat' && `+
		w+`.querySelector('.log').textContent.includes('zhang.wei@example.com')`)
	sh.take(off, "tools-customer-offline-sent")
	offConv := eval[string](t, off, `JSON.parse(localStorage.getItem('starpost.widget.`+ws+`')).conv`)
	if err := admin.Do(context.Background(), "GET", "/api/v1/conversations/"+offConv, nil, &conv); err != nil {
		t.Fatal(err)
	}
	if conv.Subject != "[Offline] Zhang Wei <zhang.wei@example.com>" {
		t.Errorf("offline subject %q", conv.Subject)
	}
	if got := customerMessages(t, admin, offConv); len(got) != 1 || got[0] != "Do you ship to Hangzhou?" {
		t.Errorf("offline messages %q", got)
	}

}

// jsClick clicks the element sel matches now; the inbox redraws its items,
// so a node found earlier may be gone by the time a CDP click lands.
func jsClick(t *testing.T, ctx context.Context, what, sel string) {
	t.Helper()
	do(t, ctx, what, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(sel)+`).click()`))
}
