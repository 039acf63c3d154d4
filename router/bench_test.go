package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

// benchWorld is a contact centre of 5,000 agents, 200 queues and 50 skills,
// driven by hand-made committed events (no harness) so the figures measure
// the engine alone.
type benchWorld struct {
	e      *Engine
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

const (
	benchAgents = 5000
	benchQueues = 200
	benchSkills = 50
	benchSites  = 10
)

func newBenchWorld(tb testing.TB, strat Strategy) *benchWorld {
	tb.Helper()
	r := rand.New(rand.NewPCG(7, 11))
	w := &benchWorld{e: NewEngine(WithStrategy(strat)), r: r, now: t0, seq: map[string]int64{}}
	skill := func() string { return fmt.Sprintf("sk%02d", r.IntN(benchSkills)) }
	site := func() string { return fmt.Sprintf("site%d", r.IntN(benchSites)) }
	for i := range benchQueues {
		q := &starpost.Queue{ID: fmt.Sprintf("q%03d", i), WorkspaceID: "ws", Name: "q", Priority: r.IntN(5), OfferTimeout: 20}
		for range 1 + r.IntN(2) {
			q.Skills = append(q.Skills, req(skill(), 1+r.IntN(3)))
		}
		if r.IntN(2) == 0 {
			q.Overflow = append(q.Overflow, starpost.OverflowStep{AfterSeconds: 0, SiteIDs: []string{site(), site(), site()}})
		}
		q.Overflow = append(q.Overflow,
			starpost.OverflowStep{AfterSeconds: 30, MinLevelDrop: 1},
			starpost.OverflowStep{AfterSeconds: 60, AnySite: true, QueueID: fmt.Sprintf("q%03d", r.IntN(benchQueues))})
		w.e.SetQueue(q)
		w.queues = append(w.queues, q.ID)
	}
	for i := range benchAgents {
		u := &starpost.User{ID: fmt.Sprintf("a%04d", i), WorkspaceID: "ws", Role: starpost.RoleAgent, SiteID: site()}
		for range 8 {
			u.Skills = append(u.Skills, sk(skill(), 1+r.IntN(5)))
		}
		w.e.SetAgent(u)
		w.e.SetPresence("ws", starpost.AgentPresence{AgentID: u.ID, Presence: starpost.PresenceAvailable, Since: t0.Add(-time.Duration(i) * time.Second)})
	}
	w.e.Decide(w.now)
	return w
}

// event observes a committed event of conversation conv.
func (w *benchWorld) event(conv string, kind starpost.EventKind, actor starpost.Actor, body any) {
	w.seq[conv]++
	w.cursor++
	ev := &starpost.Event{WorkspaceID: "ws", ConversationID: conv, Seq: w.seq[conv], Cursor: w.cursor,
		Kind: kind, Actor: actor, At: w.now, Body: starpost.MustBody(body)}
	t := time.Now()
	w.e.Observe(ev)
	w.spent += time.Since(t)
}

var customer = starpost.Actor{Role: starpost.RoleCustomer, ID: "ct"}

func (w *benchWorld) arrive() {
	w.n++
	id := fmt.Sprintf("cv%07d", w.n)
	ch := starpost.ChannelChat
	if w.r.IntN(4) == 0 {
		ch = starpost.ChannelEmail
	}
	w.event(id, starpost.KindCreated, customer, starpost.CreatedBody{Channel: ch, ContactID: "ct",
		QueueID: w.queues[w.r.IntN(len(w.queues))], Priority: w.r.IntN(3)})
}

// commit observes the committed events of decisions: offers are accepted
// at once; the oldest work is closed to keep the centre near 70 % load.
func (w *benchWorld) commit(ds []Decision) {
	for _, d := range ds {
		if d.Kind != DecideOffer {
			continue
		}
		w.event(d.ConversationID, starpost.KindOffer, starpost.System, starpost.OfferBody{AgentID: d.AgentID, ExpiresAt: d.ExpiresAt})
		w.event(d.ConversationID, starpost.KindAssigned, starpost.Actor{Role: starpost.RoleAgentParticipant, ID: d.AgentID},
			starpost.AssignedBody{AgentID: d.AgentID, By: "accept"})
		w.held = append(w.held, d.ConversationID)
	}
	for len(w.held) > benchAgents*2 {
		w.event(w.held[0], starpost.KindState, starpost.System, starpost.StateBody{State: starpost.StateClosed})
		w.held = w.held[1:]
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkDecide measures the steady state: one conversation arrives, the
// engine decides (latency measured around Decide), and the decision's
// committed events (offer, accept) and the closing of old work are observed.
// decisions/s divides the offers by the time spent in Decide;
// cycle-decisions/s by the time spent inside the engine for the whole cycle
// (Observe of the four events of each conversation, JSON bodies included,
// and Decide). Building the events in the benchmark is not counted.
func BenchmarkDecide(b *testing.B) {
	for _, strat := range []Strategy{LongestIdle, LeastOccupied} {
		b.Run(strat.String(), func(b *testing.B) {
			w := newBenchWorld(b, strat)
			lat := make([]time.Duration, 0, b.N)
			decisions := 0
			b.ReportAllocs()
			w.spent = 0
			var deciding time.Duration
			b.ResetTimer()
			for range b.N {
				w.now = w.now.Add(time.Millisecond)
				w.arrive()
				t := time.Now()
				ds := w.e.Decide(w.now)
				d := time.Since(t)
				w.spent += d
				deciding += d
				if n := offersIn(ds); n > 0 {
					for range n {
						lat = append(lat, d/time.Duration(n))
					}
				}
				decisions += offersIn(ds)
				w.commit(ds)
			}
			b.StopTimer()
			b.ReportMetric(float64(decisions)/deciding.Seconds(), "decisions/s")
			b.ReportMetric(float64(decisions)/w.spent.Seconds(), "cycle-decisions/s")
			b.ReportMetric(float64(percentile(lat, 0.50).Nanoseconds()), "p50-ns/decision")
			b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds()), "p99-ns/decision")
		})
	}
}

func offersIn(ds []Decision) int {
	n := 0
	for _, d := range ds {
		if d.Kind == DecideOffer {
			n++
		}
	}
	return n
}

// BenchmarkDecideBurst measures Decide alone on a surge: 1,000
// conversations arrive at once and one Decide offers them.
func BenchmarkDecideBurst(b *testing.B) {
	w := newBenchWorld(b, LongestIdle)
	decisions := 0
	var spent time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		w.now = w.now.Add(time.Second)
		for range 1000 {
			w.arrive()
		}
		b.StartTimer()
		t := time.Now()
		ds := w.e.Decide(w.now)
		spent += time.Since(t)
		decisions += offersIn(ds)
		b.StopTimer()
		w.commit(ds)
		b.StartTimer()
	}
	b.ReportMetric(float64(decisions)/spent.Seconds(), "decisions/s")
	b.ReportMetric(float64(spent.Nanoseconds())/float64(max(decisions, 1)), "ns/decision")
}
