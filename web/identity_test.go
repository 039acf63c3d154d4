package web_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/starpost/starpost/auth"
	sphttp "github.com/starpost/starpost/http"
)

// signedShopPage is a shop's page for a signed-in user: the widget tag
// carries the user's id and the shop server's signature of it.
var signedShopPage = template.Must(template.New("signed").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>My account</title></head>
<body><h1>My account</h1>
<script src="{{.Src}}" data-workspace="{{.Workspace}}" data-lang="en" data-user-id="{{.User}}" data-user-hash="{{.Hash}}"></script>
</body></html>`))

// TestBrowserIdentifiedVisitor: the admin reads the identity secret in the
// widget settings; a signed-in user of the shop writes from one device and
// finds the conversation on another (a separate browser profile), because
// the shop's server signed their user id.
func TestBrowserIdentifiedVisitor(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t)
	ctx := context.Background()
	admin := adminClient(t, n)
	var id sphttp.WidgetIdentityResponse
	if err := admin.Do(ctx, "GET", "/api/v1/widget-identity", nil, &id); err != nil {
		t.Fatal(err)
	}
	shop := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = signedShopPage.Execute(rw, map[string]string{"Src": n.base + "/widget.js", "Workspace": n.world.Workspace.ID,
			"User": "shop-user-42", "Hash": auth.HMACHex([]byte(id.Secret), "shop-user-42")})
	}))
	t.Cleanup(shop.Close)

	ad := newTab(t, browser, sizes[2])
	signIn(t, ad, n.base, "/app/admin#widget", n.world.Logins[0].Email, n.world.Logins[0].Password, "#admin")
	wait(t, ad, "the identity card", `document.querySelector('#identity-show') !== null`)
	do(t, ad, "show the secret", chromedp.Click(chromedp.CSS("#identity-show")))
	wait(t, ad, "the secret", `document.querySelector('#identity-secret')?.textContent === `+jsString(id.Secret))
	audit(t, ad, "admin: widget identity", "")

	phone := newTab(t, browser, sizes[0])
	do(t, phone, "open the shop on the phone", chromedp.Navigate(shop.URL))
	wait(t, phone, "the widget launcher", w+`?.querySelector('.launcher') != null`)
	do(t, phone, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, phone, "the chat view", `document.querySelector('starpost-widget').getAttribute('data-view') === 'chat'`)
	do(t, phone, "write", chromedp.SendKeys(inWidget("textarea"), "Where is my order 42?"+kb.Enter))
	wait(t, phone, "the message sent", w+`.querySelector('.msg.me:not([data-pending])') !== null`)

	laptop := newTab(t, browser, sizes[2])
	do(t, laptop, "open the shop on the laptop", chromedp.Navigate(shop.URL))
	wait(t, laptop, "the widget launcher", w+`?.querySelector('.launcher') != null`)
	do(t, laptop, "open the widget", chromedp.Click(inWidget(".launcher")))
	wait(t, laptop, "the phone's message in the history", `[...`+w+`.querySelectorAll('.msg.me')].some(m => m.textContent.includes('Where is my order 42?'))`)
}
