package web_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	"github.com/starpost/starpost/demo"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/router"
)

// TestBrowserWidgetReassignment: the customer is told in the widget when
// their agent changes. The first agent's connection drops and does not come
// back; after the grace period the router returns the conversation to the
// queue and a second agent takes it; that agent then transfers it to a
// team, with a note the customer must not see. In English on a phone and
// in Chinese on a desktop.
func TestBrowserWidgetReassignment(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, withRouter(router.WithEngineOptions(router.WithGracePeriod(time.Second))))
	sh := newShots(t)
	// The general chat queue, for which both agents qualify.
	queue := n.world.Queues[0]
	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = queuePage.Execute(rw, map[string]string{"Src": n.base + "/widget.js", "Workspace": n.world.Workspace.ID,
			"Lang": r.URL.Query().Get("lang"), "Queue": queue.ID})
	}))
	t.Cleanup(shop.Close)
	ctx := context.Background()
	admin := client.New(n.base, nil)
	if _, err := admin.Login(ctx, n.world.Logins[0].Email, n.world.Logins[0].Password); err != nil {
		t.Fatal(err)
	}
	// Li Na (orders 5) is offered first; Zhang Wei (orders 4) takes over.
	first, second := n.world.Agents()[0], n.world.Agents()[1]

	for _, tc := range []struct {
		size                                 size
		joined, left, takenOver, transferred string
	}{
		{sizes[0], "An agent has joined", "Your agent is no longer available", "Another agent has taken over", "transferred to the right team"},
		{size{"desktop", 1440, 900, false, "zh-CN"}, "客服已接入对话", "您的客服暂时无法继续服务", "另一位客服已接手本次对话", "正在为您转接到相应的团队"},
	} {
		t.Run(tc.size.name+"-"+tc.size.lang, func(t *testing.T) {
			li, liStream, stopLi := onlineAgent(t, n.base, first)
			defer stopLi()
			cust := newTab(t, browser, tc.size)
			do(t, cust, "open the shop", chromedp.Navigate(shop.URL+"/?lang="+tc.size.lang))
			wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
			do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
			wait(t, cust, "the open panel with focus in the message box",
				`!`+w+`.querySelector('.panel').hidden && `+w+`.activeElement === `+w+`.querySelector('textarea')`)
			text := "My parcel has not arrived (" + tc.size.name + ")"
			do(t, cust, "write", chromedp.SendKeys(inWidget("textarea"), text+kb.Enter))
			wait(t, cust, "the message sent", `[...`+w+`.querySelectorAll('.msg.me')].some(m => !m.hasAttribute('data-pending') && m.textContent.includes(`+jsString(text)+`))`)
			conv := eval[string](t, cust, `JSON.parse(localStorage.getItem('starpost.widget.`+n.world.Workspace.ID+`')).conv`)
			acceptOffer(t, li, liStream, first.UserID, conv)
			sysLine := func(text string) string {
				return `[...` + w + `.querySelectorAll('.sys')].some(p => p.textContent.includes(` + jsString(text) + `))`
			}
			wait(t, cust, "the customer told an agent joined", sysLine(tc.joined))

			// Li Na's network drops for good; Zhang Wei comes online.
			stopLi()
			zhang, zhangStream, stopZhang := onlineAgent(t, n.base, second)
			defer stopZhang()
			acceptOffer(t, zhang, zhangStream, second.UserID, conv) // the conversation Li Na lost
			wait(t, cust, "the customer told the agent left and another took over", sysLine(tc.left)+` && `+sysLine(tc.takenOver))
			sh.take(cust, "reassigned-"+tc.size.name+"-"+tc.size.lang)

			// A transfer to a team: the customer is told, the note stays internal.
			const note = "INTERNAL-NOTE customer already waited long"
			if err := zhang.Do(ctx, "POST", "/api/v1/conversations/"+conv+"/transfer", sphttp.TransferRequest{ToQueueID: queue.ID, Note: note}, nil); err != nil {
				t.Fatal(err)
			}
			wait(t, cust, "the customer told of the transfer", sysLine(tc.transferred))
			if eval[bool](t, cust, w+`.querySelector('.root').innerText.includes('INTERNAL-NOTE')`) {
				t.Error("the widget shows the transfer note")
			}
			audit(t, cust, "the widget after a reassignment", "starpost-widget")
			sh.take(cust, "transferred-"+tc.size.name+"-"+tc.size.lang)

			// Leave nothing open for the next round.
			_ = zhang.SetPresence(ctx, starpost.PresenceOffline)
			if err := admin.Do(ctx, "POST", "/api/v1/conversations/"+conv+"/close", nil, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// queuePage is a shop's page whose widget starts conversations in one
// queue.
var queuePage = template.Must(template.New("queue").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example shop</title></head>
<body><h1>Example shop</h1>
<script src="{{.Src}}" data-workspace="{{.Workspace}}" data-lang="{{.Lang}}" data-queue="{{.Queue}}"></script>
</body></html>`))

// onlineAgent signs an agent in, opens their stream and makes them
// available; stop closes the stream (their connection drops) and may be
// called more than once.
func onlineAgent(t *testing.T, base string, l demo.Login) (*client.Client, *client.Socket, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c := client.New(base, nil)
	if _, err := c.Login(ctx, l.Email, l.Password); err != nil {
		cancel()
		t.Fatal(err)
	}
	s, err := c.Stream(ctx, 0)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := c.SetPresence(ctx, starpost.PresenceAvailable); err != nil {
		cancel()
		t.Fatal(err)
	}
	return c, s, func() { s.Close(); cancel() }
}

// acceptOffer reads an agent's stream until conv is offered to them, and
// accepts it.
func acceptOffer(t *testing.T, c *client.Client, s *client.Socket, agentID, conv string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		f, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for an offer to %s: %v", agentID, err)
		}
		if f.Event == nil || f.Event.Kind != starpost.KindOffer || f.Event.ConversationID != conv {
			continue
		}
		var b starpost.OfferBody
		if f.Event.DecodeBody(&b) == nil && b.AgentID == agentID {
			if err := c.Accept(ctx, conv); err != nil {
				t.Fatalf("accept %s: %v", conv, err)
			}
			return
		}
	}
}
