package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/canned"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/wfm/plan"
)

// testClock is a manual clock: it moves only when a test advances it, plus
// one microsecond per reading so stamps stay ordered.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2025, 11, 11, 9, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running API over a real SQLite store and an embedded NATS bus.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	bus   *bus.Bus
	clock *testClock
	srv   *sphttp.Server
	ts    *httptest.Server
}

// newEnv starts the API; opts may change the server (limits, a wrapped
// store) before it starts.
func newEnv(t *testing.T, opts ...func(*sphttp.Server)) *env {
	t.Helper()
	ctx := context.Background()
	clock := newClock()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), clock, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	b, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		db.Close()
		t.Fatalf("open bus: %v", err)
	}
	wfm, err := plan.Open(ctx, plan.Options{SQL: db.SQL(), Driver: db.Driver(), Directory: db, Clock: clock, Config: plan.Config{SolveTime: time.Second}})
	if err != nil {
		db.Close()
		t.Fatalf("open wfm: %v", err)
	}
	srv := &sphttp.Server{
		Store: db, Bus: b, Clock: clock, WFM: wfm,
		Secret:   []byte("0123456789abcdef0123456789abcdef-test"),
		Registry: prometheus.NewRegistry(),
	}
	if srv.Canned, err = canned.Open(ctx, canned.Options{SQL: db.SQL(), Driver: db.Driver(), Clock: clock}); err != nil {
		t.Fatalf("open canned replies: %v", err)
	}
	for _, o := range opts {
		o(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		b.Close()
		db.Close()
	})
	return &env{t: t, ctx: ctx, db: db, bus: b, clock: clock, srv: srv, ts: ts}
}

// tenant is a workspace with people and configuration made through the
// store, the way cmd/starpost seeds a demo.
type tenant struct {
	ws         *starpost.Workspace
	admin      *starpost.User
	supervisor *starpost.User
	agent      *starpost.User
	agent2     *starpost.User
	queue      *starpost.Queue
	skill      *starpost.Skill
	site       *starpost.Site
	team       *starpost.Team
	token      string // admin API token secret
	tokenID    string
}

const testPassword = "correct horse battery"

func (e *env) newTenant(name string) *tenant {
	e.t.Helper()
	ctx := e.ctx
	tn := &tenant{ws: &starpost.Workspace{Name: name}}
	must(e.t, e.db.CreateWorkspace(ctx, tn.ws))
	hash, err := auth.HashPassword(testPassword)
	must(e.t, err)
	mk := func(role starpost.Role, who string) *starpost.User {
		u := &starpost.User{WorkspaceID: tn.ws.ID, Email: who + "@" + name + ".test", Name: who, Role: role,
			Skills: []starpost.Skilled{}, Capacity: map[starpost.Channel]int{}}
		must(e.t, e.db.CreateUser(ctx, u, hash))
		return u
	}
	tn.admin = mk(starpost.RoleAdmin, "admin")
	tn.supervisor = mk(starpost.RoleSupervisor, "sup")
	tn.agent = mk(starpost.RoleAgent, "agent")
	tn.agent2 = mk(starpost.RoleAgent, "agent2")
	tn.queue = &starpost.Queue{WorkspaceID: tn.ws.ID, Name: "General", Skills: []starpost.SkillRequired{}, Overflow: []starpost.OverflowStep{}}
	must(e.t, e.db.CreateQueue(ctx, tn.queue))
	tn.skill = &starpost.Skill{WorkspaceID: tn.ws.ID, Name: "English"}
	must(e.t, e.db.CreateSkill(ctx, tn.skill))
	tn.site = &starpost.Site{WorkspaceID: tn.ws.ID, Name: "Home", TimeZone: "Asia/Shanghai"}
	must(e.t, e.db.CreateSite(ctx, tn.site))
	tn.team = &starpost.Team{WorkspaceID: tn.ws.ID, Name: "Blue"}
	must(e.t, e.db.CreateTeam(ctx, tn.team))
	secret, err := auth.NewSecret("spt_")
	must(e.t, err)
	tok := &starpost.APIToken{WorkspaceID: tn.ws.ID, Name: "backend", Role: starpost.RoleAdmin}
	must(e.t, e.db.CreateAPIToken(ctx, tok, auth.HashSecret(secret)))
	tn.token, tn.tokenID = secret, tok.ID
	return tn
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// client calls the API with a cookie session or a bearer credential.
type client struct {
	e      *env
	hc     *http.Client
	csrf   string
	bearer string
}

func (e *env) anon() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}}
}

func (e *env) withToken(secret string) *client {
	c := e.anon()
	c.bearer = secret
	return c
}

// login signs in as u and returns a client carrying the session and CSRF
// token.
func (e *env) login(u *starpost.User) *client {
	e.t.Helper()
	c := e.anon()
	var resp sphttp.LoginResponse
	c.mustJSON("POST", "/api/v1/login", map[string]string{"email": u.Email, "password": testPassword}, 200, &resp)
	c.csrf = resp.CSRFToken
	return c
}

// visitor starts a widget session in workspace ws.
func (e *env) visitor(ws string) *client {
	e.t.Helper()
	c := e.anon()
	var resp sphttp.WidgetSessionResponse
	c.mustJSON("POST", "/api/v1/widget/"+ws+"/session", map[string]string{"name": "Visitor"}, 201, &resp)
	c.bearer = resp.Token
	return c
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorBody(t *testing.T) sphttp.ErrorBody {
	t.Helper()
	var er sphttp.ErrorResponse
	if err := json.Unmarshal(r.body, &er); err != nil {
		t.Fatalf("status %d: body %q is not an error: %v", r.status, r.body, err)
	}
	return er.Error
}

// do sends body (raw when it is a string or []byte, else JSON encoded).
func (c *client) do(method, path string, body any, hdr ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		must(c.e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, rd)
	must(c.e.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set(sphttp.CSRFHeader, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	must(c.e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	must(c.e.t, err)
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// mustJSON sends a request, checks the status and decodes the answer.
func (c *client) mustJSON(method, path string, body any, status int, out any, hdr ...string) response {
	c.e.t.Helper()
	r := c.do(method, path, body, hdr...)
	if r.status != status {
		c.e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			c.e.t.Fatalf("%s %s: decode %q: %v", method, path, r.body, err)
		}
	}
	return r
}

// offer appends the router's offer of conversation conv to agent, as the
// router would.
func (e *env) offer(ws, conv, agent string) {
	e.t.Helper()
	_, err := e.db.Append(e.ctx, &starpost.Event{WorkspaceID: ws, ConversationID: conv, Kind: starpost.KindOffer,
		Actor: starpost.System, Body: starpost.MustBody(starpost.OfferBody{AgentID: agent, ExpiresAt: e.clock.Now().Add(time.Minute)})})
	must(e.t, err)
}

// startConversation opens a chat conversation through the API token.
func (e *env) startConversation(tn *tenant, identity string) *starpost.Conversation {
	e.t.Helper()
	var resp sphttp.ConversationResponse
	e.withToken(tn.token).mustJSON("POST", "/api/v1/conversations", map[string]any{
		"channel": "chat", "identity": identity, "queue_id": tn.queue.ID, "text": "hello",
	}, 201, &resp)
	return resp.Conversation
}

// assigned opens a conversation and has agent accept the router's offer.
func (e *env) assigned(tn *tenant, agent *starpost.User, identity string) *starpost.Conversation {
	e.t.Helper()
	c := e.startConversation(tn, identity)
	e.offer(tn.ws.ID, c.ID, agent.ID)
	e.login(agent).mustJSON("POST", "/api/v1/conversations/"+c.ID+"/accept", nil, 200, nil)
	got, err := e.db.FindConversation(e.ctx, tn.ws.ID, c.ID)
	must(e.t, err)
	return got
}
