package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// BenchSize is the size of a simulated contact centre for benchmarks.
type BenchSize struct {
	Agents, Queues, Skills, Sites int
}

// DefaultBenchSize is the contact centre of the speed target: 5,000
// agents, 200 queues, 50 skills, 10 sites.
func DefaultBenchSize() BenchSize { return BenchSize{Agents: 5000, Queues: 200, Skills: 50, Sites: 10} }

// BenchWorld drives an Engine with hand-made committed events (no store,
// no bus) so that figures measure the engine alone. It is used by
// BenchmarkDecide and by "starpost bench router".
type BenchWorld struct {
	e      *Engine
	size   BenchSize
	r      *rand.Rand
	now    time.Time
	seq    map[string]int64
	n      int
	queues []string
	held   []string // accepted conversations, oldest first
	cursor int64
	// spent sums the time inside engine calls (Observe, Decide).
	spent time.Duration
}

// NewBenchWorld builds a seeded world: queues needing one or two skills at
// levels 1–3 with preferred sites and overflow steps, agents with eight
// skills at levels 1–5, all available.
func NewBenchWorld(size BenchSize, strat Strategy) *BenchWorld {
	r := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	w := &BenchWorld{e: NewEngine(WithStrategy(strat)), size: size, r: r, now: start, seq: map[string]int64{}}
	skill := func() string { return fmt.Sprintf("sk%02d", r.IntN(size.Skills)) }
	site := func() string { return fmt.Sprintf("site%d", r.IntN(size.Sites)) }
	for i := range size.Queues {
		q := &starpost.Queue{ID: fmt.Sprintf("q%03d", i), WorkspaceID: "ws", Name: "q", Priority: r.IntN(5), OfferTimeout: 20}
		for range 1 + r.IntN(2) {
			q.Skills = append(q.Skills, starpost.SkillRequired{SkillID: skill(), MinLevel: 1 + r.IntN(3)})
		}
		if r.IntN(2) == 0 {
			q.Overflow = append(q.Overflow, starpost.OverflowStep{AfterSeconds: 0, SiteIDs: []string{site(), site(), site()}})
		}
		q.Overflow = append(q.Overflow,
			starpost.OverflowStep{AfterSeconds: 30, MinLevelDrop: 1},
			starpost.OverflowStep{AfterSeconds: 60, AnySite: true, QueueID: fmt.Sprintf("q%03d", r.IntN(size.Queues))})
		w.e.SetQueue(q)
		w.queues = append(w.queues, q.ID)
	}
	for i := range size.Agents {
		u := &starpost.User{ID: fmt.Sprintf("a%04d", i), WorkspaceID: "ws", Role: starpost.RoleAgent, SiteID: site()}
		for range 8 {
			u.Skills = append(u.Skills, starpost.Skilled{SkillID: skill(), Level: 1 + r.IntN(5)})
		}
		w.e.SetAgent(u)
		w.e.SetPresence("ws", starpost.AgentPresence{AgentID: u.ID, Presence: starpost.PresenceAvailable, Since: start.Add(-time.Duration(i) * time.Second)})
	}
	w.e.Decide(w.now)
	return w
}

// event observes a committed event of conversation conv.
func (w *BenchWorld) event(conv string, kind starpost.EventKind, actor starpost.Actor, body any) {
	w.seq[conv]++
	w.cursor++
	ev := &starpost.Event{WorkspaceID: "ws", ConversationID: conv, Seq: w.seq[conv], Cursor: w.cursor,
		Kind: kind, Actor: actor, At: w.now, Body: starpost.MustBody(body)}
	t := time.Now()
	w.e.Observe(ev)
	w.spent += time.Since(t)
}

// Arrive observes a new conversation in a random queue.
func (w *BenchWorld) Arrive() {
	w.n++
	id := fmt.Sprintf("cv%07d", w.n)
	ch := starpost.ChannelChat
	if w.r.IntN(4) == 0 {
		ch = starpost.ChannelEmail
	}
	w.event(id, starpost.KindCreated, starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"},
		starpost.CreatedBody{Channel: ch, ContactID: "ct", QueueID: w.queues[w.r.IntN(len(w.queues))], Priority: w.r.IntN(3)})
}

// Commit observes the committed events of decisions: offers are accepted
// at once; the oldest work is closed to keep the centre near 70 % load.
func (w *BenchWorld) Commit(ds []Decision) {
	for _, d := range ds {
		if d.Kind != DecideOffer {
			continue
		}
		w.event(d.ConversationID, starpost.KindOffer, starpost.System, starpost.OfferBody{AgentID: d.AgentID, ExpiresAt: d.ExpiresAt})
		w.event(d.ConversationID, starpost.KindAssigned, starpost.Actor{Role: starpost.RoleAgentParticipant, ID: d.AgentID},
			starpost.AssignedBody{AgentID: d.AgentID, By: "accept"})
		w.held = append(w.held, d.ConversationID)
	}
	for len(w.held) > w.size.Agents*2 {
		w.event(w.held[0], starpost.KindState, starpost.System, starpost.StateBody{State: starpost.StateClosed})
		w.held = w.held[1:]
	}
}

// Advance moves the world's clock.
func (w *BenchWorld) Advance(d time.Duration) { w.now = w.now.Add(d) }

// Decide runs the engine's Decide at the world's time and returns the
// decisions and the time Decide took.
func (w *BenchWorld) Decide() ([]Decision, time.Duration) {
	t := time.Now()
	ds := w.e.Decide(w.now)
	d := time.Since(t)
	w.spent += d
	return ds, d
}

// BenchResult is what Run measured.
type BenchResult struct {
	// Decisions is the number of offers decided.
	Decisions int
	// Deciding is the time spent in Decide; Cycle the time spent in any
	// engine call (Observe of every committed event, JSON bodies included,
	// and Decide).
	Deciding, Cycle time.Duration
	// P50 and P99 are per-decision latencies of Decide.
	P50, P99 time.Duration
}

// DecisionsPerSecond is Decisions over the time spent in Decide.
func (r BenchResult) DecisionsPerSecond() float64 { return float64(r.Decisions) / r.Deciding.Seconds() }

// CyclePerSecond is Decisions over the time spent in any engine call.
func (r BenchResult) CyclePerSecond() float64 { return float64(r.Decisions) / r.Cycle.Seconds() }

// Run routes n conversations in steady state: one arrives every
// millisecond, the engine decides, the decisions' events are observed.
func (w *BenchWorld) Run(n int) BenchResult {
	var res BenchResult
	lat := make([]time.Duration, 0, n)
	w.spent = 0
	for range n {
		w.Advance(time.Millisecond)
		w.Arrive()
		ds, d := w.Decide()
		res.Deciding += d
		offers := OffersIn(ds)
		for range offers {
			lat = append(lat, d/time.Duration(offers))
		}
		res.Decisions += offers
		w.Commit(ds)
	}
	res.Cycle = w.spent
	res.P50, res.P99 = Percentile(lat, 0.50), Percentile(lat, 0.99)
	return res
}

// OffersIn counts the offers among ds.
func OffersIn(ds []Decision) int {
	n := 0
	for _, d := range ds {
		if d.Kind == DecideOffer {
			n++
		}
	}
	return n
}

// Percentile returns the p-th percentile (0–1) of d, sorting d in place.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}
