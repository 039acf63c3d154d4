package bus

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/starpost/starpost"
)

// BenchmarkFanout measures what one committed event costs a node with many
// local subscribers of which only one wants it (a visitor's message among
// 2,000 open sockets): the hub's fan-out plus the work of every subscriber
// woken by it. Each batch is waited for until every subscriber has consumed
// what it was sent, so the figure includes the wake-ups, not only the sends.
//
// "match-in-subscriber" is the unfiltered way: every subscriber receives
// every event and drops it in its own goroutine. "hub-filter" gives each
// subscription its conversation, so the hub sends the event to one.
func BenchmarkFanout(b *testing.B) {
	for _, subs := range []int{2000} {
		for _, mode := range []string{"match-in-subscriber", "hub-filter"} {
			b.Run(fmt.Sprintf("subs=%d/%s", subs, mode), func(b *testing.B) {
				benchFanout(b, subs, mode == "hub-filter")
			})
		}
	}
}

func benchFanout(b *testing.B, nsubs int, filtered bool) {
	const ws, batch = "ws_fan", 64
	opts := Options{BaselineDelay: -1}
	opts.setDefaults()
	h := newHub(opts, opts.Logger)
	defer h.close()

	var seen, matched atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < nsubs; i++ {
		conv := fmt.Sprintf("cv_%d", i)
		var s *Subscription
		var err error
		if filtered {
			s, err = h.subscribeFiltered(ws, opts.SubscriberBuffer, Filter{Conversations: []string{conv}})
		} else {
			s, err = h.subscribe(ws, opts.SubscriberBuffer)
		}
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range s.Events() {
				if e.ConversationID == conv { // the stream's Match
					matched.Add(1)
				}
				seen.Add(1)
			}
		}()
	}
	body := starpost.MustBody(starpost.MessageBody{Text: "Hello, I would like to know where my order is."})
	evs := make([]*starpost.Event, b.N+1)
	for c := 1; c <= b.N; c++ {
		evs[c] = &starpost.Event{WorkspaceID: ws, ConversationID: "cv_0", Cursor: int64(c),
			Kind: starpost.KindMessage, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_0"}, Body: body}
	}
	perEvent := int64(nsubs)
	if filtered {
		perEvent = 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for c := 1; c <= b.N; c += batch {
		end := min(c+batch, b.N+1)
		for _, e := range evs[c:end] {
			h.handle(e)
		}
		want := int64(end-1) * perEvent
		for seen.Load() < want {
			runtime.Gosched()
		}
	}
	b.StopTimer()
	if got := matched.Load(); got != int64(b.N) {
		b.Fatalf("matching subscriber got %d events, want %d", got, b.N)
	}
	st := h.stats()
	b.ReportMetric(float64(st.SlowClosed), "slow-closed")
	h.close()
	wg.Wait()
}
