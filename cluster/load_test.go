package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
)

// picker chooses the node a client connects to: its preferred node while it
// is alive, else the next live one.
type picker struct {
	nodes []*node
}

// pick returns the URL of a live node, starting from index i.
func (p picker) pick(i int) (string, bool) {
	for k := range p.nodes {
		n := p.nodes[(i+k)%len(p.nodes)]
		if n.alive() {
			return n.url, true
		}
	}
	return "", false
}

// setup is the workspace objects a scenario works in: its own skill and
// queue, so no demo agent or queue interferes.
type setup struct {
	admin     *client.Client
	workspace string
	skill     string
	queue     string
}

// newSetup signs in as the demo admin on base and creates a skill and a
// queue requiring it.
func newSetup(t *testing.T, base string, email, password, name string) *setup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	admin := client.New(base, nil)
	me, err := admin.Login(ctx, email, password)
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	var skill starpost.Skill
	if err := admin.Do(ctx, "POST", "/api/v1/skills", map[string]string{"name": name}, &skill); err != nil {
		t.Fatalf("create skill: %v", err)
	}
	var queue starpost.Queue
	if err := admin.Do(ctx, "POST", "/api/v1/queues", map[string]any{"name": name,
		"skills": []starpost.SkillRequired{{SkillID: skill.ID, MinLevel: 1}}, "offer_timeout": 10}, &queue); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return &setup{admin: admin, workspace: me.WorkspaceID, skill: skill.ID, queue: queue.ID}
}

// password of every agent the suite creates.
const agentPassword = "cluster-agent-password-1"

// newAgentUser creates an agent with the setup's skill.
func (s *setup) newAgentUser(t *testing.T, name, site string) *starpost.User {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	u, err := s.admin.CreateUser(ctx, sphttp.CreateUserRequest{Email: name + "@cluster.test", Name: name, Role: starpost.RoleAgent, SiteID: site,
		Password: agentPassword, Skills: []starpost.Skilled{{SkillID: s.skill, Level: 3}},
		Capacity: map[starpost.Channel]int{starpost.ChannelChat: 20}})
	if err != nil {
		t.Fatalf("create agent %s: %v", name, err)
	}
	return u
}

// agent is a simulated agent: it keeps a realtime stream open (reconnecting
// to another node with its cursor when its node dies), accepts every offer
// and answers every customer message once.
type agent struct {
	user  *starpost.User
	nodes picker
	home  int

	mu         sync.Mutex
	c          *client.Client
	cursor     int64
	received   map[int64]*starpost.Event // by cursor
	duplicates []int64                   // cursors received twice
	reconnects int
	errs       []string
	replied    map[string]bool
	drop       context.CancelFunc // ends the current connection
	online     bool
	gone       bool // left for good (leave): its checks are skipped
}

// leave makes the agent vanish for good, as when its site loses its
// network: its connection is cut without a close handshake and it never
// reconnects. With cut false, the agent only stops reconnecting (its node
// is about to be killed).
func (a *agent) leave(cut bool) {
	a.mu.Lock()
	a.gone = true
	drop := a.drop
	a.mu.Unlock()
	if cut && drop != nil {
		drop()
	}
}

func (a *agent) isGone() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gone
}

// run works until ctx ends.
func (a *agent) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	first := true
	for ctx.Err() == nil && !a.isGone() {
		base, ok := a.nodes.pick(a.home)
		if !ok { // every node is down: wait for a restart
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		c := client.New(base, nil)
		if _, err := c.Login(ctx, a.user.Email, agentPassword); err != nil {
			a.note("login on %s: %v", base, err)
			sleep(ctx, 200*time.Millisecond)
			a.home++
			continue
		}
		a.mu.Lock()
		a.c = c
		cursor := a.cursor
		a.mu.Unlock()
		connCtx, drop := context.WithCancel(ctx)
		s, err := c.Stream(connCtx, cursor)
		if err != nil {
			drop()
			a.note("stream on %s: %v", base, err)
			sleep(ctx, 200*time.Millisecond)
			a.home++
			continue
		}
		if first {
			if err := c.SetPresence(ctx, starpost.PresenceAvailable); err != nil {
				a.note("presence: %v", err)
			}
			first = false
		}
		a.mu.Lock()
		a.drop, a.online = drop, true
		a.mu.Unlock()
		for {
			f, err := s.Read(connCtx)
			if err != nil {
				break
			}
			if f.Type == "event" && f.Event != nil && f.Event.Cursor > 0 {
				a.event(ctx, f.Event)
			}
		}
		drop()
		s.Close()
		a.mu.Lock()
		a.online = false
		a.reconnects++
		a.mu.Unlock()
	}
}

// event records one streamed event and reacts to it.
func (a *agent) event(ctx context.Context, e *starpost.Event) {
	a.mu.Lock()
	if _, dup := a.received[e.Cursor]; dup || e.Cursor <= a.cursor {
		a.duplicates = append(a.duplicates, e.Cursor)
		a.mu.Unlock()
		return
	}
	a.received[e.Cursor] = e
	a.cursor = e.Cursor
	a.mu.Unlock()
	switch e.Kind {
	case starpost.KindOffer:
		var b starpost.OfferBody
		if e.DecodeBody(&b) == nil && b.AgentID == a.user.ID {
			go a.retry(ctx, "accept "+e.ConversationID, func(c *client.Client) error { return c.Accept(ctx, e.ConversationID) })
		}
	case starpost.KindMessage:
		if e.Actor.Role != starpost.RoleCustomer {
			return
		}
		key := "reply-" + e.IdempotencyKey
		a.mu.Lock()
		done := a.replied[key]
		a.replied[key] = true
		a.mu.Unlock()
		if !done {
			go a.retry(ctx, "reply", func(c *client.Client) error {
				_, err := c.PostMessage(ctx, e.ConversationID, "re: "+e.IdempotencyKey, key)
				return err
			})
		}
	}
}

// retry calls f with the agent's current client until it succeeds, the
// server answers with a conflict (the offer was taken or withdrawn), or
// ctx ends.
func (a *agent) retry(ctx context.Context, what string, f func(*client.Client) error) {
	for i := 0; ctx.Err() == nil; i++ {
		a.mu.Lock()
		c := a.c
		a.mu.Unlock()
		err := f(c)
		var ae *client.Error
		if err == nil || errors.As(err, &ae) && ae.Status == 409 {
			return
		}
		if i == 100 {
			a.note("%s: gave up: %v", what, err)
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func (a *agent) note(format string, args ...any) {
	a.mu.Lock()
	a.errs = append(a.errs, fmt.Sprintf(format, args...))
	a.mu.Unlock()
}

// has reports whether the agent received the event with cursor c, and how
// far its stream got.
func (a *agent) has(c int64) (bool, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.received[c]
	return ok, a.cursor
}

// customer is a simulated widget visitor with one conversation: it waits
// until an agent is assigned, then sends messages over the widget
// WebSocket one at a time, resending an unacknowledged message with the
// same idempotency key after a reconnect, as the widget's outbox does.
type customer struct {
	name  string
	nodes picker
	home  int
	set   *setup
	// interval is the pause after each acknowledged message.
	interval time.Duration

	visitor sphttp.WidgetSessionResponse
	conv    string

	mu         sync.Mutex
	cursor     int64
	received   []*starpost.Event // in order
	duplicates []int64
	acked      map[string]int64 // idempotency key → cursor of the acked event
	assigned   bool
	reconnects int
	errs       []string
	stopSend   bool
}

// start opens the visitor session and the conversation, retrying on
// another node while nodes die.
func (cu *customer) start(ctx context.Context) error {
	var err error
	for i := 0; i < 50 && ctx.Err() == nil; i++ {
		base, ok := cu.nodes.pick(cu.home + i)
		if !ok {
			return errors.New("no live node")
		}
		var v *client.Visitor
		if cu.visitor.Token == "" {
			if v, err = client.New(base, nil).NewVisitor(ctx, cu.set.workspace, cu.name); err != nil {
				sleep(ctx, 100*time.Millisecond)
				continue
			}
			cu.visitor = v.Session
		}
		v = cu.visitorOn(base)
		var cr *sphttp.ConversationResponse
		if cr, err = v.Start(ctx, sphttp.WidgetStartRequest{QueueID: cu.set.queue, Subject: "cluster test", IdempotencyKey: "start-" + cu.name}); err != nil {
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		cu.conv = cr.Conversation.ID
		return nil
	}
	return fmt.Errorf("customer %s: start: %w", cu.name, err)
}

func (cu *customer) visitorOn(base string) *client.Visitor {
	return &client.Visitor{Client: client.New(base, nil).WithToken(cu.visitor.Token), Session: cu.visitor}
}

// run streams and sends until ctx ends or stop is called; then it keeps
// streaming (to receive the agents' last replies) until done ends.
func (cu *customer) run(ctx, done context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	n := 0
	pending := ""
	for done.Err() == nil {
		base, ok := cu.nodes.pick(cu.home)
		if !ok { // every node is down: wait for a restart
			sleep(done, 100*time.Millisecond)
			continue
		}
		cu.mu.Lock()
		cursor := cu.cursor
		cu.mu.Unlock()
		connCtx, drop := context.WithCancel(done)
		s, err := cu.visitorOn(base).Stream(connCtx, cursor)
		if err != nil {
			drop()
			cu.note("stream on %s: %v", base, err)
			sleep(done, 200*time.Millisecond)
			cu.home++
			continue
		}
		acks := make(chan *sphttp.Frame, 4)
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				f, err := s.Read(connCtx)
				if err != nil {
					return
				}
				switch {
				case f.Type == "event" && f.Event != nil && f.Event.Cursor > 0:
					cu.event(f.Event)
				case f.Type == "ack" || f.Type == "error":
					select {
					case acks <- f:
					default:
					}
				}
			}
		}()
	sending:
		for ctx.Err() == nil && !cu.stopped() {
			if !cu.isAssigned() {
				select {
				case <-readerDone:
					break sending
				case <-ctx.Done():
					break sending
				case <-time.After(20 * time.Millisecond):
					continue
				}
			}
			if pending == "" {
				pending = cu.conv + "-" + strconv.Itoa(n)
				n++
			}
			if err := s.Write(connCtx, &sphttp.Frame{Type: "message", ConversationID: cu.conv, IdempotencyKey: pending, Text: "msg " + pending}); err != nil {
				break
			}
			var f *sphttp.Frame
			select {
			case f = <-acks:
			case <-readerDone:
			case <-time.After(15 * time.Second):
				cu.note("no ack for %s within 15 s", pending)
			}
			if f == nil {
				break // reconnect and resend pending
			}
			if f.Type == "error" {
				cu.note("error frame for %s: %+v", pending, f.Error)
				sleep(ctx, 100*time.Millisecond)
				continue
			}
			cu.mu.Lock()
			cu.acked[f.IdempotencyKey] = f.Event.Cursor
			cu.mu.Unlock()
			pending = ""
			sleep(ctx, cu.interval)
		}
		if ctx.Err() != nil || cu.stopped() {
			// Done sending: keep receiving until the connection drops or
			// the test ends.
			select {
			case <-readerDone:
			case <-done.Done():
			}
		}
		drop()
		<-readerDone
		s.Close()
		if done.Err() == nil {
			cu.mu.Lock()
			cu.reconnects++
			cu.mu.Unlock()
		}
	}
}

func (cu *customer) stop() {
	cu.mu.Lock()
	cu.stopSend = true
	cu.mu.Unlock()
}

func (cu *customer) stopped() bool {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return cu.stopSend
}

func (cu *customer) isAssigned() bool {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return cu.assigned
}

func (cu *customer) event(e *starpost.Event) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if e.Cursor <= cu.cursor {
		cu.duplicates = append(cu.duplicates, e.Cursor)
		return
	}
	cu.cursor = e.Cursor
	cu.received = append(cu.received, e)
	if e.ConversationID == cu.conv && e.Kind == starpost.KindAssigned {
		cu.assigned = true
	}
}

func (cu *customer) note(format string, args ...any) {
	cu.mu.Lock()
	cu.errs = append(cu.errs, fmt.Sprintf(format, args...))
	cu.mu.Unlock()
}

func (cu *customer) ackCount() int {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return len(cu.acked)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, patience, what, cond)
}

// waitWithin polls cond until it holds, failing the test after d.
func waitWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// visible is whether a widget visitor's stream shows events of kind k
// (http.visitorVisible, durable kinds only).
func visible(k starpost.EventKind) bool {
	switch k {
	case starpost.KindCreated, starpost.KindMessage, starpost.KindState, starpost.KindAssigned,
		starpost.KindUnassigned, starpost.KindTransferred:
		return true
	}
	return false
}

// short names a cursor list in failure messages.
func short(cs []int64) string {
	var b strings.Builder
	for i, c := range cs {
		if i == 20 {
			fmt.Fprintf(&b, " … (%d in all)", len(cs))
			break
		}
		fmt.Fprintf(&b, " %d", c)
	}
	return b.String()
}
