package router

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

// harness is a tiny in-test committer: it applies events with the real
// projection (starpost.Conversation.Apply), rejects what Apply rejects,
// assigns seq and cursor, honours idempotency keys, and feeds every
// committed event back to the engine.
type harness struct {
	t        testing.TB
	e        *Engine
	now      time.Time
	ws       string
	convs    map[string]*starpost.Conversation
	offerExp map[string]time.Time
	keys     map[string]*starpost.Event
	cursor   int64
	n        int
	// presence and connection as the outside world knows them.
	presence  map[string]starpost.Presence
	connected map[string]bool
	users     map[string]*starpost.User
	queues    map[string]*starpost.Queue
	// log of every committed event and every decision, for failures.
	committed []*starpost.Event
	statuses  map[string]starpost.QueueStatusBody
	// onDecision, when set, sees every decision of a batch before any of
	// them is committed.
	onDecision func(d Decision)
	// drop, when set, decides whether a decision's commit "fails".
	drop func(d Decision) bool
	// restored counts NeedsRestore round trips.
	restored int
	// firstUnanswered is each conversation's first customer message not
	// yet answered by an agent.
	firstUnanswered map[string]time.Time
}

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, opts ...Option) *harness {
	return &harness{
		t: t, e: NewEngine(opts...), now: t0, ws: "ws1",
		convs: map[string]*starpost.Conversation{}, offerExp: map[string]time.Time{},
		keys: map[string]*starpost.Event{}, presence: map[string]starpost.Presence{},
		connected: map[string]bool{}, users: map[string]*starpost.User{}, queues: map[string]*starpost.Queue{},
		statuses: map[string]starpost.QueueStatusBody{}, firstUnanswered: map[string]time.Time{},
	}
}

func cloneConv(c *starpost.Conversation) *starpost.Conversation {
	cp := *c
	cp.Participants = slices.Clone(c.Participants)
	return &cp
}

// commit commits one event the way the store does and lets the engine
// observe it.
func (h *harness) commit(ev *starpost.Event) (*starpost.Event, error) {
	ev = ptr(*ev)
	if ev.WorkspaceID == "" {
		ev.WorkspaceID = h.ws
	}
	if ev.IdempotencyKey != "" {
		if old := h.keys[ev.IdempotencyKey]; old != nil {
			return old, nil
		}
	}
	if ev.At.IsZero() {
		ev.At = h.now
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	switch {
	case ev.Kind == starpost.KindConnection:
		var b starpost.ConnectionBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		h.connected[b.AgentID] = b.Connected
		h.e.Observe(ev)
		return ev, nil
	case ev.Kind == starpost.KindPresence:
		var b starpost.PresenceBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		h.presence[ev.Actor.ID] = b.Presence
	case ev.ConversationID == "" && ev.Kind == starpost.KindCreated:
		h.n++
		ev.ConversationID = fmt.Sprintf("cv%05d", h.n)
		c := &starpost.Conversation{}
		ev.Seq = 1
		if err := c.Apply(ev); err != nil {
			return nil, err
		}
		h.convs[c.ID] = c
	default:
		old := h.convs[ev.ConversationID]
		if old == nil {
			return nil, starpost.Errorf(starpost.ENOTFOUND, "no conversation %s", ev.ConversationID)
		}
		c := cloneConv(old)
		ev.Seq = old.LastSeq + 1
		if err := c.Apply(ev); err != nil {
			return nil, err
		}
		if ev.Kind == starpost.KindMessage && (ev.Actor.Role == starpost.RoleCustomer) && !old.AwaitingAgentReply() {
			h.firstUnanswered[c.ID] = ev.At
		}
		h.convs[c.ID] = c
		if ev.Kind == starpost.KindOffer {
			var b starpost.OfferBody
			_ = ev.DecodeBody(&b)
			h.offerExp[c.ID] = b.ExpiresAt
		}
	}
	h.cursor++
	ev.Cursor = h.cursor
	if ev.IdempotencyKey != "" {
		h.keys[ev.IdempotencyKey] = ev
	}
	h.committed = append(h.committed, ev)
	h.e.Observe(ev)
	h.restoreMissing()
	return ev, nil
}

// restoreMissing plays the driver's part for NeedsRestore.
func (h *harness) restoreMissing() {
	for _, r := range h.e.NeedsRestore() {
		if c := h.convs[r.ID]; c != nil {
			h.restored++
			h.e.Restore(cloneConv(c), h.offerExp[r.ID])
		}
	}
}

func ptr[T any](v T) *T { return &v }

// must commits an event and fails the test if it does not apply.
func (h *harness) must(ev *starpost.Event) *starpost.Event {
	h.t.Helper()
	got, err := h.commit(ev)
	if err != nil {
		h.t.Fatalf("commit %s %s: %v", ev.Kind, ev.ConversationID, err)
	}
	return got
}

// decide advances the clock by d, asks the engine for decisions and commits
// them (ECONFLICT rejections are expected for stale decisions). It returns
// the decisions.
func (h *harness) decide(d time.Duration) []Decision {
	h.t.Helper()
	h.now = h.now.Add(d)
	ds := h.e.Decide(h.now)
	if h.onDecision != nil {
		// Every decision is judged against the state it was taken in,
		// before any of the batch commits.
		for _, d := range ds {
			h.onDecision(d)
		}
	}
	for _, d := range ds {
		if d.Ephemeral() {
			h.statuses[d.ConversationID] = starpost.QueueStatusBody{Position: d.Position, EstimatedWait: d.EstimatedWait}
			continue
		}
		if h.drop != nil && h.drop(d) {
			continue
		}
		if _, err := h.commit(d.Event()); err != nil && starpost.ErrorCode(err) != starpost.ECONFLICT {
			h.t.Fatalf("commit decision %s: %v", d.String(), err)
		}
	}
	return ds
}

func (h *harness) setAgent(u *starpost.User) {
	if u.WorkspaceID == "" {
		u.WorkspaceID = h.ws
	}
	h.users[u.ID] = u
	if _, ok := h.connected[u.ID]; !ok {
		h.connected[u.ID] = true
	}
	h.e.SetAgent(u)
}

func (h *harness) setQueue(q *starpost.Queue) {
	if q.WorkspaceID == "" {
		q.WorkspaceID = h.ws
	}
	h.queues[q.ID] = q
	h.e.SetQueue(q)
}

func (h *harness) setPresence(agent string, p starpost.Presence) {
	h.t.Helper()
	h.must(&starpost.Event{Kind: starpost.KindPresence, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent},
		Body: starpost.MustBody(starpost.PresenceBody{Presence: p})})
}

func (h *harness) setConnected(agent string, up bool) {
	h.t.Helper()
	h.must(&starpost.Event{Kind: starpost.KindConnection, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent},
		Body: starpost.MustBody(starpost.ConnectionBody{AgentID: agent, Connected: up})})
}

// arrive creates a queued conversation and returns its id.
func (h *harness) arrive(queueID string, ch starpost.Channel, prio int) string {
	h.t.Helper()
	ev := h.must(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: ch, ContactID: "ct", QueueID: queueID, Priority: prio})})
	return ev.ConversationID
}

func (h *harness) accept(conv, agent string) error {
	_, err := h.commit(&starpost.Event{ConversationID: conv, Kind: starpost.KindAssigned,
		Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent},
		Body:  starpost.MustBody(starpost.AssignedBody{AgentID: agent, By: "accept"})})
	return err
}

func (h *harness) decline(conv, agent string) error {
	_, err := h.commit(&starpost.Event{ConversationID: conv, Kind: starpost.KindOfferEnd,
		Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent},
		Body:  starpost.MustBody(starpost.OfferEndBody{AgentID: agent, Reason: "declined"})})
	return err
}

func (h *harness) message(conv string, role starpost.ParticipantRole, id string) error {
	_, err := h.commit(&starpost.Event{ConversationID: conv, Kind: starpost.KindMessage,
		Actor: starpost.Actor{Role: role, ID: id}, Body: starpost.MustBody(starpost.MessageBody{Text: "hi"})})
	return err
}

func (h *harness) setState(conv string, st starpost.State, actor string) error {
	_, err := h.commit(&starpost.Event{ConversationID: conv, Kind: starpost.KindState,
		Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: actor}, Body: starpost.MustBody(starpost.StateBody{State: st})})
	return err
}

// offers returns the offer decisions among ds as conversation→agent.
func offers(ds []Decision) map[string]string {
	m := map[string]string{}
	for _, d := range ds {
		if d.Kind == DecideOffer {
			m[d.ConversationID] = d.AgentID
		}
	}
	return m
}

// agentUser builds an agent with skills given as "skill:level" pairs.
func agentUser(id, site string, capacity map[starpost.Channel]int, skills ...starpost.Skilled) *starpost.User {
	return &starpost.User{ID: id, Email: id + "@x.test", Name: id, Role: starpost.RoleAgent, SiteID: site,
		Skills: skills, Capacity: capacity}
}

func sk(id string, level int) starpost.Skilled { return starpost.Skilled{SkillID: id, Level: level} }

func req(id string, min int) starpost.SkillRequired {
	return starpost.SkillRequired{SkillID: id, MinLevel: min}
}
