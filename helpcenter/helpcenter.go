// Package helpcenter serves a workspace's public help centre: a home page
// with a search box, the categories of published articles and the frequent
// questions, search results with the matched passage highlighted, category
// pages and article pages rendered from Markdown.
//
// Pages are rendered on the server (no script is needed to read them), in
// zh-CN or en (?lang=, else the browser's Accept-Language), with a mobile
// first layout. Only published articles and FAQs are ever shown; drafts and
// other workspaces' content are answered with 404. Markdown is rendered
// without raw HTML and without dangerous link schemes, and every page is
// served with a strict Content-Security-Policy.
//
// URLs, under a workspace id:
//
//	/help/{workspace}/                   home
//	/help/{workspace}/search?q=…          search
//	/help/{workspace}/categories/{name}  one category
//	/help/{workspace}/articles/{id}      one article
//	/help/help.css                        the style sheet
package helpcenter

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	xlanguage "golang.org/x/text/language"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
)

// CSP is the Content-Security-Policy of help-centre pages: the style sheet
// and the chat widget from this origin, nothing inline, no framing.
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data: https:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// MaxQueryLen is the longest search query accepted, in runes.
const MaxQueryLen = 200

// resultsPerPage is how many search results a search page shows.
const resultsPerPage = 10

// Workspaces finds a workspace by id; store.DB implements it.
type Workspaces interface {
	FindWorkspace(ctx context.Context, id string) (*starpost.Workspace, error)
}

// Center serves the help centres of every workspace. Set its fields, then
// call Handler once.
type Center struct {
	// KB holds the articles and FAQs.
	KB *kb.KB
	// Workspaces names the workspace shown in each page's header.
	Workspaces Workspaces
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Widget, when true, adds the chat widget to every page so a reader who
	// found no answer can ask a person.
	Widget bool
}

//go:embed templates/page.html
var pageHTML string

//go:embed help.css
var helpCSS []byte

var cssETag = func() string { s := sha256.Sum256(helpCSS); return `"` + hex.EncodeToString(s[:12]) + `"` }()

var md = goldmark.New(goldmark.WithExtensions(extension.GFM)) // no html.WithUnsafe: raw HTML is dropped

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"path": url.PathEscape,
}).Parse(pageHTML))

// Handler returns the help centre's http.Handler, to be mounted at /help/.
func (c *Center) Handler() http.Handler {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /help/help.css", c.serveCSS)
	mux.HandleFunc("GET /help/{workspace}/{$}", c.page(c.home))
	mux.HandleFunc("GET /help/{workspace}/search", c.page(c.search))
	mux.HandleFunc("GET /help/{workspace}/categories/{category}", c.page(c.category))
	mux.HandleFunc("GET /help/{workspace}/articles/{id}", c.page(c.article))
	mux.HandleFunc("GET /help/{workspace}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/help/"+url.PathEscape(r.PathValue("workspace"))+"/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/help/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			plain(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		plain(w, http.StatusNotFound, "page not found")
	})
	return mux
}

func (c *Center) serveCSS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", cssETag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(helpCSS))
}

// view is what the page template renders.
type view struct {
	T          strings_
	Lang       string // "zh" or "en"
	HTMLLang   string // "zh-CN" or "en"
	Workspace  *starpost.Workspace
	Base       string // /help/{workspace}
	Title      string
	Query      string
	Categories []categoryView
	FAQs       []*kb.FAQ
	Category   string
	Articles   []*kb.Article
	Results    []resultView
	Searched   bool
	Article    *kb.Article
	Body       template.HTML
	Widget     bool
	OtherLang  string
	OtherURL   string
}

type categoryView struct {
	Name     string
	Articles []*kb.Article
}

type resultView struct {
	Type    string
	URL     string
	Title   string
	Snippet []segment
	Answer  string
}

// segment is a piece of a snippet, marked when it matched the query.
type segment struct {
	Text string
	Mark bool
}

// errNotFound answers 404 with the help centre's page.
var errNotFound = starpost.Errorf(starpost.ENOTFOUND, "page not found")

// page adapts a page builder to an http.HandlerFunc: it resolves the
// workspace and the language, runs fn, and renders the view or the error.
func (c *Center) page(fn func(r *http.Request, v *view) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ws, err := c.Workspaces.FindWorkspace(r.Context(), r.PathValue("workspace"))
		if err != nil {
			c.fail(w, r, err)
			return
		}
		lang := language(r)
		v := &view{T: texts[lang], Lang: lang, HTMLLang: htmlLang[lang], Workspace: ws,
			Base: "/help/" + url.PathEscape(ws.ID), Widget: c.Widget}
		other := "en"
		if lang == "en" {
			other = "zh"
		}
		q := r.URL.Query()
		q.Set("lang", other)
		v.OtherLang = texts[other].LangName
		v.OtherURL = r.URL.Path + "?" + q.Encode()
		if err := fn(r, v); err != nil {
			c.fail(w, r, err)
			return
		}
		var buf bytes.Buffer
		if err := page.Execute(&buf, v); err != nil {
			c.fail(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Accept-Language")
		h.Set("Content-Language", v.HTMLLang)
		_, _ = w.Write(buf.Bytes())
	}
}

// fail answers an error: 404 for what does not exist or is not published,
// 400 for bad input, 500 (logged, not shown) otherwise.
func (c *Center) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch starpost.ErrorCode(err) {
	case starpost.ENOTFOUND:
		plain(w, http.StatusNotFound, "page not found")
	case starpost.EINVALID:
		plain(w, http.StatusBadRequest, starpost.ErrorMessage(err))
	default:
		if errors.Is(err, context.Canceled) {
			return
		}
		c.Logger.ErrorContext(r.Context(), "help centre", slog.String("path", r.URL.Path), slog.Any("err", err))
		plain(w, http.StatusInternalServerError, "internal error")
	}
}

func plain(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// published returns the workspace's published articles in language lang,
// or in every language when it has none in lang.
func (c *Center) published(ctx context.Context, ws, lang, category string) ([]*kb.Article, error) {
	as, err := c.KB.ListArticles(ctx, ws, kb.ArticleFilter{Status: kb.StatusPublished, Lang: lang, Category: category})
	if err != nil || len(as) > 0 {
		return as, err
	}
	return c.KB.ListArticles(ctx, ws, kb.ArticleFilter{Status: kb.StatusPublished, Category: category})
}

func (c *Center) home(r *http.Request, v *view) error {
	as, err := c.published(r.Context(), v.Workspace.ID, v.Lang, "")
	if err != nil {
		return err
	}
	v.Categories = group(as)
	faqs, err := c.KB.ListFAQs(r.Context(), v.Workspace.ID, kb.ArticleFilter{Status: kb.StatusPublished, Lang: v.Lang})
	if err != nil {
		return err
	}
	if len(faqs) > 12 {
		faqs = faqs[:12]
	}
	v.FAQs = faqs
	v.Title = v.T.Home
	return nil
}

// group sorts articles into categories by name, "" last, each newest first.
func group(as []*kb.Article) []categoryView {
	by := map[string][]*kb.Article{}
	for _, a := range as {
		by[a.Category] = append(by[a.Category], a)
	}
	out := make([]categoryView, 0, len(by))
	for name, list := range by {
		out = append(out, categoryView{Name: name, Articles: list})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == "") != (out[j].Name == "") {
			return out[j].Name == ""
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (c *Center) search(r *http.Request, v *view) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if !utf8.ValidString(q) {
		return starpost.FieldError("q", "is not valid UTF-8")
	}
	if utf8.RuneCountInString(q) > MaxQueryLen {
		return starpost.FieldError("q", "longer than %d characters", MaxQueryLen)
	}
	v.Query, v.Title = q, v.T.Search
	if q == "" {
		return nil
	}
	v.Searched = true
	res, err := c.KB.Search(r.Context(), v.Workspace.ID, q, resultsPerPage)
	if err != nil {
		return err
	}
	for _, hit := range res {
		rv := resultView{Type: hit.Type, Title: hit.Title, Snippet: mark(hit.Snippet, hit.Highlights)}
		if hit.Type == "article" {
			rv.URL = v.Base + "/articles/" + url.PathEscape(hit.ID)
		} else {
			rv.Answer = hit.Answer
		}
		v.Results = append(v.Results, rv)
	}
	return nil
}

// mark splits snippet into plain and highlighted segments. Highlights are
// byte ranges into the snippet; ranges that overlap, run backwards or cut a
// UTF-8 sequence are skipped.
func mark(snippet string, hs []kb.Highlight) []segment {
	var out []segment
	at := 0
	sorted := append([]kb.Highlight(nil), hs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	for _, h := range sorted {
		if h.Field != "snippet" || h.Start < at || h.End <= h.Start || h.End > len(snippet) ||
			!utf8.RuneStart(snippet[h.Start]) || (h.End < len(snippet) && !utf8.RuneStart(snippet[h.End])) {
			continue
		}
		if h.Start > at {
			out = append(out, segment{Text: snippet[at:h.Start]})
		}
		out = append(out, segment{Text: snippet[h.Start:h.End], Mark: true})
		at = h.End
	}
	if at < len(snippet) {
		out = append(out, segment{Text: snippet[at:]})
	}
	return out
}

func (c *Center) category(r *http.Request, v *view) error {
	name := r.PathValue("category")
	as, err := c.published(r.Context(), v.Workspace.ID, v.Lang, name)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return errNotFound
	}
	v.Category, v.Articles, v.Title = name, as, name
	return nil
}

func (c *Center) article(r *http.Request, v *view) error {
	a, err := c.KB.Article(r.Context(), v.Workspace.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if a.Status != kb.StatusPublished {
		return errNotFound // drafts are not public
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(a.Body), &buf); err != nil {
		return err
	}
	v.Article, v.Title = a, a.Title
	v.Body = template.HTML(buf.String()) // goldmark without WithUnsafe escapes raw HTML and dangerous URLs
	return nil
}

// language picks zh or en: ?lang= first, then the browser's
// Accept-Language (the first of zh or en in its order of preference).
func language(r *http.Request) string {
	switch l := strings.ToLower(r.URL.Query().Get("lang")); {
	case strings.HasPrefix(l, "zh"):
		return "zh"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	tags, _, err := xlanguage.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil {
		return "en"
	}
	for _, t := range tags { // sorted by quality
		switch base, _ := t.Base(); base.String() {
		case "zh":
			return "zh"
		case "en":
			return "en"
		}
	}
	return "en"
}
