package http

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/starpost/starpost"
)

// TestSlowClientIsCut checks that a socket whose bounded queue is full is
// marked slow and cancelled instead of blocking the stream.
func TestSlowClientIsCut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sk := &socket{out: outbox{max: 2}, cancel: cancel}
	for i := 0; i < 2; i++ {
		if err := sk.send(Frame{Type: "event", Event: &starpost.Event{Cursor: int64(i + 1)}}); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := sk.send(Frame{Type: "event"}); err == nil {
		t.Fatal("a full queue accepted a frame")
	}
	if !sk.slow || ctx.Err() == nil {
		t.Fatalf("slow=%v ctx=%v: want a slow, cancelled socket", sk.slow, ctx.Err())
	}
}

// TestOutboxOrder: frames come out in the order they went in, a take
// empties the queue, and an empty outbox holds no frames.
func TestOutboxOrder(t *testing.T) {
	woken := 0
	o := outbox{max: 3, notify: func() { woken++ }}
	if got := o.take(); got != nil {
		t.Fatalf("empty outbox gave %q", got)
	}
	for _, f := range []string{"a", "b", "c"} {
		if !o.push([]byte(f)) {
			t.Fatalf("push %s refused", f)
		}
	}
	if o.push([]byte("d")) {
		t.Fatal("push beyond max accepted")
	}
	if woken != 3 {
		t.Fatalf("%d wake-ups after 3 pushes", woken)
	}
	got := o.take()
	if len(got) != 3 || string(got[0]) != "a" || string(got[2]) != "c" {
		t.Fatalf("took %q", got)
	}
	if !o.push([]byte("e")) || string(o.take()[0]) != "e" {
		t.Fatal("the queue did not empty")
	}
}

// TestOnDemand: a kick before start is remembered; work queued by many
// goroutines, each followed by a kick, is all done, by one run at a time;
// after stop, kicks run nothing.
func TestOnDemand(t *testing.T) {
	const producers, each = 8, 500
	var (
		d       onDemand
		mu      sync.Mutex
		queue   []int
		done    int
		running atomic.Int32
		overlap atomic.Bool
		all     = make(chan struct{})
		once    sync.Once
	)
	queue = append(queue, -1)
	d.kick() // before start: its work is done once started
	d.start(func() {
		if running.Add(1) > 1 {
			overlap.Store(true)
		}
		defer running.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		done += len(queue)
		queue = nil
		if done == producers*each+1 {
			once.Do(func() { close(all) })
		}
	})
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				mu.Lock()
				queue = append(queue, i)
				mu.Unlock()
				d.kick()
			}
		}()
	}
	wg.Wait()
	<-all // every item was taken by a run
	if overlap.Load() {
		t.Fatal("two runs at once")
	}
	d.stop()
	mu.Lock()
	queue = append(queue, 0)
	mu.Unlock()
	d.kick()
	d.stop() // waits for nothing: no run started
	mu.Lock()
	defer mu.Unlock()
	if len(queue) != 1 {
		t.Fatal("a kick after stop ran")
	}
}
