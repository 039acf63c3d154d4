package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/sim"
	"github.com/starpost/starpost/store"
)

// surgeOptions configure "starpost bench surge".
type surgeOptions struct {
	URL, Admin, DB string
	// VerifyDB, with URL, is the store of the measured servers, read after
	// the run to check every acknowledged message (a cluster's PostgreSQL).
	VerifyDB       string
	Scale          float64
	Baseline, Peak float64 // new conversations/s at scale 1
	Warm, Ramp     time.Duration
	Hold, Cool     time.Duration
	Agents         int
	Capacity       int
	FollowUps      int
	Patience       time.Duration
	SLTarget       time.Duration
	AgentAccept    sim.Delay
	AgentThink     sim.Delay
	CustomerThink  sim.Delay
	Callback       float64 // share of refused customers who leave a message
	MaxWaiting     int     // --max-waiting of a spawned server
	MaxOpen        int     // customers open at once in this process
	MaxCustomers   int
	Drain          time.Duration
	JSON, SVG      string
}

// surgeSample is one second of the run.
type surgeSample struct {
	T            int     `json:"t"`
	Offered      float64 `json:"offered_per_second"`
	Arrivals     int     `json:"arrivals"`
	Started      int     `json:"started"`
	Refused      int     `json:"refused"`
	Callbacks    int     `json:"callbacks"`
	Assigned     int     `json:"assigned"`
	Abandoned    int     `json:"abandoned"`
	Waiting      int     `json:"waiting"`
	WaitP50s     float64 `json:"wait_p50_s"`
	WaitMaxs     float64 `json:"wait_max_s"`
	ServiceLevel float64 `json:"service_level"` // -1: nobody stopped waiting this second
	AckP99ms     float64 `json:"ack_p99_ms"`
	RSSMiB       float64 `json:"server_rss_mib,omitempty"`

	waits   []time.Duration
	acks    []time.Duration
	inSL    int
	sampled bool // Waiting and RSSMiB were read in this second
}

// surgeResult is what "bench surge" prints and writes.
type surgeResult struct {
	Server   string  `json:"server"`
	Store    string  `json:"store"`
	Scale    float64 `json:"scale"`
	Agents   int     `json:"agents"`
	Capacity int     `json:"agent_chat_capacity"`
	Shape    struct {
		BaselinePerSecond float64 `json:"baseline_per_second"`
		PeakPerSecond     float64 `json:"peak_per_second"`
		WarmS             float64 `json:"warm_s"`
		RampS             float64 `json:"ramp_s"`
		HoldS             float64 `json:"hold_s"`
		CoolS             float64 `json:"cool_s"`
	} `json:"shape"`
	MaxWaiting int     `json:"server_max_waiting,omitempty"`
	SetupS     float64 `json:"setup_s"`
	Seconds    float64 `json:"seconds"`

	Arrivals       int64 `json:"arrivals"`
	ClientShed     int64 `json:"client_shed"` // arrivals this process could not open (MaxOpen)
	Started        int64 `json:"started"`
	Refused        int64 `json:"refused_503"`
	Limited        int64 `json:"limited_429"`
	Overloaded     int64 `json:"overloaded_503"` // shed by the node's overload limit (503 without a wait estimate)
	Callbacks      int64 `json:"callbacks"`
	CallbackFailed int64 `json:"callbacks_failed"` // refused customers whose message was not taken (overload, timeout)
	Failed         int64 `json:"failed"`
	Assigned       int64 `json:"assigned"`
	Abandoned      int64 `json:"abandoned"`
	StillWait      int64 `json:"still_waiting_at_end"`
	Resolved       int64 `json:"resolved"`

	Sent               int64 `json:"messages_sent"`
	Acked              int64 `json:"messages_acked"`
	Rejected           int64 `json:"messages_rejected"`
	Reconnects         int64 `json:"reconnects"`
	StoreChecked       bool  `json:"store_checked"`
	Stored             int64 `json:"messages_stored"`
	Lost               int64 `json:"lost"`
	Duplicated         int64 `json:"duplicated"`
	StoreDuplicates    int64 `json:"store_duplicates"`
	DeliveryDuplicates int64 `json:"delivery_duplicates"`
	RefusedButStored   int64 `json:"refused_but_stored"`
	AgentReplies       int64 `json:"agent_replies"`
	AgentErrors        int64 `json:"agent_errors"`

	AckP50ms        float64 `json:"ack_p50_ms"`
	AckP99ms        float64 `json:"ack_p99_ms"`
	AckMaxms        float64 `json:"ack_max_ms"`
	DeliveryP50ms   float64 `json:"delivery_p50_ms"` // agent's message committed → on the customer's socket
	DeliveryP99ms   float64 `json:"delivery_p99_ms"`
	TimeToAgentP50s float64 `json:"time_to_agent_p50_s"`
	TimeToAgentP99s float64 `json:"time_to_agent_p99_s"`
	MaxWaits        float64 `json:"max_wait_s"`
	ServiceLevel    float64 `json:"service_level"`
	SLTargetS       float64 `json:"service_level_target_s"`
	AbandonRate     float64 `json:"abandonment_rate"`
	PeakRSSMiB      float64 `json:"server_peak_rss_mib,omitempty"`
	// ServerRefused is the server's own count of surge-limit refusals by
	// limit (starpost_refused_total).
	ServerRefused map[string]float64 `json:"server_refused,omitempty"`
	Chart         string             `json:"chart,omitempty"`

	Timeline []surgeSample `json:"timeline"`
}

func runBenchSurge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench surge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o surgeOptions
	fs.StringVar(&o.URL, "url", "", "server to measure, or several nodes of one cluster separated by commas (customers and agents are spread over them); default: start one as a child process on a temporary data folder")
	fs.StringVar(&o.VerifyDB, "verify-db", "", "with --url: the servers' database (postgres://…), read after the run to check every acknowledged message")
	fs.StringVar(&o.Admin, "admin", "", "with --url: EMAIL:PASSWORD of a workspace admin")
	fs.StringVar(&o.DB, "db", "", "database of the spawned server (default: SQLite in a temporary folder; or postgres://…)")
	fs.Float64Var(&o.Scale, "scale", 1, "multiply the arrival rates and the default agent count by this (e.g. 0.05)")
	fs.Float64Var(&o.Baseline, "baseline", 30, "baseline new conversations/s at scale 1")
	fs.Float64Var(&o.Peak, "peak", 3000, "peak new conversations/s at scale 1")
	fs.DurationVar(&o.Warm, "warm", 10*time.Second, "baseline before the ramp")
	fs.DurationVar(&o.Ramp, "ramp", 30*time.Second, "ramp from baseline to peak (and back down)")
	fs.DurationVar(&o.Hold, "hold", 60*time.Second, "how long the peak is held")
	fs.DurationVar(&o.Cool, "cool", 10*time.Second, "baseline after the ramp down")
	fs.IntVar(&o.Agents, "agents", 0, "simulated agents (default 2000 × scale, at least 2)")
	fs.IntVar(&o.Capacity, "capacity", 3, "chats each agent may hold at once")
	fs.IntVar(&o.FollowUps, "follow-ups", 2, "messages each customer sends after the agent's first answer")
	fs.DurationVar(&o.Patience, "patience", 45*time.Second, "customers waiting longer than about this for an agent abandon (each draws 0.5× to 1.5×)")
	fs.DurationVar(&o.SLTarget, "sl-target", 20*time.Second, "service level: share of customers who reached an agent within this")
	accept := fs.String("accept", "1s-3s", "how long agents take to accept an offer (MIN-MAX)")
	think := fs.String("think", "2s-6s", "how long agents take to answer (MIN-MAX)")
	cthink := fs.String("customer-think", "2s-5s", "how long customers take to answer (MIN-MAX)")
	fs.Float64Var(&o.Callback, "callback", 0.5, "share of customers refused with 503 who leave a message instead")
	fs.IntVar(&o.MaxWaiting, "max-waiting", 0, "--max-waiting of the spawned server (default 2,000 × scale, at least 20)")
	fs.IntVar(&o.MaxOpen, "max-open", 60000, "most customers this process keeps open at once (more are counted as client_shed)")
	fs.IntVar(&o.MaxCustomers, "max-customers", 500000, "most customer arrivals in the run")
	fs.DurationVar(&o.Drain, "drain", 30*time.Second, "after the last arrival, how long to let conversations finish")
	fs.StringVar(&o.JSON, "json", "surge.json", "write the result as JSON to this file ('' for none)")
	fs.StringVar(&o.SVG, "svg", "surge.svg", "write the chart as SVG to this file ('' for none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	for _, d := range []struct {
		s string
		d *sim.Delay
	}{{*accept, &o.AgentAccept}, {*think, &o.AgentThink}, {*cthink, &o.CustomerThink}} {
		if *d.d, err = parseDelay(d.s); err != nil {
			return err
		}
	}
	if o.Agents == 0 {
		o.Agents = max(2, int(math.Round(2000*o.Scale)))
	}
	if o.MaxWaiting == 0 {
		o.MaxWaiting = max(20, int(math.Round(2000*o.Scale)))
	}
	if o.Scale <= 0 || o.Agents < 1 || o.Capacity < 1 || o.FollowUps < 0 || o.Hold < 0 || o.Ramp < 0 || o.Warm < 0 || o.Cool < 0 ||
		o.Patience <= 0 || o.MaxOpen < 1 || o.MaxCustomers < 1 || o.Callback < 0 || o.Callback > 1 {
		return errors.New("bench surge: scale, agents, capacity, patience, max-open and max-customers must be positive; durations and follow-ups not negative; callback in [0, 1]")
	}
	res := &surgeResult{Store: "sqlite", Scale: o.Scale, Agents: o.Agents, Capacity: o.Capacity, SLTargetS: o.SLTarget.Seconds()}
	res.Shape.BaselinePerSecond, res.Shape.PeakPerSecond = o.Baseline*o.Scale, o.Peak*o.Scale
	res.Shape.WarmS, res.Shape.RampS, res.Shape.HoldS, res.Shape.CoolS = o.Warm.Seconds(), o.Ramp.Seconds(), o.Hold.Seconds(), o.Cool.Seconds()
	if strings.HasPrefix(o.DB, "postgres") {
		res.Store = "postgres"
	}
	var ch *child
	if o.URL == "" {
		res.MaxWaiting = o.MaxWaiting
		ch, err = spawnServer(ctx, o.DB, []string{"--max-waiting", strconv.Itoa(o.MaxWaiting)}, stderr)
		if err != nil {
			return err
		}
		defer ch.remove()
		defer ch.stop()
		o.URL, o.Admin = ch.url, ch.admin
		res.Server = "spawned " + ch.url
	} else {
		res.Server, res.Store = o.URL, "see server"
	}
	run := &surgeRun{o: o, res: res, child: ch, out: stdout}
	if err := run.run(ctx); err != nil {
		return err
	}
	res.ServerRefused = map[string]float64{}
	for _, u := range o.urls() {
		for k, v := range scrapeRefused(ctx, u) {
			res.ServerRefused[k] += v
		}
	}
	if ch != nil {
		ch.stop()
		if err := run.verify(ctx, ch.dsn); err != nil {
			return err
		}
	} else if o.VerifyDB != "" {
		if err := run.verify(ctx, o.VerifyDB); err != nil {
			return err
		}
	}
	run.finish()
	printSurge(stdout, res)
	if o.SVG != "" {
		if err := os.WriteFile(o.SVG, surgeChart(res), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.SVG, err)
		}
		res.Chart = o.SVG
	}
	if o.JSON != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.JSON, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.JSON, err)
		}
	}
	return nil
}

// parseDelay reads "MIN-MAX" (Go durations) or one duration.
func parseDelay(s string) (sim.Delay, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		hi = lo
	}
	a, err1 := time.ParseDuration(strings.TrimSpace(lo))
	b, err2 := time.ParseDuration(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || a < 0 || b < a {
		return sim.Delay{}, fmt.Errorf("delay %q: want MIN-MAX, e.g. 1s-3s", s)
	}
	return sim.Delay{Min: a, Max: b}, nil
}

// surgeRun is one run of the surge benchmark.
type surgeRun struct {
	o     surgeOptions
	res   *surgeResult
	child *child
	out   io.Writer
	world *benchWorld
	start time.Time

	mu       sync.Mutex
	samples  []surgeSample
	waiting  int
	acked    map[string]bool // idempotency keys acknowledged by the server
	refused  map[string]bool // keys of requests refused with 503/429: must not be stored
	sent     int64
	acks     []time.Duration
	delivery []time.Duration
	toAgent  []time.Duration
	inSL     int
	stopWait int // customers who stopped waiting (assigned or abandoned)
	open     atomic.Int64
}

// rate is the offered arrival rate (conversations/s) t after the start.
func (r *surgeRun) rate(t time.Duration) float64 {
	o := r.o
	base, peak := o.Baseline*o.Scale, o.Peak*o.Scale
	ramp := func(x time.Duration) float64 {
		if o.Ramp <= 0 {
			return 1
		}
		return float64(x) / float64(o.Ramp)
	}
	switch {
	case t < o.Warm:
		return base
	case t < o.Warm+o.Ramp:
		return base + (peak-base)*ramp(t-o.Warm)
	case t < o.Warm+o.Ramp+o.Hold:
		return peak
	case t < o.Warm+2*o.Ramp+o.Hold:
		return peak - (peak-base)*ramp(t-o.Warm-o.Ramp-o.Hold)
	case t < o.Warm+2*o.Ramp+o.Hold+o.Cool:
		return base
	}
	return 0
}

func (r *surgeRun) length() time.Duration { return r.o.Warm + 2*r.o.Ramp + r.o.Hold + r.o.Cool }

// sample returns the sample of the second at t, growing the timeline.
// r.mu must be held.
func (r *surgeRun) sample(t time.Time) *surgeSample {
	i := max(0, int(t.Sub(r.start)/time.Second))
	for len(r.samples) <= i {
		r.samples = append(r.samples, surgeSample{T: len(r.samples), ServiceLevel: -1})
	}
	return &r.samples[i]
}

// note records an event of a customer at now under the lock.
func (r *surgeRun) note(f func(s *surgeSample)) {
	now := time.Now()
	r.mu.Lock()
	f(r.sample(now))
	r.mu.Unlock()
}

func (r *surgeRun) run(ctx context.Context) error {
	o := r.o
	setup := time.Now()
	w, err := newBenchWorld(ctx, o.urls()[0], o.Admin, 30)
	if err != nil {
		return err
	}
	r.world = w
	defer w.retire(ctx)
	r.acked, r.refused = map[string]bool{}, map[string]bool{}
	fmt.Fprintf(r.out, "surge: %d agents (chat capacity %d), baseline %.1f/s, peak %.1f/s held %s, server max waiting %d; setting up …\n",
		o.Agents, o.Capacity, o.Baseline*o.Scale, o.Peak*o.Scale, o.Hold, r.res.MaxWaiting)
	agents, err := w.createAgents(ctx, o.Agents, o.Capacity, o.MaxOpen)
	if err != nil {
		return err
	}
	agentCtx, stopAgents := context.WithCancel(ctx)
	defer stopAgents()
	var stats sim.Stats
	var ready, awg sync.WaitGroup
	gate := make(chan struct{}, 8) // agents signing in at once (a password check each)
	ready.Add(len(agents))
	for _, a := range agents {
		var once sync.Once
		done := func() { once.Do(func() { <-gate; ready.Done() }) }
		ag := &sim.Agent{Base: o.node(a.addr), Email: a.user.Email, Password: a.password, Accept: o.AgentAccept, Think: o.AgentThink,
			ResolveAfter: o.FollowUps + 1, Idle: o.Patience, Stats: &stats, Logger: discardLogger(), HTTP: benchHTTPClient(a.addr), Ready: done}
		gate <- struct{}{}
		awg.Add(1)
		go func() {
			defer awg.Done()
			defer done()
			if err := ag.Run(agentCtx); err != nil && agentCtx.Err() == nil {
				fmt.Fprintln(r.out, "warning: agent:", err)
			}
		}()
	}
	ready.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	r.res.SetupS = time.Since(setup).Seconds()
	fmt.Fprintf(r.out, "agents ready after %.1fs; replaying %s of arrivals …\n", r.res.SetupS, r.length())

	// Arrivals: open loop, spaced by the integral of the rate.
	custCtx, stopCustomers := context.WithCancel(ctx)
	defer stopCustomers()
	var cwg sync.WaitGroup
	r.start = time.Now()
	sampler := make(chan struct{})
	go r.sampleEverySecond(sampler)
	var owed float64
	n := 0
	tick := time.NewTicker(5 * time.Millisecond)
	last := r.start
	for now := range tick.C {
		t := now.Sub(r.start)
		if t >= r.length() || ctx.Err() != nil || n >= o.MaxCustomers {
			break
		}
		owed += r.rate(t) * now.Sub(last).Seconds()
		last = now
		for ; owed >= 1 && n < o.MaxCustomers; owed-- {
			r.note(func(s *surgeSample) { s.Arrivals++; s.Offered = r.rate(t) })
			r.res.Arrivals++
			if r.open.Load() >= int64(o.MaxOpen) {
				r.res.ClientShed++
				continue
			}
			r.open.Add(1)
			cwg.Add(1)
			i := n
			n++
			go func() {
				defer cwg.Done()
				defer r.open.Add(-1)
				r.customer(custCtx, i)
			}()
		}
	}
	tick.Stop()
	fmt.Fprintf(r.out, "%d arrivals; letting conversations finish (up to %s) …\n", r.res.Arrivals, o.Drain)
	drained := make(chan struct{})
	go func() { cwg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(o.Drain):
	case <-ctx.Done():
	}
	r.res.Seconds = time.Since(r.start).Seconds()
	stopCustomers()
	cwg.Wait()
	close(sampler)
	stopAgents()
	awg.Wait()
	r.res.AgentReplies, r.res.AgentErrors, r.res.Resolved = stats.Messages.Load(), stats.Errors.Load(), stats.Resolved.Load()
	return nil
}

// sampleEverySecond records the waiting line and the server's memory once a
// second until stop closes.
func (r *surgeRun) sampleEverySecond(stop chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			var rss int64
			if r.child != nil {
				rss, _ = r.child.memory()
			}
			r.mu.Lock()
			s := r.sample(now.Add(-time.Millisecond))
			s.Waiting = r.waiting
			s.RSSMiB = float64(rss) / (1 << 20)
			s.sampled = true
			r.mu.Unlock()
		}
	}
}

// customer is one arrival: it opens a chat in the widget (or, refused,
// may leave a message), waits for an agent as long as its patience lasts,
// answers the agent FollowUps times and leaves when the conversation is
// resolved.
func (r *surgeRun) customer(ctx context.Context, i int) {
	o := r.o
	t0 := time.Now()
	hc := benchHTTPClient(i)
	defer hc.CloseIdleConnections() // the customer leaves the page
	v, err := client.New(o.node(i), hc).NewVisitor(ctx, r.world.workspaceID, fmt.Sprintf("Surge customer %d", i))
	if err != nil {
		r.failed(ctx, err, "")
		return
	}
	key := fmt.Sprintf("surge-%s-%d", r.world.run, i)
	first := key + "-0"
	r.sending()
	t1 := time.Now()
	cr, err := v.Start(ctx, sphttp.WidgetStartRequest{QueueID: r.world.queue.ID, Subject: "surge", Text: marker(first) + "where is my order?", IdempotencyKey: first})
	if err != nil {
		var ae *client.Error
		if errors.As(err, &ae) && ae.Status == 503 {
			r.mu.Lock()
			r.refused["m:"+first] = true
			r.res.Refused++
			r.sample(time.Now()).Refused++
			r.mu.Unlock()
			if rand.Float64() < o.Callback {
				r.callback(ctx, v, key+"-cb")
			}
			return
		}
		r.failed(ctx, err, "m:"+first)
		return
	}
	r.ack("m:"+first, time.Since(t1))
	r.mu.Lock()
	r.res.Started++
	r.waiting++
	r.sample(time.Now()).Started++
	r.mu.Unlock()
	conv := cr.Conversation.ID
	cursor := cr.Events[len(cr.Events)-1].Cursor
	s, err := v.Stream(ctx, cursor)
	if err != nil {
		r.stopWaiting(false, 0)
		r.failed(ctx, err, "")
		return
	}
	patience := time.Duration(float64(o.Patience) * (0.5 + rand.Float64()))
	waitCtx, cancelWait := context.WithDeadline(ctx, t0.Add(patience))
	defer cancelWait()
	assigned := false
	seen := map[int64]bool{}
	left := o.FollowUps
	// Follow-ups sent and not yet acknowledged are sent again, with the
	// same key, after a reconnect, as the widget does.
	var smu sync.Mutex
	sentAt := map[string]time.Time{}
	unacked := map[string]string{}
	defer func() {
		smu.Lock()
		s.Close()
		smu.Unlock()
	}()
	for {
		rctx := ctx
		if !assigned {
			rctx = waitCtx
		}
		f, err := s.Read(rctx)
		if err != nil {
			switch {
			case !assigned && ctx.Err() == nil && waitCtx.Err() != nil:
				r.stopWaiting(false, time.Since(t0)) // gave up
				return
			case ctx.Err() != nil:
				if !assigned {
					r.mu.Lock()
					r.waiting--
					r.res.StillWait++
					r.mu.Unlock()
				}
				return
			}
			// The connection dropped: reconnect from the cursor and send
			// again what was not acknowledged.
			r.mu.Lock()
			r.res.Reconnects++
			r.mu.Unlock()
			sleepCtx(ctx, 200*time.Millisecond+rand.N(800*time.Millisecond))
			ns, err := v.Stream(ctx, cursor)
			if err != nil {
				continue // s is closed: the next Read fails again, and we retry
			}
			smu.Lock()
			s.Close()
			s = ns
			for k, text := range unacked {
				_ = s.Write(ctx, &sphttp.Frame{Type: "message", ConversationID: conv, IdempotencyKey: k, Text: text})
			}
			smu.Unlock()
			continue
		}
		switch f.Type {
		case "ack":
			smu.Lock()
			t, ok := sentAt[f.IdempotencyKey]
			delete(unacked, f.IdempotencyKey)
			smu.Unlock()
			if ok {
				r.ack(f.IdempotencyKey, time.Since(t))
			}
			continue
		case "error":
			r.mu.Lock()
			r.res.Rejected++
			r.mu.Unlock()
			smu.Lock()
			delete(unacked, f.IdempotencyKey)
			smu.Unlock()
			continue
		}
		e := f.Event
		if f.Type != "event" || e == nil {
			continue
		}
		cursor = max(cursor, e.Cursor)
		if e.ConversationID != conv {
			continue
		}
		switch e.Kind {
		case starpost.KindAssigned:
			if !assigned {
				assigned = true
				r.stopWaiting(true, time.Since(t0))
			}
		case starpost.KindMessage:
			if e.Actor.Role != starpost.RoleAgentParticipant {
				continue
			}
			if seen[e.Seq] {
				r.mu.Lock()
				r.res.DeliveryDuplicates++
				r.mu.Unlock()
				continue
			}
			seen[e.Seq] = true
			r.mu.Lock()
			r.delivery = append(r.delivery, time.Since(e.At)) // same machine, same clock
			r.mu.Unlock()
			if left == 0 {
				continue
			}
			k := fmt.Sprintf("%s-%d", key, o.FollowUps-left+1)
			left--
			go func() {
				sleepCtx(ctx, o.CustomerThink.Pick())
				if ctx.Err() != nil {
					return
				}
				text := marker(k) + "thanks, and when will it arrive?"
				r.sending()
				smu.Lock()
				sentAt[k] = time.Now()
				unacked[k] = text
				_ = s.Write(ctx, &sphttp.Frame{Type: "message", ConversationID: conv, IdempotencyKey: k, Text: text})
				smu.Unlock()
			}()
		case starpost.KindState:
			var b starpost.StateBody
			if e.DecodeBody(&b) == nil && (b.State == starpost.StateResolved || b.State == starpost.StateClosed) && left == 0 {
				smu.Lock()
				n := len(unacked)
				smu.Unlock()
				if n == 0 {
					return
				}
			}
		}
	}
}

// callback leaves a message after a 503, as the widget offers.
func (r *surgeRun) callback(ctx context.Context, v *client.Visitor, key string) {
	t := time.Now()
	r.sending()
	_, err := v.RequestCallback(ctx, sphttp.CallbackRequest{QueueID: r.world.queue.ID, Name: "Surge customer",
		Email: "customer@example.com", Text: marker(key) + "please call me back about my order", IdempotencyKey: key})
	if err != nil {
		if ctx.Err() == nil {
			r.mu.Lock()
			r.res.CallbackFailed++
			r.mu.Unlock()
		}
		return
	}
	r.ack("m:cb:"+key, time.Since(t))
	r.note(func(s *surgeSample) { s.Callbacks++ })
	r.mu.Lock()
	r.res.Callbacks++
	r.mu.Unlock()
}

// marker starts every benchmark message; it names the message's key so the
// store can be checked for each one.
func marker(key string) string { return "[" + key + "] " }

func (r *surgeRun) sending() {
	r.mu.Lock()
	r.sent++
	r.mu.Unlock()
}

func (r *surgeRun) ack(key string, d time.Duration) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.acked[key] {
		return
	}
	r.acked[key] = true
	r.acks = append(r.acks, d)
	s := r.sample(now)
	s.acks = append(s.acks, d)
}

// stopWaiting records a customer who reached an agent (or gave up) after d.
func (r *surgeRun) stopWaiting(assigned bool, d time.Duration) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waiting--
	s := r.sample(now)
	r.stopWait++
	if assigned {
		r.res.Assigned++
		s.Assigned++
		s.waits = append(s.waits, d)
		r.toAgent = append(r.toAgent, d)
		if d <= r.o.SLTarget {
			s.inSL++
			r.inSL++
		}
	} else {
		r.res.Abandoned++
		s.Abandoned++
	}
}

// failed counts a request that failed. Refusals by a limit (429, and 503
// from the overload limit; 503 with a wait estimate is handled by the
// customer) are counted apart from other failures. key, when set, is a message that was
// refused and must not be in the store.
func (r *surgeRun) failed(ctx context.Context, err error, key string) {
	if ctx.Err() != nil {
		return
	}
	var ae *client.Error
	r.mu.Lock()
	defer r.mu.Unlock()
	if errors.As(err, &ae) && (ae.Status == 429 || ae.Status == 503) {
		if ae.Status == 429 {
			r.res.Limited++
		} else {
			r.res.Overloaded++
		}
		if key != "" {
			r.refused[key] = true
		}
		return
	}
	r.res.Failed++
	if r.res.Failed <= 5 {
		fmt.Fprintln(r.out, "warning:", err)
	}
}

// verify reads every message of the workspace from the stopped server's
// store and checks each acknowledged one is there exactly once and no
// refused one was written.
func (r *surgeRun) verify(ctx context.Context, dsn string) error {
	db, err := store.Open(ctx, dsn, starpost.SystemClock{}, discardLogger())
	if err != nil {
		return fmt.Errorf("open the store to verify: %w", err)
	}
	defer db.Close()
	prefix := "[surge-" + r.world.run + "-"
	count := map[string]int{}
	var after int64
	for {
		page, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: r.world.workspaceID, AfterCursor: after, Kinds: []starpost.EventKind{starpost.KindMessage}})
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		for _, e := range page {
			after = e.Cursor
			var b starpost.MessageBody
			if e.Actor.Role != starpost.RoleCustomer || e.DecodeBody(&b) != nil || !strings.HasPrefix(b.Text, prefix) {
				continue
			}
			end := strings.IndexByte(b.Text, ']')
			if end < 0 {
				continue
			}
			k := b.Text[1:end]
			if strings.HasSuffix(k, "-cb") {
				k = "m:cb:" + k
			} else if strings.HasSuffix(k, "-0") {
				k = "m:" + k
			}
			count[k]++
		}
		if len(page) < starpost.MaxEventPage {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.StoreChecked = true
	for k, n := range count {
		r.res.Stored++
		if n > 1 {
			r.res.StoreDuplicates += int64(n - 1)
		}
		if r.refused[k] {
			r.res.RefusedButStored++
		}
	}
	for k := range r.acked {
		if count[k] == 0 {
			r.res.Lost++
		}
	}
	return nil
}

// finish computes the summary figures and the timeline's per-second ones.
func (r *surgeRun) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	res.Sent, res.Acked = r.sent, int64(len(r.acked))
	res.Duplicated = res.StoreDuplicates + res.DeliveryDuplicates
	res.AckP50ms, res.AckP99ms, res.AckMaxms = percentiles(r.acks)
	res.DeliveryP50ms, res.DeliveryP99ms, _ = percentiles(r.delivery)
	p50, p99, mx := percentiles(r.toAgent)
	res.TimeToAgentP50s, res.TimeToAgentP99s = p50/1000, p99/1000
	for i := range r.samples {
		s := &r.samples[i]
		if !s.sampled && i > 0 { // the sampler was late (a busy machine): carry the last reading
			s.Waiting, s.RSSMiB = r.samples[i-1].Waiting, r.samples[i-1].RSSMiB
		}
		if len(s.waits) > 0 {
			a, _, m := percentiles(s.waits)
			s.WaitP50s, s.WaitMaxs = a/1000, m/1000
			mx = max(mx, m)
		}
		if n := s.Assigned + s.Abandoned; n > 0 {
			s.ServiceLevel = float64(s.inSL) / float64(n)
		}
		_, s.AckP99ms, _ = percentiles(s.acks)
		res.PeakRSSMiB = max(res.PeakRSSMiB, s.RSSMiB)
	}
	res.MaxWaits = mx / 1000
	if r.stopWait > 0 {
		res.ServiceLevel = float64(r.inSL) / float64(r.stopWait)
		res.AbandonRate = float64(res.Abandoned) / float64(r.stopWait)
	}
	if r.child != nil {
		if _, peak := r.child.memory(); peak > 0 {
			res.PeakRSSMiB = float64(peak) / (1 << 20)
		}
	}
	res.Timeline = r.samples
}

func printSurge(w io.Writer, r *surgeResult) {
	fmt.Fprintf(w, "surge %s/%s: scale %g, %d agents × %d chats, baseline %.1f/s → peak %.1f/s held %.0fs, %.0fs in all\n",
		r.Store, r.Server, r.Scale, r.Agents, r.Capacity, r.Shape.BaselinePerSecond, r.Shape.PeakPerSecond, r.Shape.HoldS, r.Seconds)
	fmt.Fprintf(w, "  arrivals %d: started %d, refused as busy (503 + wait estimate) %d → left a message %d (%d could not), shed by the overload limit (503) %d, rate-limited (429) %d, failed %d, shed by the load generator %d\n",
		r.Arrivals, r.Started, r.Refused, r.Callbacks, r.CallbackFailed, r.Overloaded, r.Limited, r.Failed, r.ClientShed)
	fmt.Fprintf(w, "  reached an agent %d, abandoned %d (%.1f%%), still waiting at the end %d; service level %.1f%% within %.0fs; time to agent p50 %.1fs p99 %.1fs max %.1fs\n",
		r.Assigned, r.Abandoned, 100*r.AbandonRate, r.StillWait, 100*r.ServiceLevel, r.SLTargetS, r.TimeToAgentP50s, r.TimeToAgentP99s, r.MaxWaits)
	fmt.Fprintf(w, "  customer messages sent %d, acknowledged %d, rejected %d, customer reconnects %d; ack latency p50 %.1f ms p99 %.1f ms max %.1f ms; agent → customer delivery p50 %.1f ms p99 %.1f ms\n",
		r.Sent, r.Acked, r.Rejected, r.Reconnects, r.AckP50ms, r.AckP99ms, r.AckMaxms, r.DeliveryP50ms, r.DeliveryP99ms)
	check := "not checked (server not spawned)"
	if r.StoreChecked {
		check = fmt.Sprintf("checked against the store: %d stored, lost %d, duplicated %d (store %d, deliveries %d), refused but stored %d",
			r.Stored, r.Lost, r.Duplicated, r.StoreDuplicates, r.DeliveryDuplicates, r.RefusedButStored)
	}
	fmt.Fprintf(w, "  %s\n", check)
	fmt.Fprintf(w, "  agents: %d replies, %d conversations resolved, %d failed calls; server peak RSS %.0f MiB; setup %.1fs\n",
		r.AgentReplies, r.Resolved, r.AgentErrors, r.PeakRSSMiB, r.SetupS)
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// scrapeRefused reads starpost_refused_total by limit from the server's
// /metrics; nil when it cannot.
func scrapeRefused(ctx context.Context, url string) map[string]float64 {
	out := map[string]float64{}
	err := scrapeMetrics(ctx, url, func(line string) bool {
		if rest, ok := strings.CutPrefix(line, `starpost_refused_total{limit="`); ok {
			name, val, ok := strings.Cut(rest, `"} `)
			if f, err := strconv.ParseFloat(val, 64); ok && err == nil {
				out[name] = f
			}
		}
		return true
	})
	if err != nil {
		return nil
	}
	return out
}

// urls returns the measured servers: one, or the nodes of a cluster.
func (o *surgeOptions) urls() []string {
	var out []string
	for _, u := range strings.Split(o.URL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// node returns the server that client number i uses: clients are spread
// over a cluster's nodes in turn, as a load balancer would.
func (o *surgeOptions) node(i int) string {
	us := o.urls()
	return us[i%len(us)]
}
