package http_test

import (
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bot"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/kb"
)

// TestIntentTags: agents list the published FAQs as intents and tag the
// conversations they hold; the tag is an internal intent.tagged event whose
// text defaults to the customer's first message. Bad tags are refused with
// the field named and nothing written: no intent, an unknown, draft or
// other workspace's FAQ, a conversation the agent does not hold.
func TestIntentTags(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("Acme")
	other := e.newTenant("Other")
	agent := e.login(tn.agent)
	var list sphttp.IntentsResponse
	agent.mustJSON("GET", "/api/v1/bot/intents", nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("intents without a knowledge base: %+v", list)
	}

	k := e.withKB()
	refund := &kb.FAQ{Questions: []string{"How do I get a refund?", "money back"}, Answer: "3 days.", Lang: kb.LangEN, Status: kb.StatusPublished}
	invoice := &kb.FAQ{Questions: []string{"开发票"}, Answer: "在订单页。", Lang: kb.LangZH, Status: kb.StatusPublished}
	draft := &kb.FAQ{Questions: []string{"Draft question"}, Answer: "x", Lang: kb.LangEN, Status: kb.StatusDraft}
	theirs := &kb.FAQ{Questions: []string{"Their question"}, Answer: "x", Lang: kb.LangEN, Status: kb.StatusPublished}
	for _, f := range []*kb.FAQ{refund, invoice, draft} {
		must(t, k.CreateFAQ(e.ctx, tn.ws.ID, f))
	}
	must(t, k.CreateFAQ(e.ctx, other.ws.ID, theirs))
	agent.mustJSON("GET", "/api/v1/bot/intents", nil, 200, &list)
	want := []sphttp.Intent{{ID: refund.ID, Title: "How do I get a refund?", Lang: "en"}, {ID: invoice.ID, Title: "开发票", Lang: "zh"}}
	if len(list.Items) != 2 || list.Items[0] != want[0] || list.Items[1] != want[1] {
		t.Fatalf("intents %+v, want %+v", list.Items, want)
	}

	conv := e.assigned(tn, tn.agent, "cust-1")
	path := "/api/v1/conversations/" + conv.ID + "/intent"
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no intent", map[string]any{"text": "x"}, 400, "intent"},
		{"unknown FAQ", map[string]any{"intent": "fq_nope"}, 400, "intent"},
		{"draft FAQ", map[string]any{"intent": draft.ID}, 400, "intent"},
		{"other workspace's FAQ", map[string]any{"intent": theirs.ID}, 400, "intent"},
		{"unknown field", map[string]any{"intent": refund.ID, "confidence": 1}, 400, ""},
		{"text too long", map[string]any{"intent": refund.ID, "text": string(make([]byte, bot.MaxTagText+1))}, 400, "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := agent.do("POST", path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := r.errorBody(t).Field; tc.field != "" && got != tc.field {
				t.Fatalf("field %q, want %q: %s", got, tc.field, r.body)
			}
		})
	}
	// Another agent of the workspace does not hold it (nor see it).
	if r := e.login(tn.agent2).do("POST", path, map[string]any{"intent": refund.ID}); r.status != 404 {
		t.Fatalf("agent2: status %d: %s", r.status, r.body)
	}
	tagged := func() []*starpost.Event {
		evs, err := e.db.ListEvents(e.ctx, starpost.EventFilter{WorkspaceID: tn.ws.ID, ConversationID: conv.ID, Kinds: []starpost.EventKind{bot.KindIntentTagged}})
		must(t, err)
		return evs
	}
	if n := len(tagged()); n != 0 {
		t.Fatalf("%d tags written by refused requests", n)
	}

	var ev starpost.Event
	agent.mustJSON("POST", path, map[string]any{"intent": refund.ID}, 200, &ev)
	var b bot.IntentTagBody
	must(t, ev.DecodeBody(&b))
	if ev.Kind != bot.KindIntentTagged || ev.Actor.ID != tn.agent.ID || b != (bot.IntentTagBody{Intent: refund.ID, IntentTitle: "How do I get a refund?", Text: "hello"}) {
		t.Fatalf("tag event %+v body %+v", ev, b)
	}
	// A supervisor retags it with their own words.
	e.login(tn.supervisor).mustJSON("POST", path, map[string]any{"intent": invoice.ID, "text": " 我要开发票 "}, 200, &ev)
	must(t, ev.DecodeBody(&b))
	if b.Intent != invoice.ID || b.Text != "我要开发票" || len(tagged()) != 2 {
		t.Fatalf("retag %+v, %d tags", b, len(tagged()))
	}
}
