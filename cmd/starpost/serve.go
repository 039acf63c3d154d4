package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/bot"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/draft"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/helpcenter"
	"github.com/starpost/starpost/http"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/lease"
	"github.com/starpost/starpost/quality"
	"github.com/starpost/starpost/router"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
	"github.com/starpost/starpost/web"
	"github.com/starpost/starpost/wfm/plan"
)

// node is one running Starpost: store, bus, router and API.
type node struct {
	cfg    config
	log    *slog.Logger
	clock  starpost.Clock
	reg    *prometheus.Registry
	db     *store.DB
	bus    *bus.Bus
	store  starpost.Store // db, instrumented
	kb     *kb.KB
	qa     *quality.Store
	bots   *bot.Models // the bot's intent models (trained on the leader, listed by the API)
	tags   *bot.Tags   // intent tags of conversations: the bot's second source of examples
	wfm    *plan.Service
	tok    *text.Tokenizer // the knowledge base's, shared by the emotion models' word features
	api    *http.Server
	server *nethttp.Server
	ln     net.Listener
}

// openNode opens the store and the bus and builds the API server; it does
// not start serving.
func openNode(ctx context.Context, cfg config, log *slog.Logger) (_ *node, err error) {
	n := &node{cfg: cfg, log: log, clock: starpost.SystemClock{}, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	secret, err := cfg.secret()
	if err != nil {
		return nil, err
	}
	if n.db, err = store.Open(ctx, cfg.dsn(), n.clock, log.With("component", "store")); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	n.store = newMeteredStore(n.db, n.reg)
	n.reg.MustRegister(newQueueCollector(n.db, n.clock))
	if n.bus, err = bus.Open(ctx, bus.Options{URL: cfg.NATS, Listen: cfg.NATSListen, Name: hostname(),
		Logger: log.With("component", "bus"), Store: n.db}); err != nil {
		return nil, fmt.Errorf("open bus: %w", err)
	}
	tok, err := text.NewTokenizer(text.TokenizerOptions{DropStopWords: true})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	n.tok = tok
	if n.kb, err = kb.Open(ctx, kb.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Tokenizer: tok,
		Clock: n.clock, Logger: log.With("component", "kb")}); err != nil {
		return nil, fmt.Errorf("knowledge base: %w", err)
	}
	if n.wfm, err = plan.Open(ctx, plan.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Directory: n.store,
		Clock: n.clock, Logger: log.With("component", "wfm"), Config: plan.Config{ClaimLead: cfg.WFMClaimLead}}); err != nil {
		return nil, fmt.Errorf("workforce management: %w", err)
	}
	// Quality review: scorecards, reviews, dashboards.
	if n.qa, err = quality.Open(ctx, quality.StoreOptions{SQL: n.db.SQL(), Driver: n.db.Driver(), Conversations: n.store, Clock: n.clock}); err != nil {
		return nil, fmt.Errorf("quality store: %w", err)
	}
	att, err := attachment.Open(ctx, attachment.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Clock: n.clock, MaxBytes: cfg.AttachmentMaxBytes})
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	// The bot's intent models, tokenised as the knowledge base does
	// (bot.TokenizerOptions): trained by the bot engine on the leader, their
	// versions listed by the API on every node, from the published FAQs and
	// the intent tags of resolved conversations.
	if n.tags, err = bot.OpenTags(ctx, n.db.SQL(), n.db.Driver()); err != nil {
		return nil, fmt.Errorf("intent tags: %w", err)
	}
	if n.bots, err = bot.OpenModels(ctx, bot.ModelsOptions{SQL: n.db.SQL(), Driver: n.db.Driver(),
		Tokenizer: n.kb.Tokenizer(), Source: bot.KBSource{KB: n.kb, Tags: n.tags}, Clock: n.clock, Logger: log.With("component", "bot")}); err != nil {
		return nil, fmt.Errorf("bot models: %w", err)
	}
	n.api = &http.Server{Store: n.store, Bus: n.bus, Clock: n.clock, Logger: log.With("component", "http"),
		Secret: secret, Registry: n.reg, KB: n.kb, Attachments: att, Quality: n.qa, WFM: n.wfm,
		Limits: cfg.limits(), Waiting: n.db, BotModels: n.bots}
	if cfg.LLMURL != "" {
		if u, err := url.Parse(cfg.LLMURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--llm-url %q: want an http:// or https:// URL such as http://localhost:11434/v1", cfg.LLMURL)
		}
		n.api.Drafts = &draft.Writer{KB: n.kb, LLM: &draft.OpenAI{URL: cfg.LLMURL, Model: cfg.LLMModel, APIKey: cfg.LLMKey, Timeout: cfg.LLMTimeout}}
	}
	// Agent assist: canned replies and the well-being policy.
	if n.api.Canned, err = canned.Open(ctx, canned.Options{SQL: n.db.SQL(), Driver: n.db.Driver(), Clock: n.clock}); err != nil {
		return nil, fmt.Errorf("canned replies: %w", err)
	}
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		return nil, fmt.Errorf("--time-zone: %w", err)
	}
	n.api.Wellbeing = map[string]http.WellbeingPolicy{"": {BreakAfter: cfg.BreakAfter, TimeZone: cfg.TimeZone}}
	// Agent liveness: this node's name in connection signals (random
	// after host and pid, so a restarted node with the same pid, as in a
	// container, is a new node) and its heartbeat interval.
	if _, n.api.Heartbeat, err = cfg.liveness(); err != nil {
		return nil, err
	}
	n.api.Node = fmt.Sprintf("%s-%d-%s", hostname(), os.Getpid(), starpost.NewID("n")[2:10])
	return n, nil
}

// close releases what openNode opened, in reverse order.
func (n *node) close() {
	if n.bus != nil {
		if err := n.bus.Close(); err != nil {
			n.log.Warn("close bus", "err", err)
		}
	}
	if n.db != nil {
		if err := n.db.Close(); err != nil {
			n.log.Warn("close store", "err", err)
		}
	}
}

// runServe runs serve, or demo when simulate is set.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, simulate bool) error {
	name := "serve"
	if simulate {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	cfg.register(fs)
	rate := fs.Float64("rate", 0.5, "demo: new simulated customer conversations per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := cfg.logger(stderr)
	if err != nil {
		return err
	}
	n, err := openNode(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.close()

	world, err := n.seed(ctx, stdout, simulate)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.DebugAddr != "" {
		go servePprof(cfg.DebugAddr, log)
	}
	base := "http://" + displayAddr(ln.Addr())
	fmt.Fprintf(stdout, "Starpost %s listening on %s (store %s, nats %s)\n  agent workspace: %s/app/\n", version, base, redact(cfg.dsn()), natsName(cfg), base)
	if world != nil {
		fmt.Fprintf(stdout, "  chat widget for any page: <script src=\"%s/widget.js\" data-workspace=\"%s\" async></script>\n", base, world.Workspace.ID)
		fmt.Fprintf(stdout, "  help centre: %s/help/%s/\n", base, world.Workspace.ID)
	}
	if simulate && world != nil {
		simCtx, stopSim := context.WithCancel(ctx)
		defer stopSim()
		sim := &demoSim{base: base, world: world, rate: *rate, log: log.With("component", "demo"), out: stdout}
		go func() {
			if err := sim.run(simCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("demo simulation stopped", "err", err)
			}
		}()
	}
	return n.serve(ctx, ln)
}

// handler is everything a node serves over HTTP: the public help centres
// under /help/, and the API and the UI on the rest.
func (n *node) handler() nethttp.Handler {
	mux := nethttp.NewServeMux()
	help := &helpcenter.Center{KB: n.kb, Workspaces: n.store, Logger: n.log.With("component", "helpcenter"), Widget: true}
	mux.Handle("/help/", help.Handler())
	mux.Handle("/", web.Mount(n.api.Handler(), web.Handler()))
	return mux
}

// serve runs the API on ln and, while this node holds the lease, the router
// and the engines, until ctx ends or one of them fails. Then it shuts down
// gracefully: it stops taking requests, lets open requests and WebSockets
// finish, then stops the router and engines. The store flushes its last
// group commit when the node is closed.
func (n *node) serve(ctx context.Context, ln net.Listener) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// IdleTimeout bounds the memory of idle keep-alive connections (a
	// goroutine and two buffers each): under a surge every customer's
	// browser leaves one behind.
	n.server = &nethttp.Server{Handler: n.handler(), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 30 * time.Second, BaseContext: func(net.Listener) context.Context { return runCtx }}
	runners, err := n.engines()
	if err != nil {
		return err
	}
	leader, err := n.lease()
	if err != nil {
		return err
	}
	grace, heartbeat, err := n.cfg.liveness()
	if err != nil {
		return err
	}
	lead := leaderWork(router.NewDriver(n.store, n.bus, n.clock, n.log.With("component", "router"),
		router.WithEngineOptions(router.WithGracePeriod(grace), router.WithLiveness(router.MissedBeats*heartbeat))), runners)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(4)
	go func() {
		defer wg.Done()
		if err := n.api.RunHeartbeats(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			n.log.Warn("heartbeats stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := n.kb.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			n.log.Warn("knowledge base index saver stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := leader.Run(runCtx, "leader", lead); err != nil && !errors.Is(err, context.Canceled) {
			errc <- fmt.Errorf("leader: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := n.server.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	n.log.Info("shutting down")
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer done()
	if serr := n.server.Shutdown(shutdownCtx); serr != nil {
		n.log.Warn("http shutdown", "err", serr)
	}
	cancel()
	if werr := n.api.Wait(shutdownCtx); werr != nil {
		n.log.Warn("waiting for WebSockets to close", "err", werr)
	}
	wg.Wait()
	return err
}

// leaderWork returns what the leader of a cluster runs: dispatch and the
// engines. It returns when leadership is lost (ctx ends) or one of them
// fails, after stopping the others.
func leaderWork(driver *router.Driver, runners map[string]*engine.Runner) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, stop := context.WithCancel(ctx)
		defer stop()
		var wg sync.WaitGroup
		errc := make(chan error, 1+len(runners))
		run := func(name string, f func(context.Context) error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(ctx); err != nil && ctx.Err() == nil {
					errc <- fmt.Errorf("%s: %w", name, err)
					stop()
				}
			}()
		}
		run("router", driver.Run)
		for name, r := range runners {
			run(name+" engine", r.Run)
		}
		wg.Wait()
		select {
		case err := <-errc:
			return err
		default:
			return nil
		}
	}
}

// lease returns how this node becomes the one that dispatches and runs the
// engines: a PostgreSQL advisory lock when the store is PostgreSQL (several
// nodes share it), otherwise this node alone.
func (n *node) lease() (lease.Lease, error) {
	id := fmt.Sprintf("%s-%d", hostname(), os.Getpid())
	log := n.log.With("component", "lease")
	if n.db.Driver() == "postgres" {
		l, err := lease.NewPostgres(n.db.SQL(), lease.PostgresOptions{ID: id, Clock: n.clock, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("lease: %w", err)
		}
		return l, nil
	}
	return &lease.Single{ID: id, Clock: n.clock, Logger: log}, nil
}

// engines builds the runners of the engines that add events to
// conversations: emotion (scores every customer message, coaches the
// agent, applies the abuse policy), quality (scores every resolved
// conversation), kb (suggests answers for every customer message), bot
// (answers bot queues' conversations, hands over) and wfm (interval history,
// intraday re-planning, presence for adherence). They run on the leader
// only; their idempotency keys make a brief overlap of two leaders harmless.
func (n *node) engines() (map[string]*engine.Runner, error) {
	analyzer, err := emotion.LoadEmbeddedWith(n.tok) // one segmenter dictionary (~130 MB) for kb and emotion
	if err != nil {
		return nil, fmt.Errorf("emotion models: %w", err)
	}
	em, err := emotion.NewEngine(analyzer, n.store, emotion.EngineConfig{})
	if err != nil {
		return nil, fmt.Errorf("emotion engine: %w", err)
	}
	qa, err := quality.NewEngine(n.store, quality.DefaultConfig(), nil)
	if err != nil {
		return nil, fmt.Errorf("quality engine: %w", err)
	}
	// The bot answers conversations of bot queues from the knowledge base.
	bt, err := bot.NewEngine(n.bots, n.store, bot.Config{})
	if err != nil {
		return nil, fmt.Errorf("bot engine: %w", err)
	}
	// Each workspace's own QA configuration; the off-topic check counts a
	// reply that finds the question's knowledge-base entry as on topic.
	qa.UseStore(n.qa)
	qa.UseRetrieval(func(ctx context.Context, ws, q string, k int) ([]string, error) {
		rs, err := n.kb.Search(ctx, ws, q, k)
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		return ids, err
	})
	runners := map[string]*engine.Runner{}
	// The quality indexer stores every QA score for review and dashboards.
	for _, h := range []engine.Handler{em, qa, kb.NewSuggester(n.kb), bt, bot.NewTagEngine(n.tags, n.store), quality.NewIndexer(n.qa, n.store), plan.NewEngine(n.wfm)} {
		r, err := engine.NewRunner(h, engine.Options{Store: n.store, Bus: n.bus, SQL: n.db.SQL(), Driver: n.db.Driver(),
			Clock: n.clock, Logger: n.log.With("component", h.Name())})
		if err != nil {
			return nil, fmt.Errorf("%s runner: %w", h.Name(), err)
		}
		runners[h.Name()] = r
	}
	return runners, nil
}

// seed creates the demo workspace on an empty database and prints its
// logins. With the demo simulation on, it returns the demo world (from the
// logins file written on first start).
func (n *node) seed(ctx context.Context, stdout io.Writer, simulate bool) (*demo.World, error) {
	path := filepath.Join(n.cfg.Data, "demo-logins.json")
	wss, err := n.store.ListWorkspaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	if len(wss) == 0 && (n.cfg.Demo || simulate) {
		world, err := demo.Seed(ctx, n.store, auth.HashPassword)
		if err != nil {
			return nil, err
		}
		if err := demo.SeedKnowledge(ctx, n.kb, world.Workspace.ID, world.Logins[0].UserID); err != nil {
			return nil, err
		}
		if _, err := n.api.Canned.SeedDefaults(ctx, world.Workspace.ID, "demo"); err != nil {
			return nil, err
		}
		if err := n.seedWFM(ctx, world); err != nil {
			return nil, fmt.Errorf("demo workforce plan: %w", err)
		}
		b, _ := json.MarshalIndent(world, "", "  ")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write demo logins: %w", err)
		}
		admin := world.Logins[0]
		fmt.Fprintf(stdout, "Created the demo workspace %q.\n  admin login: %s  password: %s\n  all demo logins: %s\n",
			world.Workspace.Name, admin.Email, admin.Password, path)
		return world, nil
	}
	if !simulate {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the demo needs the logins made on first start (%s): %w; remove %s to start afresh", path, err, n.cfg.Data)
	}
	var world demo.World
	if err := json.Unmarshal(b, &world); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "Demo workspace %q; admin login: %s  password: %s\n", world.Workspace.Name, world.Logins[0].Email, world.Logins[0].Password)
	return &world, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "starpost"
	}
	return "starpost-" + h
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") || strings.HasPrefix(s, "0.0.0.0:") {
		return "localhost:" + s[strings.LastIndex(s, ":")+1:]
	}
	return s
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon+1] + "***" + dsn[at:]
			}
		}
	}
	return dsn
}

func natsName(cfg config) string {
	if cfg.NATS == "" {
		return "embedded"
	}
	return redact(cfg.NATS)
}

// servePprof serves Go's profiles on a separate, private address, block
// and mutex profiles included.
func servePprof(addr string, log *slog.Logger) {
	// Sample blocking and lock contention too (/debug/pprof/block and
	// /mutex): one blocked goroutine per 100 µs spent waiting, one
	// contended lock in 20. Only when profiles were asked for.
	runtime.SetBlockProfileRate(100_000)
	runtime.SetMutexProfileFraction(20)
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &nethttp.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof server", "err", err)
	}
}
