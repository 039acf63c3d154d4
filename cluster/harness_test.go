package cluster_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for reading the lease
	"github.com/nats-io/nats-server/v2/server"

	"github.com/starpost/starpost/demo"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/lease"
	"github.com/starpost/starpost/store/pgtest"
)

// patience bounds every wait of the suite: a deadline to fail instead of
// hanging, never a performance threshold.
const patience = 60 * time.Second

// grace and heartbeat are the nodes' --disconnect-grace and --heartbeat:
// short, so that the scenarios where agents vanish take seconds, not
// minutes (an agent unheard for router.MissedBeats heartbeats counts as
// disconnected, and gives their work back after the grace period).
const (
	grace     = 6 * time.Second
	heartbeat = time.Second
)

// secret is the signing key every node of a test cluster shares.
const secret = "cluster-test-secret-0123456789abcdef"

var (
	pg     pgtest.Shared
	binary string // the starpost binary built by TestMain
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "starpost-cluster-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "starpost")
		cmd := exec.Command("go", "build", "-o", binary, "github.com/starpost/starpost/cmd/starpost")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build starpost: %v\n%s", err, out)
			return 1
		}
		defer pg.Stop()
		return m.Run()
	}()
	os.Exit(code)
}

// natsCluster starts three NATS servers in this process, joined by
// cluster routes on random loopback ports, and returns their client URLs
// joined by commas. The servers stop when the test ends.
func natsCluster(t *testing.T) string {
	t.Helper()
	var servers []*server.Server
	var urls []string
	for i := range 3 {
		opts := &server.Options{ServerName: fmt.Sprintf("nats-%d", i), Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "starpost-test", Host: "127.0.0.1", Port: -1}}
		if i > 0 {
			opts.Routes = server.RoutesFromStr("nats://" + servers[0].ClusterAddr().String())
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("nats server %d: %v", i, err)
		}
		s.Start()
		t.Cleanup(s.Shutdown)
		if !s.ReadyForConnections(patience) {
			t.Fatalf("nats server %d not ready", i)
		}
		servers = append(servers, s)
		urls = append(urls, s.ClientURL())
	}
	// Wait until every server has routes to both others.
	deadline := time.Now().Add(patience)
	for _, s := range servers {
		for {
			rz, err := s.Routez(nil)
			peers := map[string]bool{}
			if err == nil {
				for _, r := range rz.Routes {
					peers[r.RemoteID] = true
				}
			}
			if len(peers) >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats cluster did not form: %s has %d peers", s.Name(), len(peers))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return strings.Join(urls, ",")
}

// node is one Starpost server running as a child process.
type node struct {
	t    *testing.T
	name string
	args []string
	data string
	url  string
	log  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	dead bool
}

// startNode starts "starpost serve" with args plus --addr and --data (a new
// folder unless data is set) and waits until it is ready.
func startNode(t *testing.T, name, data string, args ...string) *node {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	logDir := os.Getenv("CLUSTER_LOG_DIR") // keep the nodes' logs there (for a person debugging)
	if logDir == "" {
		logDir = t.TempDir()
	}
	n := &node{t: t, name: name, args: args, data: data, log: filepath.Join(logDir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".log")}
	n.start()
	t.Cleanup(n.stop)
	return n
}

// start starts the process on a free port and waits for /readyz.
func (n *node) start() {
	t := n.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--addr", addr, "--data", n.data, "--secret", secret}, n.args...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", n.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done, n.dead, n.url = cmd, done, false, "http://"+addr
	n.mu.Unlock()
	deadline := time.Now().Add(patience)
	hc := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := hc.Get(n.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited before it was ready:\n%s", n.name, n.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %s:\n%s", n.name, patience, n.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid returns the process id of the running process.
func (n *node) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd.Process.Pid
}

// alive reports whether the node was not killed.
func (n *node) alive() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.dead
}

// exited reports whether the process has ended, killed or not.
func (n *node) exited() bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end.
func (n *node) kill() {
	n.mu.Lock()
	n.dead = true
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	n.t.Logf("killed %s (pid %d) with SIGKILL", n.name, cmd.Process.Pid)
}

// stop ends the process gracefully (SIGINT), then by force.
func (n *node) stop() {
	n.mu.Lock()
	n.dead = true
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	select {
	case <-done:
	default:
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
	}
	if n.t.Failed() {
		n.t.Logf("log of %s:\n%s", n.name, n.tail())
	}
}

// tail returns the end of the node's log.
func (n *node) tail() string {
	b, _ := os.ReadFile(n.log)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// adminLogin reads the demo admin's login from the data folder of the node
// that seeded the demo workspace.
func adminLogin(t *testing.T, n *node) *demo.World {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.data, "demo-logins.json"))
	if err != nil {
		t.Fatalf("demo logins: %v", err)
	}
	var w demo.World
	if err := json.Unmarshal(b, &w); err != nil || len(w.Logins) == 0 {
		t.Fatalf("demo logins: %v", err)
	}
	return &w
}

// cluster is three Starpost nodes on one PostgreSQL database and a
// three-server NATS cluster.
type cluster struct {
	t     *testing.T
	dsn   string
	nodes []*node
	world *demo.World
	sql   *sql.DB
	lease *lease.Postgres
}

// startCluster starts a NATS cluster and n Starpost nodes on a fresh
// database; the first node seeds the demo workspace.
//
// With precreate, the harness opens the engines' checkpoint table before
// the nodes start: a workaround for the start-up race that
// TestFreshClusterLeaderSurvives documents, so the fault scenarios test
// what they are about.
func startCluster(t *testing.T, n int, precreate bool) *cluster {
	t.Helper()
	start := time.Now()
	dsn := pg.Get(t).NewDatabase(t)
	t.Logf("database ready after %s", time.Since(start).Round(time.Millisecond))
	urls := natsCluster(t)
	t.Logf("nats cluster ready after %s", time.Since(start).Round(time.Millisecond))
	c := &cluster{t: t, dsn: dsn}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.sql = db
	if precreate {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		_, err := engine.OpenCheckpoints(ctx, db, "postgres")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		demoFlag := "--demo=" + strconv.FormatBool(i == 0)
		c.nodes = append(c.nodes, startNode(t, fmt.Sprintf("node%d", i), "", "--db", dsn, "--nats", urls, demoFlag, "--log-level", "info",
			"--disconnect-grace", grace.String(), "--heartbeat", heartbeat.String()))
		t.Logf("node%d ready after %s", i, time.Since(start).Round(time.Millisecond))
	}
	c.world = adminLogin(t, c.nodes[0])
	if c.lease, err = lease.NewPostgres(db, lease.PostgresOptions{ID: "observer"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster of %d nodes ready in %s", n, time.Since(start).Round(time.Millisecond))
	return c
}

// leader waits until a live node holds the "leader" lease with a term
// above after, and returns it with the term.
func (c *cluster) leader(after uint64) (*node, uint64) {
	c.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		holder, term, err := c.lease.Holder(ctx, "leader")
		cancel()
		if err == nil && holder != "" && term > after {
			for _, n := range c.nodes {
				if n.alive() && strings.HasSuffix(holder, "-"+strconv.Itoa(n.pid())) {
					return n, term
				}
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no live node took the leader lease after term %d within %s (holder %q term %d err %v)", after, patience, holder, term, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// live returns the URLs of the nodes not killed.
func live(nodes []*node) []string {
	var out []string
	for _, n := range nodes {
		if n.alive() {
			out = append(out, n.url)
		}
	}
	return out
}
