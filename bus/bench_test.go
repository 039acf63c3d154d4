package bus_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
)

// BenchmarkPublishDeliver measures publish → NATS (embedded, in-process) →
// hub → local subscribers: throughput in events/s and the latency from the
// Publish call to receipt by every subscriber, p50 and p99.
func BenchmarkPublishDeliver(b *testing.B) {
	for _, bc := range []struct{ batch, subs int }{{1, 1}, {64, 1}, {64, 100}} {
		b.Run(fmt.Sprintf("batch=%d/subs=%d", bc.batch, bc.subs), func(b *testing.B) {
			benchPublishDeliver(b, bc.batch, bc.subs)
		})
	}
}

func benchPublishDeliver(b *testing.B, batch, nsubs int) {
	ctx := context.Background()
	// No baseline hold: measure the steady state, not the first 50 ms.
	bs := open(b, bus.Options{SubscriberBuffer: 1 << 16, BaselineDelay: -1})
	body := starpost.MustBody(starpost.MessageBody{Text: "Hello, I would like to know where my order is."})
	n := b.N
	sent := make([]time.Time, n+1)
	lat := make([][]time.Duration, nsubs)
	var wg sync.WaitGroup
	for i := 0; i < nsubs; i++ {
		s := subscribe(b, bs, "ws_bench")
		lat[i] = make([]time.Duration, 0, n)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for e := range s.Events() {
				lat[i] = append(lat[i], time.Since(sent[e.Cursor]))
				if e.Cursor == int64(n) {
					return
				}
			}
			b.Errorf("subscriber %d closed: %v", i, s.(*bus.Subscription).Err())
		}(i)
	}
	evs := make([]*starpost.Event, n+1)
	for c := 1; c <= n; c++ {
		evs[c] = &starpost.Event{WorkspaceID: "ws_bench", ConversationID: "cv_1", Seq: int64(c), Cursor: int64(c),
			Kind: starpost.KindMessage, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}, Body: body}
	}
	b.ResetTimer()
	start := time.Now()
	for c := 1; c <= n; c += batch {
		end := min(c+batch, n+1)
		now := time.Now()
		for i := c; i < end; i++ {
			sent[i] = now
		}
		if err := bs.Publish(ctx, evs[c:end]...); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkRoundTrip measures the latency of one event at a time (publish,
// then wait for the subscriber to receive it): on one node through the
// in-process connection, and from one node to another over loopback TCP.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("in-process", func(b *testing.B) {
		n := open(b, bus.Options{BaselineDelay: -1})
		benchRoundTrip(b, n, n)
	})
	b.Run("two-nodes-tcp", func(b *testing.B) {
		n1 := open(b, bus.Options{Name: "n1", Listen: "127.0.0.1:0"})
		n2 := open(b, bus.Options{Name: "n2", URL: n1.ClientURL(), BaselineDelay: -1})
		benchRoundTrip(b, n1, n2)
	})
}

func benchRoundTrip(b *testing.B, from, to *bus.Bus) {
	ctx := context.Background()
	s := subscribe(b, to, "ws_rt")
	body := starpost.MustBody(starpost.MessageBody{Text: "ping"})
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for c := 1; c <= b.N; c++ {
		e := &starpost.Event{WorkspaceID: "ws_rt", ConversationID: "cv_1", Cursor: int64(c),
			Kind: starpost.KindMessage, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}, Body: body}
		start := time.Now()
		if err := from.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
		if got, ok := <-s.Events(); !ok || got.Cursor != int64(c) {
			b.Fatalf("got %v, want cursor %d", got, c)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
