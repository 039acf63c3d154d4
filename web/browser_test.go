package web_test

import (
	"context"
	"encoding/json"

	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
)

// chromiumPath finds Debian's Chromium. Without it the browser tests skip,
// unless CI is set: there they must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); CI needs the browser tests")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium): skipping the browser tests")
	return ""
}

// newBrowser starts one headless Chromium for the test with the flags this
// machine needs (no sandbox as root, no background network).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // start the browser
		cancelB()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() { cancelB(); cancelA() })
	return bctx
}

// newTab opens a tab in its own browser context (its own cookies and
// storage, like another person's browser) with the given viewport.
func newTab(t *testing.T, browser context.Context, sz size) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	var emu []chromedp.EmulateViewportOption
	if sz.mobile {
		emu = append(emu, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(sz.w, sz.h, emu...)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

type size struct {
	name   string
	w, h   int64
	mobile bool
	lang   string // of the widget and, for zh-CN, of the workspace
}

var sizes = []size{
	{"phone", 390, 844, true, "en"},
	{"tablet", 820, 1180, true, "zh-CN"},
	{"desktop", 1440, 900, false, "en"},
}

// shots writes screenshots to $STARPOST_SCREENSHOTS, or to a temporary
// folder when it is unset.
type shots struct {
	t   *testing.T
	dir string
}

func newShots(t *testing.T) *shots {
	dir := os.Getenv("STARPOST_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return &shots{t: t, dir: dir}
}

func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// do runs browser steps, failing the test with what it was doing.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wait polls a JavaScript predicate until it is true.
func wait(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(25*time.Second))); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const r = document.querySelector('starpost-widget');
			return (r ? 'widget: ' + r.shadowRoot.querySelector('.root').innerText + '\n' : '') + 'page: ' + document.body.innerText })()`))
		t.Fatalf("waiting for %s: %v\n%s", what, err, page)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// w is the JavaScript path into the widget's shadow root.
const w = `document.querySelector('starpost-widget').shadowRoot`

func inWidget(sel string) chromedp.JSPath {
	return chromedp.JSPath(w + `.querySelector(` + jsString(sel) + `)`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hostPage is a shop's page on another origin, carrying the widget tag and
// CSS that would wreck any widget not isolated from it.
var hostPage = template.Must(template.New("host").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example shop</title>
<style>
* { font-family: "Comic Sans MS", cursive !important; color: #c00 !important; }
button { display: none !important; }
div, section, textarea { border: 5px dotted magenta !important; }
body { background: #fffbe6; margin: 0; padding: 24px; }
</style></head>
<body><h1>Example shop</h1><p>Spring sale: everything 20% off.</p>
<script src="{{.Src}}" data-workspace="{{.Workspace}}" data-lang="{{.Lang}}" data-color="#0b57d0"
 data-greeting="{{.Greeting}}"></script>
</body></html>`))

// TestBrowserChat is the customer and agent path through real Chromium at
// phone, tablet and desktop sizes: the customer writes in the widget on a
// shop's page, the agent sees the offer, accepts and replies, the customer
// sees the reply; then the customer's network drops, two messages are typed
// offline, the network returns, and the agent receives each exactly once,
// in order; a reload shows the history.
func TestBrowserChat(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	px := startProxy(t, strings.TrimPrefix(n.base, "http://"))
	sh := newShots(t)

	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		lang := r.URL.Query().Get("lang")
		if lang == "" {
			lang = "en"
		}
		_ = hostPage.Execute(rw, map[string]string{"Src": px.base() + "/widget.js", "Workspace": n.world.Workspace.ID,
			"Lang": lang, "Greeting": "Hi! Ask us anything about your order."})
	}))
	t.Cleanup(shop.Close)

	agentLogin := n.world.Agents()[0] // Li Na: orders 5, the only agent who goes available
	admin := client.New(n.base, nil)
	if _, err := admin.Login(context.Background(), n.world.Logins[0].Email, n.world.Logins[0].Password); err != nil {
		t.Fatal(err)
	}

	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			sh.t = t
			name := func(s string) string { return sz.name + "-" + s }

			// The agent signs in and goes available.
			agent := newTab(t, browser, sz)
			do(t, agent, "open the workspace", chromedp.Navigate(n.base+"/app/"), chromedp.WaitVisible(chromedp.CSS("#email")))
			do(t, agent, "fill in the sign-in form",
				chromedp.SendKeys(chromedp.CSS("#email"), agentLogin.Email),
				chromedp.SendKeys(chromedp.CSS("#password"), agentLogin.Password))
			sh.take(agent, name("agent-login"))
			do(t, agent, "sign in", chromedp.Click(chromedp.CSS("form.login-card button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS(".presence")))
			do(t, agent, "go available", chromedp.Click(chromedp.CSS(`.seg[data-p="available"]`)))
			wait(t, agent, "presence available", `document.querySelector('input[value=available]').checked`)
			waitPresence(t, admin, agentLogin.UserID, starpost.PresenceAvailable)
			if sz.lang == "zh-CN" {
				do(t, agent, "switch to Chinese", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#app-lang'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change')) })()`))
				wait(t, agent, "the Chinese workspace", `document.documentElement.lang === 'zh-CN' && document.querySelector('.seg[data-p=available]').textContent.includes('在线') && document.querySelector('input[value=available]').checked`)
			}
			sh.take(agent, name("agent-inbox-empty"))

			// The customer opens the widget on the shop's page and writes.
			cust := newTab(t, browser, sz)
			do(t, cust, "open the shop", chromedp.Navigate(shop.URL+"/?lang="+sz.lang))
			wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
			sh.take(cust, name("customer-closed"))
			do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
			wait(t, cust, "the open panel with focus in the message box",
				`!`+w+`.querySelector('.panel').hidden && `+w+`.activeElement === `+w+`.querySelector('textarea')`)
			sh.take(cust, name("customer-open"))
			first := "Where is my order 20261111-" + sz.name + "?"
			do(t, cust, "type the first message", chromedp.SendKeys(inWidget("textarea"), first+kb.Enter))
			wait(t, cust, "the first message sent", `[...`+w+`.querySelectorAll('.msg.me')].some(m => !m.hasAttribute('data-pending') && m.textContent.includes(`+jsString(first)+`))`)

			// The agent sees the offer, accepts it and replies.
			wait(t, agent, "the offer", `document.querySelector('.offer .accept') !== null && document.querySelector('.offer .preview').textContent.includes(`+jsString(first)+`)`)
			sh.take(agent, name("agent-offer"))
			jsClick(t, agent, "accept", ".offer .accept")
			wait(t, agent, "the conversation open with the customer's message",
				`[...document.querySelectorAll('.log .msg.them')].some(m => m.textContent.includes(`+jsString(first)+`)) && document.activeElement.id === 'reply'`)
			reply := "Hello, I am checking order " + sz.name + " for you."
			do(t, agent, "reply", chromedp.SendKeys(chromedp.CSS("#reply"), reply+kb.Enter))
			wait(t, agent, "the reply stored", `[...document.querySelectorAll('.log .msg.me:not(.pending)')].some(m => m.textContent.includes(`+jsString(reply)+`))`)
			sh.take(agent, name("agent-conversation"))

			// The customer sees the reply.
			wait(t, cust, "the agent's reply in the widget", `[...`+w+`.querySelectorAll('.msg.them')].some(m => m.textContent.includes(`+jsString(reply)+`))`)
			sh.take(cust, name("customer-reply"))

			// The customer's network drops; two messages are typed offline.
			px.setDown(true)
			defer px.setDown(false)
			wait(t, cust, "the widget to notice the drop", `document.querySelector('starpost-widget').getAttribute('data-connection') === 'offline'`)
			offline := []string{"First while offline (" + sz.name + ")", "Second while offline (" + sz.name + ")"}
			for _, m := range offline {
				do(t, cust, "type offline", chromedp.SendKeys(inWidget("textarea"), m+kb.Enter))
			}
			wait(t, cust, "two queued messages", w+`.querySelectorAll('.msg.me[data-pending]').length === 2`)
			sh.take(cust, name("customer-offline"))
			convID := eval[string](t, cust, `JSON.parse(localStorage.getItem('starpost.widget.`+n.world.Workspace.ID+`')).conv`)
			if got := customerMessages(t, admin, convID); len(got) != 1 {
				t.Fatalf("while offline the server has customer messages %q, want only the first", got)
			}

			// The network returns: the widget resumes and sends its outbox.
			px.setDown(false)
			wait(t, cust, "the outbox sent", `document.querySelector('starpost-widget').getAttribute('data-connection') === 'online' && `+
				w+`.querySelectorAll('.msg.me[data-pending]').length === 0 && JSON.parse(localStorage.getItem('starpost.widget.`+n.world.Workspace.ID+`')).outbox.length === 0`)
			wait(t, agent, "both offline messages at the agent", `(() => { const t = [...document.querySelectorAll('.log .msg.them .text')].map(n => n.textContent);
				return t.includes(`+jsString(offline[0])+`) && t.includes(`+jsString(offline[1])+`) })()`)
			got := eval[[]string](t, agent, `[...document.querySelectorAll('.log .msg.them .text')].map(n => n.textContent)`)
			want := []string{first, offline[0], offline[1]}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("agent's view shows customer messages %q, want %q", got, want)
			}
			if got := customerMessages(t, admin, convID); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("stored customer messages %q, want %q (each once, in order)", got, want)
			}
			sh.take(agent, name("agent-after-drop"))

			// History on return: a reload shows the whole conversation.
			do(t, cust, "reload the shop", chromedp.Reload())
			wait(t, cust, "the widget reopened with its history", `(() => { const r = document.querySelector('starpost-widget'); if (!r) return false;
				const t = [...r.shadowRoot.querySelectorAll('.msg')].map(n => n.textContent).join('\n');
				return !r.shadowRoot.querySelector('.panel').hidden && t.includes(`+jsString(first)+`) && t.includes(`+jsString(reply)+`) && t.includes(`+jsString(offline[1])+`) })()`)
			sh.take(cust, name("customer-history"))

			// Phone: back to the inbox, one pane at a time.
			if sz.name == "phone" {
				do(t, agent, "go back to the inbox", chromedp.Click(chromedp.CSS(".back")))
				wait(t, agent, "the inbox pane", `getComputedStyle(document.querySelector('.inbox')).display !== 'none' && getComputedStyle(document.querySelector('.conv')).display === 'none'`)
				sh.take(agent, name("agent-inbox"))
				do(t, agent, "reopen the conversation", chromedp.Click(chromedp.CSS(".list .item")))
				wait(t, agent, "the conversation pane", `getComputedStyle(document.querySelector('.inbox')).display === 'none'`)
			} else {
				wait(t, agent, "inbox and conversation side by side", `getComputedStyle(document.querySelector('.inbox')).display !== 'none' && getComputedStyle(document.querySelector('.conv')).display !== 'none'`)
			}

			// Shortcuts are documented in the UI.
			do(t, agent, "open the shortcut list", chromedp.Click(chromedp.CSS(`button[aria-haspopup="dialog"]`)))
			wait(t, agent, "the shortcut list", `document.querySelector('dialog.help').open`)
			sh.take(agent, name("agent-shortcuts"))
			do(t, agent, "close the shortcut list", chromedp.Click(chromedp.CSS("dialog.help button")))

			// The agent resolves; the inbox empties for the next size.
			do(t, agent, "resolve", chromedp.Click(chromedp.CSS(".resolve")))
			wait(t, agent, "the inbox empty", `document.querySelectorAll('.list .item').length === 0 && !document.querySelector('.inbox .empty').hidden`)
			wait(t, cust, "the customer told it is resolved", `document.querySelector('starpost-widget').getAttribute('data-conversation-state') === 'resolved'`)
			sh.take(cust, name("customer-resolved"))
		})
	}
}

// waitPresence waits until the store has the agent's presence, so the
// router knows the agent is there before the customer writes.
func waitPresence(t *testing.T, c *client.Client, agentID string, want starpost.Presence) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		var out sphttp.ListResponse[starpost.AgentPresence]
		if err := c.Do(ctx, "GET", "/api/v1/presence", nil, &out); err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Items {
			if p.AgentID == agentID && p.Presence == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("agent %s never became %s", agentID, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// customerMessages returns the texts of the customer's stored messages in
// the conversation, in order.
func customerMessages(t *testing.T, c *client.Client, convID string) []string {
	t.Helper()
	var page sphttp.EventPage
	if err := c.Do(context.Background(), "GET", "/api/v1/conversations/"+convID+"/events", nil, &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Items {
		if e.Kind != starpost.KindMessage || e.Actor.Role != starpost.RoleCustomer {
			continue
		}
		var b starpost.MessageBody
		if err := e.DecodeBody(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Text)
	}
	return out
}
