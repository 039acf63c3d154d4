package stream

import (
	"errors"
	"sync"

	"github.com/starpost/starpost"
)

// errForwardEnded tells a stream that its forwarded subscription ended.
var errForwardEnded = errors.New("stream: forwarded subscription ended")

// forwarder makes a channel subscription pullable for a stream with
// Query.Wake on a bus that cannot notify (bus.Bus can): a goroutine moves
// the channel's events to a queue and wakes the stream. The queue is
// bounded like the channel; a stream that lets it fill is a slow consumer,
// and the forwarder closes the subscription so the stream resubscribes and
// reads the store.
type forwarder struct {
	starpost.Subscription
	notify func()
	max    int

	mu   sync.Mutex
	q    []*starpost.Event
	done bool
}

func forward(sub starpost.Subscription, notify func()) *forwarder {
	f := &forwarder{Subscription: sub, notify: notify, max: max(cap(sub.Events()), 1)}
	go f.run()
	return f
}

func (f *forwarder) run() {
	for e := range f.Events() {
		f.mu.Lock()
		full := len(f.q) >= f.max
		if !full {
			f.q = append(f.q, e)
		}
		f.mu.Unlock()
		if full {
			f.Close() // the channel closes and the loop ends
			continue
		}
		f.notify()
	}
	f.mu.Lock()
	f.done = true
	f.mu.Unlock()
	f.notify()
}

// Take returns the forwarded events and, once the subscription has ended
// and its last events were taken or are returned now, an error.
func (f *forwarder) Take() ([]*starpost.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.q
	f.q = nil
	if f.done {
		return q, errForwardEnded
	}
	return q, nil
}

// forwardFiltered is a forwarded hub-filtered subscription: pulled through
// the forwarder, narrowed through the bus's subscription.
type forwardFiltered struct {
	*forwarder
	fs filteredSubscription
}

func (f forwardFiltered) Follow(ids ...string)          { f.fs.Follow(ids...) }
func (f forwardFiltered) Unfollow(id string, cur int64) { f.fs.Unfollow(id, cur) }
func (f forwardFiltered) Start() (int64, bool)          { return f.fs.Start() }
