package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
	var faqIDs []string
	for _, f := range []spkb.FAQ{
		{Questions: []string{"How do I get a refund?", "when will my refund arrive", "refund my order", "I want my money back", "怎么退款", "退款多久到账"}, Answer: refund, Lang: "en"},
		{Questions: []string{"Where is my package?", "track my order", "my parcel has not arrived", "快递到哪了", "包裹什么时候到"}, Answer: "Track your parcel with the number in the shipping email.", Lang: "en"},
		{Questions: []string{"I forgot my password", "reset my password", "can't log in", "忘记密码怎么办", "怎么重置密码"}, Answer: "Choose “Forgot password” on the sign-in page.", Lang: "en"},
	} {
		if err := k.CreateFAQ(ctx, ws, &f); err != nil {
			t.Fatal(err)
		}
		faqIDs = append(faqIDs, f.ID)
	}
	models, err := bot.OpenModels(ctx, bot.ModelsOptions{SQL: n.db.SQL(), Driver: n.db.Driver(), Tokenizer: tok, Source: bot.KBSource{KB: k}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.NewEngine(models, n.db, bot.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The tag engine keeps the intent tags agents give conversations.
	tags, err := bot.OpenTags(ctx, n.db.SQL(), n.db.Driver())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	for _, h := range []engine.Handler{eng, bot.NewTagEngine(tags, n.db)} {
		runner, err := engine.NewRunner(h, engine.Options{Store: n.db, Bus: n.bus, SQL: n.db.SQL(), Driver: n.db.Driver()})
		if err != nil {
			t.Fatal(err)
		}
		go func() { done <- runner.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("engine runner: %v", err)
			}
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
	const question = "how long until I get my money back?"
	do(t, cust, "ask a paraphrased question", chromedp.SendKeys(inWidget("textarea"), question+kb.Enter))
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

	// The agent tags the conversation with the intent the bot detected (the
	// picker starts there) and resolves it: the customer's first question
	// becomes a training example of the bot.
	do(t, agent, "open the customer panel", chromedp.Click(chromedp.CSS(".conv-head .contact-btn")))
	wait(t, agent, "the intent picker at the bot's intent", `document.querySelector('#intent-pick:not([disabled])')?.value === `+jsString(faqIDs[0]))
	if got := eval[string](t, agent, `document.querySelector('label[for=intent-pick]').textContent`); got != "本会话的意图" {
		t.Errorf("the picker's label in Chinese is %q", got)
	}
	audit(t, agent, "the intent picker on a phone, in Chinese", "")
	sh.take(agent, "phone-agent-intent-zh")
	do(t, agent, "save the intent", chromedp.Click(chromedp.CSS("#intent-save")))
	wait(t, agent, "the tag saved", `document.querySelector('#intent-status').textContent.startsWith('意图已保存')`)
	wait(t, agent, "the tag in the log", `[...document.querySelectorAll('.log .sys')].some(li => li.textContent.includes('已标注意图：How do I get a refund?'))`)
	tagged, err := n.db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, Kinds: []starpost.EventKind{bot.KindIntentTagged}})
	if err != nil || len(tagged) != 1 || tagged[0].Actor.ID != agentLogin.UserID {
		t.Fatalf("intent.tagged events %+v, %v", tagged, err)
	}
	conv := tagged[0].ConversationID
	if ex, err := tags.Examples(ctx, ws); err != nil || len(ex) != 0 {
		t.Fatalf("examples before the conversation is resolved: %v, %v", ex, err)
	}
	do(t, agent, "close the panel", chromedp.Click(chromedp.CSS(".contact-head button")))
	jsClick(t, agent, "resolve", ".conv-head .resolve")
	want := bot.Example{Text: question, Intent: faqIDs[0]}
	for deadline := time.Now().Add(30 * time.Second); ; { // a hang guard, not a measurement
		ex, err := tags.Examples(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex) == 1 && ex[0] == want {
			break
		}
		if time.Now().After(deadline) {
			c, _ := n.db.FindConversation(ctx, ws, conv)
			t.Fatalf("examples after resolving %v (conversation %+v), want %v", ex, c, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
