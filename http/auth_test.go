package http_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	sphttp "github.com/starpost/starpost/http"
)

func TestLoginSessionAndCSRF(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")

	tests := []struct {
		name     string
		email    string
		password string
		status   int
	}{
		{"wrong password", tn.admin.Email, "wrong password!", 401},
		{"unknown email", "nobody@acme.test", testPassword, 401},
		{"missing password", tn.admin.Email, "", 400},
		{"missing email", "", testPassword, 400},
		{"email in other case", "ADMIN@acme.test", testPassword, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.anon().do("POST", "/api/v1/login", map[string]string{"email": tt.email, "password": tt.password})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}

	c := e.anon()
	r := c.do("POST", "/api/v1/login", map[string]string{"email": tn.admin.Email, "password": testPassword})
	var session, csrf *http.Cookie
	res := &http.Response{Header: r.header}
	for _, ck := range res.Cookies() {
		switch ck.Name {
		case sphttp.SessionCookie:
			session = ck
		case sphttp.CSRFCookie:
			csrf = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.MaxAge <= 0 {
		t.Fatalf("session cookie %+v", session)
	}
	if csrf == nil || csrf.HttpOnly {
		t.Fatalf("csrf cookie %+v must be readable", csrf)
	}
	var me sphttp.MeResponse
	c.mustJSON("GET", "/api/v1/me", nil, 200, &me)
	if me.User == nil || me.User.ID != tn.admin.ID || me.WorkspaceID != tn.ws.ID {
		t.Fatalf("me = %+v", me)
	}
	// Unsafe requests with the cookie need the CSRF header.
	site := map[string]string{"name": "Town", "time_zone": "Asia/Shanghai"}
	if r := c.do("POST", "/api/v1/sites", site); r.status != 403 {
		t.Fatalf("no CSRF header: status %d", r.status)
	}
	if r := c.do("POST", "/api/v1/sites", site, sphttp.CSRFHeader, "forged"); r.status != 403 {
		t.Fatalf("wrong CSRF header: status %d", r.status)
	}
	c.mustJSON("POST", "/api/v1/sites", site, 201, nil, sphttp.CSRFHeader, csrf.Value)

	// The session expires on the injected clock.
	e.clock.Advance(13 * time.Hour)
	if r := c.do("GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("expired session: status %d", r.status)
	}

	// Logout clears the cookies.
	c2 := e.login(tn.agent)
	c2.mustJSON("POST", "/api/v1/logout", nil, 204, nil)
	c2.csrf = ""
	if r := c2.do("GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("after logout: status %d", r.status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	bad := map[string]string{"email": tn.agent.Email, "password": "not the password"}
	var last response
	for i := 0; i < 10; i++ {
		last = e.anon().do("POST", "/api/v1/login", bad)
		if last.status == 429 {
			break
		}
		if last.status != 401 {
			t.Fatalf("attempt %d: status %d", i, last.status)
		}
	}
	if last.status != 429 {
		t.Fatalf("never rate limited")
	}
	secs, err := strconv.Atoi(last.header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", last.header.Get("Retry-After"))
	}
	if eb := last.errorBody(t); eb.Code != "too_many_requests" || eb.Message == "" {
		t.Fatalf("error %+v", eb)
	}
	// Even the right password waits; after Retry-After it works again.
	good := map[string]string{"email": tn.agent.Email, "password": testPassword}
	if r := e.anon().do("POST", "/api/v1/login", good); r.status != 429 {
		t.Fatalf("right password while limited: %d", r.status)
	}
	e.clock.Advance(time.Duration(secs) * time.Second)
	e.anon().mustJSON("POST", "/api/v1/login", good, 200, nil)
}

// TestLoginRateLimitCountsFailures: a service station's agents share one
// address; their successful sign-ins at the start of a shift must not lock
// each other out.
func TestLoginRateLimitCountsFailures(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	good := map[string]string{"email": tn.agent.Email, "password": testPassword}
	for i := range 3 * sphttp.DefaultLimits().LoginPerIP.Burst {
		if r := e.anon().do("POST", "/api/v1/login", good); r.status != 200 {
			t.Fatalf("sign-in %d from one address: status %d", i, r.status)
		}
	}
}

func TestRolesEnforced(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	agent, sup, admin := e.login(tn.agent), e.login(tn.supervisor), e.login(tn.admin)
	tests := []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		status int
	}{
		{"agent lists users", agent, "GET", "/api/v1/users", nil, 403},
		{"supervisor lists users", sup, "GET", "/api/v1/users", nil, 200},
		{"supervisor creates skill", sup, "POST", "/api/v1/skills", map[string]string{"name": "x"}, 403},
		{"admin creates skill", admin, "POST", "/api/v1/skills", map[string]string{"name": "x"}, 201},
		{"agent reads queues", agent, "GET", "/api/v1/queues", nil, 403},
		{"supervisor reads queue", sup, "GET", "/api/v1/queues/" + tn.queue.ID, nil, 200},
		{"supervisor lists tokens", sup, "GET", "/api/v1/tokens", nil, 403},
		{"anonymous me", e.anon(), "GET", "/api/v1/me", nil, 401},
		{"agent presence", agent, "PUT", "/api/v1/me/presence", map[string]string{"presence": "available"}, 200},
		{"agent sees all presence", agent, "GET", "/api/v1/presence", nil, 403},
		{"bad bearer", e.withToken("spt_nope"), "GET", "/api/v1/me", nil, 401},
		{"visitor token as API token", e.visitor(tn.ws.ID), "GET", "/api/v1/me", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.do(tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r.status >= 400 && r.errorBody(t).Message == "" {
				t.Fatalf("error without a message")
			}
		})
	}
}
