// Package cluster_test runs Starpost's fault tests against real servers:
// one PostgreSQL (pgtest), a three-server NATS cluster in the test process,
// and Starpost nodes as separate OS processes built from cmd/starpost,
// driven by simulated widget customers and agents over the public API.
//
// Each scenario kills a process with SIGKILL under load and then checks,
// from the store and from what the clients' streams delivered, that every
// acknowledged message is stored exactly once and reached the agent
// holding its conversation exactly once, that every stream resumed from
// its cursor with no gap and no duplicate, that no conversation was ever
// held by two agents, and that waiting conversations still get assigned.
package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

// load is a running population of agents and customers.
type load struct {
	t         *testing.T
	set       *setup
	nodes     picker
	agents    []*agent
	customers []*customer

	ctx, done   context.Context // sending; streaming
	stopSending context.CancelFunc
	end         context.CancelFunc
	wg          sync.WaitGroup
}

// newLoad starts agents with homes spread over the nodes (home[i] is agent
// i's preferred node index).
func newLoad(t *testing.T, set *setup, nodes []*node, agentHomes []int, run string) *load {
	t.Helper()
	done, end := context.WithCancel(context.Background())
	ctx, stopSending := context.WithCancel(done)
	l := &load{t: t, set: set, nodes: picker{nodes: nodes}, ctx: ctx, done: done, stopSending: stopSending, end: end}
	t.Cleanup(func() { l.end(); l.wg.Wait() })
	for i, home := range agentHomes {
		u := set.newAgentUser(t, fmt.Sprintf("%s-agent-%d", run, i), "")
		a := &agent{user: u, nodes: l.nodes, home: home, received: map[int64]*starpost.Event{}, replied: map[string]bool{}}
		l.agents = append(l.agents, a)
		l.wg.Add(1)
		go a.run(done, &l.wg)
	}
	waitFor(t, "agents online", func() bool {
		for _, a := range l.agents {
			a.mu.Lock()
			on := a.online
			a.mu.Unlock()
			if !on {
				return false
			}
		}
		return true
	})
	return l
}

// addCustomers starts n customers with homes spread over homes, each with
// a conversation, and returns them.
func (l *load) addCustomers(run string, homes ...int) []*customer {
	l.t.Helper()
	var out []*customer
	for i, home := range homes {
		cu := &customer{name: fmt.Sprintf("%s-%d-%d", run, len(l.customers), i), nodes: l.nodes, home: home, set: l.set, acked: map[string]int64{}}
		sctx, cancel := context.WithTimeout(l.ctx, patience)
		err := cu.start(sctx)
		cancel()
		if err != nil {
			l.t.Fatal(err)
		}
		l.customers = append(l.customers, cu)
		out = append(out, cu)
		l.wg.Add(1)
		go cu.run(l.ctx, l.done, &l.wg)
	}
	return out
}

// waitAcks waits until every customer in cs has at least n acknowledged
// messages (which implies its conversation was assigned).
func (l *load) waitAcks(cs []*customer, n int) {
	l.t.Helper()
	waitFor(l.t, fmt.Sprintf("%d acknowledged messages from each of %d customers", n, len(cs)), func() bool {
		for _, cu := range cs {
			if cu.ackCount() < n {
				return false
			}
		}
		return true
	})
}

// ackedNow returns how many messages each customer has had acknowledged.
func (l *load) ackedNow(cs []*customer) []int {
	out := make([]int, len(cs))
	for i, cu := range cs {
		out[i] = cu.ackCount()
	}
	return out
}

// waitMore waits until every customer has at least k more acknowledged
// messages than in before.
func (l *load) waitMore(cs []*customer, before []int, k int, what string) {
	l.t.Helper()
	waitFor(l.t, what, func() bool {
		for i, cu := range cs {
			if cu.ackCount() < before[i]+k {
				return false
			}
		}
		return true
	})
}

// finish stops sending and checks every invariant against the store at
// dsn.
func (l *load) finish(dsn string) {
	t := l.t
	t.Helper()
	l.stopSending()
	for _, cu := range l.customers {
		cu.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	db, err := store.Open(ctx, dsn, nil, nil)
	if err != nil {
		t.Fatalf("open store for checking: %v", err)
	}
	defer db.Close()

	totalAcked, totalChecked := 0, 0
	for _, cu := range l.customers {
		// The store's events of the conversation, once quiet: every reply
		// to an acknowledged message has been committed.
		var evs []*starpost.Event
		waitFor(t, "the agents' replies to "+cu.name, func() bool {
			evs = listEvents(t, db, l.set.workspace, cu.conv)
			keys := map[string]bool{}
			for _, e := range evs {
				keys[e.IdempotencyKey] = true
			}
			cu.mu.Lock()
			defer cu.mu.Unlock()
			for k := range cu.acked {
				if !keys["reply-"+k] {
					return false
				}
			}
			return true
		})

		// 1. Every acknowledged message is stored exactly once, as acked.
		byKey := map[string][]int64{}
		for _, e := range evs {
			if e.Kind == starpost.KindMessage && e.Actor.Role == starpost.RoleCustomer {
				byKey[e.IdempotencyKey] = append(byKey[e.IdempotencyKey], e.Cursor)
			}
		}
		cu.mu.Lock()
		for k, c := range cu.acked {
			if got := byKey[k]; len(got) != 1 || got[0] != c {
				t.Errorf("%s: acknowledged message %s (cursor %d) is stored at cursors %v, want exactly once", cu.name, k, c, got)
			}
		}
		totalAcked += len(cu.acked)
		cu.mu.Unlock()

		// 2. The customer's stream delivered exactly the visible events, in
		// order, across reconnects: no gap, no duplicate.
		var want []int64
		for _, e := range evs {
			if visible(e.Kind) {
				want = append(want, e.Cursor)
			}
		}
		var got []int64
		waitFor(t, cu.name+"'s stream to catch up", func() bool {
			cu.mu.Lock()
			defer cu.mu.Unlock()
			return len(want) == 0 || cu.cursor >= want[len(want)-1]
		})
		cu.mu.Lock()
		for _, e := range cu.received {
			if e.ConversationID == cu.conv {
				got = append(got, e.Cursor)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s (%d reconnects): stream delivered cursors%s; the store has%s", cu.name, cu.reconnects, short(got), short(want))
		}
		if len(cu.duplicates) > 0 {
			t.Errorf("%s: stream delivered cursors again after a resume:%s", cu.name, short(cu.duplicates))
		}
		cu.mu.Unlock()

		// 3. Never held by two agents; every customer message committed
		// while an agent held the conversation reached that agent once.
		holder := ""
		for _, e := range evs {
			switch e.Kind {
			case starpost.KindAssigned:
				var b starpost.AssignedBody
				_ = e.DecodeBody(&b)
				if holder != "" && holder != b.AgentID {
					t.Errorf("%s: conversation assigned to %s at cursor %d while %s held it", cu.name, b.AgentID, e.Cursor, holder)
				}
				holder = b.AgentID
			case starpost.KindUnassigned:
				holder = ""
			case starpost.KindTransferred:
				var b starpost.TransferBody
				_ = e.DecodeBody(&b)
				holder = b.ToAgentID
			case starpost.KindMessage:
				if e.Actor.Role != starpost.RoleCustomer || holder == "" {
					continue
				}
				a := l.agent(holder)
				if a == nil {
					t.Errorf("%s: held by %s, not one of the test's agents", cu.name, holder)
					continue
				}
				var ok bool
				waitFor(t, "agent stream to catch up", func() bool {
					var upTo int64
					ok, upTo = a.has(e.Cursor)
					return ok || upTo > e.Cursor
				})
				if !ok {
					t.Errorf("%s: message %s (cursor %d) never reached %s, who held the conversation", cu.name, e.IdempotencyKey, e.Cursor, a.user.Name)
				}
				totalChecked++
			}
		}
		if holder == "" {
			t.Errorf("%s: conversation not held by any agent at the end", cu.name)
		}
	}
	reconnects := 0
	for _, a := range l.agents {
		a.mu.Lock()
		if len(a.duplicates) > 0 {
			t.Errorf("agent %s: stream delivered cursors again after a resume:%s", a.user.Name, short(a.duplicates))
		}
		reconnects += a.reconnects
		a.mu.Unlock()
	}
	custReconnects := 0
	for _, cu := range l.customers {
		custReconnects += cu.reconnects
	}
	t.Logf("%d customers, %d agents: %d acknowledged messages checked in the store, %d delivered to the holding agent; reconnects: agents %d, customers %d",
		len(l.customers), len(l.agents), totalAcked, totalChecked, reconnects, custReconnects)
	l.end()
	l.wg.Wait()
	if t.Failed() {
		for _, a := range l.agents {
			if len(a.errs) > 0 {
				t.Logf("agent %s notes: %v", a.user.Name, a.errs[:min(len(a.errs), 5)])
			}
		}
		for _, cu := range l.customers {
			if len(cu.errs) > 0 {
				t.Logf("customer %s notes: %v", cu.name, cu.errs[:min(len(cu.errs), 5)])
			}
		}
	}
}

func (l *load) agent(id string) *agent {
	for _, a := range l.agents {
		if a.user.ID == id {
			return a
		}
	}
	return nil
}

// listEvents reads every event of a conversation from the store.
func listEvents(t *testing.T, db *store.DB, ws, conv string) []*starpost.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var out []*starpost.Event
	var after int64
	for {
		evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationID: conv, AfterCursor: after})
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		out = append(out, evs...)
		if len(evs) < starpost.MaxEventPage {
			return out
		}
		after = evs[len(evs)-1].Cursor
	}
}

// TestLeaderKilled kills the dispatch leader with SIGKILL during steady
// load: another node takes the lease with a higher term, the clients of
// the dead node reconnect elsewhere, and new conversations are still
// offered and assigned.
func TestLeaderKilled(t *testing.T) {
	c := startCluster(t, 3, true)
	leader, term := c.leader(0)
	t.Logf("leader %s, term %d", leader.name, term)
	set := newSetup(t, c.nodes[0].url, c.world.Logins[0].Email, c.world.Logins[0].Password, "leader-kill")
	l := newLoad(t, set, c.nodes, []int{0, 1, 2, 0, 1, 2}, "lk")
	before := l.addCustomers("lk", 0, 1, 2, 0, 1, 2, 0, 1, 2)
	l.waitAcks(before, 3)

	leader.kill()
	next, term2 := c.leader(term)
	t.Logf("new leader %s, term %d", next.name, term2)

	// Conversations started after the kill are offered and assigned by
	// the new leader; the old ones carry on.
	acked := l.ackedNow(before)
	after := l.addCustomers("lk-after", 0, 1, 2, 0, 1, 2)
	l.waitAcks(after, 3)
	l.waitMore(before, acked, 3, "customers started before the kill to keep sending")
	l.finish(c.dsn)
}

// TestClientsNodeKilled kills, with SIGKILL, a node that is not the leader
// and that customers and agents are connected to: they reconnect to other
// nodes and resume from their cursors with no gap and no duplicate.
func TestClientsNodeKilled(t *testing.T) {
	c := startCluster(t, 3, true)
	leader, _ := c.leader(0)
	victim := 0
	for i, n := range c.nodes {
		if n != leader {
			victim = i
			break
		}
	}
	set := newSetup(t, c.nodes[0].url, c.world.Logins[0].Email, c.world.Logins[0].Password, "node-kill")
	other := (victim + 1) % 3
	l := newLoad(t, set, c.nodes, []int{victim, victim, victim, other}, "nk")
	cs := l.addCustomers("nk", victim, victim, victim, victim, victim, other)
	l.waitAcks(cs, 3)

	c.nodes[victim].kill()
	acked := l.ackedNow(cs)
	l.waitMore(cs, acked, 3, "customers to send after the kill")
	for i, cu := range cs[:5] {
		cu.mu.Lock()
		r := cu.reconnects
		cu.mu.Unlock()
		if r == 0 {
			t.Errorf("customer %d on the killed node never reconnected", i)
		}
	}
	l.finish(c.dsn)
}

// TestSQLiteKilled runs one node on SQLite (embedded NATS), kills it with
// SIGKILL under load and restarts it on the same data folder: every
// acknowledged message is there, and the clients resume.
func TestSQLiteKilled(t *testing.T) {
	n := startNode(t, "sqlite", "", "--log-level", "info")
	w := adminLogin(t, n)
	set := newSetup(t, n.url, w.Logins[0].Email, w.Logins[0].Password, "sqlite-kill")
	l := newLoad(t, set, []*node{n}, []int{0, 0}, "sq")
	cs := l.addCustomers("sq", 0, 0, 0, 0, 0, 0)
	l.waitAcks(cs, 3)

	n.kill()
	start := time.Now()
	n.start()
	t.Logf("restarted on the same data folder in %s", time.Since(start).Round(time.Millisecond))
	acked := l.ackedNow(cs)
	l.waitMore(cs, acked, 3, "customers to send after the restart")
	l.finish(n.data + "/starpost.db")
}
