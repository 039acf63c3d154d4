package router

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

// The property test simulates long days of traffic against the engine,
// driven through the harness (the real projection), and checks invariants
// after every step. Seeds are printed; ROUTER_SEED=n replays one.

func TestSimulatedDays(t *testing.T) {
	seeds := []uint64{1, 2, 3, rand.Uint64() % 1_000_000}
	if s := os.Getenv("ROUTER_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	hours := 12
	if testing.Short() {
		hours = 2
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("seed %d (replay with ROUTER_SEED=%d)", seed, seed)
			s := newSim(t, seed)
			s.day(time.Duration(hours) * time.Hour)
			s.drain()
			t.Logf("%d conversations, %d events, %d offers, %d offer ends, %d unassigns, %d restarts, %d restores",
				s.h.n, s.h.cursor, s.count[DecideOffer], s.count[DecideExpireOffer], s.count[DecideUnassign], s.restarts, s.h.restored)
		})
	}
}

const simStep = 2 * time.Second

type sim struct {
	t        *testing.T
	r        *rand.Rand
	h        *harness
	wss      []string
	agents   map[string][]string // workspace → agent ids
	qids     map[string][]string // workspace → queue ids
	live     map[string]bool     // conversations not closed
	discAt   map[string]time.Time
	delayed  []Decision
	count    map[DecisionKind]int
	restarts int
	grace    time.Duration
	// batch counts offers decided per agent and channel in the current
	// Decide batch and in the delayed list, not yet committed.
	pending map[string]map[starpost.Channel]int
	drainng bool
}

var simSkills = []string{"s0", "s1", "s2", "s3", "s4", "s5"}
var simSites = []string{"hq", "town1", "town2"}

func newSim(t *testing.T, seed uint64) *sim {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	strat := Strategy(r.IntN(2))
	s := &sim{
		t: t, r: r, grace: 30 * time.Second,
		wss: []string{"ws1", "ws2"}, agents: map[string][]string{}, qids: map[string][]string{},
		live: map[string]bool{}, discAt: map[string]time.Time{}, count: map[DecisionKind]int{},
		pending: map[string]map[starpost.Channel]int{},
	}
	s.h = newHarness(t, WithGracePeriod(s.grace), WithRetryDelay(5*time.Second), WithStrategy(strat),
		WithDefaultHandleTime(90*time.Second), WithResolvedRetention(time.Duration(r.IntN(600)+60)*time.Second))
	s.h.onDecision = s.checkDecision
	s.h.drop = func(d Decision) bool {
		if s.drainng {
			return false
		}
		switch x := r.IntN(100); {
		case x < 5: // the commit failed
			return true
		case x < 12: // the commit is slow: it lands next step
			s.delayed = append(s.delayed, d)
			if d.Kind == DecideOffer {
				s.addPending(d, +1)
			}
			return true
		}
		return false
	}
	for _, ws := range s.wss {
		s.h.ws = ws
		for i := range 4 {
			q := &starpost.Queue{ID: fmt.Sprintf("%s-q%d", ws, i), Name: "q", Priority: r.IntN(4),
				OfferTimeout: 8 + r.IntN(20)}
			if r.IntN(3) > 0 {
				q.ReplyTimeout = 60 + r.IntN(240)
			}
			for _, sid := range simSkills {
				if r.IntN(4) == 0 && len(q.Skills) < 2 {
					q.Skills = append(q.Skills, req(sid, 1+r.IntN(4)))
				}
			}
			after := 0
			if r.IntN(2) == 0 {
				q.Overflow = append(q.Overflow, starpost.OverflowStep{AfterSeconds: 0, SiteIDs: []string{simSites[r.IntN(3)]}})
			}
			for range r.IntN(3) {
				after += 10 + r.IntN(40)
				st := starpost.OverflowStep{AfterSeconds: after, MinLevelDrop: r.IntN(3)}
				switch r.IntN(3) {
				case 0:
					st.AnySite = true
				case 1:
					st.SiteIDs = []string{simSites[r.IntN(3)], simSites[r.IntN(3)]}
				}
				if r.IntN(2) == 0 {
					st.QueueID = fmt.Sprintf("%s-q%d", ws, r.IntN(4))
				}
				q.Overflow = append(q.Overflow, st)
			}
			// The last step lets anyone with the skills at level 1 in.
			q.Overflow = append(q.Overflow, starpost.OverflowStep{AfterSeconds: after + 60, AnySite: true, MinLevelDrop: 5})
			s.h.setQueue(q)
			s.qids[ws] = append(s.qids[ws], q.ID)
		}
		for i := range 12 {
			id := fmt.Sprintf("%s-a%02d", ws, i)
			s.h.setAgent(s.randomUser(ws, id, i < 2))
			s.agents[ws] = append(s.agents[ws], id)
			if r.IntN(3) > 0 {
				s.h.setPresence(id, starpost.PresenceAvailable)
			}
		}
	}
	return s
}

// randomUser returns an agent profile; generalists have every skill and
// every channel, so every queue can drain at its last overflow step.
func (s *sim) randomUser(ws, id string, generalist bool) *starpost.User {
	r := s.r
	u := agentUser(id, simSites[r.IntN(3)], map[starpost.Channel]int{
		starpost.ChannelChat: 1 + r.IntN(3), starpost.ChannelEmail: r.IntN(4),
		starpost.ChannelVoice: r.IntN(2), starpost.ChannelVideo: r.IntN(2)})
	u.WorkspaceID = ws
	if old := s.h.users[id]; old != nil {
		u.Capacity = old.Capacity // capacity never shrinks under held work
		u.SiteID = old.SiteID
	}
	for _, sid := range simSkills {
		if generalist || r.IntN(2) == 0 {
			u.Skills = append(u.Skills, sk(sid, 1+r.IntN(5)))
		}
	}
	if generalist {
		for _, c := range starpost.Channels {
			u.Capacity[c] = max(u.Capacity[c], 1)
		}
	}
	return u
}

func (s *sim) addPending(d Decision, n int) {
	c := s.h.convs[d.ConversationID]
	m := s.pending[d.AgentID]
	if m == nil {
		m = map[starpost.Channel]int{}
		s.pending[d.AgentID] = m
	}
	m[c.Channel] += n
}

// load counts what an agent holds or is offered in the projection, per
// channel.
func (s *sim) load(agent string) map[starpost.Channel]int {
	m := map[starpost.Channel]int{}
	for id := range s.live {
		c := s.h.convs[id]
		if (c.State.HeldByAgent() && c.AgentID == agent) || (c.State == starpost.StateOffered && c.OfferedTo == agent) {
			m[c.Channel]++
		}
	}
	return m
}

func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("at %v: %s", s.h.now.Sub(t0), fmt.Sprintf(format, args...))
}

// checkDecision checks each decision against the truth when it is taken.
func (s *sim) checkDecision(d Decision) {
	h := s.h
	s.count[d.Kind]++
	c := h.convs[d.ConversationID]
	if c == nil {
		s.fail("decision about unknown conversation %s", d.String())
	}
	switch d.Kind {
	case DecideOffer:
		u := h.users[d.AgentID]
		if c.State != starpost.StateQueued {
			s.fail("offer of a %s conversation: %s", c.State, d.String())
		}
		if u == nil || h.presence[d.AgentID] != starpost.PresenceAvailable || !h.connected[d.AgentID] {
			s.fail("offer to an agent not available and connected: %s (presence %s, connected %v)", d.String(), h.presence[d.AgentID], h.connected[d.AgentID])
		}
		if !qualifiesRef(h.queues, h.queues[c.QueueID], u, h.now.Sub(*c.QueuedAt)) {
			s.fail("offer to an agent who does not qualify: %s (queue %s, waited %v)", d.String(), c.QueueID, h.now.Sub(*c.QueuedAt))
		}
		if used := s.load(d.AgentID)[c.Channel] + s.pending[d.AgentID][c.Channel]; used >= u.CapacityFor(c.Channel) {
			s.fail("offer over capacity: %s (%d used of %d)", d.String(), used, u.CapacityFor(c.Channel))
		}
		if !d.ExpiresAt.After(h.now) {
			s.fail("offer already expired: %s", d.String())
		}
		s.checkChoice(d, c)
		s.addPending(d, +1) // until the batch commits
	case DecideExpireOffer:
		if c.State != starpost.StateOffered || c.OfferedTo != d.AgentID {
			s.fail("offer end without the offer: %s", d.String())
		}
		switch d.Reason {
		case "expired":
			if h.now.Before(h.offerExp[c.ID]) {
				s.fail("offer expired early: %s", d.String())
			}
		case "withdrawn":
			if h.presence[d.AgentID] == starpost.PresenceAvailable && h.connected[d.AgentID] && h.users[d.AgentID] != nil {
				s.fail("offer withdrawn from a ready agent: %s", d.String())
			}
		default:
			s.fail("bad reason: %s", d.String())
		}
	case DecideUnassign:
		if !c.State.HeldByAgent() || c.AgentID != d.AgentID {
			s.fail("unassign of what the agent does not hold: %s", d.String())
		}
		switch d.Reason {
		case "offline":
			if h.presence[d.AgentID] != starpost.PresenceOffline {
				s.fail("offline unassign of a %s agent", h.presence[d.AgentID])
			}
		case "disconnected":
			if h.connected[d.AgentID] || h.now.Sub(s.discAt[d.AgentID]) < s.grace {
				s.fail("disconnected unassign within grace: %s", d.String())
			}
		case "reply_timeout":
			q := h.queues[c.QueueID]
			since := h.firstUnanswered[c.ID]
			if c.AssignedAt.After(since) {
				since = *c.AssignedAt
			}
			if q == nil || q.ReplyTimeout == 0 || !c.AwaitingAgentReply() || c.State != starpost.StateAssigned ||
				h.now.Sub(since) < time.Duration(q.ReplyTimeout)*time.Second {
				s.fail("reply timeout not due: %s", d.String())
			}
		default:
			s.fail("bad reason: %s", d.String())
		}
	case DecideQueueStatus:
		if c.State != starpost.StateQueued {
			s.fail("queue status of a %s conversation", c.State)
		}
	}
}

// checkChoice checks that an offer to an agent of the queue's own
// requirement went to the most proficient one: no other agent of the own
// requirement, ready, with room on the channel and not excluded, has a
// higher proficiency.
func (s *sim) checkChoice(d Decision, c *starpost.Conversation) {
	h := s.h
	q := h.queues[c.QueueID]
	v, _ := h.e.Conversation(c.WorkspaceID, c.ID)
	if slices.Contains(v.Excluded, d.AgentID) {
		return // the fallback: any agent who let it go
	}
	waited := h.now.Sub(*c.QueuedAt)
	own := func(u *starpost.User) bool {
		solo := *q
		solo.Overflow = nil
		for _, o := range q.Overflow {
			if time.Duration(o.AfterSeconds)*time.Second <= waited {
				o.QueueID = ""
				solo.Overflow = append(solo.Overflow, o)
			}
		}
		return qualifiesRef(nil, &solo, u, waited)
	}
	prof := func(u *starpost.User) int {
		p := 0
		for _, r := range q.Skills {
			for _, sk := range u.Skills {
				if sk.SkillID == r.SkillID {
					p += sk.Level
				}
			}
		}
		return p
	}
	a := h.users[d.AgentID]
	if !own(a) {
		return
	}
	w := h.e.ws[c.WorkspaceID]
	ch := chIndex(c.Channel)
	for _, id := range s.agents[c.WorkspaceID] {
		b := h.users[id]
		ag := w.agents[id]
		if id == d.AgentID || ag == nil || slices.Contains(v.Excluded, id) || !own(b) ||
			h.presence[id] != starpost.PresenceAvailable || !h.connected[id] || ag.load[ch] >= b.CapacityFor(c.Channel) {
			continue
		}
		if prof(b) > prof(a) {
			s.fail("%s offered to %s (proficiency %d) while %s (proficiency %d) was free", c.ID, d.AgentID, prof(a), id, prof(b))
		}
	}
}

// qualifiesRef is an independent statement of who may take a conversation
// of q after waiting waited.
func qualifiesRef(queues map[string]*starpost.Queue, q *starpost.Queue, u *starpost.User, waited time.Duration) bool {
	meets := func(q *starpost.Queue, drop int, sites []string) bool {
		if sites != nil && !slices.Contains(sites, u.SiteID) {
			return false
		}
		for _, r := range q.Skills {
			level := 0
			for _, s := range u.Skills {
				if s.SkillID == r.SkillID {
					level = s.Level
				}
			}
			if level < max(1, r.MinLevel-drop) {
				return false
			}
		}
		return true
	}
	base := func(q *starpost.Queue) bool {
		var sites []string
		for _, o := range q.Overflow {
			if o.AfterSeconds == 0 && len(o.SiteIDs) > 0 {
				sites = o.SiteIDs
			}
		}
		return meets(q, 0, sites)
	}
	drop := 0
	var sites []string
	var others []string
	for _, o := range q.Overflow {
		if time.Duration(o.AfterSeconds)*time.Second > waited {
			break
		}
		drop = max(drop, o.MinLevelDrop)
		if o.AnySite {
			sites = nil
		} else if len(o.SiteIDs) > 0 {
			sites = o.SiteIDs
		}
		if o.QueueID != "" {
			others = append(others, o.QueueID)
		}
	}
	if meets(q, drop, sites) {
		return true
	}
	for _, id := range others {
		if oq := queues[id]; oq != nil && base(oq) {
			return true
		}
	}
	return false
}

// day runs random traffic for d.
func (s *sim) day(d time.Duration) {
	end := s.h.now.Add(d)
	for s.h.now.Before(end) {
		s.step(true)
	}
}

// drain stops arrivals and trouble and checks that every waiting
// conversation is offered and the queues empty.
func (s *sim) drain() {
	h := s.h
	s.drainng = true
	for _, ws := range s.wss {
		h.ws = ws
		for _, id := range s.agents[ws] {
			if !h.connected[id] {
				h.setConnected(id, true)
			}
			if h.presence[id] != starpost.PresenceAvailable {
				h.setPresence(id, starpost.PresenceAvailable)
			}
		}
	}
	for _, id := range s.liveIDs() {
		if c := h.convs[id]; c.State == starpost.StateBot {
			h.ws = c.WorkspaceID
			if err := h.setState(id, starpost.StateQueued, "bot"); err != nil {
				s.fail("hand over: %v", err)
			}
		}
	}
	for i := 0; i < 2000; i++ {
		s.commitDelayed()
		s.decide()
		waiting := 0
		for _, id := range s.liveIDs() {
			c := h.convs[id]
			h.ws = c.WorkspaceID
			switch c.State {
			case starpost.StateOffered:
				if err := h.accept(id, c.OfferedTo); err != nil {
					s.fail("accept: %v", err)
				}
			case starpost.StateAssigned, starpost.StateWaiting:
				if s.r.IntN(5) == 0 {
					if err := h.setState(id, starpost.StateResolved, c.AgentID); err != nil {
						s.fail("resolve: %v", err)
					}
				}
			case starpost.StateQueued:
				waiting++
			}
		}
		s.check()
		if waiting == 0 && i > 0 {
			for _, ws := range s.wss {
				for _, q := range s.qids[ws] {
					for _, ch := range starpost.Channels {
						if l := h.e.Waiting(ws, q, ch); len(l) > 0 {
							s.fail("engine still has %v waiting in %s", l, q)
						}
					}
				}
			}
			return
		}
	}
	var left []string
	for _, id := range s.liveIDs() {
		if c := h.convs[id]; c.State == starpost.StateQueued {
			left = append(left, fmt.Sprintf("%s(%s %s waited %v)", id, c.QueueID, c.Channel, h.now.Sub(*c.QueuedAt)))
		}
	}
	s.fail("queues did not drain: %v", left)
}

func (s *sim) liveIDs() []string {
	ids := make([]string, 0, len(s.live))
	for id := range s.live {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *sim) commitDelayed() {
	ds := s.delayed
	s.delayed = nil
	for _, d := range ds {
		if d.Kind == DecideOffer {
			s.addPending(d, -1)
		}
		s.h.ws = d.WorkspaceID
		if _, err := s.h.commit(d.Event()); err != nil && starpost.ErrorCode(err) != starpost.ECONFLICT {
			s.fail("delayed commit %s: %v", d.String(), err)
		}
	}
}

func (s *sim) decide() {
	ds := s.h.decide(simStep)
	s.checkOrder(ds)
	// Offers of this batch are now committed (or dropped): only the
	// delayed ones stay pending.
	clear(s.pending)
	for _, d := range s.delayed {
		if d.Kind == DecideOffer {
			s.addPending(d, +1)
		}
	}
}

// checkOrder checks queue order after a batch: for every offer of X to A,
// no conversation that comes before X (queue priority, priority, longest
// waiting), on the same channel, that A could have taken, is left waiting
// without a decision.
func (s *sim) checkOrder(ds []Decision) {
	h := s.h
	decided := map[string]bool{}
	for _, d := range ds {
		decided[d.ConversationID] = true
	}
	before := func(y, x *starpost.Conversation) bool {
		qy, qx := h.queues[y.QueueID].Priority, h.queues[x.QueueID].Priority
		if qy != qx {
			return qy > qx
		}
		if y.Priority != x.Priority {
			return y.Priority > x.Priority
		}
		if !y.QueuedAt.Equal(*x.QueuedAt) {
			return y.QueuedAt.Before(*x.QueuedAt)
		}
		return y.ID < x.ID
	}
	for _, d := range ds {
		if d.Kind != DecideOffer {
			continue
		}
		x := h.convs[d.ConversationID]
		if x.QueuedAt == nil {
			continue
		}
		for _, id := range s.liveIDs() {
			y := h.convs[id]
			if y.WorkspaceID != x.WorkspaceID || y.State != starpost.StateQueued || decided[id] || y.Channel != x.Channel || !before(y, x) {
				continue
			}
			if v, ok := h.e.Conversation(y.WorkspaceID, id); !ok || v.InFlight {
				continue
			}
			if qualifiesRef(h.queues, h.queues[y.QueueID], h.users[d.AgentID], h.now.Sub(*y.QueuedAt)) {
				vx, _ := h.e.Conversation(x.WorkspaceID, x.ID)
				vy, _ := h.e.Conversation(y.WorkspaceID, id)
				s.fail("%s offered to %s while %s, ahead of it, waits and %s could take it\nx: %+v\ny: %+v\nbatch: %v", x.ID, d.AgentID, id, d.AgentID, vx, vy, ds)
			}
		}
	}
}

// step runs one simulated step: outside events, then the engine.
func (s *sim) step(arrivals bool) {
	h, r := s.h, s.r
	s.commitDelayed()
	for _, ws := range s.wss {
		h.ws = ws
		if arrivals && r.IntN(10) == 0 {
			ch := starpost.ChannelChat
			switch x := r.IntN(20); {
			case x < 5:
				ch = starpost.ChannelEmail
			case x < 7:
				ch = starpost.ChannelVoice
			case x < 8:
				ch = starpost.ChannelVideo
			}
			st := starpost.StateQueued
			if r.IntN(20) == 0 {
				st = starpost.StateBot
			}
			ev := h.must(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
				Body: starpost.MustBody(starpost.CreatedBody{Channel: ch, ContactID: "ct", QueueID: s.qids[ws][r.IntN(4)], Priority: r.IntN(3), State: st})})
			s.live[ev.ConversationID] = true
		}
		for _, id := range s.agents[ws] {
			switch x := r.IntN(1000); {
			case x < 3:
				p := []starpost.Presence{starpost.PresenceAvailable, starpost.PresenceAvailable, starpost.PresenceBusy,
					starpost.PresenceBreak, starpost.PresenceAfterWork, starpost.PresenceOffline}[r.IntN(6)]
				h.setPresence(id, p)
			case x < 5 && h.connected[id]:
				h.setConnected(id, false)
				s.discAt[id] = h.now
			case x < 60 && !h.connected[id]:
				h.setConnected(id, true)
			case x == 999 && r.IntN(10) == 0:
				h.setAgent(s.randomUser(ws, id, id < ws+"-a02"))
			}
		}
	}
	for _, id := range s.liveIDs() {
		c := h.convs[id]
		h.ws = c.WorkspaceID
		x := r.IntN(1000)
		switch c.State {
		case starpost.StateBot:
			if x < 50 {
				_ = h.setState(id, starpost.StateQueued, "bot")
			}
		case starpost.StateOffered:
			switch {
			case x < 300:
				_ = h.accept(id, c.OfferedTo)
			case x < 350:
				_ = h.decline(id, c.OfferedTo)
			}
		case starpost.StateAssigned, starpost.StateWaiting:
			switch {
			case x < 50:
				_ = h.message(id, starpost.RoleCustomer, "ct")
			case x < 150:
				_ = h.message(id, starpost.RoleAgentParticipant, c.AgentID)
			case x < 170:
				_ = h.setState(id, starpost.StateWaiting, c.AgentID)
			case x < 180:
				_ = h.setState(id, starpost.StateAssigned, c.AgentID)
			case x < 200:
				_ = h.setState(id, starpost.StateResolved, c.AgentID)
			case x < 203:
				_, _ = h.commit(&starpost.Event{ConversationID: id, Kind: starpost.KindTransferred, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: c.AgentID},
					Body: starpost.MustBody(starpost.TransferBody{ToQueueID: s.qids[c.WorkspaceID][r.IntN(4)]})})
			case x < 206:
				s.toAgent(c, starpost.KindTransferred)
			}
		case starpost.StateResolved:
			switch {
			case x < 3:
				_ = h.message(id, starpost.RoleCustomer, "ct") // reopens
			case x < 15:
				_ = h.setState(id, starpost.StateClosed, "sup")
				delete(s.live, id)
			}
		}
		if (c.State == starpost.StateQueued || c.State == starpost.StateOffered) && x >= 997 {
			s.toAgent(c, starpost.KindAssigned)
		}
	}
	if r.IntN(3000) == 0 {
		s.restart()
	}
	s.decide()
	s.check()
}

// toAgent transfers or force-assigns c to a random agent with room for it.
func (s *sim) toAgent(c *starpost.Conversation, kind starpost.EventKind) {
	h := s.h
	ids := s.agents[c.WorkspaceID]
	id := ids[s.r.IntN(len(ids))]
	if id == c.AgentID || s.load(id)[c.Channel]+s.pending[id][c.Channel]+s.reserved(id, c.Channel) >= h.users[id].CapacityFor(c.Channel) {
		return
	}
	body := starpost.MustBody(starpost.AssignedBody{AgentID: id, By: "force"})
	if kind == starpost.KindTransferred {
		body = starpost.MustBody(starpost.TransferBody{ToAgentID: id})
	}
	_, _ = h.commit(&starpost.Event{ConversationID: c.ID, Kind: kind, Actor: starpost.Actor{Role: starpost.RoleSupervisorWatcher, ID: "sup"}, Body: body})
}

// reserved counts the engine's dropped-but-reserved offers to an agent: a
// supervisor does not see them, but a decision whose commit failed may
// still be retried, so the sim stays clear of them to keep the capacity
// invariant strict.
func (s *sim) reserved(agentID string, ch starpost.Channel) int {
	n := 0
	w := s.h.e.ws[s.h.ws]
	for _, c := range w.convs {
		if c.mark != nil && c.mark.reserved && c.mark.agent == agentID && starpost.Channels[c.ch] == ch {
			n++
		}
	}
	return n
}

// restart replaces the engine with a fresh one rebuilt from the projection,
// as the driver does when it starts.
func (s *sim) restart() {
	h := s.h
	s.restarts++
	h.e = NewEngine(h.e.optsForTest()...)
	for _, u := range h.users {
		h.e.SetAgent(u)
		h.e.SetPresence(u.WorkspaceID, starpost.AgentPresence{AgentID: u.ID, Presence: h.presence[u.ID], Since: h.now})
		h.e.SetConnected(u.WorkspaceID, u.ID, h.connected[u.ID], s.discAt[u.ID])
	}
	for _, q := range h.queues {
		h.e.SetQueue(q)
	}
	for _, id := range s.liveIDs() {
		c := h.convs[id]
		if c.State.Open() {
			h.e.Restore(cloneConv(c), h.offerExp[id])
		}
	}
	// Decisions in flight before the crash are lost or land later.
}

func (e *Engine) optsForTest() []Option {
	c := e.cfg
	return []Option{WithGracePeriod(c.grace), WithRetryDelay(c.retry), WithStrategy(c.strategy),
		WithDefaultHandleTime(c.handle), WithResolvedRetention(c.retention)}
}

// check verifies the invariants between the projection and the engine.
func (s *sim) check() {
	h := s.h
	type key struct {
		agent string
		ch    starpost.Channel
	}
	truth := map[key]int{}
	for _, id := range s.liveIDs() {
		c := h.convs[id]
		v, ok := h.e.Conversation(c.WorkspaceID, id)
		switch {
		case c.State.Open():
			if !ok {
				s.fail("conversation %s (%s) lost by the engine", id, c.State)
			}
			if v.State != c.State || v.AgentID != c.AgentID || v.OfferedTo != c.OfferedTo || v.QueueID != c.QueueID ||
				v.Channel != c.Channel || v.Priority != c.Priority || v.LastSeq != c.LastSeq {
				s.fail("view of %s differs:\nengine %+v\ntruth  state=%s agent=%s offered=%s queue=%s seq=%d", id, v, c.State, c.AgentID, c.OfferedTo, c.QueueID, c.LastSeq)
			}
			if c.State == starpost.StateQueued && !v.QueuedAt.Equal(*c.QueuedAt) {
				s.fail("queued-at of %s differs", id)
			}
		case c.State == starpost.StateResolved:
			if ok && v.State != starpost.StateResolved {
				s.fail("resolved %s seen as %s", id, v.State)
			}
		}
		if c.State.HeldByAgent() {
			truth[key{c.AgentID, c.Channel}]++
		} else if c.State == starpost.StateOffered {
			truth[key{c.OfferedTo, c.Channel}]++
		}
	}
	for _, ws := range s.wss {
		w := h.e.ws[ws]
		for _, g := range w.groups {
			for ch := range nch {
				hp := g.heaps[ch]
				for i := range hp {
					if hp[i].m.idx[ch] != i || hp[i].m.g != g || hp[i].prof != hp[i].m.prof {
						s.fail("heap entry %d of group %s channel %d out of place", i, g.key, ch)
					}
				}
				for i := 1; i < len(hp); i++ {
					if less(&hp[i], &hp[(i-1)/2]) {
						s.fail("heap order broken in group %s channel %d", g.key, ch)
					}
				}
			}
		}
		reserved := map[key]int{}
		for _, c := range w.convs {
			if c.mark != nil && c.mark.reserved {
				reserved[key{c.mark.agent, starpost.Channels[c.ch]}]++
			}
		}
		seen := map[string]string{}
		for _, a := range w.agents {
			for id := range a.held {
				if other, dup := seen[id]; dup {
					s.fail("%s held/offered by %s and %s", id, other, a.id)
				}
				seen[id] = a.id
			}
			for id := range a.offered {
				if other, dup := seen[id]; dup {
					s.fail("%s held/offered by %s and %s", id, other, a.id)
				}
				seen[id] = a.id
			}
			u := h.users[a.id]
			for _, ch := range starpost.Channels {
				k := key{a.id, ch}
				if got := a.load[chIndex(ch)] - reserved[k]; got != truth[k] {
					s.fail("engine load of %s on %s is %d, truth %d", a.id, ch, got, truth[k])
				}
				if u != nil && truth[k] > u.CapacityFor(ch) {
					s.fail("%s over capacity on %s: %d > %d", a.id, ch, truth[k], u.CapacityFor(ch))
				}
			}
			// The index agrees with the agent's state.
			for _, m := range a.members {
				for ch := range nch {
					want := a.ready() && a.load[ch] < a.cap[ch]
					if (m.idx[ch] >= 0) != want {
						s.fail("index of %s on channel %d: in heap %v, want %v", a.id, ch, m.idx[ch] >= 0, want)
					}
					if m.idx[ch] >= 0 && a.key().before(m.g.heaps[ch][m.idx[ch]].k) {
						s.fail("stored heap key of %s is worse than its true key", a.id)
					}
				}
			}
		}
	}
}
