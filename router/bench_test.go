package router

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/starpost/starpost"
)

// BenchmarkDecide measures the steady state on DefaultBenchSize: one
// conversation arrives, the engine decides, and the decision's committed
// events (offer, accept) and the closing of old work are observed.
// decisions/s divides the offers by the time spent in Decide;
// cycle-decisions/s by the time spent inside the engine for the whole cycle
// (Observe of the four events of each conversation, JSON bodies included,
// and Decide). Building the events in the benchmark is not counted.
func BenchmarkDecide(b *testing.B) {
	for _, strat := range []Strategy{LongestIdle, LeastOccupied} {
		b.Run(strat.String(), func(b *testing.B) {
			w := NewBenchWorld(DefaultBenchSize(), strat)
			b.ReportAllocs()
			b.ResetTimer()
			r := w.Run(b.N)
			b.StopTimer()
			b.ReportMetric(r.DecisionsPerSecond(), "decisions/s")
			b.ReportMetric(r.CyclePerSecond(), "cycle-decisions/s")
			b.ReportMetric(float64(r.P50.Nanoseconds()), "p50-ns/decision")
			b.ReportMetric(float64(r.P99.Nanoseconds()), "p99-ns/decision")
		})
	}
}

// BenchmarkDecideBurst measures Decide alone on a surge: 1,000
// conversations arrive at once and one Decide offers them.
func BenchmarkDecideBurst(b *testing.B) {
	w := NewBenchWorld(DefaultBenchSize(), LongestIdle)
	decisions := 0
	var spent time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		w.Advance(time.Second)
		for range 1000 {
			w.Arrive()
		}
		b.StartTimer()
		ds, d := w.Decide()
		spent += d
		decisions += OffersIn(ds)
		b.StopTimer()
		w.Commit(ds)
		b.StartTimer()
	}
	b.ReportMetric(float64(decisions)/spent.Seconds(), "decisions/s")
	b.ReportMetric(float64(spent.Nanoseconds())/float64(max(decisions, 1)), "ns/decision")
}

// BenchmarkHeartbeat measures what a node's heartbeat costs the leader:
// 5,000 connected agents announced in chunks of 1,000 (as http.Server
// sends them), observed by an engine with liveness on, JSON bodies
// included, and the Decide that follows. ns/agent is the cost of one
// agent's re-announcement.
func BenchmarkHeartbeat(b *testing.B) {
	const agents, chunk = 5000, 1000
	e := NewEngine(WithLiveness(MissedBeats*tBeat), WithoutQueueStatus())
	now := t0
	e.AssumeConnected(now)
	ids := make([]string, agents)
	for i := range ids {
		ids[i] = fmt.Sprintf("us_%032x", i)
		e.SetAgent(agentUser(ids[i], "", nil))
	}
	beat := func(seq uint64) []*starpost.Event {
		var evs []*starpost.Event
		for c := range slices.Chunk(ids, chunk) {
			evs = append(evs, hb("node-a", seq, c...).event("ws1", now))
		}
		return evs
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		now = now.Add(tBeat)
		evs := beat(uint64(i + 1))
		b.StartTimer()
		for _, ev := range evs {
			e.Observe(ev)
		}
		e.Decide(now)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*agents), "ns/agent")
	if v, _ := e.Agent("ws1", ids[0]); !v.Connected {
		b.Fatal("an announced agent is not connected")
	}
}
