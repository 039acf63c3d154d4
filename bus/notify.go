package bus

import (
	"fmt"

	"github.com/starpost/starpost"
)

// SubscribeNotify is a subscription of workspace workspaceID, narrowed at
// the hub by f (see Filter) or, with f nil, receiving every event of the
// workspace like Subscribe, that the subscriber pulls instead of receiving
// from a channel: no goroutine has to wait on it.
//
// The hub queues the subscription's events (at most SubscriberBuffer; like
// a full channel, a full queue closes the subscription with
// ErrSlowConsumer) and calls notify after queueing one and when the
// subscription ends. The subscriber then calls Take. An empty queue holds
// no memory, which is what makes tens of thousands of idle WebSocket
// streams on one node cheap. notify runs while the hub delivers to every
// other subscriber: it must return quickly and must not call the bus or the
// subscription.
//
// Events returns nil for such a subscription.
func (b *Bus) SubscribeNotify(workspaceID string, f *Filter, notify func()) (*Subscription, error) {
	if err := ValidWorkspaceID(workspaceID); err != nil {
		return nil, fmt.Errorf("bus: subscribe notify: %w", err)
	}
	if notify == nil {
		return nil, fmt.Errorf("bus: subscribe notify %q: %w", workspaceID, starpost.FieldError("notify", "required"))
	}
	var (
		s   *Subscription
		err error
	)
	if f == nil {
		s, err = b.hub.subscribeWith(workspaceID, b.opts.SubscriberBuffer, notify)
	} else {
		s, err = b.hub.subscribeFilteredWith(workspaceID, b.opts.SubscriberBuffer, *f, notify)
	}
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe notify %q: %w", workspaceID, err)
	}
	return s, nil
}

// Take returns, in order, the events queued for a subscription made with
// SubscribeNotify and empties its queue. err is nil while the subscription
// is open; once it has ended, Take returns the events queued before the end
// with the reason (ErrSlowConsumer or ErrClosed), then no events and the
// same reason. Take on a channel subscription returns no events.
func (s *Subscription) Take() (events []*starpost.Event, err error) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	events, s.q = s.q, nil
	return events, s.err
}

// queue appends e to a pull subscription's queue, or reports false when it
// is full. Callers hold mu.
func (s *Subscription) queue(e *starpost.Event) bool {
	if len(s.q) >= s.max {
		return false
	}
	s.q = append(s.q, e)
	s.notify()
	return true
}
