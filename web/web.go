// Package web serves Starpost's browser UI from files embedded in the
// binary: the agent workspace at /app/, the supervisor wall at /app/wall
// (supervisors and admins), the admin screens at /app/admin (admins), the
// knowledge base at /app/kb (admins write, supervisors read) and
// the customer chat widget at /widget.js. There is no build step: the files under static/ are plain ES
// modules, CSS and HTML, served as they are.
//
// Mount puts the UI and the API on one handler:
//
//	root := web.Mount(apiServer.Handler(), web.Handler())
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// AppCSP is the Content-Security-Policy of the workspace pages: only this
// origin's scripts, styles and sockets, no inline code, no framing.
const AppCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'; object-src 'none'"

// file is one embedded file, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// ui serves the embedded files.
type ui struct {
	files map[string]*file // by URL path
}

// Handler returns the UI: /app/ (the agent workspace, whose client-side
// routes are all served by /app/index.html), /widget.js (the embeddable chat
// widget, which any site may load) and a redirect from / to /app/.
func Handler() http.Handler {
	u := &ui{files: map[string]*file{}}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic("web: embedded static folder missing: " + err.Error()) // build error
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js", ".mjs":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".html":
			ct = "text/html; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		case ".json":
			ct = "application/json"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		u.files["/"+p] = &file{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic("web: reading embedded files: " + err.Error())
	}
	return u
}

func (u *ui) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/app":
		http.Redirect(w, r, "/app/", http.StatusFound)
		return
	case p == "/app/":
		p = "/app/index.html"
	case strings.HasPrefix(p, "/app/") && path.Ext(p) == "":
		// Client-side routes of the workspace.
		p = "/app/index.html"
	}
	f, ok := u.files[p]
	if !ok {
		u.notFound(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", f.etag)
	h.Set("Referrer-Policy", "same-origin")
	switch {
	case p == "/widget.js":
		// Loaded by other sites' pages: readable from any origin, cached
		// briefly because its URL carries no version.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("Cache-Control", "public, max-age=300")
	default:
		// Revalidate on every load (a cheap 304): a new binary's UI shows at
		// once, and no stale module mixes with a fresh one.
		h.Set("Cache-Control", "no-cache")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
	}
	if f.ctype == "text/html; charset=utf-8" {
		h.Set("Content-Security-Policy", AppCSP)
		h.Set("X-Frame-Options", "DENY")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

func (u *ui) notFound(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("404 page not found\n"))
}

// Mount returns one handler for a whole node: /api/, /metrics, /healthz and
// /readyz go to api, everything else to ui.
//
// The widget's API (/api/v1/widget/...) is called by pages of other origins
// with a bearer token, never a cookie, so Mount answers its CORS preflight
// requests and lets any origin read its responses. The rest of the API keeps
// the same-origin policy.
func Mount(api, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/api/v1/widget/"):
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Expose-Headers", "Retry-After")
			api.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/api/") || p == "/api" || p == "/metrics" || p == "/healthz" || p == "/readyz":
			api.ServeHTTP(w, r)
		default:
			ui.ServeHTTP(w, r)
		}
	})
}
