package http_test

import (
	"strings"
	"testing"
)

func TestOps(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	e.login(tn.agent) // one request on a route to count
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/healthz", 200, `"ok"`},
		{"/readyz", 200, `"ready"`},
		{"/metrics", 200, `starpost_http_requests_total{method="POST",route="/api/v1/login",status="200"} 1`},
		{"/nowhere", 404, `"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := e.anon().do("GET", tt.path, nil)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
				t.Fatalf("status %d, body %s; want %d with %s", r.status, r.body, tt.status, tt.want)
			}
		})
	}
	// The store closing makes the node unready, with a Retry-After.
	e.db.Close()
	r := e.anon().do("GET", "/readyz", nil)
	if r.status != 503 || r.header.Get("Retry-After") == "" || strings.Contains(string(r.body), "sql") {
		t.Fatalf("readyz with a closed store: %d %v %s", r.status, r.header, r.body)
	}
}
