package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/starpost/starpost"
	spkb "github.com/starpost/starpost/kb"
)

// fill sets a form control's value and fires input and change, as typing
// or choosing would.
func fill(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	do(t, ctx, "fill "+sel, chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+jsString(sel)+`);
		e.value = `+jsString(value)+`; e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })) })()`))
}

// TestBrowserKnowledgeBase: an admin adds a FAQ with two question variants
// in the knowledge-base screens, publishes it, and the test search finds it
// for a paraphrase, with the match highlighted; a synonym set makes another
// word find it. An article is written with a live preview that renders
// Markdown without running markup; saved from two sessions, the stale one
// is told of the conflict and reloads; its history restores an old
// version. A CSV import with a bad row is refused with the row's line. A
// supervisor sees it all read-only. axe-core passes at phone and desktop
// sizes, in English and Chinese.
func TestBrowserKnowledgeBase(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	sh := newShots(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	ad := n.world.Logins[0]

	adm := newTab(t, browser, sizes[2])
	signIn(t, adm, n.base, "/app/admin", ad.Email, ad.Password, "#admin")
	if href := eval[string](t, adm, `document.querySelector('#adm-kb').getAttribute('href')`); href != "/app/kb" {
		t.Fatalf("the admin screens link the knowledge base at %q", href)
	}
	do(t, adm, "open the knowledge base", chromedp.Navigate(n.base+"/app/kb"))
	wait(t, adm, "the articles list", `location.pathname === '/app/kb' && document.querySelector('#articles-new') !== null && document.querySelector('.kb-list .empty') !== null`)
	audit(t, adm, "kb: empty articles at desktop size", "")

	// The Markdown preview and the search highlights build nodes: markup in
	// the text stays text, and only http(s) links are links.
	const a = ` rel="noopener noreferrer nofollow" target="_blank"`
	for _, tc := range []struct{ fn, in, spans, want string }{
		{"renderMarkdown", "# Title\n## Sub", "", "<h3>Title</h3><h4>Sub</h4>"},
		{"renderMarkdown", "a **b** *c* `d <i>`\nnext line", "", "<p>a <strong>b</strong> <em>c</em> <code>d &lt;i&gt;</code>\nnext line</p>"},
		{"renderMarkdown", "- x\n- **y**\n\n2. one\n3. two", "", `<ul><li>x</li><li><strong>y</strong></li></ul><ol start="2"><li>one</li><li>two</li></ol>`},
		{"renderMarkdown", "[a](javascript:alert(1)) [b](/relative) [c](https://e.com/x_(y))", "", `<p><span>a</span> <span>b</span> <a href="https://e.com/x_(y)"` + a + `>c</a></p>`},
		{"renderMarkdown", "<script>alert(1)</script><img src=x onerror=alert(1)>", "", "<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</p>"},
		{"renderMarkdown", "```\n<b>x</b>\n```\n> quoted\n\n---\nsee https://e.com/a. snake_case_name", "",
			`<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre><blockquote><p>quoted</p></blockquote><hr><p>see <a href="https://e.com/a"` + a + `>https://e.com/a</a>. snake_case_name</p>`},
		{"highlighted", "退款 refund <b>", `[{"start":7,"end":13},{"start":0,"end":6}]`, "<mark>退款</mark> <mark>refund</mark> &lt;b&gt;"},
		{"highlighted", "退款 refund", `[{"start":1,"end":3},{"start":0,"end":99}]`, "退款 refund"},
	} {
		call := `m.` + tc.fn + `(` + jsString(tc.in) + `)`
		if tc.fn == "highlighted" {
			call = `m.highlighted(` + jsString(tc.in) + `, ` + tc.spans + `)`
		}
		got, err := chromedp.Run(adm, chromedp.Evaluate[string](`import('/app/kb.js').then(m => { const d = document.createElement('div'); d.append(`+call+`); return d.innerHTML })`, chromedp.EvalAwaitPromise))
		if err != nil || got != tc.want {
			t.Errorf("%s(%q) = %q, %v\nwant %q", tc.fn, tc.in, got, err, tc.want)
		}
	}

	// A FAQ with two variants: saved as a draft, then published.
	do(t, adm, "open FAQs", chromedp.Click(chromedp.CSS(`a[data-kb="faqs"]`)))
	wait(t, adm, "the FAQ list", `document.querySelector('#faqs-new') !== null`)
	do(t, adm, "new FAQ", chromedp.Click(chromedp.CSS("#faqs-new")))
	wait(t, adm, "the FAQ form focused", `document.activeElement && document.activeElement.id === 'faq-edit-h'`)
	do(t, adm, "type two variants",
		chromedp.SendKeys(chromedp.CSS("#faq-q-0"), "How do I get a refund for my order?"),
		chromedp.SendKeys(chromedp.CSS("#faq-q-1"), "Can I have my money back?"))
	do(t, adm, "add a third variant", chromedp.Click(chromedp.CSS("#faq-add-variant")))
	wait(t, adm, "the new variant focused", `document.activeElement.id === 'faq-q-2'`)
	do(t, adm, "remove it", chromedp.Click(chromedp.CSS(`button[aria-label="Remove variant 3"]`)))
	wait(t, adm, "two variants left", `document.querySelectorAll('.faq-q').length === 2 && document.querySelector('#faq-q-1').value === 'Can I have my money back?'`)
	sh.take(adm, "desktop-kb-faq-form")
	fill(t, adm, "#faq-answer", "Refunds go back to your original payment method within 3 working days.")
	fill(t, adm, "#faq-category", "Refunds")
	fill(t, adm, "#faq-status", "draft")
	do(t, adm, "save the draft", chromedp.Click(chromedp.CSS("#faq-save")))
	wait(t, adm, "the draft saved", `document.querySelector('#faq-delete') !== null && document.activeElement.id === 'faq-edit-h'`)
	fill(t, adm, "#faq-status", "published")
	// The draft's "Saved" is still announced: clear it so the wait below
	// sees the publish's own answer, not the earlier one.
	eval[bool](t, adm, `(document.querySelector('#announce').textContent = '', true)`)
	do(t, adm, "publish", chromedp.Click(chromedp.CSS("#faq-save")))
	wait(t, adm, "published", `document.querySelector('#announce').textContent.includes('Saved') && document.querySelector('#faq-status').value === 'published'`)
	faqs, err := n.kb.ListFAQs(ctx, ws, spkb.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(faqs) != 1 || len(faqs[0].Questions) != 2 || faqs[0].Status != spkb.StatusPublished || faqs[0].Version != 2 || faqs[0].Category != "Refunds" {
		t.Fatalf("stored FAQs %+v, want one published at version 2 with two variants", faqs)
	}
	faqID := faqs[0].ID

	// The test search finds it for a paraphrase, matches highlighted.
	do(t, adm, "open the test search", chromedp.Click(chromedp.CSS(`a[data-kb="search"]`)))
	wait(t, adm, "the search box", `document.querySelector('#kb-q') !== null`)
	do(t, adm, "ask a paraphrase", chromedp.SendKeys(chromedp.CSS("#kb-q"), "I want my money back\n"))
	wait(t, adm, "the FAQ found", `document.querySelector('.kb-result')?.dataset.id === `+jsString(faqID)+` && document.querySelectorAll('.kb-result mark').length > 0`)
	sh.take(adm, "desktop-kb-search")
	if marks := eval[string](t, adm, `[...document.querySelectorAll('.kb-result mark')].map(m => m.textContent.toLowerCase()).join(',')`); !strings.Contains(marks, "money") {
		t.Errorf("highlighted %q, want the matched word money", marks)
	}

	// A synonym set makes another word find it.
	do(t, adm, "open synonyms", chromedp.Click(chromedp.CSS(`a[data-kb="synonyms"]`)))
	wait(t, adm, "the synonyms form", `document.querySelector('#syn-text') !== null`)
	fill(t, adm, "#syn-text", "refund, reimbursement\n快递，物流")
	do(t, adm, "save synonyms", chromedp.Click(chromedp.CSS("#syn-save")))
	wait(t, adm, "synonyms saved", `document.querySelector('#announce').textContent.includes('2 synonym sets')`)
	do(t, adm, "search again", chromedp.Click(chromedp.CSS(`a[data-kb="search"]`)))
	wait(t, adm, "the search box", `document.querySelector('#kb-q') !== null`)
	fill(t, adm, "#kb-q", "reimbursement")
	do(t, adm, "search a synonym", chromedp.Click(chromedp.CSS(".kb-search button[type=submit]")))
	wait(t, adm, "the FAQ found by its synonym", `document.querySelector('.kb-result')?.dataset.id === `+jsString(faqID))

	// An article with a live preview that builds nodes, never markup.
	do(t, adm, "open articles", chromedp.Click(chromedp.CSS(`a[data-kb="articles"]`)))
	wait(t, adm, "the articles list", `document.querySelector('#articles-new') !== null`)
	do(t, adm, "new article", chromedp.Click(chromedp.CSS("#articles-new")))
	wait(t, adm, "the article form", `document.querySelector('#art-title') !== null`)
	do(t, adm, "type a title", chromedp.SendKeys(chromedp.CSS("#art-title"), "Returns policy 退货政策"))
	fill(t, adm, "#art-body", "# Returns\n\nSend it back within **30 days**.\n\n- unused\n- in its box\n\n"+
		"[evil](javascript:alert(1)) [ok](https://example.com/returns) <img src=x onerror=\"window.pwned=1\">")
	wait(t, adm, "the preview", `document.querySelector('#art-preview h3')?.textContent === 'Returns' && document.querySelector('#art-preview strong')?.textContent === '30 days' && document.querySelectorAll('#art-preview li').length === 2`)
	if bad := eval[bool](t, adm, `document.querySelector('#art-preview img, #art-preview a[href^="javascript"]') !== null || window.pwned === 1 || document.querySelector('#art-preview a').href !== 'https://example.com/returns'`); bad {
		t.Error("the preview rendered markup or a javascript: link from the article's text")
	}
	fill(t, adm, "#art-category", "Returns")
	fill(t, adm, "#art-status", "published")
	do(t, adm, "save the article", chromedp.Click(chromedp.CSS("#art-save")))
	wait(t, adm, "version 1 saved", `document.querySelector('#art-edit-h').textContent.includes('1') && document.querySelector('#art-history') !== null`)
	if href := eval[string](t, adm, `document.querySelector('.kb-actions a[href*="/help/"]')?.getAttribute('href') || ''`); !strings.HasPrefix(href, "/help/"+ws+"/articles/") {
		t.Errorf("a published article links to %q, not its help-centre page", href)
	}
	arts, err := n.kb.ListArticles(ctx, ws, spkb.ArticleFilter{})
	if err != nil || len(arts) != 1 {
		t.Fatalf("articles %v %v", arts, err)
	}
	artID := arts[0].ID

	// Another session saves the article first; this one is told of the
	// conflict and reloads their version.
	other := newTab(t, browser, sizes[1])
	signIn(t, other, n.base, "/app/kb", ad.Email, ad.Password, "#articles-new")
	wait(t, other, "the article listed", `document.querySelector('tr[data-article="`+artID+`"] button') !== null`)
	do(t, other, "open it", chromedp.Click(chromedp.CSS(`tr[data-article="`+artID+`"] button`)))
	wait(t, other, "its form", `document.querySelector('#art-title')?.value === 'Returns policy 退货政策'`)
	sh.take(other, "tablet-kb-article")
	fill(t, other, "#art-title", "Returns policy (updated)")
	do(t, other, "save from the other session", chromedp.Click(chromedp.CSS("#art-save")))
	wait(t, other, "version 2 saved", `document.querySelector('#announce').textContent.includes('version 2')`)
	fill(t, adm, "#art-body", "Send it back within 14 days.")
	do(t, adm, "save the stale edit", chromedp.Click(chromedp.CSS("#art-save")))
	wait(t, adm, "the conflict shown and focused", `document.activeElement?.id === 'kb-conflict' && document.querySelector('#kb-conflict').textContent.includes('Someone else changed')`)
	sh.take(adm, "desktop-kb-conflict")
	audit(t, adm, "kb: article conflict at desktop size", "")
	do(t, adm, "reload their version", chromedp.Click(chromedp.CSS("#kb-reload")))
	wait(t, adm, "their version loaded", `document.querySelector('#art-title').value === 'Returns policy (updated)' && !document.querySelector('#kb-conflict') && document.activeElement.id === 'art-title'`)

	// History: version 1 restored as version 3.
	do(t, adm, "open the history", chromedp.Click(chromedp.CSS("#art-history")))
	wait(t, adm, "two versions", `document.querySelectorAll('tr[data-version]').length === 2`)
	do(t, adm, "view version 1", chromedp.Click(chromedp.CSS(`tr[data-version="1"] button`)))
	wait(t, adm, "version 1 shown", `document.querySelector('.kb-old h3')?.textContent.includes('Returns policy 退货政策')`)
	do(t, adm, "restore version 1", chromedp.Click(chromedp.CSS("#restore-1")))
	wait(t, adm, "asked to confirm", `document.activeElement.id === 'kb-confirm-no'`)
	do(t, adm, "confirm", chromedp.Click(chromedp.CSS("#kb-confirm-yes")))
	wait(t, adm, "restored as version 3", `document.querySelectorAll('tr[data-version]').length === 3 && document.querySelector('#art-title').value === 'Returns policy 退货政策'`)
	if a, err := n.kb.Article(ctx, ws, artID); err != nil || a.Version != 3 || a.Title != "Returns policy 退货政策" || !strings.Contains(a.Body, "30 days") {
		t.Errorf("after restore the article is %+v, %v", a, err)
	}
	sh.take(adm, "desktop-kb-history")
	audit(t, adm, "kb: article history at desktop size", "")
	// Leaving with unsaved changes asks first.
	fill(t, adm, "#art-title", "Half-finished title")
	do(t, adm, "go back to the list", chromedp.Click(chromedp.CSS("#art-back")))
	wait(t, adm, "asked to discard", `document.activeElement.id === 'kb-confirm-no' && document.querySelector('#art-title') !== null`)
	do(t, adm, "discard", chromedp.Click(chromedp.CSS("#kb-confirm-yes")))
	wait(t, adm, "the list", `document.querySelector('tr[data-article="`+artID+`"]')?.textContent.includes('Returns policy 退货政策')`)

	// A CSV import with a bad row is refused, naming its line.
	csv := filepath.Join(t.TempDir(), "faqs.csv")
	if err := os.WriteFile(csv, []byte("questions,answer,lang\n\"Where is my parcel?\nTrack my order\",Use the tracking link in your email.,en\nBroken row,,en\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, adm, "open FAQs", chromedp.Click(chromedp.CSS(`a[data-kb="faqs"]`)))
	wait(t, adm, "the import form", `document.querySelector('#csv-file') !== null`)
	do(t, adm, "choose the file", chromedp.SetUploadFiles(chromedp.CSS("#csv-file"), []string{csv}))
	do(t, adm, "import", chromedp.Click(chromedp.CSS("#csv-import")))
	wait(t, adm, "the refused row reported", `document.activeElement.id === 'csv-report-h' && document.querySelector('#csv-report tr[data-line="4"]')?.textContent.includes('Answer')`)
	if faqs, _ := n.kb.ListFAQs(ctx, ws, spkb.ArticleFilter{}); len(faqs) != 1 {
		t.Errorf("a refused import wrote FAQs: %d", len(faqs))
	}
	if href := eval[string](t, adm, `document.querySelector('#csv-export').getAttribute('href')`); href != "/api/v1/kb/faqs/export" {
		t.Errorf("export links to %q", href)
	}

	// Phone size, in Chinese, with the import report showing.
	resize(t, adm, sizes[0])
	setLang(t, adm, "zh-CN")
	wait(t, adm, "the report in Chinese", `document.querySelector('#csv-report h3')?.textContent === '导入被拒绝'`)
	sh.take(adm, "phone-kb-faqs-import")
	audit(t, adm, "kb: FAQs with an import report at phone size", "")
	do(t, adm, "open the help centre section", chromedp.Click(chromedp.CSS(`a[data-kb="help"]`)))
	wait(t, adm, "the help centre URL", `document.querySelector('#help-url')?.textContent === location.origin + '/help/`+ws+`/'`)
	audit(t, adm, "kb: help centre at phone size", "")

	// A supervisor reads, read-only.
	sup := n.world.Logins[1]
	if sup.Role != starpost.RoleSupervisor {
		t.Fatalf("second demo login is %s, want the supervisor", sup.Role)
	}
	sv := newTab(t, browser, sizes[0])
	signIn(t, sv, n.base, "/app/kb", sup.Email, sup.Password, "#kb-readonly")
	wait(t, sv, "the article listed", `document.querySelector('tr[data-article="`+artID+`"] button') !== null && document.querySelector('#articles-new') === null`)
	do(t, sv, "open it", chromedp.Click(chromedp.CSS(`tr[data-article="`+artID+`"] button`)))
	wait(t, sv, "read-only", `document.querySelector('#art-title')?.readOnly && !document.querySelector('#art-save') && !document.querySelector('#art-delete') &&
		document.querySelector('#art-preview strong')?.textContent === '30 days'`)
	sh.take(sv, "phone-kb-article-readonly")
	audit(t, sv, "kb: supervisor's read-only article at phone size", "")

	// Deleting the FAQ asks first.
	resize(t, adm, sizes[2])
	setLang(t, adm, "en")
	do(t, adm, "open FAQs", chromedp.Click(chromedp.CSS(`a[data-kb="faqs"]`)))
	wait(t, adm, "the FAQ listed", `document.querySelector('tr[data-faq="`+faqID+`"] button') !== null`)
	do(t, adm, "open the FAQ", chromedp.Click(chromedp.CSS(`tr[data-faq="`+faqID+`"] button`)))
	wait(t, adm, "its form", `document.querySelector('#faq-delete') !== null`)
	do(t, adm, "delete", chromedp.Click(chromedp.CSS("#faq-delete")))
	wait(t, adm, "asked to confirm", `document.activeElement.id === 'kb-confirm-no'`)
	do(t, adm, "confirm", chromedp.Click(chromedp.CSS("#kb-confirm-yes")))
	wait(t, adm, "deleted", `document.querySelector('#announce').textContent.includes('Deleted') && document.querySelector('tr[data-faq]') === null`)
	if _, err := n.kb.FAQ(ctx, ws, faqID); starpost.ErrorCode(err) != starpost.ENOTFOUND {
		t.Errorf("the deleted FAQ: %v", err)
	}

	// A long list draws its first 200 rows and says so; the filters reach
	// the others.
	var many strings.Builder
	many.WriteString("questions,answer,lang\n")
	for i := range 250 {
		fmt.Fprintf(&many, "Question number %d?,Answer %d.,en\n", i, i)
	}
	if _, err := n.kb.ImportFAQs(ctx, ws, strings.NewReader(many.String())); err != nil {
		t.Fatal(err)
	}
	do(t, adm, "reload the FAQs", chromedp.Navigate(n.base+"/app/kb?again#faqs"))
	wait(t, adm, "200 of 250 rows", `document.querySelectorAll('tr[data-faq]').length === 200 && document.querySelector('#faqs-count').textContent.includes('250 of 250')`)
	fill(t, adm, "#faqs-f-text", "number 249?")
	wait(t, adm, "the filter finds a row past the first 200", `document.querySelectorAll('tr[data-faq]').length === 1 && document.querySelector('tr[data-faq] button').textContent === 'Question number 249?'`)
}
