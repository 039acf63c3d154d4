package router

import (
	"testing"
	"time"
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
