package kb_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

// tokenizer loads the segmenter once for the whole test binary (about a
// second), as a process does.
var tokenizer = sync.OnceValues(func() (*text.Tokenizer, error) {
	return text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
})

type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func newClock() *fixedClock { return &fixedClock{t: time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)} }

// openDB opens a SQLite store in a temporary folder.
func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kb.db"), newClock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openKB(t testing.TB, db *store.DB) *kb.KB {
	t.Helper()
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	k, err := kb.Open(context.Background(), kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok, Clock: newClock()})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// corpus is a small zh/en knowledge base.
func seed(t testing.TB, k *kb.KB, ws string) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	arts := []kb.Article{
		{Title: "如何申请退款", Body: "在订单详情页点击申请退款，填写退款原因。退款会在3个工作日内原路退回。", Lang: "zh", Category: "售后", Status: "published"},
		{Title: "修改收货地址", Body: "订单发货前可以在订单详情页修改收货地址，发货后请联系快递。", Lang: "zh", Category: "物流", Status: "published"},
		{Title: "Reset your password", Body: "Open Settings, choose Security and click Reset password. We email you a link.", Lang: "en", Category: "account", Status: "published"},
		{Title: "Track a delivery", Body: "Your parcel's tracking number is in the shipping email. Deliveries take 2-4 days.", Lang: "en", Category: "shipping", Status: "published"},
		{Title: "内部草稿：退款政策变更", Body: "尚未发布的退款政策。", Lang: "zh", Status: "draft"},
	}
	for i := range arts {
		a := arts[i]
		check(t, k.CreateArticle(ctx, ws, "us_admin", &a))
		ids[a.Title] = a.ID
	}
	faqs := []kb.FAQ{
		{Questions: []string{"怎么退款", "钱什么时候退回", "退款多久到账"}, Answer: "退款审核通过后3个工作日内原路退回。", Lang: "zh"},
		{Questions: []string{"How do I cancel my order?", "cancel order"}, Answer: "You can cancel an order before it ships from the Orders page.", Lang: "en"},
	}
	for i := range faqs {
		f := faqs[i]
		check(t, k.CreateFAQ(ctx, ws, &f))
		ids[f.Questions[0]] = f.ID
	}
	return ids
}

func TestArticleVersionsAndValidation(t *testing.T) {
	ctx := context.Background()
	k := openKB(t, openDB(t))
	a := &kb.Article{Title: "Returns", Body: "Send it back within 30 days.", Lang: "en"}
	check(t, k.CreateArticle(ctx, "ws_a", "us_1", a))
	if a.Status != kb.StatusDraft || a.Version != 1 {
		t.Fatalf("created %+v", a)
	}
	title, pub := "Returns and refunds", kb.StatusPublished
	a2, err := k.UpdateArticle(ctx, "ws_a", a.ID, "us_2", kb.ArticlePatch{Title: &title, Status: &pub})
	check(t, err)
	if a2.Version != 2 || a2.Title != title || a2.UpdatedBy != "us_2" {
		t.Fatalf("updated %+v", a2)
	}
	stale := int64(1)
	if _, err := k.UpdateArticle(ctx, "ws_a", a.ID, "us_2", kb.ArticlePatch{Title: &title, Version: &stale}); starpost.ErrorCode(err) != starpost.ECONFLICT {
		t.Fatalf("stale version: %v", err)
	}
	vs, err := k.ArticleVersions(ctx, "ws_a", a.ID)
	check(t, err)
	if len(vs) != 2 || vs[0].Version != 2 || vs[1].Title != "Returns" || vs[1].Status != kb.StatusDraft {
		t.Fatalf("versions %+v", vs)
	}
	if _, err := k.Article(ctx, "ws_b", a.ID); starpost.ErrorCode(err) != starpost.ENOTFOUND {
		t.Fatalf("other workspace reads the article: %v", err)
	}

	long := strings.Repeat("长", kb.MaxTitleLen+1)
	for _, tc := range []struct {
		name  string
		a     kb.Article
		field string
	}{
		{"no title", kb.Article{Body: "x", Lang: "en"}, "title"},
		{"long title", kb.Article{Title: long, Body: "x", Lang: "en"}, "title"},
		{"no body", kb.Article{Title: "t", Body: " ", Lang: "en"}, "body"},
		{"bad lang", kb.Article{Title: "t", Body: "x", Lang: "fr"}, "lang"},
		{"bad status", kb.Article{Title: "t", Body: "x", Lang: "zh", Status: "live"}, "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := k.CreateArticle(ctx, "ws_a", "us_1", &tc.a)
			if starpost.ErrorCode(err) != starpost.EINVALID || starpost.ErrorField(err) != tc.field {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
		})
	}
	bad := "fr"
	if _, err := k.UpdateArticle(ctx, "ws_a", a.ID, "us_1", kb.ArticlePatch{Lang: &bad}); starpost.ErrorField(err) != "lang" {
		t.Fatalf("patch lang: %v", err)
	}
	if got, _ := k.Article(ctx, "ws_a", a.ID); got.Version != 2 {
		t.Fatalf("a refused patch wrote version %d", got.Version)
	}
}

func TestSearchRanking(t *testing.T) {
	ctx := context.Background()
	k := openKB(t, openDB(t))
	ids := seed(t, k, "ws_a")
	for _, tc := range []struct {
		query string
		top   string
	}{
		{"退款要多久才到账", "怎么退款"},
		{"申请退款的原因怎么填", "如何申请退款"},
		{"收货地址写错了怎么改", "修改收货地址"},
		{"I forgot my password", "Reset your password"},
		{"where is my parcel, tracking?", "Track a delivery"},
		{"cancel the order please", "How do I cancel my order?"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			rs, err := k.Search(ctx, "ws_a", tc.query, 3)
			check(t, err)
			if len(rs) == 0 || rs[0].ID != ids[tc.top] {
				t.Fatalf("top of %q: %+v, want %q", tc.query, rs, tc.top)
			}
			r := rs[0]
			if len(r.Highlights) == 0 {
				t.Fatalf("no highlights: %+v", r)
			}
			for _, h := range r.Highlights {
				s := r.Title
				if h.Field == "snippet" {
					s = r.Snippet
				}
				if h.Start < 0 || h.End > len(s) || h.Start >= h.End {
					t.Fatalf("highlight %+v out of %q", h, s)
				}
			}
		})
	}
	// Drafts are not searchable; publishing makes them so at once.
	rs, err := k.Search(ctx, "ws_a", "退款政策变更", 5)
	check(t, err)
	for _, r := range rs {
		if r.ID == ids["内部草稿：退款政策变更"] {
			t.Fatal("draft found")
		}
	}
	pub := kb.StatusPublished
	_, err = k.UpdateArticle(ctx, "ws_a", ids["内部草稿：退款政策变更"], "us_1", kb.ArticlePatch{Status: &pub})
	check(t, err)
	rs, err = k.Search(ctx, "ws_a", "退款政策变更", 1)
	check(t, err)
	if len(rs) != 1 || rs[0].ID != ids["内部草稿：退款政策变更"] {
		t.Fatalf("published draft not found: %+v", rs)
	}
	// Deleting takes it out.
	check(t, k.DeleteFAQ(ctx, "ws_a", ids["怎么退款"]))
	rs, err = k.Search(ctx, "ws_a", "退款多久到账", 5)
	check(t, err)
	for _, r := range rs {
		if r.ID == ids["怎么退款"] {
			t.Fatal("deleted FAQ found")
		}
	}
	// Another workspace sees nothing.
	rs, err = k.Search(ctx, "ws_b", "退款", 5)
	check(t, err)
	if len(rs) != 0 {
		t.Fatalf("workspace b sees %+v", rs)
	}
}

func TestSynonyms(t *testing.T) {
	ctx := context.Background()
	k := openKB(t, openDB(t))
	a := &kb.Article{Title: "花呗还款", Body: "每月10日自动从余额扣款还款。", Lang: "zh", Status: "published"}
	check(t, k.CreateArticle(ctx, "ws_a", "us", a))
	rs, err := k.Search(ctx, "ws_a", "repay", 3)
	check(t, err)
	if len(rs) != 0 {
		t.Fatalf("found before synonyms: %+v", rs)
	}
	check(t, k.SetSynonyms(ctx, "ws_a", [][]string{{"还款", "repay", "pay back"}}))
	rs, err = k.Search(ctx, "ws_a", "how to repay", 3)
	check(t, err)
	if len(rs) != 1 || rs[0].ID != a.ID {
		t.Fatalf("synonym search: %+v", rs)
	}
	sets, err := k.Synonyms(ctx, "ws_a")
	check(t, err)
	if len(sets) != 1 || len(sets[0]) != 3 {
		t.Fatalf("sets %v", sets)
	}
	if err := k.SetSynonyms(ctx, "ws_a", [][]string{{"only"}}); starpost.ErrorField(err) != "synonyms" {
		t.Fatalf("one-term set: %v", err)
	}
	if rs, _ := k.Search(ctx, "ws_b", "how to repay", 3); len(rs) != 0 {
		t.Fatal("synonyms leak across workspaces")
	}
}

// TestIndexPersisted checks that a second KB on the same database (a
// restart, or another node) serves the saved index, and sees edits made
// elsewhere.
func TestIndexPersisted(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	k1 := openKB(t, db)
	ids := seed(t, k1, "ws_a")
	if _, err := k1.Search(ctx, "ws_a", "退款", 1); err != nil { // builds and saves
		t.Fatal(err)
	}
	a := &kb.Article{Title: "发票怎么开", Body: "在订单页申请电子发票。", Lang: "zh", Status: "published"}
	check(t, k1.CreateArticle(ctx, "ws_a", "us", a))
	check(t, k1.Flush(ctx))

	// Change the stored title behind the KB's back (no revision bump): a
	// KB that loads the saved index still shows the indexed title, which
	// proves the restart did not re-tokenise the tables.
	if _, err := db.SQL().ExecContext(ctx, "UPDATE kb_articles SET title = 'changed' WHERE id = ?", a.ID); err != nil {
		t.Fatal(err)
	}
	k2 := openKB(t, db)
	rs, err := k2.Search(ctx, "ws_a", "电子发票", 1)
	check(t, err)
	if len(rs) != 1 || rs[0].ID != a.ID || rs[0].Title != "发票怎么开" {
		t.Fatalf("after restart: %+v", rs)
	}
	// An edit on k2 is seen by k1 without restart.
	check(t, k2.DeleteArticle(ctx, "ws_a", a.ID))
	rs, err = k1.Search(ctx, "ws_a", "电子发票", 1)
	check(t, err)
	if len(rs) != 0 {
		t.Fatalf("k1 still finds the deleted article: %+v", rs)
	}
	rs, err = k1.Search(ctx, "ws_a", "修改收货地址", 1)
	check(t, err)
	if len(rs) != 1 || rs[0].ID != ids["修改收货地址"] {
		t.Fatalf("k1 after reload: %+v", rs)
	}
}

func TestFeedbackReranks(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	k := openKB(t, db)
	ids := seed(t, k, "ws_a")
	top := func() string {
		rs, err := k.Search(ctx, "ws_a", "退款", 2)
		check(t, err)
		if len(rs) < 2 {
			t.Fatalf("results %+v", rs)
		}
		return rs[0].ID
	}
	first := top()
	other := ids["如何申请退款"]
	if first == other {
		other = ids["怎么退款"]
	}
	for i := range 3 {
		check(t, k.RecordFeedback(ctx, "ws_a", "cv_1", int64(10+i), first, false))
		check(t, k.RecordFeedback(ctx, "ws_a", "cv_1", int64(10+i), first, false)) // replay: no effect
	}
	check(t, k.RecordFeedback(ctx, "ws_a", "cv_1", 20, other, true))
	if got := top(); got != other {
		t.Fatalf("after feedback the top is %s, want %s", got, other)
	}
	// Feedback survives a restart (it is read from kb_feedback).
	k = openKB(t, db)
	if got := top(); got != other {
		t.Fatalf("after restart the top is %s, want %s", got, other)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	k := openKB(t, db)
	in := "questions,answer,lang,category\n" +
		"\"怎么退款\n如何退钱\",退款3天内原路退回。,zh,售后\n" +
		"\"How do I cancel?\",Cancel from the Orders page.,en,orders\n"
	rep, err := k.ImportFAQs(ctx, "ws_a", strings.NewReader(in))
	check(t, err)
	if rep.Created != 2 {
		t.Fatalf("report %+v", rep)
	}
	var out bytes.Buffer
	check(t, k.ExportFAQs(ctx, "ws_a", &out))
	// Re-importing the export updates in place.
	rep, err = k.ImportFAQs(ctx, "ws_a", bytes.NewReader(out.Bytes()))
	check(t, err)
	if rep.Updated != 2 || rep.Created != 0 {
		t.Fatalf("re-import %+v", rep)
	}
	faqs, err := k.ListFAQs(ctx, "ws_a", kb.ArticleFilter{})
	check(t, err)
	if len(faqs) != 2 || faqs[0].Version != 2 {
		t.Fatalf("faqs %+v", faqs)
	}
	rs, err := k.Search(ctx, "ws_a", "如何退钱", 1)
	check(t, err)
	if len(rs) != 1 || rs[0].Type != "faq" || rs[0].Answer != "退款3天内原路退回。" {
		t.Fatalf("search imported: %+v", rs)
	}
	for _, tc := range []struct{ name, csv, msg string }{
		{"empty", "", "header"},
		{"unknown column", "question,answer\nx,y\n", "unknown column"},
		{"bad row after good", "questions,answer,lang\nok,fine,zh\nbad,,zh\n", "row 3: answer"},
		{"bad lang", "questions,answer,lang\nq,a,fr\n", "row 2: lang"},
		{"foreign id", "id,questions,answer\nkf_other,q,a\n", "no FAQ kf_other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.ImportFAQs(ctx, "ws_a", strings.NewReader(tc.csv))
			if starpost.ErrorField(err) != "csv" || !strings.Contains(starpost.ErrorMessage(err), tc.msg) {
				t.Fatalf("got %v, want csv error with %q", err, tc.msg)
			}
		})
	}
	// Every refused row is reported with its row and the line it starts on
	// (a cell of several question variants spans lines).
	for _, tc := range []struct {
		name, csv string
		want      []kb.ImportError
	}{
		{"two bad rows after a multi-line cell", "questions,answer,lang\n\"a\nb\nc\",fine,zh\nbad,,zh\nok,fine,zh\nworse,fine,fr\n",
			[]kb.ImportError{{Row: 3, Line: 5, Field: "answer"}, {Row: 5, Line: 7, Field: "lang"}}},
		{"duplicate id", "id,questions,answer\nkf_x,q,a\nkf_x,q,a\n", []kb.ImportError{{Row: 3, Line: 3, Field: "id"}}},
		{"unknown id", "id,questions,answer\n,q,a\n\"kf_nope\",\"q\nq2\",a\n", []kb.ImportError{{Row: 3, Line: 3, Field: "id"}}},
		{"broken quote", "questions,answer\nq,a\n\"q,a\n", []kb.ImportError{{Row: 3, Line: 3, Field: "csv"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := k.ImportFAQs(ctx, "ws_a", strings.NewReader(tc.csv))
			if starpost.ErrorField(err) != "csv" || rep.Created != 0 || rep.Updated != 0 || len(rep.Errors) != len(tc.want) {
				t.Fatalf("got %+v, %v; want %d errors", rep, err, len(tc.want))
			}
			for i, w := range tc.want {
				if g := rep.Errors[i]; g.Row != w.Row || g.Line != w.Line || g.Field != w.Field || g.Message == "" {
					t.Errorf("error %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
	faqs, _ = k.ListFAQs(ctx, "ws_a", kb.ArticleFilter{})
	if len(faqs) != 2 {
		t.Fatalf("a refused import wrote rows: %d faqs", len(faqs))
	}
	// An import with another workspace's id is refused, not applied there.
	if _, err := k.ImportFAQs(ctx, "ws_b", bytes.NewReader(out.Bytes())); starpost.ErrorField(err) != "csv" {
		t.Fatalf("cross-workspace import: %v", err)
	}
}

func TestSnippet(t *testing.T) {
	ctx := context.Background()
	k := openKB(t, openDB(t))
	body := strings.Repeat("这是一段与问题无关的说明文字。", 30) + "如果包裹破损，请在签收后48小时内拍照申请理赔。" + strings.Repeat("More unrelated text. ", 30)
	a := &kb.Article{Title: "售后说明", Body: body, Lang: "zh", Status: "published"}
	check(t, k.CreateArticle(ctx, "ws_a", "us", a))
	rs, err := k.Search(ctx, "ws_a", "包裹破损怎么理赔", 1)
	check(t, err)
	if len(rs) != 1 {
		t.Fatalf("results %+v", rs)
	}
	r := rs[0]
	if !strings.HasPrefix(r.Snippet, "如果包裹破损") || len(r.Snippet) > 240 || !utf8.ValidString(r.Snippet) {
		t.Fatalf("snippet %q", r.Snippet)
	}
	var marked []string
	for _, h := range r.Highlights {
		if h.Field == "snippet" {
			marked = append(marked, r.Snippet[h.Start:h.End])
		}
	}
	if strings.Join(marked, ",") != "包裹,破损,理赔" {
		t.Fatalf("highlighted %v in %q", marked, r.Snippet)
	}
}
