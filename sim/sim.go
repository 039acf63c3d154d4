// Package sim drives simulated customers and agents against a running
// Starpost server through its public API, the way real widget visitors and
// agents use it: the demo uses it so a newcomer sees conversations queue and
// be assigned, and load generators build on it.
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/client"
	sphttp "github.com/starpost/starpost/http"
	"github.com/starpost/starpost/text"
)

// Delay is a range of human-like delays.
type Delay struct{ Min, Max time.Duration }

// Pick returns a random duration in the range.
func (d Delay) Pick() time.Duration {
	if d.Max <= d.Min {
		return d.Min
	}
	return d.Min + rand.N(d.Max-d.Min)
}

// Stats counts what the simulation did. Its fields are updated atomically.
type Stats struct {
	Started   atomic.Int64 // conversations started by customers
	Accepted  atomic.Int64 // offers accepted by agents
	Messages  atomic.Int64 // messages sent by customers and agents
	Resolved  atomic.Int64 // conversations resolved by agents
	Errors    atomic.Int64 // API calls that failed
	Conflicts atomic.Int64 // accepts that lost a race (offer withdrawn or expired): harmless
}

// Agent is a simulated agent.
type Agent struct {
	Base     string // server URL
	Email    string
	Password string
	// Accept is how long the agent takes to accept an offer; Think how long
	// to answer a customer.
	Accept Delay
	Think  Delay
	// ResolveAfter is how many replies the agent sends before resolving.
	ResolveAfter int
	// Idle, when set, is how long the agent waits for the customer to
	// answer before resolving anyway (the customer has left).
	Idle   time.Duration
	Stats  *Stats
	Logger *slog.Logger
	// HTTP is the agent's HTTP client (nil: a default one); load generators
	// give each agent its own source address.
	HTTP *http.Client
	// Ready, when set, is called once the agent is signed in, available and
	// listening to its stream.
	Ready func()
}

// Run signs in, goes available and works offers and conversations until ctx
// ends, reconnecting its stream with its cursor when the connection drops.
func (a *Agent) Run(ctx context.Context) error {
	c := client.New(a.Base, a.HTTP)
	me, err := c.Login(ctx, a.Email, a.Password)
	if err != nil {
		return fmt.Errorf("agent %s login: %w", a.Email, err)
	}
	if err := c.SetPresence(ctx, starpost.PresenceAvailable); err != nil {
		return fmt.Errorf("agent %s presence: %w", a.Email, err)
	}
	defer func() {
		off, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.SetPresence(off, starpost.PresenceOffline)
	}()
	start := time.Now().Add(-time.Second)
	replies := &counter{m: map[string]int{}}
	var cursor int64
	ready := a.Ready
	for ctx.Err() == nil {
		s, err := c.Stream(ctx, cursor)
		if err != nil {
			a.Stats.Errors.Add(1)
			sleep(ctx, time.Second)
			continue
		}
		if ready != nil {
			ready()
			ready = nil
		}
		for {
			f, err := s.Read(ctx)
			if err != nil {
				break // reconnect from cursor
			}
			if f.Type != "event" || f.Event == nil {
				continue
			}
			e := f.Event
			if e.Cursor > cursor {
				cursor = e.Cursor
			}
			if e.At.Before(start) {
				continue // history: already handled before a restart
			}
			go a.react(ctx, c, me.ID, e, replies)
		}
		s.Close()
	}
	return ctx.Err()
}

// react answers one event.
func (a *Agent) react(ctx context.Context, c *client.Client, me string, e *starpost.Event, replies *counter) {
	switch e.Kind {
	case starpost.KindOffer:
		var b starpost.OfferBody
		if e.DecodeBody(&b) != nil || b.AgentID != me {
			return
		}
		sleep(ctx, a.Accept.Pick())
		if err := c.Accept(ctx, e.ConversationID); err != nil {
			a.count(err)
			return
		}
		a.Stats.Accepted.Add(1)
	case starpost.KindAssigned:
		// The customer's opening message came before the agent joined:
		// answer it as a person reading the history would.
		var b starpost.AssignedBody
		if e.DecodeBody(&b) != nil || b.AgentID != me {
			return
		}
		a.reply(ctx, c, e, replies)
	case starpost.KindMessage:
		if e.Actor.Role != starpost.RoleCustomer {
			return
		}
		a.reply(ctx, c, e, replies)
	}
}

// reply answers the customer after thinking, and resolves the conversation
// after ResolveAfter replies.
func (a *Agent) reply(ctx context.Context, c *client.Client, e *starpost.Event, replies *counter) {
	sleep(ctx, a.Think.Pick())
	text := answers[rand.IntN(len(answers))]
	if _, err := c.PostMessage(ctx, e.ConversationID, text, fmt.Sprintf("sim-reply-%s-%d", e.ConversationID, e.Seq)); err != nil {
		a.count(err)
		return
	}
	a.Stats.Messages.Add(1)
	n := replies.add(e.ConversationID)
	if n < a.ResolveAfter && a.Idle > 0 {
		go func() {
			sleep(ctx, a.Idle)
			if ctx.Err() == nil && replies.get(e.ConversationID) == n {
				if err := c.Resolve(ctx, e.ConversationID); err != nil {
					a.count(err)
					return
				}
				a.Stats.Resolved.Add(1)
			}
		}()
	}
	if n >= a.ResolveAfter {
		sleep(ctx, a.Think.Pick())
		if err := c.Resolve(ctx, e.ConversationID); err != nil {
			a.count(err)
			return
		}
		a.Stats.Resolved.Add(1)
	}
}

func (a *Agent) count(err error) {
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status == 409 || errors.Is(err, context.Canceled) {
		a.Stats.Conflicts.Add(1)
		return
	}
	a.Stats.Errors.Add(1)
	a.Logger.Debug("simulated agent call failed", "agent", a.Email, "err", err)
}

// Customer is a simulated widget visitor who asks one question.
type Customer struct {
	Base        string
	WorkspaceID string
	QueueID     string
	Name        string
	// Think is how long the customer takes to answer the agent.
	Think Delay
	// FollowUps is how many times the customer answers the agent.
	FollowUps int
	// HTTP, when set, is the customer's HTTP client (its own source
	// address, for instance); nil is a default client.
	HTTP *http.Client
	// Angry makes the customer's answers escalate: an angry complaint,
	// then insults (what the emotion engine, the coaching prompts and the
	// supervisor's alerts are for), in the language of the question.
	Angry bool
	Stats *Stats
}

// Run starts a conversation and answers the agent until it is resolved,
// FollowUps are used up, or ctx ends.
func (cu *Customer) Run(ctx context.Context) error {
	v, err := client.New(cu.Base, cu.HTTP).NewVisitor(ctx, cu.WorkspaceID, cu.Name)
	if err != nil {
		cu.Stats.Errors.Add(1)
		return fmt.Errorf("visitor session: %w", err)
	}
	q := questions[rand.IntN(len(questions))]
	conv, err := v.Start(ctx, sphttp.WidgetStartRequest{QueueID: cu.QueueID, Subject: q, Text: q,
		IdempotencyKey: "start-" + v.Session.VisitorID})
	if err != nil {
		cu.Stats.Errors.Add(1)
		return fmt.Errorf("start conversation: %w", err)
	}
	cu.Stats.Started.Add(1)
	cu.Stats.Messages.Add(1)
	id := conv.Conversation.ID
	var cursor int64
	left := cu.FollowUps
	for ctx.Err() == nil {
		s, err := v.Stream(ctx, cursor)
		if err != nil {
			cu.Stats.Errors.Add(1)
			sleep(ctx, time.Second)
			continue
		}
		for {
			f, err := s.Read(ctx)
			if err != nil {
				break
			}
			if f.Type != "event" || f.Event == nil || f.Event.ConversationID != id {
				continue
			}
			e := f.Event
			if e.Cursor > cursor {
				cursor = e.Cursor
			}
			if e.Kind == starpost.KindState {
				var b starpost.StateBody
				if e.DecodeBody(&b) == nil && (b.State == starpost.StateResolved || b.State == starpost.StateClosed) {
					s.Close()
					return nil
				}
			}
			if e.Kind == starpost.KindMessage && e.Actor.Role == starpost.RoleAgentParticipant && left > 0 {
				left--
				sleep(ctx, cu.Think.Pick())
				text := followUps[rand.IntN(len(followUps))]
				if cu.Angry {
					text = angryLine(q, cu.FollowUps-left-1)
				}
				if _, err := v.Send(ctx, id, text, fmt.Sprintf("sim-%s-%d", id, e.Seq)); err != nil {
					cu.Stats.Errors.Add(1)
				} else {
					cu.Stats.Messages.Add(1)
				}
			}
		}
		s.Close()
	}
	return ctx.Err()
}

// counter counts per key, safely from several goroutines.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k]++
	return c.m[k]
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

var questions = []string{
	"我的订单什么时候发货？", "Where is my parcel? It has been five days.", "双十一的满减怎么用？",
	"I want to return a jacket that does not fit.", "退款什么时候到账？", "Can I change my delivery address?",
	"会员积分怎么兑换？", "The coupon code says it has expired.",
}

var followUps = []string{"好的，谢谢", "OK, and how long will that take?", "订单号是 20261111-0042", "Thanks, that helps."}

// angry is what an angry customer answers, turn by turn: a complaint, then
// insults, in Chinese and in English.
var angry = map[bool][]string{
	true:  {"都等了半个小时了，到底有没有人管？太让人生气了！", "你们这群骗子，垃圾客服，全是废物！"},
	false: {"This is ridiculous! I have waited 30 minutes and nobody helps me. I am so angry.", "You are useless idiots, the worst scam company ever."},
}

// angryLine is an angry customer's answer number turn to question q.
func angryLine(q string, turn int) string {
	lines := angry[text.HasHan(q)]
	return lines[min(turn, len(lines)-1)]
}

var answers = []string{
	"您好，我来帮您查一下。", "Hello! Let me check that for you.", "已为您加急处理，预计 24 小时内更新。",
	"Your refund was issued today; banks take 1–3 working days.", "请问还有其他可以帮您的吗？",
}
