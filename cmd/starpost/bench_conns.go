package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/starpost/starpost/client"
)

// connsResult is what "bench conns" prints and writes.
type connsResult struct {
	Server          string  `json:"server"`
	Store           string  `json:"store"`
	Asked           int     `json:"asked"`
	FileLimit       uint64  `json:"file_limit"`
	Visitors        int64   `json:"visitor_sockets"`
	Agents          int64   `json:"agent_sockets"`
	Failed          int64   `json:"failed"`
	OpenSeconds     float64 `json:"open_s"`
	RSSBeforeMiB    float64 `json:"server_rss_before_mib"`
	RSSAfterMiB     float64 `json:"server_rss_after_mib"`
	HeapBeforeMiB   float64 `json:"server_heap_before_mib"`
	HeapAfterMiB    float64 `json:"server_heap_after_mib"`
	Goroutines      float64 `json:"server_goroutines"`
	RSSPerConnKiB   float64 `json:"rss_per_connection_kib"`
	HeapPerConnKiB  float64 `json:"heap_per_connection_kib"`
	LivePerConnKiB  float64 `json:"live_heap_per_connection_kib"`
	StackPerConnKiB float64 `json:"stack_per_connection_kib"`
	ProjectedRSSGiB float64 `json:"projected_rss_gib_at_50k"`
}

func runBenchConns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench conns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 50000, "idle WebSockets to open (capped by the open-file limit of this process and the server's)")
	agentShare := fs.Float64("agent-share", 0.02, "share of the sockets that are agents' (the rest are widget visitors')")
	agents := fs.Int("agents", 20, "agent users the agent sockets are spread over (each is a password hash to make)")
	db := fs.String("db", "", "database of the spawned server (default: SQLite in a temporary folder; or postgres://…)")
	hold := fs.Duration("hold", 10*time.Second, "how long the sockets stay open, idle, before measuring")
	jsonPath := fs.String("json", "", "also write the result as JSON to this file")
	debugAddr := fs.String("debug-addr", "", "serve the spawned server's pprof profiles on this address to see where the memory goes (default: a free loopback port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *agentShare < 0 || *agentShare > 1 || *agents < 1 {
		return errors.New("bench conns: n and agents must be positive, agent-share in [0, 1]")
	}
	res := &connsResult{Store: "sqlite", Asked: *n}
	if strings.HasPrefix(*db, "postgres") {
		res.Store = "postgres"
	}
	// Raise this process's open-file limit as far as allowed; the spawned
	// server inherits it. Each side needs one descriptor per socket.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		res.FileLimit = lim.Cur
		if room := int(lim.Cur) - 500; *n > room {
			fmt.Fprintf(stdout, "the open-file limit is %d (raise it with ulimit -n as root): opening %d sockets, not %d\n", lim.Cur, room, *n)
			*n = room
		}
	}
	extra := []string{"--max-sockets", strconv.Itoa(*n + 1000), "--max-waiting", "-1"}
	if *debugAddr == "" {
		// The profiles' endpoint also runs a garbage collection before each
		// reading, so the heap figures are live memory, not garbage.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		*debugAddr = ln.Addr().String()
		ln.Close()
	}
	extra = append(extra, "--debug-addr", *debugAddr)
	collect := func() {
		if resp, err := http.Get("http://" + *debugAddr + "/debug/pprof/heap?gc=1"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	ch, err := spawnServer(ctx, *db, extra, stderr)
	if err != nil {
		return err
	}
	defer ch.remove()
	defer ch.stop()
	res.Server = "spawned " + ch.url
	w, err := newBenchWorld(ctx, ch.url, ch.admin, 60)
	if err != nil {
		return err
	}
	nAgents := int(math.Round(float64(*n) * *agentShare))
	users := []benchAgent{}
	if nAgents > 0 {
		if users, err = w.createAgents(ctx, min(*agents, nAgents), 3, *n); err != nil {
			return err
		}
	}
	time.Sleep(2 * time.Second) // let start-up garbage settle before the baseline
	collect()
	rss0, _ := ch.memory()
	heap0, _ := scrapeGauge(ctx, ch.url, "go_memstats_heap_inuse_bytes")
	live0, _ := scrapeGauge(ctx, ch.url, "go_memstats_heap_alloc_bytes") // right after a collection: live bytes
	stack0, _ := scrapeGauge(ctx, ch.url, "go_memstats_stack_inuse_bytes")
	res.RSSBeforeMiB, res.HeapBeforeMiB = mib(rss0), mib(int64(heap0))
	fmt.Fprintf(stdout, "opening %d idle WebSockets (%d agents', %d visitors') against a server at %.0f MiB RSS …\n", *n, nAgents, *n-nAgents, res.RSSBeforeMiB)

	sockCtx, closeAll := context.WithCancel(ctx)
	defer closeAll()
	var open sync.WaitGroup
	var visitors, agentSocks, failed atomic.Int64
	keep := func(s *client.Socket) { // read (and so answer pings) until closed
		open.Add(1)
		go func() {
			defer open.Done()
			defer s.Close()
			for {
				if _, err := s.Read(sockCtx); err != nil {
					return
				}
			}
		}()
	}
	agentClients := make([]*client.Client, len(users))
	for i, a := range users {
		c := client.New(ch.url, benchHTTPClient(a.addr))
		if _, err := c.Login(ctx, a.user.Email, a.password); err != nil {
			return fmt.Errorf("agent login: %w", err)
		}
		agentClients[i] = c
	}
	start := time.Now()
	_ = parallel(ctx, *n, 32, func(i int) error {
		if i < nAgents {
			s, err := agentClients[i%len(agentClients)].Stream(sockCtx, math.MaxInt64)
			if err != nil {
				failed.Add(1)
				return nil
			}
			agentSocks.Add(1)
			keep(s)
			return nil
		}
		hc := benchHTTPClient(i)
		v, err := client.New(ch.url, hc).NewVisitor(ctx, w.workspaceID, "")
		hc.CloseIdleConnections() // one descriptor per visitor: its WebSocket
		if err == nil {
			var s *client.Socket
			if s, err = v.Stream(sockCtx, math.MaxInt64); err == nil {
				visitors.Add(1)
				keep(s)
			}
		}
		if err != nil {
			if failed.Add(1) <= 3 {
				fmt.Fprintln(stdout, "warning:", err)
			}
		}
		if i > 0 && i%5000 == 0 {
			fmt.Fprintf(stdout, "  %d open after %.0fs\n", i, time.Since(start).Seconds())
		}
		return nil
	})
	res.OpenSeconds = time.Since(start).Seconds()
	res.Visitors, res.Agents, res.Failed = visitors.Load(), agentSocks.Load(), failed.Load()
	fmt.Fprintf(stdout, "all open; profiles at http://%s/debug/pprof/ for %s\n", *debugAddr, *hold)
	time.Sleep(*hold)
	collect()
	rss1, _ := ch.memory()
	heap1, _ := scrapeGauge(ctx, ch.url, "go_memstats_heap_inuse_bytes")
	live1, _ := scrapeGauge(ctx, ch.url, "go_memstats_heap_alloc_bytes")
	stack1, _ := scrapeGauge(ctx, ch.url, "go_memstats_stack_inuse_bytes")
	res.Goroutines, _ = scrapeGauge(ctx, ch.url, "go_goroutines")
	res.RSSAfterMiB, res.HeapAfterMiB = mib(rss1), mib(int64(heap1))
	if open := res.Visitors + res.Agents; open > 0 {
		res.RSSPerConnKiB = float64(rss1-rss0) / 1024 / float64(open)
		res.HeapPerConnKiB = (heap1 - heap0) / 1024 / float64(open)
		res.LivePerConnKiB = (live1 - live0) / 1024 / float64(open)
		res.StackPerConnKiB = (stack1 - stack0) / 1024 / float64(open)
		res.ProjectedRSSGiB = (float64(rss0) + res.RSSPerConnKiB*1024*50000) / (1 << 30)
	}
	closeAll()
	open.Wait()
	fmt.Fprintf(stdout, "conns %s/%s: %d visitor + %d agent WebSockets open (%d failed) in %.1fs, idle %s\n",
		res.Store, res.Server, res.Visitors, res.Agents, res.Failed, res.OpenSeconds, *hold)
	fmt.Fprintf(stdout, "  server RSS %.0f → %.0f MiB, heap in use %.0f → %.0f MiB, %0.f goroutines\n",
		res.RSSBeforeMiB, res.RSSAfterMiB, res.HeapBeforeMiB, res.HeapAfterMiB, res.Goroutines)
	fmt.Fprintf(stdout, "  per connection: %.1f KiB RSS, %.1f KiB heap in use (%.1f KiB live), %.1f KiB goroutine stacks; projected RSS at 50,000: %.2f GiB\n",
		res.RSSPerConnKiB, res.HeapPerConnKiB, res.LivePerConnKiB, res.StackPerConnKiB, res.ProjectedRSSGiB)
	if *jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonPath, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonPath, err)
		}
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// scrapeGauge reads one unlabelled metric from the server's /metrics.
func scrapeGauge(ctx context.Context, url, name string) (float64, error) {
	v, found := 0.0, false
	err := scrapeMetrics(ctx, url, func(line string) bool {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, found = parseFloat(rest), true
			return false
		}
		return true
	})
	if err == nil && !found {
		err = fmt.Errorf("metric %s not found", name)
	}
	return v, err
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}

// scrapeMetrics calls line for each line of the server's /metrics until it
// returns false.
func scrapeMetrics(ctx context.Context, url string, line func(string) bool) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/metrics", nil)
	if err != nil {
		return fmt.Errorf("scrape: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && line(sc.Text()) {
	}
	return sc.Err()
}
