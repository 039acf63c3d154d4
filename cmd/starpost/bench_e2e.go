package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
)

// e2eOptions configure "starpost bench e2e".
type e2eOptions struct {
	URL       string
	Admin     string // email:password of an admin of the workspace to use
	DB        string // for a spawned server
	Agents    int
	Customers int
	Duration  time.Duration
	Window    int     // messages each customer may have unacknowledged
	Rate      float64 // messages/s offered by all customers together; 0 = as fast as acks allow
	JSON      string
}

// e2eResult is what the benchmark prints and writes.
type e2eResult struct {
	Server     string  `json:"server"`
	Store      string  `json:"store"`
	Agents     int     `json:"agents"`
	Customers  int     `json:"customers"`
	Seconds    float64 `json:"seconds"`
	Offered    float64 `json:"offered_per_second,omitempty"`
	Sent       int64   `json:"sent"`
	Acked      int64   `json:"acked"`
	Delivered  int64   `json:"delivered"`
	Lost       int64   `json:"lost"`
	Duplicated int64   `json:"duplicated"`
	Rejected   int64   `json:"rejected"`
	PerSecond  float64 `json:"delivered_per_second"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	AckP50ms   float64 `json:"ack_p50_ms"`
	AckP99ms   float64 `json:"ack_p99_ms"`
}

func runBenchE2E(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o e2eOptions
	fs.StringVar(&o.URL, "url", "", "server to measure (default: start one as a child process on a temporary data folder)")
	fs.StringVar(&o.Admin, "admin", "", "with --url: EMAIL:PASSWORD of a workspace admin")
	fs.StringVar(&o.DB, "db", "", "database of the spawned server (default: SQLite in a temporary folder; or postgres://…)")
	fs.IntVar(&o.Agents, "agents", 50, "simulated agents")
	fs.IntVar(&o.Customers, "customers", 500, "simulated customers, each in one conversation")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to send messages")
	fs.IntVar(&o.Window, "window", 4, "messages each customer may have in flight")
	fs.Float64Var(&o.Rate, "rate", 0, "offered load in messages/s for all customers together (open loop, Poisson); 0 = closed loop, as fast as acks come back")
	fs.StringVar(&o.JSON, "json", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Agents < 1 || o.Customers < 1 || o.Window < 1 || o.Duration <= 0 {
		return errors.New("agents, customers, window and duration must be positive")
	}
	res := &e2eResult{Store: "sqlite", Agents: o.Agents, Customers: o.Customers, Offered: o.Rate}
	if o.DB != "" && strings.HasPrefix(o.DB, "postgres") {
		res.Store = "postgres"
	}
	if o.URL == "" {
		// The bench measures how many messages one node carries, so the
		// per-visitor rate limit (a policy for people, who do not send
		// five messages a second) is lifted on the server it spawns.
		child, err := spawnServer(ctx, o.DB, []string{"--visitor-rate", "1000000"}, stderr)
		if err != nil {
			return err
		}
		defer child.remove()
		defer child.stop()
		o.URL, o.Admin = child.url, child.admin
		res.Server = "spawned " + child.url
	} else {
		res.Server = o.URL
		res.Store = "see server"
	}
	if err := benchE2E(ctx, o, res, stdout); err != nil {
		return err
	}
	load := "closed loop"
	if o.Rate > 0 {
		load = fmt.Sprintf("offered %.0f messages/s", o.Rate)
	}
	fmt.Fprintf(stdout, "e2e %s/%s: %d agents, %d customers, %s, %.1fs\n", res.Store, res.Server, res.Agents, res.Customers, load, res.Seconds)
	fmt.Fprintf(stdout, "  sent %d  acked %d  delivered %d  lost %d  duplicated %d  rejected %d\n",
		res.Sent, res.Acked, res.Delivered, res.Lost, res.Duplicated, res.Rejected)
	fmt.Fprintf(stdout, "  %.0f messages/s delivered; customer→agent latency p50 %.1f ms  p99 %.1f ms  max %.1f ms; ack p50 %.1f ms p99 %.1f ms\n",
		res.PerSecond, res.P50ms, res.P99ms, res.MaxMs, res.AckP50ms, res.AckP99ms)
	if o.JSON != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.JSON, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.JSON, err)
		}
	}
	return nil
}

// benchE2E sets up agents and customers in the admin's workspace, has every
// customer send messages over the widget WebSocket as fast as acks come back
// (Window in flight), and measures when each reaches its agent's WebSocket.
func benchE2E(ctx context.Context, o e2eOptions, res *e2eResult, stdout io.Writer) error {
	w, err := newBenchWorld(ctx, o.URL, o.Admin, 60)
	if err != nil {
		return err
	}
	defer w.retire(ctx)
	capacity := min(100, (o.Customers+o.Agents-1)/o.Agents+1)
	fmt.Fprintf(stdout, "setting up %d agents (chat capacity %d) and %d customers in workspace %s …\n", o.Agents, capacity, o.Customers, w.workspaceID)
	agents, err := w.createAgents(ctx, o.Agents, capacity, o.Customers)
	if err != nil {
		return err
	}

	// Agents: sign in, open the stream, accept every offer, record deliveries.
	rec := newRecorder()
	var assigned atomic.Int64
	agentCtx, stopAgents := context.WithCancel(ctx)
	defer stopAgents()
	var wg sync.WaitGroup
	errc := make(chan error, o.Agents+o.Customers)
	for _, a := range agents {
		u := a.user
		c := client.New(o.URL, benchHTTPClient(a.addr))
		if _, err := c.Login(ctx, u.Email, a.password); err != nil {
			return fmt.Errorf("agent login: %w", err)
		}
		s, err := c.Stream(agentCtx, 0)
		if err != nil {
			return fmt.Errorf("agent stream: %w", err)
		}
		if err := c.SetPresence(ctx, starpost.PresenceAvailable); err != nil {
			return fmt.Errorf("agent presence: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Close()
			for {
				f, err := s.Read(agentCtx)
				if err != nil {
					if agentCtx.Err() == nil {
						errc <- fmt.Errorf("agent stream: %w", err)
					}
					return
				}
				if f.Type != "event" || f.Event == nil {
					continue
				}
				e := f.Event
				switch e.Kind {
				case starpost.KindOffer:
					var b starpost.OfferBody
					if e.DecodeBody(&b) == nil && b.AgentID == u.ID {
						go func() {
							if err := c.Accept(agentCtx, e.ConversationID); err != nil && agentCtx.Err() == nil {
								errc <- fmt.Errorf("accept: %w", err)
							}
						}()
					}
				case starpost.KindAssigned:
					assigned.Add(1)
				case starpost.KindMessage:
					rec.delivered(e)
				}
			}
		}()
	}
	// Customers: start a conversation each and wait until all are assigned.
	visitors := make([]*client.Visitor, o.Customers)
	convs := make([]string, o.Customers)
	for i := range visitors {
		v, err := client.New(o.URL, benchHTTPClient(i)).NewVisitor(ctx, w.workspaceID, fmt.Sprintf("bench %d", i))
		if err != nil {
			return fmt.Errorf("visitor: %w", err)
		}
		cr, err := v.Start(ctx, sphttp.WidgetStartRequest{QueueID: w.queue.ID, Subject: "bench", IdempotencyKey: "bench-start-" + w.run + strconv.Itoa(i)})
		if err != nil {
			return fmt.Errorf("start conversation: %w", err)
		}
		visitors[i], convs[i] = v, cr.Conversation.ID
	}
	deadline := time.Now().Add(60 * time.Second)
	for assigned.Load() < int64(o.Customers) {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d conversations were assigned within 60 s", assigned.Load(), o.Customers)
		}
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	fmt.Fprintf(stdout, "all %d conversations assigned; sending for %s …\n", o.Customers, o.Duration)

	// Measure.
	sendCtx, stopSending := context.WithTimeout(ctx, o.Duration)
	defer stopSending()
	start := time.Now()
	var cwg sync.WaitGroup
	for i, v := range visitors {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			if err := customerLoad(sendCtx, v, convs[i], o.Window, o.Rate/float64(o.Customers), rec); err != nil && sendCtx.Err() == nil {
				errc <- err
			}
		}()
	}
	cwg.Wait()
	res.Seconds = time.Since(start).Seconds()
	// Give the last messages time to arrive, then stop the agents.
	rec.settle(10 * time.Second)
	stopAgents()
	wg.Wait()
	select {
	case err := <-errc:
		fmt.Fprintln(stdout, "warning:", err)
	default:
	}
	rec.fill(res)
	return nil
}

// customerLoad sends messages on the visitor's WebSocket, keeping at most
// window messages unacknowledged, until ctx ends. With rate > 0 the
// customer sends at that mean rate (exponential gaps) instead of as fast as
// acks come back.
func customerLoad(ctx context.Context, v *client.Visitor, conv string, window int, rate float64, rec *recorder) error {
	// The customer needs only acks, which come on its socket whatever the
	// cursor: start after the newest cursor so no event is replayed or sent.
	s, err := v.Stream(context.WithoutCancel(ctx), math.MaxInt64)
	if err != nil {
		return fmt.Errorf("customer stream: %w", err)
	}
	defer s.Close()
	slots := make(chan struct{}, window)
	done := make(chan error, 1)
	go func() { // read acks
		for {
			f, err := s.Read(context.WithoutCancel(ctx))
			if err != nil {
				done <- err
				return
			}
			switch f.Type {
			case "ack":
				rec.acked(f.IdempotencyKey, f.Event)
				<-slots
			case "error":
				rec.rejected(f.IdempotencyKey)
				<-slots
			}
		}
	}()
	for n := 0; ; n++ {
		if rate > 0 {
			select {
			case <-time.After(time.Duration(rand.ExpFloat64() / rate * float64(time.Second))):
			case <-ctx.Done():
			}
		}
		if ctx.Err() == nil {
			select {
			case slots <- struct{}{}:
				if ctx.Err() != nil {
					<-slots // the deadline came with the slot: send nothing
				}
			case <-ctx.Done():
			case err := <-done:
				return fmt.Errorf("customer stream: %w", err)
			}
		}
		if ctx.Err() != nil {
			// Wait for outstanding acks (bounded), then close.
			for i := 0; i < 500 && len(slots) > 0; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			return nil
		}
		key := conv + "-" + strconv.Itoa(n)
		rec.sent(key)
		if err := s.Write(ctx, &sphttp.Frame{Type: "message", ConversationID: conv, IdempotencyKey: key,
			Text: benchPrefix + key}); err != nil {
			return nil // ctx ended mid-write
		}
	}
}

// benchPrefix starts every benchmark message; the idempotency key follows.
const benchPrefix = "bench "

// recorder tracks every message from send to ack to delivery.
type recorder struct {
	mu        sync.Mutex
	sentAt    map[string]time.Time
	ackedKeys map[string]bool
	seen      map[string]int
	latencies []time.Duration
	acks      []time.Duration
	rejects   int64
	last      time.Time
}

func newRecorder() *recorder {
	return &recorder{sentAt: map[string]time.Time{}, ackedKeys: map[string]bool{}, seen: map[string]int{}}
}

func (r *recorder) sent(key string) {
	r.mu.Lock()
	r.sentAt[key] = time.Now()
	r.mu.Unlock()
}

func (r *recorder) acked(key string, _ *starpost.Event) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.sentAt[key]; ok && !r.ackedKeys[key] {
		r.acks = append(r.acks, now.Sub(t))
	}
	r.ackedKeys[key] = true
}

func (r *recorder) rejected(string) {
	r.mu.Lock()
	r.rejects++
	r.mu.Unlock()
}

func (r *recorder) delivered(e *starpost.Event) {
	now := time.Now()
	var b starpost.MessageBody
	if e.Actor.Role != starpost.RoleCustomer || e.DecodeBody(&b) != nil || !strings.HasPrefix(b.Text, benchPrefix) {
		return
	}
	key := strings.TrimPrefix(b.Text, benchPrefix)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = now
	r.seen[key]++
	if r.seen[key] == 1 {
		if t, ok := r.sentAt[key]; ok {
			r.latencies = append(r.latencies, now.Sub(t))
		}
	}
}

// settle waits until every acknowledged message was delivered, or nothing
// arrived for a second, or max passed.
func (r *recorder) settle(max time.Duration) {
	end := time.Now().Add(max)
	for time.Now().Before(end) {
		r.mu.Lock()
		missing := 0
		for k := range r.ackedKeys {
			if r.seen[k] == 0 {
				missing++
			}
		}
		quiet := time.Since(r.last) > time.Second
		r.mu.Unlock()
		if missing == 0 || quiet {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *recorder) fill(res *e2eResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Sent, res.Acked, res.Rejected = int64(len(r.sentAt)), int64(len(r.ackedKeys)), r.rejects
	for k := range r.ackedKeys {
		switch n := r.seen[k]; {
		case n == 0:
			res.Lost++
		case n > 1:
			res.Duplicated += int64(n - 1)
		}
	}
	res.Delivered = int64(len(r.latencies))
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Delivered) / res.Seconds
	}
	res.P50ms, res.P99ms, res.MaxMs = percentiles(r.latencies)
	res.AckP50ms, res.AckP99ms, _ = percentiles(r.acks)
}
