package web_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/helpcenter"
	spkb "github.com/starpost/starpost/kb"
)

// TestBrowserHelpCentre audits the public help centre in Chromium with the
// demo shop's knowledge base: the home page at phone size in Chinese, a
// search with highlighted matches, and an article at desktop size in
// English; axe-core finds no serious or critical violations, and the
// search works from the keyboard.
func TestBrowserHelpCentre(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	ctx := context.Background()
	ws := n.world.Workspace.ID
	if err := demo.SeedKnowledge(ctx, n.kb, ws, n.world.Logins[0].UserID); err != nil {
		t.Fatal(err)
	}
	hc := httptest.NewServer((&helpcenter.Center{KB: n.kb, Workspaces: n.db}).Handler())
	t.Cleanup(hc.Close)
	base := hc.URL + "/help/" + url.PathEscape(ws)
	sh := newShots(t)

	phone := newTab(t, browser, sizes[0])
	do(t, phone, "open the help centre in Chinese", chromedp.Navigate(base+"/?lang=zh"))
	wait(t, phone, "the topics", `document.documentElement.lang === 'zh-CN' && document.querySelectorAll('.card').length >= 4`)
	sh.take(phone, "phone-helpcentre-home-zh")
	audit(t, phone, "help centre home (phone, zh)", "")
	do(t, phone, "search from the keyboard", chromedp.SendKeys(chromedp.CSS("#q"), "怎么退货\n"), chromedp.WaitVisible(chromedp.CSS(".results")))
	wait(t, phone, "results with highlighted words", `document.querySelectorAll('.results li').length > 0 && document.querySelector('.results mark') !== null`)
	sh.take(phone, "phone-helpcentre-search-zh")
	audit(t, phone, "help centre search (phone, zh)", "")

	var article *spkb.Article
	as, err := n.kb.ListArticles(ctx, ws, spkb.ArticleFilter{Lang: spkb.LangEN, Category: "Orders"})
	if err != nil || len(as) == 0 {
		t.Fatalf("demo articles: %v", err)
	}
	article = as[0]
	desk := newTab(t, browser, sizes[2])
	do(t, desk, "open an article", chromedp.Navigate(base+"/articles/"+url.PathEscape(article.ID)+"?lang=en"))
	wait(t, desk, "the article", `document.querySelector('article h1')?.textContent === `+jsString(article.Title)+` && document.querySelector('.body ol') !== null`)
	sh.take(desk, "desktop-helpcentre-article")
	audit(t, desk, "help centre article (desktop, en)", "")
}
