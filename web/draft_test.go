package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/client"
	"github.com/starpost/starpost/draft"
	sphttp "github.com/starpost/starpost/http"
	spkb "github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
)

// withDraft gives the node a knowledge base and reply drafting through the
// OpenAI-compatible endpoint at llmURL.
func withDraft(llmURL string) nodeOption {
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
			api.Drafts = &draft.Writer{KB: k, LLM: &draft.OpenAI{URL: llmURL, Model: "test-model"}}
			return nil
		}
	}
}

// TestBrowserDraft: with a language model configured, the agent asks for a
// reply draft; it lands in the reply box, editable, and the knowledge-base
// source it cites is listed under the box. Sending clears the sources.
func TestBrowserDraft(t *testing.T) {
	browser := newBrowser(t)
	answer := "Refunds reach your card within 3 working days after we receive the parcel."
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []draft.Message `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		content := "I could not find this in the knowledge base."
		if len(req.Messages) > 0 && strings.Contains(req.Messages[0].Content, answer) {
			content = "Your refund reaches your card within 3 working days after the parcel arrives [1]."
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": draft.Message{Role: "assistant", Content: content}}}})
	}))
	defer llm.Close()
	n := startNode(t, withDraft(llm.URL))
	ctx := context.Background()
	admin := adminClient(t, n)
	var faq spkb.FAQ
	if err := admin.Do(ctx, "POST", "/api/v1/kb/faqs", sphttp.FAQRequest{
		Questions: []string{"When will I get my refund?"}, Answer: answer, Lang: "en", Status: "published"}, &faq); err != nil {
		t.Fatal(err)
	}

	li := n.world.Agents()[0]
	ag := newTab(t, browser, sizes[0]) // a phone
	signIn(t, ag, n.base, "/app/", li.Email, li.Password, ".presence")
	do(t, ag, "go available", chromedp.Click(chromedp.CSS(`.seg[data-p="available"]`)))
	waitPresence(t, admin, li.UserID, starpost.PresenceAvailable)
	v, err := client.New(n.base, nil).NewVisitor(ctx, n.world.Workspace.ID, "Chen Jing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Start(ctx, sphttp.WidgetStartRequest{QueueID: n.world.Queues[0].ID, Text: "When will I get my refund?", IdempotencyKey: "draft-1"}); err != nil {
		t.Fatal(err)
	}
	wait(t, ag, "the offer", `document.querySelector('.offer .accept') !== null`)
	jsClick(t, ag, "accept", ".offer .accept")
	wait(t, ag, "the draft button", `document.querySelector('#draft-btn') !== null && !document.querySelector('#reply').closest('form').hidden`)
	jsClick(t, ag, "ask for a draft", "#draft-btn")
	wait(t, ag, "the draft in the reply box", `document.querySelector('#reply').value.endsWith('after the parcel arrives [1].')`)
	wait(t, ag, "the cited source", `(() => { const s = document.querySelector('#draft-sources');
		return s && !s.hidden && s.textContent.includes('[1] When will I get my refund?') })()`)
	audit(t, ag, "workspace with a draft", "")
	do(t, ag, "send it", chromedp.Click(chromedp.CSS("form.reply button[type=submit]")))
	wait(t, ag, "the sources cleared", `document.querySelector('#draft-sources').hidden && document.querySelector('#reply').value === ''`)
}
