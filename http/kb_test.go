package http_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/engine"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/text"
)

// kbTokenizer loads the segmenter once for the test binary, as a process
// does (about a second).
var kbTokenizer = sync.OnceValues(func() (*text.Tokenizer, error) {
	return text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
})

// withKB gives the env's server a knowledge base on its store. It is set
// before the first knowledge-base request.
func (e *env) withKB() *kb.KB {
	e.t.Helper()
	tok, err := kbTokenizer()
	must(e.t, err)
	k, err := kb.Open(e.ctx, kb.Options{SQL: e.db.SQL(), Driver: e.db.Driver(), Tokenizer: tok, Clock: e.clock})
	must(e.t, err)
	e.srv.KB = k
	return k
}

func TestKBArticlesCRUD(t *testing.T) {
	e := newEnv(t)
	e.withKB()
	tn := e.newTenant("acme")
	admin, sup, agent := e.login(tn.admin), e.login(tn.supervisor), e.login(tn.agent)

	var a kb.Article
	admin.mustJSON("POST", "/api/v1/kb/articles", map[string]any{
		"title": "如何申请退款", "body": "在订单详情页点击**申请退款**。", "lang": "zh", "category": "售后",
	}, 201, &a)
	if a.Status != kb.StatusDraft || a.Version != 1 || a.WorkspaceID != tn.ws.ID || a.UpdatedBy != tn.admin.ID {
		t.Fatalf("created %+v", a)
	}
	// Roles: supervisors read, only admins write, agents search only.
	sup.mustJSON("GET", "/api/v1/kb/articles/"+a.ID, nil, 200, nil)
	if r := sup.do("PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"title": "x"}); r.status != 403 {
		t.Fatalf("supervisor edits: %d", r.status)
	}
	if r := agent.do("GET", "/api/v1/kb/articles", nil); r.status != 403 {
		t.Fatalf("agent lists: %d", r.status)
	}
	// Not published: not searchable.
	var sr sphttp.SearchResponse
	agent.mustJSON("GET", "/api/v1/kb/search?q=退款", nil, 200, &sr)
	if len(sr.Items) != 0 {
		t.Fatalf("draft searchable: %+v", sr.Items)
	}
	var a2 kb.Article
	admin.mustJSON("PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"status": "published", "version": 1}, 200, &a2)
	if a2.Version != 2 || a2.Status != kb.StatusPublished {
		t.Fatalf("patched %+v", a2)
	}
	if r := admin.do("PATCH", "/api/v1/kb/articles/"+a.ID, map[string]any{"title": "stale", "version": 1}); r.status != 409 {
		t.Fatalf("stale version: %d %s", r.status, r.body)
	}
	agent.mustJSON("GET", "/api/v1/kb/search?q=我要退款&limit=3", nil, 200, &sr)
	if len(sr.Items) != 1 || sr.Items[0].ID != a.ID || len(sr.Items[0].Highlights) == 0 {
		t.Fatalf("search %+v", sr.Items)
	}
	var vs sphttp.ListResponse[kb.ArticleVersion]
	sup.mustJSON("GET", "/api/v1/kb/articles/"+a.ID+"/versions", nil, 200, &vs)
	if len(vs.Items) != 2 || vs.Items[1].Status != kb.StatusDraft {
		t.Fatalf("versions %+v", vs.Items)
	}
	var list sphttp.ListResponse[kb.Article]
	sup.mustJSON("GET", "/api/v1/kb/articles?status=published&lang=zh", nil, 200, &list)
	if len(list.Items) != 1 {
		t.Fatalf("list %+v", list.Items)
	}
	admin.mustJSON("DELETE", "/api/v1/kb/articles/"+a.ID, nil, 204, nil)
	if r := sup.do("GET", "/api/v1/kb/articles/"+a.ID, nil); r.status != 404 {
		t.Fatalf("deleted article: %d", r.status)
	}
	agent.mustJSON("GET", "/api/v1/kb/search?q=退款", nil, 200, &sr)
	if len(sr.Items) != 0 {
		t.Fatalf("deleted article searchable: %+v", sr.Items)
	}
}

func TestKBValidation(t *testing.T) {
	e := newEnv(t)
	k := e.withKB()
	tn := e.newTenant("acme")
	admin, agent := e.login(tn.admin), e.login(tn.agent)
	f := &kb.FAQ{Questions: []string{"q"}, Answer: "a", Lang: "en"}
	must(t, k.CreateFAQ(e.ctx, tn.ws.ID, f))
	art := &kb.Article{Title: "t", Body: "b", Lang: "en"}
	must(t, k.CreateArticle(e.ctx, tn.ws.ID, "x", art))
	before, err := k.ListFAQs(e.ctx, tn.ws.ID, kb.ArticleFilter{})
	must(t, err)

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"article no title", "POST", "/api/v1/kb/articles", map[string]any{"body": "b", "lang": "en"}, 400, "title"},
		{"article bad lang", "POST", "/api/v1/kb/articles", map[string]any{"title": "t", "body": "b", "lang": "de"}, 400, "lang"},
		{"article bad status", "POST", "/api/v1/kb/articles", map[string]any{"title": "t", "body": "b", "lang": "en", "status": "live"}, 400, "status"},
		{"article body type", "POST", "/api/v1/kb/articles", map[string]any{"title": "t", "body": 5, "lang": "en"}, 400, "body"},
		{"article long title", "POST", "/api/v1/kb/articles", map[string]any{"title": strings.Repeat("t", 201), "body": "b", "lang": "en"}, 400, "title"},
		{"article empty patch", "PATCH", "/api/v1/kb/articles/" + art.ID, map[string]any{}, 400, "body"},
		{"article patch empty title", "PATCH", "/api/v1/kb/articles/" + art.ID, map[string]any{"title": " "}, 400, "title"},
		{"article patch unknown", "PATCH", "/api/v1/kb/articles/nope", map[string]any{"title": "x"}, 404, ""},
		{"faq no questions", "POST", "/api/v1/kb/faqs", map[string]any{"answer": "a", "lang": "en"}, 400, "questions"},
		{"faq blank questions", "POST", "/api/v1/kb/faqs", map[string]any{"questions": []string{" ", ""}, "answer": "a", "lang": "en"}, 400, "questions"},
		{"faq no answer", "POST", "/api/v1/kb/faqs", map[string]any{"questions": []string{"q"}, "lang": "en"}, 400, "answer"},
		{"faq too many", "POST", "/api/v1/kb/faqs", map[string]any{"questions": make([]string, 21), "answer": "a", "lang": "en"}, 400, "questions"},
		{"faq patch lang", "PATCH", "/api/v1/kb/faqs/" + f.ID, map[string]any{"lang": "xx"}, 400, "lang"},
		{"synonyms missing", "PUT", "/api/v1/kb/synonyms", map[string]any{}, 400, "sets"},
		{"synonyms one term", "PUT", "/api/v1/kb/synonyms", map[string]any{"sets": [][]string{{"a"}}}, 400, "synonyms"},
		{"import not csv", "POST", "/api/v1/kb/faqs/import", `{"x":1}`, 415, "body"},
		{"list bad status", "GET", "/api/v1/kb/faqs?status=x", nil, 400, "status"},
		{"list bad lang", "GET", "/api/v1/kb/articles?lang=x", nil, 400, "lang"},
		{"search no q", "GET", "/api/v1/kb/search", nil, 400, "q"},
		{"search bad limit", "GET", "/api/v1/kb/search?q=x&limit=0", nil, 400, "limit"},
		{"search long q", "GET", "/api/v1/kb/search?q=" + strings.Repeat("x", 1001), nil, 400, "q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := admin
			if strings.Contains(tc.path, "/search") {
				c = agent
			}
			r := c.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if eb := r.errorBody(t); eb.Field != tc.field {
				t.Fatalf("field %q, want %q: %s", eb.Field, tc.field, r.body)
			}
		})
	}
	// A bad row anywhere refuses the whole import.
	// Every refused row is listed with the line it starts on.
	r := admin.do("POST", "/api/v1/kb/faqs/import", "questions,answer,lang\n\"q1\nq1b\",a1,en\nq2,,en\nq3,a3,xx\n", "Content-Type", "text/csv")
	if r.status != 400 || !strings.Contains(r.errorBody(t).Message, "row 3") {
		t.Fatalf("bad import: %d %s", r.status, r.body)
	}
	var refused sphttp.ImportErrorResponse
	must(t, json.Unmarshal(r.body, &refused))
	if refused.Error.Field != "csv" || refused.Created != 0 || len(refused.Errors) != 2 ||
		refused.Errors[0] != (kb.ImportError{Row: 3, Line: 4, Field: "answer", Message: refused.Errors[0].Message}) ||
		refused.Errors[1].Row != 4 || refused.Errors[1].Line != 5 || refused.Errors[1].Field != "lang" {
		t.Fatalf("refused rows: %s", r.body)
	}
	after, err := k.ListFAQs(e.ctx, tn.ws.ID, kb.ArticleFilter{})
	must(t, err)
	if len(after) != len(before) || after[0].Version != before[0].Version {
		t.Fatalf("refused requests wrote FAQs: %d -> %d", len(before), len(after))
	}
	if got, _ := k.Article(e.ctx, tn.ws.ID, art.ID); got.Version != 1 {
		t.Fatalf("refused patch wrote version %d", got.Version)
	}
}

func TestKBFAQsCSV(t *testing.T) {
	e := newEnv(t)
	e.withKB()
	tn := e.newTenant("acme")
	admin, agent := e.login(tn.admin), e.login(tn.agent)
	var rep kb.ImportReport
	admin.mustJSON("POST", "/api/v1/kb/faqs/import", "questions,answer,lang,category\n\"怎么退款\n如何退钱\",退款3天内原路退回。,zh,售后\nHow do I cancel?,From the Orders page.,en,orders\n",
		200, &rep, "Content-Type", "text/csv; charset=utf-8")
	if rep.Created != 2 {
		t.Fatalf("report %+v", rep)
	}
	r := admin.do("GET", "/api/v1/kb/faqs/export", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(r.body), "id,questions,answer,lang,category,status\n") || !strings.Contains(string(r.body), "如何退钱") {
		t.Fatalf("export %d %q", r.status, r.body)
	}
	admin.mustJSON("POST", "/api/v1/kb/faqs/import", string(r.body), 200, &rep, "Content-Type", "text/csv")
	if rep.Updated != 2 || rep.Created != 0 {
		t.Fatalf("re-import %+v", rep)
	}
	var sr sphttp.SearchResponse
	agent.mustJSON("GET", "/api/v1/kb/search?q=如何退钱", nil, 200, &sr)
	if len(sr.Items) == 0 || sr.Items[0].Type != "faq" || sr.Items[0].Answer == "" {
		t.Fatalf("search %+v", sr.Items)
	}
	// Synonyms make "refund" find the Chinese FAQ.
	admin.mustJSON("PUT", "/api/v1/kb/synonyms", map[string]any{"sets": [][]string{{"退款", "refund"}}}, 200, nil)
	agent.mustJSON("GET", "/api/v1/kb/search?q=refund", nil, 200, &sr)
	if len(sr.Items) == 0 || !strings.Contains(sr.Items[0].Title, "退款") {
		t.Fatalf("synonym search %+v", sr.Items)
	}
}

// TestKBIsolation: workspace A, with every credential, never reaches B's
// articles and FAQs, and never finds B's content.
func TestKBIsolation(t *testing.T) {
	e := newEnv(t)
	k := e.withKB()
	a, b := e.newTenant("alpha"), e.newTenant("beta")
	bArt := &kb.Article{Title: "Beta secret refund policy", Body: "Only beta knows this refund rule.", Lang: "en", Status: "published"}
	must(t, k.CreateArticle(e.ctx, b.ws.ID, "x", bArt))
	bFAQ := &kb.FAQ{Questions: []string{"beta refund?"}, Answer: "beta answer", Lang: "en"}
	must(t, k.CreateFAQ(e.ctx, b.ws.ID, bFAQ))
	bConv := e.assigned(b, b.agent, "b-customer")
	var bCSV string
	for _, c := range []*client{e.login(a.admin), e.withToken(a.token)} {
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/kb/articles/" + bArt.ID, nil},
			{"PATCH", "/api/v1/kb/articles/" + bArt.ID, map[string]any{"title": "hacked"}},
			{"PATCH", "/api/v1/kb/articles/" + bArt.ID, nil},
			{"DELETE", "/api/v1/kb/articles/" + bArt.ID, nil},
			{"GET", "/api/v1/kb/articles/" + bArt.ID + "/versions", nil},
			{"GET", "/api/v1/kb/faqs/" + bFAQ.ID, nil},
			{"PATCH", "/api/v1/kb/faqs/" + bFAQ.ID, map[string]any{"answer": "hacked"}},
			{"DELETE", "/api/v1/kb/faqs/" + bFAQ.ID, nil},
			{"POST", "/api/v1/conversations/" + bConv.ID + "/suggestions/1/feedback", map[string]any{"helpful": true}},
		} {
			if r := c.do(req.method, req.path, req.body); r.status != 404 {
				t.Errorf("%s %s: status %d: %s", req.method, req.path, r.status, r.body)
			}
		}
		for _, path := range []string{"/api/v1/kb/articles", "/api/v1/kb/faqs", "/api/v1/kb/faqs/export", "/api/v1/kb/synonyms", "/api/v1/kb/search?q=beta+refund+policy"} {
			r := c.do("GET", path, nil)
			leak := false
			for _, x := range []string{bArt.ID, bFAQ.ID, b.ws.ID, "beta answer", "Only beta"} {
				leak = leak || strings.Contains(string(r.body), x)
			}
			if r.status != 200 || leak {
				t.Errorf("GET %s: %d %s", path, r.status, r.body)
			}
		}
		// Importing B's ids into A is refused.
		if bCSV == "" {
			bCSV = "id,questions,answer\n" + bFAQ.ID + ",q,hacked\n"
		}
		if r := c.do("POST", "/api/v1/kb/faqs/import", bCSV, "Content-Type", "text/csv"); r.status != 400 {
			t.Errorf("import B's id: %d %s", r.status, r.body)
		}
	}
	got, err := k.FAQ(e.ctx, b.ws.ID, bFAQ.ID)
	must(t, err)
	if got.Answer != "beta answer" || got.Version != 1 {
		t.Fatalf("B's FAQ changed: %+v", got)
	}
	if art, err := k.Article(e.ctx, b.ws.ID, bArt.ID); err != nil || art.Version != 1 {
		t.Fatalf("B's article changed: %+v %v", art, err)
	}
}

// TestSuggestionFeedbackAPI runs a customer message through the suggestion
// engine and gives feedback through the API; the feedback re-ranks the
// next suggestion.
func TestSuggestionFeedbackAPI(t *testing.T) {
	e := newEnv(t)
	k := e.withKB()
	tn := e.newTenant("acme")
	for _, f := range []*kb.FAQ{
		{Questions: []string{"怎么退款", "退款多久到账"}, Answer: "3个工作日内原路退回。", Lang: "zh"},
		{Questions: []string{"退款失败怎么办"}, Answer: "请检查银行卡状态后重新申请退款。", Lang: "zh"},
	} {
		must(t, k.CreateFAQ(e.ctx, tn.ws.ID, f))
	}
	conv := e.assigned(tn, tn.agent, "customer-1")
	agent := e.login(tn.agent)
	customer := e.withToken(tn.token)
	r, err := engine.NewRunner(kb.NewSuggester(k), engine.Options{Store: e.db, Bus: e.bus, SQL: e.db.SQL(), Driver: e.db.Driver()})
	must(t, err)
	say := func(text, key string) kb.SuggestionBody {
		t.Helper()
		customer.mustJSON("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"text": text, "idempotency_key": key}, 201, nil)
		must(t, r.Sync(context.Background()))
		evs, err := e.db.ListEvents(e.ctx, starpost.EventFilter{WorkspaceID: tn.ws.ID, ConversationID: conv.ID, Kinds: []starpost.EventKind{kb.KindSuggestion}})
		must(t, err)
		if len(evs) == 0 {
			t.Fatal("no suggestion")
		}
		var b kb.SuggestionBody
		must(t, evs[len(evs)-1].DecodeBody(&b))
		b.MessageSeq = evs[len(evs)-1].Seq // reuse: the suggestion's own seq
		return b
	}
	first := say("退款", "m1")
	if len(first.Items) != 2 {
		t.Fatalf("items %+v", first.Items)
	}
	seq := itoa(first.MessageSeq)
	top, second := first.Items[0].ID, first.Items[1].ID
	path := "/api/v1/conversations/" + conv.ID + "/suggestions/" + seq + "/feedback"
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		field      string
	}{
		{"no helpful", path, map[string]any{}, 400, "helpful"},
		{"not an item", path, map[string]any{"helpful": true, "id": "kf_other"}, 400, "id"},
		{"not a suggestion", "/api/v1/conversations/" + conv.ID + "/suggestions/1/feedback", map[string]any{"helpful": true}, 400, "event_seq"},
		{"bad seq", "/api/v1/conversations/" + conv.ID + "/suggestions/x/feedback", map[string]any{"helpful": true}, 400, "event_seq"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := agent.do("POST", tc.path, tc.body)
			if res.status != tc.status || res.errorBody(t).Field != tc.field {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
		})
	}
	var fb starpost.Event
	agent.mustJSON("POST", path, map[string]any{"helpful": false}, 201, &fb) // the first item
	if fb.Kind != kb.KindFeedback {
		t.Fatalf("feedback event %+v", fb)
	}
	agent.mustJSON("POST", path, map[string]any{"helpful": true, "id": second}, 201, nil)
	next := say("退款", "m2")
	if next.Items[0].ID != second || next.Items[1].ID != top {
		t.Fatalf("after feedback: %s, %s; want %s, %s", next.Items[0].ID, next.Items[1].ID, second, top)
	}
}
