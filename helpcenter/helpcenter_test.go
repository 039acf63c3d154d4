package helpcenter_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/helpcenter"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

// tokenizer loads the segmenter once for the whole test binary.
var tokenizer = sync.OnceValues(func() (*text.Tokenizer, error) {
	return text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
})

// site is a help centre over two workspaces' knowledge bases.
type site struct {
	srv      *httptest.Server
	ws, ws2  string
	articles map[string]string // title → id
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "help.db"), starpost.SystemClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{articles: map[string]string{}}
	for _, w := range []*starpost.Workspace{{Name: "Acme Shop"}, {Name: "Other Co"}} {
		if err := db.CreateWorkspace(ctx, w); err != nil {
			t.Fatal(err)
		}
		if s.ws == "" {
			s.ws = w.ID
		} else {
			s.ws2 = w.ID
		}
	}
	arts := []struct {
		ws string
		a  kb.Article
	}{
		{s.ws, kb.Article{Title: "Refund policy", Lang: "en", Category: "Orders", Status: kb.StatusPublished,
			Body: "# Refunds\n\nYou can ask for a **refund** within 7 days of delivery.\n\n<script>alert(1)</script>\n\n[evil](javascript:alert(2)) [ok](https://example.com/x)"}},
		{s.ws, kb.Article{Title: "Tracking a parcel", Lang: "en", Category: "Shipping", Status: kb.StatusPublished,
			Body: "Open *My orders* and tap the tracking number to follow your parcel."}},
		{s.ws, kb.Article{Title: "退款政策", Lang: "zh", Category: "订单", Status: kb.StatusPublished,
			Body: "签收后七天内可以申请退款，退款将原路返回。"}},
		{s.ws, kb.Article{Title: "Secret launch plan", Lang: "en", Category: "Orders", Status: kb.StatusDraft,
			Body: "Not public yet."}},
		{s.ws2, kb.Article{Title: "Other company's refund rules", Lang: "en", Category: "Orders", Status: kb.StatusPublished,
			Body: "Refunds at Other Co take 30 days."}},
	}
	for _, x := range arts {
		a := x.a
		if err := k.CreateArticle(ctx, x.ws, "u_admin", &a); err != nil {
			t.Fatal(err)
		}
		s.articles[a.Title] = a.ID
	}
	faq := &kb.FAQ{Questions: []string{"How long does a refund take?", "when do I get my money back"},
		Answer: "Refunds reach your card within 3 working days.", Lang: "en", Status: kb.StatusPublished}
	if err := k.CreateFAQ(ctx, s.ws, faq); err != nil {
		t.Fatal(err)
	}
	c := &helpcenter.Center{KB: k, Workspaces: db, Widget: true}
	s.srv = httptest.NewServer(c.Handler())
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) get(t *testing.T, path, acceptLang string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptLang != "" {
		req.Header.Set("Accept-Language", acceptLang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestPages(t *testing.T) {
	s := newSite(t)
	base := "/help/" + s.ws
	tests := []struct {
		name, path, lang string
		status           int
		want, notWant    []string
	}{
		{name: "home en", path: base + "/", lang: "en-US,en;q=0.9", status: 200,
			want:    []string{`lang="en"`, "Acme Shop", "Browse by topic", "Refund policy", "Tracking a parcel", "Orders", "Shipping", "How long does a refund take?", `src="/widget.js"`},
			notWant: []string{"Secret launch plan", "退款政策", "Other company"}},
		{name: "home zh from the browser", path: base + "/", lang: "zh-CN,zh;q=0.9,en;q=0.8", status: 200,
			want: []string{`lang="zh-CN"`, "帮助中心", "退款政策", "按主题浏览"}, notWant: []string{"Refund policy"}},
		{name: "lang parameter wins", path: base + "/?lang=en", lang: "zh-CN", status: 200, want: []string{"Refund policy"}},
		{name: "q weights", path: base + "/", lang: "zh;q=0.3, en;q=0.8", status: 200, want: []string{"Refund policy"}},
		{name: "article rendered safely", path: base + "/articles/" + s.articles["Refund policy"], status: 200,
			want:    []string{"<h1>Refunds</h1>", "<strong>refund</strong>", `href="https://example.com/x"`, `aria-current="page"`},
			notWant: []string{"<script>alert", "javascript:"}},
		{name: "draft is not public", path: base + "/articles/" + s.articles["Secret launch plan"], status: 404},
		{name: "other workspace's article", path: base + "/articles/" + s.articles["Other company's refund rules"], status: 404},
		{name: "unknown article", path: base + "/articles/nope", status: 404},
		{name: "unknown workspace", path: "/help/ws_nope/", status: 404},
		{name: "category", path: base + "/categories/Orders", status: 200,
			want: []string{"Refund policy"}, notWant: []string{"Tracking a parcel", "Secret launch plan"}},
		{name: "empty category", path: base + "/categories/Nothing", status: 404},
		{name: "search en", path: base + "/search?q=refund&lang=en", status: 200,
			want: []string{"Refund policy", "<mark>", "Refunds reach your card"}, notWant: []string{"Other Co", "Secret"}},
		{name: "search zh", path: base + "/search?q=" + "怎么退款&lang=zh", status: 200, want: []string{"退款政策"}},
		{name: "search no match", path: base + "/search?q=zzzqqq", status: 200, want: []string{"Nothing matched"}},
		{name: "search escapes the query", path: base + "/search?q=%3Cb%3Ehi", status: 200,
			want: []string{"&lt;b&gt;hi"}, notWant: []string{"<b>hi"}},
		{name: "query too long", path: base + "/search?q=" + strings.Repeat("a", helpcenter.MaxQueryLen+1), status: 400},
		{name: "redirect to slash", path: base, status: 200, want: []string{"Browse by topic"}},
		{name: "unknown page", path: base + "/admin", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := s.get(t, tt.path, tt.lang)
			if status != tt.status {
				t.Fatalf("status %d, want %d\n%s", status, tt.status, body)
			}
			if status == 200 && h.Get("Content-Security-Policy") != helpcenter.CSP {
				t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("no nosniff")
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("must not contain %q", w)
				}
			}
		})
	}
}

func TestStyleSheetAndMethods(t *testing.T) {
	s := newSite(t)
	status, h, body := s.get(t, "/help/help.css", "")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") || !strings.Contains(body, ".cards") {
		t.Fatalf("css: %d %q", status, h.Get("Content-Type"))
	}
	resp, err := http.Post(s.srv.URL+"/help/"+s.ws+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}
