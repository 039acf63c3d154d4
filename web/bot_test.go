package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bot"
	"github.com/starpost/starpost/client"
	"github.com/starpost/starpost/engine"
	spkb "github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/text"
)

// TestBrowserBot: an admin switches the widget's queue to "bot answers
// first" in the admin screen; a customer asks a paraphrased question in the
// widget and the bot answers it from the FAQs (the available agent is not
// offered the chat); the customer asks for a real person; the bot hands
// over, the router offers the chat to the agent, who accepts and sees the
// handoff card (reason, detected intent, confidence, transcript).
func TestBrowserBot(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := n.world.Workspace.ID

	// The knowledge base with a few FAQs, and the bot engine beside the node.
	tok, err := text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := spkb.Open(ctx, spkb.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	refund := "Refunds reach your original payment method within 3 working days of approval."
	for _, f := range []spkb.FAQ{
		{Questions: []string{"How do I get a refund?", "when will my refund arrive", "refund my order", "I want my money back", "怎么退款", "退款多久到账"}, Answer: refund, Lang: "en"},
		{Questions: []string{"Where is my package?", "track my order", "my parcel has not arrived", "快递到哪了", "包裹什么时候到"}, Answer: "Track your parcel with the number in the shipping email.", Lang: "en"},
		{Questions: []string{"I forgot my password", "reset my password", "can't log in", "忘记密码怎么办", "怎么重置密码"}, Answer: "Choose “Forgot password” on the sign-in page.", Lang: "en"},
	} {
		if err := k.CreateFAQ(ctx, ws, &f); err != nil {
			t.Fatal(err)
		}
	}
	models, err := bot.OpenModels(ctx, bot.ModelsOptions{SQL: n.db.SQL(), Driver: n.db.Driver(), Tokenizer: tok, Source: bot.KBSource{KB: k}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.NewEngine(models, n.db, bot.Config{})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := engine.NewRunner(eng, engine.Options{Store: n.db, Bus: n.bus, SQL: n.db.SQL(), Driver: n.db.Driver()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("bot runner: %v", err)
		}
		models.Close()
	})

	admin := client.New(n.base, nil)
	if _, err := admin.Login(ctx, n.world.Logins[0].Email, n.world.Logins[0].Password); err != nil {
		t.Fatal(err)
	}
	qs, err := admin.ListQueues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	widgetQueue := qs[0] // highest priority: where widget chats go

	// The admin switches the queue's bot on.
	adm := newTab(t, browser, sizes[2])
	signIn(t, adm, n.base, "/app/admin#queues", n.world.Logins[0].Email, n.world.Logins[0].Password, "#admin")
	wait(t, adm, "the queue list", `document.querySelector('tr[data-queue="`+widgetQueue.ID+`"] .bot-toggle') !== null`)
	audit(t, adm, "admin: queues with the bot column", "")
	do(t, adm, "switch the bot on", chromedp.Click(chromedp.CSS(`tr[data-queue="`+widgetQueue.ID+`"] .bot-toggle`)))
	wait(t, adm, "the switch saved", `document.querySelector('#announce').textContent.length > 0`)
	q, err := n.db.FindQueue(ctx, ws, widgetQueue.ID)
	if err != nil || !q.Bot {
		t.Fatalf("queue after the switch: %+v, %v", q, err)
	}
	sh.take(adm, "desktop-admin-queue-bot")

	// An agent is available all along.
	agentLogin := n.world.Agents()[0]
	agent := newTab(t, browser, sizes[2])
	signIn(t, agent, n.base, "/app/", agentLogin.Email, agentLogin.Password, ".presence")
	do(t, agent, "go available", chromedp.Click(chromedp.CSS(`.seg[data-p="available"]`)))
	waitPresence(t, admin, agentLogin.UserID, starpost.PresenceAvailable)

	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = hostPage.Execute(rw, map[string]string{"Src": n.base + "/widget.js", "Workspace": ws, "Lang": "en", "Greeting": "Hi!"})
	}))
	t.Cleanup(shop.Close)
	cust := newTab(t, browser, sizes[0])
	do(t, cust, "open the shop", chromedp.Navigate(shop.URL))
	wait(t, cust, "the widget launcher", `document.querySelector('starpost-widget')?.shadowRoot.querySelector('.launcher') != null`)
	do(t, cust, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, cust, "the message box", `!`+w+`.querySelector('.panel').hidden`)
	do(t, cust, "ask a paraphrased question", chromedp.SendKeys(inWidget("textarea"), "how long until I get my money back?"+kb.Enter))
	wait(t, cust, "the bot's answer", `[...`+w+`.querySelectorAll('.msg.them')].some(m => m.textContent.includes(`+jsString(refund)+`) && m.textContent.includes('bot'))`)
	sh.take(cust, "phone-widget-bot-answer")
	if eval[bool](t, agent, `document.querySelector('.offer') !== null`) {
		t.Fatal("the agent was offered the chat while the bot had it")
	}

	do(t, cust, "ask for a person", chromedp.SendKeys(inWidget("textarea"), "I want to talk to a real person"+kb.Enter))
	wait(t, agent, "the offer after the handoff", `document.querySelector('.offer .accept') !== null`)
	jsClick(t, agent, "accept", ".offer .accept")
	wait(t, agent, "the handoff card", `document.querySelector('.log .handoff .handoff-reason') !== null`)
	if got := eval[string](t, agent, `document.querySelector('.log .handoff .handoff-reason').textContent`); got != "The customer asked for a person" {
		t.Errorf("handoff reason shown %q", got)
	}
	if got := eval[string](t, agent, `document.querySelector('.log .handoff .handoff-intent').textContent`); got != "How do I get a refund?" {
		t.Errorf("handoff intent shown %q", got)
	}
	if got := eval[string](t, agent, `document.querySelector('.log .handoff .handoff-confidence').textContent`); got == "0%" || got == "" {
		t.Errorf("handoff confidence shown %q", got)
	}
	do(t, agent, "open the transcript", chromedp.Click(chromedp.CSS(".log .handoff summary")))
	wait(t, agent, "the transcript", `[...document.querySelectorAll('.log .handoff ol li')].some(li => li.textContent.includes('real person'))`)
	if eval[bool](t, agent, `![...document.querySelectorAll('.log .msg .who')].some(n => n.textContent.startsWith('Bot'))`) {
		t.Error("the bot's messages are not labelled as the bot's")
	}
	audit(t, agent, "the agent's view with the handoff card", "")
	sh.take(agent, "desktop-agent-handoff-card")
	resize(t, agent, sizes[0])
	sh.take(agent, "phone-agent-handoff-card")
	setLang(t, agent, "zh-CN")
	wait(t, agent, "the card in Chinese", `document.querySelector('.log .handoff .handoff-reason')?.textContent === '客户要求人工服务'`)
	sh.take(agent, "phone-agent-handoff-card-zh")
}
