package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/starpost/starpost/web"
)

func TestHandlerHeaders(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-API", "yes")
		w.WriteHeader(http.StatusTeapot)
	})
	h := web.Mount(api, web.Handler())
	get := func(method, path string, hdr ...string) *http.Response {
		r := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	for _, p := range []string{"/api/v1/me", "/api/v1/widget/ws_1/session", "/metrics", "/healthz", "/readyz"} {
		if res := get("GET", p); res.StatusCode != http.StatusTeapot || res.Header.Get("X-API") != "yes" {
			t.Errorf("GET %s did not reach the API: %d", p, res.StatusCode)
		}
	}

	res := get("GET", "/app/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("/app/: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" {
		t.Errorf("/app/ caching: %q etag %q", res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
	}
	if again := get("GET", "/app/", "If-None-Match", res.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation gave %d, want 304", again.StatusCode)
	}
	if res := get("GET", "/app/conversations/cv_1"); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("client route: %d", res.StatusCode)
	}
	for _, page := range []string{"/app/wall", "/app/admin"} {
		if res := get("GET", page); res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != web.AppCSP {
			t.Errorf("%s: %d, CSP %q", page, res.StatusCode, res.Header.Get("Content-Security-Policy"))
		}
	}
	for _, mod := range []string{"/app/wall.js", "/app/admin.js", "/app/dom.js", "/app/strings.js"} {
		if res := get("GET", mod); res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: %d %q", mod, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if res := get("GET", "/app/app.js"); res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("app.js: %q", res.Header.Get("Content-Type"))
	}
	wj := get("GET", "/widget.js")
	if wj.StatusCode != 200 || wj.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(wj.Header.Get("Cache-Control"), "max-age=") {
		t.Errorf("widget.js: %d %v", wj.StatusCode, wj.Header)
	}
	if res := get("GET", "/"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/app/" {
		t.Errorf("/: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get("GET", "/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/nope.js: %d", res.StatusCode)
	}
	if res := get("POST", "/app/"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /app/: %d", res.StatusCode)
	}

	// The widget's API may be called from any origin, with a bearer token.
	pre := get("OPTIONS", "/api/v1/widget/conversations", "Origin", "https://shop.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("widget preflight: %d %v", pre.StatusCode, pre.Header)
	}
	if res := get("GET", "/api/v1/widget/conversations", "Origin", "https://shop.example"); res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("widget API lacks CORS: %v", res.Header)
	}
	if res := get("GET", "/api/v1/me", "Origin", "https://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("agent API must stay same-origin: %v", res.Header)
	}
}
