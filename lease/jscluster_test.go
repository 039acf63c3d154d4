package lease_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starpost/starpost/lease"
)

// jsCluster is three nats-servers in this process with JetStream, joined
// by cluster routes: what a production deployment runs as processes.
type jsCluster struct {
	servers []*server.Server
	urls    []string
}

func startJSCluster(t *testing.T) *jsCluster {
	t.Helper()
	// Reserve the three route ports first: every server lists all of
	// them, as a real cluster's configuration does.
	var routes []string
	var ports []int
	for range 3 {
		p := freePort(t)
		ports = append(ports, p)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	c := &jsCluster{}
	for i := range 3 {
		opts := &server.Options{ServerName: fmt.Sprintf("js-%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "starpost-js", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ","))}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("nats server %d: %v", i, err)
		}
		go s.Start()
		if !s.ReadyForConnections(patience) {
			t.Fatalf("nats server %d did not start", i)
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		c.servers = append(c.servers, s)
		c.urls = append(c.urls, s.ClientURL())
	}
	// JetStream is usable once the cluster has elected its meta leader.
	nc := c.connect(t, 0)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

func freePort(t *testing.T) int {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(patience) {
		t.Fatal("port probe did not start")
	}
	addr := s.Addr().String()
	s.Shutdown()
	s.WaitForShutdown()
	var port int
	if _, err := fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port); err != nil {
		t.Fatal(err)
	}
	return port
}

// connect returns a connection that prefers server i and fails over to
// the others, as a Starpost node given every URL does.
func (c *jsCluster) connect(t *testing.T, i int) *nats.Conn {
	t.Helper()
	urls := append([]string{c.urls[i]}, append(append([]string{}, c.urls[:i]...), c.urls[i+1:]...)...)
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// stop shuts server i down.
func (c *jsCluster) stop(i int) {
	c.servers[i].Shutdown()
	c.servers[i].WaitForShutdown()
}

// TestKVJetStreamCluster runs the KV lease with a three-replica bucket on
// a three-server JetStream cluster, one candidate per server, and stops
// servers under it: first the one holding the bucket's stream leader,
// then the current leader's connection. Leadership must never
// overlap, and a single leader must lead again after each failure.
func TestKVJetStreamCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JetStream cluster")
	}
	c := startJSCluster(t)
	m := newMonitor()
	opts := func(id string) lease.KVOptions {
		return lease.KVOptions{ID: id, TTL: 3 * time.Second, Renew: 300 * time.Millisecond, Grace: 1500 * time.Millisecond,
			Retry: 100 * time.Millisecond, Replicas: 3}
	}
	conns := map[string]*nats.Conn{}
	for i := range 3 {
		id := fmt.Sprintf("node-%d", i)
		conns[id] = c.connect(t, i)
		l, err := lease.NewKV(conns[id], opts(id))
		if err != nil {
			t.Fatal(err)
		}
		start(t, m, id, l, nil)
	}
	first, term := m.leader(t, "", 0)

	// The bucket really is replicated three times.
	js, err := jetstream.New(conns[first])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	st, err := js.Stream(ctx, "KV_"+lease.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("bucket stream: %d replicas, cluster %+v", info.Config.Replicas, info.Cluster)
	}

	// Stop the server holding the stream's leader: the stream elects
	// another and the lease carries on (same or new holder), never two.
	streamLeader := info.Cluster.Leader
	stopped := -1
	for i, s := range c.servers {
		if s.Name() == streamLeader {
			stopped = i
		}
	}
	if stopped < 0 {
		t.Fatalf("stream leader %q is none of the servers", streamLeader)
	}
	c.stop(stopped)
	waitRenewed(t, m, conns, stopped, opts("x"))

	// The leader's node loses its connection (its process died, say):
	// another node leads, with a higher term. Stopping a second server
	// instead would leave one of three, below the JetStream quorum.
	who, _ := m.leader(t, "", 0)
	conns[who].Close()
	next, nextTerm := m.leader(t, who, 0)
	if nextTerm <= term {
		t.Fatalf("new term %d after %d", nextTerm, term)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.overlaps) > 0 {
		t.Fatalf("leaders overlapped: %v", m.overlaps)
	}
	t.Logf("first leader %s (term %d), after the stream leader's server stopped and the leader's connection closed: %s (term %d)", first, term, next, nextTerm)
}

// waitRenewed waits until some candidate still connected to a live server
// leads and has renewed its lease at least three times since.
func waitRenewed(t *testing.T, m *monitor, conns map[string]*nats.Conn, stopped int, opts lease.KVOptions) {
	t.Helper()
	who, _ := m.leader(t, "", 0)
	l, err := lease.NewKV(conns[who], opts)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	var last uint64
	renewals := 0
	for renewals < 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		holder, rev, err := l.Holder(ctx, "router")
		cancel()
		if err == nil && holder != "" && rev > last {
			if last != 0 {
				renewals++
			}
			last = rev
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lease was not renewed after server %d stopped (holder %q rev %d, err %v)", stopped, holder, rev, err)
		}
		time.Sleep(opts.Renew)
	}
}
