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
//
// Set CLUSTER_LOG_DIR to keep the nodes' logs in that folder.
package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/router"
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
	interval    time.Duration // customers' pause between messages
}

// newLoad starts agents with homes spread over the nodes (agentHomes[i]
// is agent i's preferred node index).
func newLoad(t *testing.T, set *setup, nodes []*node, agentHomes []int, run string) *load {
	t.Helper()
	done, end := context.WithCancel(context.Background())
	ctx, stopSending := context.WithCancel(done)
	l := &load{t: t, set: set, nodes: picker{nodes: nodes}, ctx: ctx, done: done, stopSending: stopSending, end: end,
		interval: 30 * time.Millisecond}
	t.Cleanup(func() { l.end(); l.wg.Wait() })
	l.addAgents(run, "", agentHomes...)
	return l
}

// addAgents starts agents of a site (none when site is empty) with the
// given preferred nodes and waits until they are online.
func (l *load) addAgents(run, site string, homes ...int) []*agent {
	l.t.Helper()
	var out []*agent
	for _, home := range homes {
		u := l.set.newAgentUser(l.t, fmt.Sprintf("%s-agent-%d", run, len(l.agents)), site)
		a := &agent{user: u, nodes: l.nodes, home: home, received: map[int64]*starpost.Event{}, replied: map[string]bool{}}
		l.agents = append(l.agents, a)
		out = append(out, a)
		l.wg.Add(1)
		go a.run(l.done, &l.wg)
	}
	waitFor(l.t, "agents online", func() bool {
		for _, a := range out {
			a.mu.Lock()
			on := a.online
			a.mu.Unlock()
			if !on {
				return false
			}
		}
		return true
	})
	return out
}

// addCustomers starts n customers with homes spread over homes, each with
// a conversation, and returns them.
func (l *load) addCustomers(run string, homes ...int) []*customer {
	l.t.Helper()
	var out []*customer
	for i, home := range homes {
		cu := &customer{name: fmt.Sprintf("%s-%d-%d", run, len(l.customers), i), nodes: l.nodes, home: home, set: l.set, acked: map[string]int64{}, interval: l.interval}
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

	totalAcked, totalChecked, skipped := 0, 0, 0
	for _, cu := range l.customers {
		// The store's events of the conversation, once quiet: every
		// customer message committed while a live agent held the
		// conversation has its reply.
		var evs []*starpost.Event
		var held map[int64]string // customer message cursor → holding agent
		waitFor(t, "the agents' replies to "+cu.name, func() bool {
			evs = listEvents(t, db, l.set.workspace, cu.conv)
			held = holders(evs)
			keys := map[string]bool{}
			for _, e := range evs {
				keys[e.IdempotencyKey] = true
			}
			for _, e := range evs {
				if a := l.agent(held[e.Cursor]); a != nil && !a.isGone() && !keys["reply-"+e.IdempotencyKey] {
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
				t.Errorf("%s: acknowledged message %s (cursor %d) is stored at cursors %v, want exactly once; %s", cu.name, k, c, got, explainAck(t, db, l.set.workspace, k, c))
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

		// 3. Never held by two agents (holders reports it); every customer
		// message committed while a live agent held the conversation
		// reached that agent once (agents that left are not checked).
		for _, msg := range doubleHolds(evs) {
			t.Errorf("%s: %s", cu.name, msg)
		}
		for _, e := range evs {
			id, ok := held[e.Cursor]
			if !ok || id == "" {
				continue
			}
			a := l.agent(id)
			if a == nil {
				t.Errorf("%s: held by %s, not one of the test's agents", cu.name, id)
				continue
			}
			if a.isGone() {
				skipped++
				continue
			}
			var ok2 bool
			waitFor(t, "agent stream to catch up", func() bool {
				var upTo int64
				ok2, upTo = a.has(e.Cursor)
				return ok2 || upTo > e.Cursor
			})
			if !ok2 {
				t.Errorf("%s: message %s (cursor %d) never reached %s, who held the conversation", cu.name, e.IdempotencyKey, e.Cursor, a.user.Name)
			}
			totalChecked++
		}
		if h := finalHolder(evs); h == "" {
			t.Errorf("%s: conversation not held by any agent at the end", cu.name)
		} else if a := l.agent(h); a != nil && a.isGone() {
			t.Errorf("%s: conversation still held at the end by %s, who left", cu.name, a.user.Name)
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
	t.Logf("%d customers, %d agents: %d acknowledged messages checked in the store, %d delivered to the holding agent (%d held by agents who left, not checked); reconnects: agents %d, customers %d",
		len(l.customers), len(l.agents), totalAcked, totalChecked, skipped, reconnects, custReconnects)
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

// holders replays a conversation's events and returns, for each customer
// message, the agent holding the conversation when it was committed ("" if
// none).
func holders(evs []*starpost.Event) map[int64]string {
	out := map[int64]string{}
	holder := ""
	for _, e := range evs {
		holder = nextHolder(holder, e)
		if e.Kind == starpost.KindMessage && e.Actor.Role == starpost.RoleCustomer {
			out[e.Cursor] = holder
		}
	}
	return out
}

// finalHolder returns the agent holding the conversation after evs.
func finalHolder(evs []*starpost.Event) string {
	holder := ""
	for _, e := range evs {
		holder = nextHolder(holder, e)
	}
	return holder
}

// doubleHolds describes every assignment made while another agent still
// held the conversation.
func doubleHolds(evs []*starpost.Event) []string {
	var out []string
	holder := ""
	for _, e := range evs {
		if e.Kind == starpost.KindAssigned {
			var b starpost.AssignedBody
			_ = e.DecodeBody(&b)
			if holder != "" && holder != b.AgentID {
				out = append(out, fmt.Sprintf("assigned to %s at cursor %d while %s held it", b.AgentID, e.Cursor, holder))
			}
		}
		holder = nextHolder(holder, e)
	}
	return out
}

// nextHolder applies one event to the holder of a conversation.
func nextHolder(holder string, e *starpost.Event) string {
	switch e.Kind {
	case starpost.KindAssigned:
		var b starpost.AssignedBody
		_ = e.DecodeBody(&b)
		return b.AgentID
	case starpost.KindUnassigned:
		return ""
	case starpost.KindTransferred:
		var b starpost.TransferBody
		_ = e.DecodeBody(&b)
		return b.ToAgentID
	case starpost.KindState:
		var b starpost.StateBody
		if e.DecodeBody(&b) == nil && b.State == starpost.StateClosed {
			return ""
		}
	}
	return holder
}

// listEvents reads every event of a conversation from the store.
// explainAck describes what the store holds at an acknowledged cursor and
// under an acknowledged idempotency key anywhere in the workspace, so that a
// failed exactly-once check says which side is wrong.
func explainAck(t *testing.T, db *store.DB, ws, key string, cursor int64) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var b strings.Builder
	evs, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, AfterCursor: cursor - 1, Limit: 1})
	switch {
	case err != nil:
		fmt.Fprintf(&b, "reading cursor %d: %v", cursor, err)
	case len(evs) == 0 || evs[0].Cursor != cursor:
		fmt.Fprintf(&b, "no event at cursor %d", cursor)
	default:
		e := evs[0]
		fmt.Fprintf(&b, "cursor %d holds %s by %s/%s in %s key %q at %s", cursor, e.Kind, e.Actor.Role, e.Actor.ID, e.ConversationID, e.IdempotencyKey, e.At.Format(time.RFC3339Nano))
	}
	all, err := db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, Kinds: []starpost.EventKind{starpost.KindMessage}})
	for err == nil && len(all) > 0 {
		for _, e := range all {
			if e.IdempotencyKey == key {
				fmt.Fprintf(&b, "; key %q is at cursor %d (%s in %s)", key, e.Cursor, e.Kind, e.ConversationID)
			}
		}
		if len(all) < starpost.MaxEventPage {
			break
		}
		all, err = db.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, Kinds: []starpost.EventKind{starpost.KindMessage}, AfterCursor: all[len(all)-1].Cursor})
	}
	if err != nil {
		fmt.Fprintf(&b, "; searching for the key: %v", err)
	}
	return b.String()
}

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
	c := startCluster(t, 3, false)
	leader, term := c.leader(0)
	t.Logf("leader %s, term %d", leader.name, term)
	set := newSetup(t, c.nodes[0].url, c.world.Logins[0].Email, c.world.Logins[0].Password, "leader-kill")
	l := newLoad(t, set, c.nodes, []int{0, 1, 2, 0, 1, 2}, "lk")
	before := l.addCustomers("lk", 0, 1, 2, 0, 1, 2, 0, 1, 2)
	l.waitAcks(before, 3)

	// Kill the leader while conversations are being created: those
	// started between the kill and the next term wait in the queue with
	// no router, and the new leader must offer and assign them.
	leader.kill()
	during := l.addCustomers("lk-during", 0, 1, 2)
	next, term2 := c.leader(term)
	t.Logf("new leader %s, term %d", next.name, term2)

	// Conversations started after the takeover are offered and assigned
	// too; the old ones carry on.
	acked := l.ackedNow(before)
	after := l.addCustomers("lk-after", 0, 1, 2)
	l.waitAcks(append(during, after...), 3)
	l.waitMore(before, acked, 3, "customers started before the kill to keep sending")
	l.finish(c.dsn)
}

// TestClientsNodeKilled kills, with SIGKILL, a node that is not the leader
// and that customers and agents are connected to: they reconnect to other
// nodes and resume from their cursors with no gap and no duplicate.
func TestClientsNodeKilled(t *testing.T) {
	c := startCluster(t, 3, false)
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
	for i, a := range l.agents[:3] {
		waitFor(t, fmt.Sprintf("agent %d of the killed node to reconnect", i), func() bool {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.reconnects > 0 && a.online
		})
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

// TestFreshClusterLeaderSurvives starts three nodes on an empty database,
// as an operator does the first time: the first leader must keep leading
// once its engines run (an emotion event for a customer's first message
// proves the emotion runner works) and no node may exit.
func TestFreshClusterLeaderSurvives(t *testing.T) {
	c := startCluster(t, 3, false)
	_, term := c.leader(0)
	var base string
	for _, n := range c.nodes {
		if !n.exited() {
			base = n.url
			break
		}
	}
	if base == "" {
		t.Fatal("every node exited")
	}
	set := newSetup(t, base, c.world.Logins[0].Email, c.world.Logins[0].Password, "fresh")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	v, err := client.New(base, nil).NewVisitor(ctx, set.workspace, "fresh customer")
	if err != nil {
		t.Fatal(err)
	}
	cr, err := v.Start(ctx, sphttp.WidgetStartRequest{QueueID: set.queue, Subject: "help", Text: "My parcel is late and I am angry!", IdempotencyKey: "fresh-1"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, c.dsn, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, "the emotion engine to score the first message", func() bool {
		for _, e := range listEvents(t, db, set.workspace, cr.Conversation.ID) {
			if e.Kind == "emotion" {
				return true
			}
		}
		return false
	})
	for _, n := range c.nodes {
		if n.exited() {
			t.Errorf("%s exited:\n%s", n.name, n.tail())
		}
	}
	if _, now := c.leader(0); now != term {
		t.Errorf("leader term went from %d to %d: the first leader lost the lease", term, now)
	}
}

// graceWait bounds waits that include the router's liveness window (an
// agent unheard for router.MissedBeats heartbeats counts as disconnected)
// and its disconnect grace period.
const graceWait = router.MissedBeats*heartbeat + grace + patience

// siteDrop sets up a cluster where two agents of site A hold every
// conversation, then brings two agents of site B online and returns the
// load with both groups.
//
// The site's agents connect to one node that is not the leader.
func siteDrop(t *testing.T) (*cluster, *load, []*agent, []*agent, int) {
	c := startCluster(t, 3, false)
	leader, _ := c.leader(0)
	siteANode := 0
	for i, n := range c.nodes {
		if n != leader {
			siteANode = i
			break
		}
	}
	set := newSetup(t, c.nodes[0].url, c.world.Logins[0].Email, c.world.Logins[0].Password, "site-drop")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var siteA, siteB starpost.Site
	if err := set.admin.Do(ctx, "POST", "/api/v1/sites", map[string]string{"name": "Station A", "time_zone": "Asia/Shanghai"}, &siteA); err != nil {
		t.Fatalf("create site: %v", err)
	}
	if err := set.admin.Do(ctx, "POST", "/api/v1/sites", map[string]string{"name": "Station B", "time_zone": "Asia/Shanghai"}, &siteB); err != nil {
		t.Fatalf("create site: %v", err)
	}
	other := (siteANode + 1) % 3
	l := newLoad(t, set, c.nodes, nil, "sd")
	l.interval = 300 * time.Millisecond // the scenario lasts several grace periods
	a := l.addAgents("sd-a", siteA.ID, siteANode, siteANode)
	cs := l.addCustomers("sd", other, other, (other+1)%3, (other+1)%3)
	l.waitAcks(cs, 2)
	b := l.addAgents("sd-b", siteB.ID, other, (other+1)%3)
	return c, l, a, b, siteANode
}

// waitReassigned waits until every customer's stream has shown an
// assignment to one of agents (the customer is told who took over).
func waitReassigned(t *testing.T, l *load, agents []*agent) {
	t.Helper()
	ids := map[string]bool{}
	for _, a := range agents {
		ids[a.user.ID] = true
	}
	deadline := time.Now().Add(graceWait)
	for {
		var lasts []string
		done := true
		for _, cu := range l.customers {
			cu.mu.Lock()
			last := ""
			for _, e := range cu.received {
				if e.Kind == starpost.KindAssigned {
					var b starpost.AssignedBody
					_ = e.DecodeBody(&b)
					last = b.AgentID
				}
			}
			cu.mu.Unlock()
			if a := l.agent(last); a != nil {
				lasts = append(lasts, a.user.Name)
			} else {
				lasts = append(lasts, last)
			}
			done = done && ids[last]
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the customers' conversations are still assigned to %v: they did not go to the other site's agents", graceWait, lasts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSiteAgentsDrop cuts the connections of every agent of one site at
// once (a service station loses its network; the nodes stay up): after the
// disconnect grace period their conversations return to the queue and go
// to the other site's agents, the customers see the new assignment, and
// nothing is lost or duplicated.
func TestSiteAgentsDrop(t *testing.T) {
	c, l, siteA, siteB, _ := siteDrop(t)
	for _, a := range siteA {
		a.leave(true)
	}
	waitReassigned(t, l, siteB)
	acked := l.ackedNow(l.customers)
	l.waitMore(l.customers, acked, 2, "customers to keep sending to the new agents")
	l.finish(c.dsn)
}

// TestSiteNodeKilled kills, with SIGKILL, the node every agent of one site
// is connected to, and those agents never come back: their conversations
// must return to the queue and go to the other site's agents.
func TestSiteNodeKilled(t *testing.T) {
	c, l, siteA, siteB, node := siteDrop(t)
	for _, a := range siteA {
		a.leave(false)
	}
	c.nodes[node].kill()
	waitReassigned(t, l, siteB)
	acked := l.ackedNow(l.customers)
	l.waitMore(l.customers, acked, 2, "customers to keep sending to the new agents")
	l.finish(c.dsn)
}

// TestSiteDropThenLeaderKilled cuts one site's agents as TestSiteAgentsDrop
// does, then kills the leader during the disconnect grace period: the new
// leader must still return the site's conversations to the queue.
func TestSiteDropThenLeaderKilled(t *testing.T) {
	c, l, siteA, siteB, _ := siteDrop(t)
	leader, term := c.leader(0)
	for _, a := range siteA {
		a.leave(true)
	}
	// Whether or not the old leader's router saw the disconnections
	// before it died (it keeps them in memory only), the new leader must
	// learn them and unassign after the grace period.
	leader.kill()
	c.leader(term)
	waitReassigned(t, l, siteB)
	acked := l.ackedNow(l.customers)
	l.waitMore(l.customers, acked, 2, "customers to keep sending to the new agents")
	l.finish(c.dsn)
}
