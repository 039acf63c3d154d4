package main

// Plumbing shared by the load benchmarks (bench e2e, bench surge): a server
// started as a child process, HTTP clients that each come from their own
// loopback address, the benchmark's skill, queue and agents, percentiles.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	"github.com/starpost/starpost/demo"
	sphttp "github.com/starpost/starpost/http"
)

// percentiles returns p50, p99 and max in milliseconds.
func percentiles(d []time.Duration) (p50, p99, max float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x) / float64(time.Millisecond) }
	return ms(s[len(s)*50/100]), ms(s[min(len(s)-1, len(s)*99/100)]), ms(s[len(s)-1])
}

// loopbackAddr returns loopback source address number i: 127.1.0.1,
// 127.1.0.2, … 127.1.0.250, 127.1.1.1, …, then 127.2.0.1 after 64,000.
func loopbackAddr(i int) net.IP {
	i %= 250 * 256 * 200
	return net.IPv4(127, byte(1+i/(250*256)), byte(i/250%256), byte(i%250+1))
}

// benchHTTPClient returns a client with its own cookie jar (its own
// session) whose connections come from loopback source address number i
// (127.1.x.y): like real customers and agents, each has its own address,
// which keeps per-address limits meaningful and gets past the ~28k
// ephemeral ports of one source address.
func benchHTTPClient(i int) *http.Client {
	jar, _ := cookiejar.New(nil)
	src := &net.TCPAddr{IP: loopbackAddr(i)}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}).DialContext}
	return &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second}
}

// childEnv, set in a spawned server's environment, tells a test binary
// (whose TestMain checks it) to run the starpost command instead of tests.
const childEnv = "STARPOST_BENCH_CHILD"

// child is a server started by a benchmark.
type child struct {
	cmd   *exec.Cmd
	url   string
	admin string // EMAIL:PASSWORD of the demo workspace's admin
	dir   string // data folder
	dsn   string // the store the server uses
	once  sync.Once
}

// spawnServer starts "starpost serve" from this binary on a free loopback
// port and a temporary data folder, with extra serve flags, and waits until
// it is ready.
func spawnServer(ctx context.Context, db string, extra []string, stderr io.Writer) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "starpost-bench-")
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"serve", "--addr", addr, "--data", dir, "--log-level", "warn"}
	if db != "" {
		args = append(args, "--db", db)
	}
	args = append(args, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	c := &child{cmd: cmd, url: "http://" + addr, dir: dir, dsn: db}
	if c.dsn == "" {
		c.dsn = filepath.Join(dir, "starpost.db")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(c.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.stop()
			c.remove()
			return nil, errors.New("spawned server did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-logins.json"))
	if err != nil {
		c.stop()
		c.remove()
		return nil, fmt.Errorf("read demo logins of spawned server: %w", err)
	}
	var w demo.World
	if err := json.Unmarshal(b, &w); err != nil || len(w.Logins) == 0 {
		c.stop()
		c.remove()
		return nil, fmt.Errorf("demo logins of spawned server: %v", err)
	}
	c.admin = w.Logins[0].Email + ":" + w.Logins[0].Password
	return c, nil
}

// stop shuts the server down gracefully (SIGINT), killing it after 20 s.
// Its data folder stays until remove, so the store can be checked.
func (c *child) stop() {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	})
}

// remove deletes the server's data folder.
func (c *child) remove() { os.RemoveAll(c.dir) }

// memory returns the server's resident set size now and its peak so far,
// in bytes, from /proc (Linux); zeros where /proc is missing.
func (c *child) memory() (rss, peak int64) {
	return procMemory(c.cmd.Process.Pid)
}

// procMemory reads VmRSS and VmHWM of process pid.
func procMemory(pid int) (rss, peak int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != "VmRSS" && k != "VmHWM" {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak
}

// benchWorld is what a load benchmark sets up in the admin's workspace: its
// own skill and queue, so runs never mix with the demo's or each other's.
type benchWorld struct {
	url         string
	admin       *client.Client
	workspaceID string
	run         string // unique per run, in names and idempotency keys
	skill       starpost.Skill
	queue       starpost.Queue
}

// newBenchWorld signs in as admin (EMAIL:PASSWORD) and creates the run's
// skill and queue.
func newBenchWorld(ctx context.Context, url, admin string, offerTimeout int) (*benchWorld, error) {
	email, password, ok := strings.Cut(admin, ":")
	if !ok {
		return nil, errors.New("--admin must be EMAIL:PASSWORD")
	}
	w := &benchWorld{url: url, admin: client.New(url, nil), run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	me, err := w.admin.Login(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	w.workspaceID = me.WorkspaceID
	if err := w.admin.Do(ctx, "POST", "/api/v1/skills", map[string]string{"name": "bench-" + w.run}, &w.skill); err != nil {
		return nil, fmt.Errorf("create skill: %w", err)
	}
	if err := w.admin.Do(ctx, "POST", "/api/v1/queues", map[string]any{"name": "bench-" + w.run,
		"skills": []starpost.SkillRequired{{SkillID: w.skill.ID, MinLevel: 1}}, "offer_timeout": offerTimeout}, &w.queue); err != nil {
		return nil, fmt.Errorf("create queue: %w", err)
	}
	return w, nil
}

// retire renames the run's queue so a later run on the same server is not
// confused by it.
func (w *benchWorld) retire(ctx context.Context) {
	_ = w.admin.Do(context.WithoutCancel(ctx), "PATCH", "/api/v1/queues/"+w.queue.ID, map[string]any{"name": w.queue.Name + " (done)"}, nil)
}

// benchAgent is an agent created for a run.
type benchAgent struct {
	user     *starpost.User
	password string
	addr     int // loopback address number of its HTTP client
}

// createAgents creates n agents with the run's skill and the given chat
// capacity, parallel bounded (each costs the server a password hash). Their
// client addresses start at firstAddr.
func (w *benchWorld) createAgents(ctx context.Context, n, capacity, firstAddr int) ([]benchAgent, error) {
	pw, err := demo.Password()
	if err != nil {
		return nil, fmt.Errorf("agent password: %w", err)
	}
	out := make([]benchAgent, n)
	err = parallel(ctx, n, 4, func(i int) error {
		u, err := w.admin.CreateUser(ctx, sphttp.CreateUserRequest{Email: fmt.Sprintf("bench-%s-%d@bench.local", w.run, i),
			Name: fmt.Sprintf("Bench agent %d", i), Role: starpost.RoleAgent, Password: pw,
			Skills: []starpost.Skilled{{SkillID: w.skill.ID, Level: 3}}, Capacity: map[starpost.Channel]int{starpost.ChannelChat: capacity}})
		if err != nil {
			return fmt.Errorf("create agent: %w", err)
		}
		out[i] = benchAgent{user: u, password: pw, addr: firstAddr + i}
		return nil
	})
	return out, err
}

// parallel runs f(0) … f(n-1) with at most width at once and returns the
// first error.
func parallel(ctx context.Context, n, width int, f func(i int) error) error {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
