package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/demo"
	sphttp "github.com/starpost/starpost/http"
	spkb "github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/router"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
	"github.com/starpost/starpost/web"
	"github.com/starpost/starpost/wfm/plan"
)

// tokenizer loads the segmenter once for the test binary, as a process does.
var tokenizer = sync.OnceValues(func() (*text.Tokenizer, error) {
	return text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
})

// testNode is a whole Starpost node (store, embedded NATS, router, knowledge
// base, API and UI) serving on a loopback port, with the demo workspace.
type testNode struct {
	base  string
	world *demo.World
	db    *store.DB
	bus   *bus.Bus // for engines a test runs beside the node
	kb    *spkb.KB
	wfm   *plan.Service
}

// nodeOption changes how startNode wires the node.
type nodeOption func(*nodeSetup)

type nodeSetup struct {
	// runners are started beside the router (the engines of assistEngines).
	runners func(t *testing.T, db *store.DB, b *bus.Bus, api *sphttp.Server) []func(context.Context) error
	// router configures the router's driver.
	router []router.DriverOption
	// api changes the API server before it starts (limits, for instance).
	api func(*sphttp.Server)
}

// withRouter passes options to the node's router driver.
func withRouter(opts ...router.DriverOption) nodeOption {
	return func(s *nodeSetup) { s.router = append(s.router, opts...) }
}

// withAPI changes the node's API server before it starts.
func withAPI(f func(*sphttp.Server)) nodeOption { return func(s *nodeSetup) { s.api = f } }

// startNode wires a node as "starpost serve" does (without the engines
// unless an option adds them) and stops it when the test ends. The demo
// workspace has the default canned replies.
func startNode(t *testing.T, opts ...nodeOption) *testNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.DiscardHandler)
	clock := starpost.SystemClock{}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), clock, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	b, err := bus.Open(ctx, bus.Options{Name: "web-test", Logger: log, Store: db})
	if err != nil {
		cancel()
		db.Close()
		t.Fatal(err)
	}
	world, err := demo.Seed(ctx, db, auth.HashPassword)
	if err != nil {
		t.Fatal(err)
	}
	wfm, err := plan.Open(ctx, plan.Options{SQL: db.SQL(), Driver: db.Driver(), Directory: db, Clock: clock, Config: plan.Config{SolveTime: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	kbase, err := spkb.Open(ctx, spkb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: tok, Clock: clock, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	atts, err := attachment.Open(ctx, attachment.Options{SQL: db.SQL(), Driver: db.Driver(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	api := &sphttp.Server{Store: db, Bus: b, Clock: clock, Logger: log, Secret: []byte("web-test-secret-web-test-secret-0123456789"),
		Attachments: atts, KB: kbase, WFM: wfm}
	if api.Canned, err = canned.Open(ctx, canned.Options{SQL: db.SQL(), Driver: db.Driver(), Clock: clock}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Canned.SeedDefaults(ctx, world.Workspace.ID, "demo"); err != nil {
		t.Fatal(err)
	}
	api.Quality = openQuality(t, ctx, db) // quality review (quality_test.go)
	var setup nodeSetup
	for _, o := range opts {
		o(&setup)
	}
	if setup.api != nil {
		setup.api(api)
	}
	var runners []func(context.Context) error
	if setup.runners != nil {
		runners = setup.runners(t, db, b, api)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: web.Mount(api.Handler(), web.Handler()), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	var wg sync.WaitGroup
	wg.Add(2 + len(runners))
	for _, run := range runners {
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("engine: %v", err)
			}
		}()
	}
	go func() {
		defer wg.Done()
		if err := router.NewDriver(db, b, clock, log, setup.router...).Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("router: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		sctx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = srv.Shutdown(sctx)
		cancel()
		_ = api.Wait(sctx)
		wg.Wait()
		b.Close()
		db.Close()
	})
	return &testNode{base: "http://" + ln.Addr().String(), world: world, db: db, bus: b, kb: kbase, wfm: wfm}
}

// proxy forwards TCP connections to a target and can cut the network: while
// it is down, it closes every open connection and refuses new ones, as a
// customer's lost Wi-Fi would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	return p
}

func (p *proxy) base() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *proxy) pipe(c net.Conn) {
	if !p.track(c) {
		c.Close()
		return
	}
	u, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(u) {
		c.Close()
		if u != nil {
			u.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go cp(u, c)
	go cp(c, u)
	<-done
	c.Close()
	u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}
