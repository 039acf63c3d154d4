package http_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starpost/starpost/draft"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/kb"
)

// fakeLLM answers every chat completion with content, and records the
// system prompt it was sent.
func fakeLLM(t *testing.T, content string) (*httptest.Server, *string) {
	t.Helper()
	var system string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []draft.Message `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", 400)
			return
		}
		system = req.Messages[0].Content
		b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"message": draft.Message{Role: "assistant", Content: content}}}})
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &system
}

func TestDraft(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("Acme")
	other := e.newTenant("Other")
	conv := e.assigned(tn, tn.agent, "cust-1")
	agent := e.login(tn.agent)
	path := "/api/v1/conversations/" + conv.ID + "/draft"

	// Not configured: a clear 404, and /me does not offer it.
	r := agent.do("POST", path, nil)
	if r.status != 404 || !strings.Contains(r.errorBody(t).Message, "--llm-url") {
		t.Fatalf("unconfigured: %d %s", r.status, r.body)
	}
	var me sphttp.MeResponse
	agent.mustJSON("GET", "/api/v1/me", nil, 200, &me)
	if len(me.Features) != 0 {
		t.Fatalf("features %v", me.Features)
	}

	k := e.withKB()
	must(t, k.CreateFAQ(e.ctx, tn.ws.ID, &kb.FAQ{Questions: []string{"hello, how can I get a refund"}, Answer: "Refunds take 3 days.",
		Lang: kb.LangEN, Status: kb.StatusPublished}))
	must(t, k.CreateFAQ(e.ctx, other.ws.ID, &kb.FAQ{Questions: []string{"hello refund secret"}, Answer: "Other tenant's secret answer.",
		Lang: kb.LangEN, Status: kb.StatusPublished}))
	llm, system := fakeLLM(t, "Your refund takes 3 days [1].")
	e.srv.Drafts = &draft.Writer{KB: k, LLM: &draft.OpenAI{URL: llm.URL, Model: "m"}}

	agent.mustJSON("GET", "/api/v1/me", nil, 200, &me)
	if strings.Join(me.Features, ",") != sphttp.FeatureDraft {
		t.Fatalf("features %v", me.Features)
	}
	var d draft.Draft
	agent.mustJSON("POST", path, nil, 200, &d)
	if d.Text != "Your refund takes 3 days [1]." || len(d.Citations) != 1 || d.Citations[0].Type != "faq" {
		t.Fatalf("draft %+v", d)
	}
	if !strings.Contains(*system, "Refunds take 3 days.") || strings.Contains(*system, "secret") {
		t.Fatalf("system prompt:\n%s", *system)
	}

	// Who may ask: the agent holding it and supervisors; not another
	// agent, not another tenant.
	e.login(tn.supervisor).mustJSON("POST", path, nil, 200, nil)
	if r := e.login(tn.agent2).do("POST", path, nil); r.status != 404 {
		t.Errorf("other agent: %d", r.status)
	}
	if r := e.login(other.admin).do("POST", path, nil); r.status != 404 {
		t.Errorf("other tenant: %d", r.status)
	}
	if r := agent.do("POST", "/api/v1/conversations/nope/draft", nil); r.status != 404 {
		t.Errorf("unknown conversation: %d", r.status)
	}

	// The model is down: 503 with Retry-After, nothing else.
	llm.Close()
	r = agent.do("POST", path, nil)
	if r.status != 503 || r.header.Get("Retry-After") == "" || r.errorBody(t).Code != "unavailable" {
		t.Fatalf("model down: %d %v %s", r.status, r.header, r.body)
	}
}
