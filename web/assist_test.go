package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/client"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/engine"
	sphttp "github.com/starpost/starpost/http"
	spkb "github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
)

// withAssist gives the node the knowledge base and runs the suggestion and
// emotion engines as "starpost serve" does; breakAfter is the workspace's
// break threshold.
func withAssist(breakAfter int) nodeOption {
	return func(s *nodeSetup) {
		s.runners = func(t *testing.T, db *store.DB, b *bus.Bus, api *sphttp.Server) []func(context.Context) error {
			t.Helper()
			tok, err := tokenizer()
			if err != nil {
				t.Fatal(err)
			}
			k, err := spkb.Open(context.Background(), spkb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
			if err != nil {
				t.Fatal(err)
			}
			api.KB = k
			api.Wellbeing = map[string]sphttp.WellbeingPolicy{"": {BreakAfter: breakAfter}}
			analyzer, err := emotion.LoadEmbeddedWith(tok) // one segmenter, as starpost serve does
			if err != nil {
				t.Fatal(err)
			}
			em, err := emotion.NewEngine(analyzer, db, emotion.EngineConfig{})
			if err != nil {
				t.Fatal(err)
			}
			var out []func(context.Context) error
			for _, h := range []engine.Handler{em, spkb.NewSuggester(k)} {
				r, err := engine.NewRunner(h, engine.Options{Store: db, Bus: b, SQL: db.SQL(), Driver: db.Driver()})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, r.Run)
			}
			return out
		}
	}
}

// TestBrowserAssist drives the assist tools in real Chromium: a customer's
// question produces suggested answers in the agent's panel with the
// matched words highlighted; a click (and Alt+1) inserts the answer into the
// reply box, editable before sending; "helpful" is recorded as feedback.
// An abusive, angry message brings a coaching card, is masked in the log
// (with a button that shows it), counts as a hostile conversation with a
// break suggestion, and raises an alert on the supervisor's wall with a
// button that opens the monitor. A canned reply is inserted by its
// shortcut through the keyboard-driven list, placeholders filled; the
// transfer dialog lists colleagues for an agent. axe-core audits the
// workspace with the panel open at desktop and phone sizes.
func TestBrowserAssist(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, withAssist(1))
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	admin := adminClient(t, n)

	answer := "You can ask for a refund under Orders → Refund within 7 days of delivery."
	var faq spkb.FAQ
	if err := admin.Do(ctx, "POST", "/api/v1/kb/faqs", sphttp.FAQRequest{
		Questions: []string{"How do I get a refund?", "Can I return my order for a refund?"}, Answer: answer, Lang: "en", Status: "published"}, &faq); err != nil {
		t.Fatal(err)
	}

	// The admin adds a canned reply in the admin screens, edits it, and
	// deletes a default one.
	ad := newTab(t, browser, sizes[2])
	signIn(t, ad, n.base, "/app/admin#canned", n.world.Logins[0].Email, n.world.Logins[0].Password, "#admin")
	wait(t, ad, "the canned replies with the defaults", `document.querySelector('#canned-form') !== null && document.querySelectorAll('tr[data-canned]').length === 8`)
	do(t, ad, "fill in a canned reply",
		chromedp.SendKeys(chromedp.CSS("#cn-title"), "Track a parcel"),
		chromedp.SendKeys(chromedp.CSS("#cn-shortcut"), "/Track"),
		chromedp.SendKeys(chromedp.CSS("#cn-body"), "{{customer.name}}, your parcel is on its way."),
		chromedp.SetValue(chromedp.CSS("#cn-lang"), "en"))
	do(t, ad, "create it", chromedp.Click(chromedp.CSS("#canned-form button[type=submit]")))
	wait(t, ad, "the new reply listed", `[...document.querySelectorAll('tr[data-canned] th')].some(n => n.textContent.includes('/track'))`)
	do(t, ad, "a duplicate shortcut", chromedp.SendKeys(chromedp.CSS("#cn-title"), "Again"), chromedp.SendKeys(chromedp.CSS("#cn-shortcut"), "track"),
		chromedp.SendKeys(chromedp.CSS("#cn-body"), "x"), chromedp.SetValue(chromedp.CSS("#cn-lang"), "en"), chromedp.Click(chromedp.CSS("#canned-form button[type=submit]")))
	wait(t, ad, "the conflict shown", `document.querySelector('#canned-form .error').textContent.includes('/track')`)
	jsClick(t, ad, "edit it", `button[aria-label="Edit /track (en)"]`)
	wait(t, ad, "the edit form", `document.querySelector('#canned-form-h').textContent === 'Edit canned reply' && document.querySelector('#cn-title').value === 'Track a parcel'`)
	do(t, ad, "change the text", chromedp.Evaluate[chromedp.Void](`document.querySelector('#cn-body').value = '{{customer.name}}, your parcel arrives tomorrow.'`),
		chromedp.Click(chromedp.CSS("#canned-form button[type=submit]")))
	wait(t, ad, "the edited text listed", `[...document.querySelectorAll('tr[data-canned] .ctext')].some(n => n.textContent === '{{customer.name}}, your parcel arrives tomorrow.')`)
	do(t, ad, "accept the confirmation", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	jsClick(t, ad, "delete /wait in Chinese", `button.danger[aria-label="Delete /wait (zh)"]`)
	wait(t, ad, "one reply fewer", `document.querySelectorAll('tr[data-canned]').length === 8 && document.querySelector('button[aria-label="Delete /wait (zh)"]') === null`)
	sh.take(ad, "assist-admin-canned")
	audit(t, ad, "admin: canned replies", "")

	// The supervisor watches the wall.
	supLogin := n.world.Logins[1]
	sup := newTab(t, browser, sizes[2])
	signIn(t, sup, n.base, "/app/wall", supLogin.Email, supLogin.Password, "#wall")
	wait(t, sup, "the empty alert list", `document.querySelector('#alerts .empty') !== null`)

	// The agent signs in and goes available.
	li := n.world.Agents()[0]
	ag := newTab(t, browser, sizes[2])
	signIn(t, ag, n.base, "/app/", li.Email, li.Password, ".presence")
	do(t, ag, "go available", chromedp.Click(chromedp.CSS(`.seg[data-p="available"]`)))
	waitPresence(t, admin, li.UserID, starpost.PresenceAvailable)

	// A customer asks about a refund; the agent accepts.
	v, err := client.New(n.base, nil).NewVisitor(ctx, ws, "Wang Wei")
	if err != nil {
		t.Fatal(err)
	}
	start, err := v.Start(ctx, sphttp.WidgetStartRequest{QueueID: n.world.Queues[0].ID, Text: "Hello, how do I get a refund for my order?", IdempotencyKey: "assist-1"})
	if err != nil {
		t.Fatal(err)
	}
	conv := start.Conversation.ID
	wait(t, ag, "the offer", `document.querySelector('.offer .accept') !== null`)
	jsClick(t, ag, "accept", ".offer .accept")
	wait(t, ag, "the conversation with the customer's name", `document.querySelector('#conv-h') && document.querySelector('#conv-h').textContent === 'Wang Wei'`)

	// Suggestions: the FAQ, with the matched words highlighted.
	wait(t, ag, "the suggestion in the panel", `(() => { const s = document.querySelector('.assist .sugg[data-id=`+jsString(faq.ID)+`]');
		return s && !document.querySelector('.assist').hidden && [...s.querySelectorAll('mark')].some(m => /refund/i.test(m.textContent)) })()`)
	sh.take(ag, "assist-desktop-suggestion")
	do(t, ag, "insert the answer", chromedp.Click(chromedp.CSS(`.assist .sugg[data-id="`+faq.ID+`"] .sugg-insert`)))
	wait(t, ag, "the answer in the reply box", `document.querySelector('#reply').value === `+jsString(answer)+` && document.activeElement.id === 'reply'`)
	do(t, ag, "edit and send it", chromedp.SendKeys(chromedp.CSS("#reply"), " Anything else?"+kb.Enter))
	sent := answer + " Anything else?"
	wait(t, ag, "the edited answer stored", `[...document.querySelectorAll('.log .msg.me:not(.pending) .text')].some(m => m.textContent === `+jsString(sent)+`)`)
	do(t, ag, "Alt+1 inserts the first suggestion", chromedp.KeyEvent("1", chromedp.KeyModifiers(chromedp.ModifierAlt)))
	wait(t, ag, "the answer in the reply box again", `document.querySelector('#reply').value === `+jsString(answer))
	do(t, ag, "clear the reply box", chromedp.Evaluate[chromedp.Void](`document.querySelector("#reply").value = ""`))

	// Feedback: helpful, recorded as a suggestion.feedback event.
	do(t, ag, "mark it helpful", chromedp.Click(chromedp.CSS(`.assist .sugg[data-id="`+faq.ID+`"] .fb-yes`)))
	wait(t, ag, "the helpful button pressed", `document.querySelector('.assist .sugg .fb-yes').getAttribute('aria-pressed') === 'true'`)
	var page sphttp.EventPage
	if err := admin.Do(ctx, "GET", "/api/v1/conversations/"+conv+"/events", nil, &page); err != nil {
		t.Fatal(err)
	}
	var fb *spkb.FeedbackBody
	for _, e := range page.Items {
		if e.Kind == spkb.KindFeedback && e.Actor.ID == li.UserID {
			fb = &spkb.FeedbackBody{}
			if err := e.DecodeBody(fb); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fb == nil || fb.ID != faq.ID || !fb.Helpful {
		t.Fatalf("feedback recorded: %+v", fb)
	}
	audit(t, ag, "the workspace with the assist panel (desktop)", "")

	// An abusive, angry message: coaching, masking, well-being, an alert.
	abusive := "垃圾客服，你们都是废物！！！"
	if _, err := v.Send(ctx, conv, abusive, "assist-2"); err != nil {
		t.Fatal(err)
	}
	wait(t, ag, "the coaching card", `(() => { const c = document.querySelector('.assist .coach');
		return c && c.textContent.includes('abusive') && c.querySelector('dd.k-acknowledge') && c.querySelector('dd.k-avoid').textContent.length > 0 })()`)
	wait(t, ag, "the abusive words masked", `[...document.querySelectorAll('.log .msg.them .text.masked')].some(n => n.textContent.includes('＊＊') && !n.textContent.includes('废物'))`)
	wait(t, ag, "the mood in words", `/Angry|abusive/.test(document.querySelector('.assist .mood-label').textContent)`)
	wait(t, ag, "one hostile conversation and a break suggestion", `(() => { const w = document.querySelector('#wellbeing');
		return w && !w.hidden && w.textContent.includes('Hostile conversations today: 1') && w.querySelector('.take-break') !== null })()`)
	sh.take(ag, "assist-desktop-coaching")
	do(t, ag, "show the masked words", chromedp.Click(chromedp.CSS(".log .mask-note button")))
	wait(t, ag, "the words shown", `document.querySelector('.log .mask-note button').getAttribute('aria-expanded') === 'true' && [...document.querySelectorAll('.log .msg.them .text')].some(n => n.textContent === `+jsString(abusive)+`)`)
	do(t, ag, "turn masking off", chromedp.Click(chromedp.CSS("#mask-toggle")))
	wait(t, ag, "no masked message", `document.querySelectorAll('.log .text.masked').length === 0 && localStorage.getItem('starpost.mask.`+li.UserID+`') === 'off'`)
	// The choice is the agent's, on every device: it is kept on the server.
	for deadline := time.Now().Add(30 * time.Second); ; { // a hang guard, not a measurement
		p, err := n.db.Preferences(ctx, ws, li.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if p.MaskAbuse != nil && !*p.MaskAbuse {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("preferences on the server %+v, want masking off", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	do(t, ag, "turn masking on", chromedp.Click(chromedp.CSS("#mask-toggle")))
	wait(t, ag, "masked again", `document.querySelectorAll('.log .text.masked').length === 1`)
	audit(t, ag, "the workspace with a coaching card (desktop)", "")

	wait(t, sup, "the alert on the wall", `[...document.querySelectorAll('#alerts .alert-item')].some(a => a.dataset.conv === `+jsString(conv)+` && a.textContent.includes('Abusive customer') && a.textContent.includes('Li'))`)
	sh.take(sup, "assist-wall-alert")
	do(t, sup, "monitor from the alert", chromedp.Click(chromedp.CSS(`#alerts .alert-item[data-conv="`+conv+`"] .monitor-alert`)))
	wait(t, sup, "the monitor with the conversation", `!document.querySelector('.monitor').hidden && document.querySelector('.monitor .msg.them') !== null`)
	audit(t, sup, "the wall with an alert", "")
	// A wall opened after the alert still lists it (GET /api/v1/alerts).
	late := newTab(t, browser, sizes[0])
	signIn(t, late, n.base, "/app/wall", supLogin.Email, supLogin.Password, "#wall")
	wait(t, late, "the earlier alert on a wall opened later", `[...document.querySelectorAll('#alerts .alert-item')].some(a => a.dataset.conv === `+jsString(conv)+`)`)

	// A canned reply by its shortcut, through the listbox.
	do(t, ag, "type a shortcut", chromedp.Click(chromedp.CSS("#reply")), chromedp.SendKeys(chromedp.CSS("#reply"), "/ref"))
	wait(t, ag, "the canned list", `(() => { const l = document.querySelector('#canned-list'); const r = document.querySelector('#reply');
		return !l.hidden && l.getAttribute('role') === 'listbox' && l.querySelector('[aria-selected=true]').dataset.k === 'refund' &&
			r.getAttribute('aria-activedescendant') === l.querySelector('[aria-selected=true]').id })()`)
	sh.take(ag, "assist-desktop-canned")
	// The customer last wrote in Chinese: the Chinese reply comes first.
	wait(t, ag, "the Chinese reply first", `document.querySelector('#canned-list [aria-selected=true]').textContent.includes('退款已提交')`)
	do(t, ag, "move down to the English one", chromedp.KeyEvent(kb.ArrowDown))
	wait(t, ag, "the English reply chosen", `(() => { const o = document.querySelector('#canned-list [aria-selected=true]');
		return o.textContent.includes('Refund started') && document.querySelector('#reply').getAttribute('aria-activedescendant') === o.id })()`)
	do(t, ag, "insert it", chromedp.KeyEvent(kb.Enter))
	wait(t, ag, "the canned reply with the customer's name", `document.querySelector('#reply').value.startsWith('I have started your refund, Wang Wei.') && document.querySelector('#canned-list').hidden`)

	// The admin's new reply, by its shortcut.
	do(t, ag, "clear and type /tra", chromedp.Evaluate[chromedp.Void](`document.querySelector('#reply').value = ''`), chromedp.SendKeys(chromedp.CSS("#reply"), "/tra"))
	wait(t, ag, "the admin's reply offered", `document.querySelector('#canned-list [aria-selected=true]') && document.querySelector('#canned-list [aria-selected=true]').dataset.k === 'track'`)
	do(t, ag, "insert it with Tab", chromedp.KeyEvent(kb.Tab))
	wait(t, ag, "the admin's reply filled in", `document.querySelector('#reply').value === 'Wang Wei, your parcel arrives tomorrow.'`)

	// The transfer dialog lists colleagues, from the agents' directory.
	do(t, ag, "open the transfer dialog", chromedp.Click(chromedp.CSS(".transfer-btn")))
	wait(t, ag, "colleagues listed", `document.querySelector('dialog.transfer').open && document.querySelectorAll('#tr-agent option').length > 0 && !document.querySelector('input[name=tr-kind][value=agent]').disabled`)
	do(t, ag, "close the transfer dialog", chromedp.KeyEvent("\x1b"))
	wait(t, ag, "the dialog closed", `!document.querySelector('dialog.transfer').open`)

	// Tablet and phone: the panel is a collapsible section.
	for _, sz := range sizes[:2] {
		resize(t, ag, sz)
		wait(t, ag, "the collapsed panel at "+sz.name, `getComputedStyle(document.querySelector('.assist-toggle')).display !== 'none' &&
			document.querySelector('.assist-toggle').getAttribute('aria-expanded') === 'false' && getComputedStyle(document.querySelector('.assist-body')).display === 'none'`)
		do(t, ag, "open the panel", chromedp.Click(chromedp.CSS(".assist-toggle")))
		wait(t, ag, "the open panel at "+sz.name, `document.querySelector('.assist-toggle').getAttribute('aria-expanded') === 'true' && getComputedStyle(document.querySelector('.assist-body')).display !== 'none' && document.querySelector('.assist .coach') !== null`)
		sh.take(ag, "assist-"+sz.name+"-panel")
		if sz.name == "phone" {
			audit(t, ag, "the workspace with the assist panel open (phone)", "")
		}
		do(t, ag, "close the panel", chromedp.Click(chromedp.CSS(".assist-toggle")))
	}

	// In Chinese the panel and the coaching card follow the language.
	resize(t, ag, sizes[2])
	setLang(t, ag, "zh-CN")
	wait(t, ag, "the panel in Chinese", `document.querySelector('#sugg-h').textContent === '推荐答案' && document.querySelector('.assist .coach dt.k-acknowledge').textContent === '先共情' &&
		document.querySelector('.assist .coach dd.k-acknowledge').textContent.includes('保持冷静') && document.querySelector('#wellbeing').textContent.includes('今日情绪激烈的会话：1')`)
	sh.take(ag, "assist-desktop-zh")
	audit(t, ag, "the workspace in Chinese with the assist panel", "")
	setLang(t, ag, "en")

	// Take the suggested break.
	do(t, ag, "take a break", chromedp.Click(chromedp.CSS("#wellbeing .take-break")))
	waitPresence(t, admin, li.UserID, starpost.PresenceBreak)
	wait(t, ag, "the break card gone", `document.querySelector('#wellbeing .take-break') === null && document.querySelector('input[value=break]').checked`)
	if got := eval[string](t, ag, `document.querySelector('#wellbeing').textContent`); !strings.Contains(got, "1") {
		t.Errorf("well-being line %q", got)
	}
}

// TestAssistHelpers runs the assist module's text helpers in Chromium: the
// engines' UTF-8 byte offsets mapped onto JavaScript strings (CJK and
// emoji), masking by cues or whole, highlights and placeholders.
func TestAssistHelpers(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	tab := newTab(t, browser, sizes[2])
	do(t, tab, "open the app", chromedp.Navigate(n.base+"/app/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	tests := []struct{ name, js, want string }{
		{"ascii cue", `m.maskedText(m.maskParts('you idiot!', {cues: [{cue: 'insult', start: 4, end: 9}]}))`, "you ＊＊＊＊＊!"},
		{"cjk cues", `m.maskedText(m.maskParts('垃圾客服，废物', {cues: [{cue: 'insult', start: 0, end: 6}, {cue: 'insult', start: 15, end: 21}]}))`, "＊＊客服，＊＊"},
		{"emoji before a cue", `m.maskedText(m.maskParts('😡 傻逼', {cues: [{cue: 'angry_emoji', start: 0, end: 4}, {cue: 'insult', start: 5, end: 11}]}))`, "😡 ＊＊"},
		{"no masked cue", `String(m.maskParts('so angry!!', {cues: [{cue: 'exclaim', start: 8, end: 10}], abusive: false}))`, "null"},
		{"abusive without cues", `JSON.stringify(m.maskParts('you are the worst people', {abusive: true, cues: []}).map(p => p.whole))`, "[true]"},
		{"highlight", `m.marked('退款要多久', [{start: 0, end: 6}]).map(n => n.nodeName + ':' + n.textContent).join('|')`, "MARK:退款|#text:要多久"},
		{"placeholders", `m.fill('Hi {{customer.name}}, I am {{ agent.name }}. {{order.id}}', {'customer.name': 'Wang Wei', 'agent.name': 'Li Na'})`, "Hi Wang Wei, I am Li Na. {{order.id}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chromedp.Run(tab, chromedp.Evaluate[string](`import('/app/assist.js').then(m => `+tt.js+`)`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s = %q, want %q", tt.js, got, tt.want)
			}
		})
	}
}
