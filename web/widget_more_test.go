package web_test

import (
	"context"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
)

// csatEvents returns the bodies of the conversation's "csat" events.
func csatEvents(t *testing.T, c *client.Client, convID string) []starpost.CSATBody {
	t.Helper()
	var page sphttp.EventPage
	if err := c.Do(context.Background(), "GET", "/api/v1/conversations/"+convID+"/events", nil, &page); err != nil {
		t.Fatal(err)
	}
	var out []starpost.CSATBody
	for _, e := range page.Items {
		if e.Kind == starpost.KindCSAT {
			var b starpost.CSATBody
			if err := e.DecodeBody(&b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// shopPage is a shop's page with the widget tag, optionally for one queue.
var shopPage = template.Must(template.New("shop").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example shop</title></head>
<body><h1>Example shop</h1>
<script src="{{.Src}}" data-workspace="{{.Workspace}}" data-lang="{{.Lang}}"{{if .Queue}} data-queue="{{.Queue}}"{{end}}></script>
</body></html>`))

// TestBrowserWidgetMore drives the widget features beyond chatting in
// Chromium: a customer sends an image (thumbnail in the widget and in the
// agent's workspace), read receipts both ways, an agent's file, the
// rating after resolve (a "csat" event), and the offline form of a queue
// outside its business hours (server-side hours from the status endpoint).
func TestBrowserWidgetMore(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	admin := client.New(n.base, nil)
	if _, err := admin.Login(ctx, n.world.Logins[0].Email, n.world.Logins[0].Password); err != nil {
		t.Fatal(err)
	}
	// A queue open only the day after tomorrow (UTC): closed now.
	later := time.Now().UTC().AddDate(0, 0, 2)
	var closed starpost.Queue
	if err := admin.Do(ctx, "POST", "/api/v1/queues", map[string]any{"name": "After hours",
		"business_hours": map[string]any{"time_zone": "UTC", "days": map[string][]string{
			strconv.Itoa(int(later.Weekday())): {"09:00-10:00"}}}}, &closed); err != nil {
		t.Fatal(err)
	}
	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = shopPage.Execute(rw, map[string]string{"Src": n.base + "/widget.js", "Workspace": ws, "Lang": "en", "Queue": r.URL.Query().Get("queue")})
	}))
	t.Cleanup(shop.Close)
	dir := t.TempDir()
	photo := filepath.Join(dir, "broken screen.png")
	writePNG(t, photo, 640, 480)
	label := filepath.Join(dir, "return-label.txt")
	if err := os.WriteFile(label, []byte("Return label RMA-2026-0042"), 0o644); err != nil {
		t.Fatal(err)
	}
	desk := sizes[2]

	// The agent is available; the customer writes and the agent accepts.
	agentLogin := n.world.Agents()[0]
	ag := newTab(t, browser, desk)
	signIn(t, ag, n.base, "/app/", agentLogin.Email, agentLogin.Password, ".presence")
	do(t, ag, "go available", chromedp.Click(chromedp.CSS(`.seg[data-p="available"]`)))
	waitPresence(t, admin, agentLogin.UserID, starpost.PresenceAvailable)
	cust := newTab(t, browser, desk)
	do(t, cust, "open the shop", chromedp.Navigate(shop.URL))
	wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
	do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, cust, "the chat view", `document.querySelector('starpost-widget').getAttribute('data-view') === 'chat'`)
	// The customer's first words are a photo (the conversation starts
	// without a text), then a sentence.
	do(t, cust, "attach a photo", chromedp.SetUploadFiles(inWidget("#sp-file"), []string{photo}))
	wait(t, cust, "the thumbnail in the widget", w+`.querySelector('.msg.me:not([data-pending]) .att-img img[data-loaded]')?.naturalWidth === 320`)
	do(t, cust, "write", chromedp.SendKeys(inWidget("textarea"), "My new phone arrived with a cracked screen."+kb.Enter))
	wait(t, ag, "the offer", `document.querySelector('.offer .accept') !== null`)
	jsClick(t, ag, "accept", ".offer .accept")
	wait(t, ag, "the conversation", `document.querySelectorAll('.log .msg.them').length === 2`)
	wait(t, ag, "the thumbnail in the workspace", `(() => { const i = document.querySelector('.log .msg.them .att-img img'); return i && i.complete && i.naturalWidth === 320 })()`)
	if alt := eval[string](t, ag, `document.querySelector('.log .msg.them .att-img img').alt`); alt == "" {
		t.Error("the agent's thumbnail has no text alternative")
	}
	href := eval[string](t, ag, `document.querySelector('.log .msg.them .att-img').href`)
	// The link opens the full photo (sandboxed, inline) in the agent's browser.
	full, closeFull := chromedp.NewContext(ag)
	do(t, full, "open the full photo", chromedp.Navigate(href))
	wait(t, full, "the full photo", `document.images.length === 1 && document.images[0].naturalWidth === 640`)
	closeFull()
	sh.take(cust, "widget-more-customer-photo")
	sh.take(ag, "widget-more-agent-photo")

	// The agent has the conversation open: the customer sees "Read".
	wait(t, cust, "Read under the last message", `(() => { const r = `+w+`.querySelector('.receipt'); return r && r.textContent === 'Read' && r.closest('.msg').textContent.includes('cracked screen') })()`)

	// The agent replies with a file; the customer's open widget reads it
	// and the agent sees "Seen".
	do(t, ag, "attach a return label", chromedp.SetUploadFiles(chromedp.CSS("#att-input"), []string{label}))
	wait(t, cust, "the agent's file in the widget", `[...`+w+`.querySelectorAll('.msg.them .att-file')].some(b => b.textContent.includes('return-label.txt'))`)
	wait(t, ag, "Seen under the agent's file", `(() => { const r = document.querySelector('.log .receipt'); return r && r.closest('.msg').querySelector('.att-file') })()`)
	sh.take(ag, "widget-more-agent-seen")
	audit(t, cust, "widget with attachments and a receipt", "starpost-widget")
	audit(t, ag, "workspace with attachments and a receipt", "")

	// The full image is served inline, sandboxed; only to those who may read it.
	res, err := http.Get(href) // no cookie
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("attachment without a session: %d", res.StatusCode)
	}

	// Resolve; the customer rates 4 stars; the conversation stays resolved.
	do(t, ag, "resolve", chromedp.Click(chromedp.CSS(".resolve")))
	wait(t, cust, "the rating form", `!`+w+`.querySelector('.ask-rating').hidden`)
	do(t, cust, "rate", chromedp.Click(inWidget(`label[for="sp-star-4"]`)), chromedp.SendKeys(inWidget("#sp-rate-c"), "Fast help"),
		chromedp.Click(inWidget(`.ask-rating button[type=submit]`)))
	wait(t, cust, "the thank-you", w+`.querySelector('.ask-rating').hidden && `+w+`.querySelector('.log').textContent.includes('You rated this conversation 4 of 5')`)
	sh.take(cust, "widget-more-rated")
	convID := eval[string](t, cust, `JSON.parse(localStorage.getItem('starpost.widget.`+ws+`')).conv`)
	if got := csatEvents(t, admin, convID); len(got) != 1 || got[0] != (starpost.CSATBody{Score: 4, Comment: "Fast help"}) {
		t.Errorf("csat events %+v", got)
	}
	var conv starpost.Conversation
	if err := admin.Do(ctx, "GET", "/api/v1/conversations/"+convID, nil, &conv); err != nil || conv.State != starpost.StateResolved {
		t.Errorf("after rating: state %s, %v", conv.State, err)
	}

	// No agent is available now (the known bug: a "no agent" queue status,
	// sent once before the widget connected, never reached it; the widget's
	// stream now asks the router to send it again).
	do(t, ag, "go offline", chromedp.Click(chromedp.CSS(`.seg[data-p="offline"]`)))
	waitPresence(t, admin, agentLogin.UserID, starpost.PresenceOffline)

	// Outside the queue's business hours: the offline form, from the server's status.
	off := newTab(t, browser, sizes[0])
	do(t, off, "open the shop for the closed queue", chromedp.Navigate(shop.URL+"/?queue="+closed.ID))
	wait(t, off, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
	do(t, off, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, off, "the offline form with the next opening", `document.querySelector('starpost-widget').getAttribute('data-view') === 'offline' && `+
		w+`.querySelector('.pane:not([hidden])').textContent.includes('at 09:00 (UTC)')`)
	do(t, off, "fill in the offline form",
		chromedp.SendKeys(inWidget("#sp-oname"), "Wang Fang"),
		chromedp.SendKeys(inWidget("#sp-oemail"), "wang.fang@example.com"),
		chromedp.SendKeys(inWidget("#sp-omsg"), "Can I change my delivery address?"))
	sh.take(off, "widget-more-offline")
	do(t, off, "send it", chromedp.Click(inWidget(".pane:not([hidden]) button[type=submit]")))
	wait(t, off, "the conversation started", `document.querySelector('starpost-widget').getAttribute('data-view') === 'chat'`)
	wait(t, off, "the no-agent queue status", w+`.querySelector('.queue').textContent.endsWith('All agents are busy; we will answer as soon as we can.') && !`+w+`.querySelector('.queue').hidden`)
	offConv := eval[string](t, off, `JSON.parse(localStorage.getItem('starpost.widget.`+ws+`')).conv`)
	if err := admin.Do(ctx, "GET", "/api/v1/conversations/"+offConv, nil, &conv); err != nil || conv.QueueID != closed.ID {
		t.Errorf("offline conversation in queue %q, want %q: %v", conv.QueueID, closed.ID, err)
	}
	if got := customerMessages(t, admin, offConv); len(got) != 1 || got[0] != "Can I change my delivery address?" {
		t.Errorf("offline messages %q", got)
	}
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(y / 2), 180, 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
