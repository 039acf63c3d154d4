package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
)

// TestBrowserWidgetBusy: when the waiting line is full, the widget turns
// the refused chat (503) into a leave-a-message / callback form with the
// estimated wait, in English and Chinese, accessible; the request is stored
// as a conversation agents see.
func TestBrowserWidgetBusy(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, withAPI(func(s *sphttp.Server) { s.Limits.MaxWaiting = 1 }))
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID

	// One customer already waits and no agent is available: the line is full.
	v, err := client.New(n.base, nil).NewVisitor(ctx, ws, "First in line")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Start(ctx, sphttp.WidgetStartRequest{Text: "hello?", IdempotencyKey: "first"}); err != nil {
		t.Fatal(err)
	}
	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = hostPage.Execute(rw, map[string]string{"Src": n.base + "/widget.js", "Workspace": ws, "Lang": r.URL.Query().Get("lang"), "Greeting": "Hi!"})
	}))
	t.Cleanup(shop.Close)

	for _, tc := range []struct {
		sz                     size
		text, title, wait, bad string
		contactSel, contact    string
		channel                starpost.Channel
	}{
		{sizes[0], "Where is my parcel 11-11?", "All our agents are busy", "about 1 min", "Leave an email or a phone number.",
			"#sp-bemail", "wang.fang@example.com", starpost.ChannelEmail},
		{sizes[1], "我的包裹 11-11 在哪里？", "当前咨询人数较多", "约 1 分钟", "请留下邮箱或电话。",
			"#sp-bphone", "+86 138 0000 0000", starpost.ChannelVoice},
	} {
		t.Run(tc.sz.name, func(t *testing.T) {
			sh.t = t
			cust := newTab(t, browser, tc.sz)
			do(t, cust, "open the shop", chromedp.Navigate(shop.URL+"/?lang="+tc.sz.lang))
			wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
			do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
			wait(t, cust, "focus in the message box", w+`.activeElement === `+w+`.querySelector('textarea')`)
			do(t, cust, "write", chromedp.SendKeys(inWidget("textarea"), tc.text+kb.Enter))
			wait(t, cust, "the busy form with the message kept and focused",
				`document.querySelector('starpost-widget').getAttribute('data-view') === 'busy' && `+w+`.activeElement?.id === 'sp-bmsg' && `+
					w+`.querySelector('#sp-bmsg').value === `+jsString(tc.text))
			intro := eval[string](t, cust, w+`.querySelector('#sp-busy-p').textContent`)
			title := eval[string](t, cust, w+`.querySelector('#sp-busy-h').textContent`)
			if title != tc.title || !strings.Contains(intro, tc.wait) {
				t.Errorf("busy form %q / %q, want %q and %q", title, intro, tc.title, tc.wait)
			}
			do(t, cust, "send without a way to reach", chromedp.Click(inWidget(".pane:not([hidden]) button[type=submit]")))
			wait(t, cust, "the contact marked missing", w+`.querySelector('#sp-bemail').getAttribute('aria-invalid') === 'true' && `+
				w+`.activeElement?.id === 'sp-bemail' && `+w+`.querySelector('#sp-bemail-err').textContent === `+jsString(tc.bad))
			audit(t, cust, "widget busy form", "starpost-widget")
			sh.take(cust, tc.sz.name+"-widget-busy")
			do(t, cust, "leave a way to reach", chromedp.SendKeys(inWidget(tc.contactSel), tc.contact),
				chromedp.Click(inWidget(".pane:not([hidden]) button[type=submit]")))
			wait(t, cust, "the thanks in the chat", `document.querySelector('starpost-widget').getAttribute('data-callback') === 'sent' && `+
				`document.querySelector('starpost-widget').getAttribute('data-view') === 'chat' && `+
				w+`.querySelector('.root').innerText.includes(`+jsString(tc.contact)+`)`)
			sh.take(cust, tc.sz.name+"-widget-callback-sent")

			// Stored as a conversation the agents see, with the message and contact.
			convID := eval[string](t, cust, `JSON.parse(localStorage.getItem('starpost.widget.`+ws+`')).conv`)
			c, err := n.db.FindConversation(ctx, ws, convID)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := n.db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: convID, Kinds: []starpost.EventKind{starpost.KindMessage}})
			if err != nil || len(evs) != 1 {
				t.Fatalf("callback messages %d: %v", len(evs), err)
			}
			var m starpost.MessageBody
			if err := evs[0].DecodeBody(&m); err != nil {
				t.Fatal(err)
			}
			if c.Channel != tc.channel || !strings.HasPrefix(c.Subject, "Callback") || !strings.Contains(m.Text, tc.text) || !strings.Contains(m.Text, tc.contact) {
				t.Errorf("stored %s %q: %q", c.Channel, c.Subject, m.Text)
			}
		})
	}
}
