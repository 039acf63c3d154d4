package starpost

import "context"

// Subscription is a live feed of events. Its channel is closed when the
// subscription ends: on Close, when the bus shuts down, or when the
// subscriber falls too far behind (it must then resume from its last cursor
// by reading the store).
type Subscription interface {
	Events() <-chan *Event
	Close()
}

// EventBus carries committed events and ephemeral signals to every node.
// Publish is called only after the events are committed.
type EventBus interface {
	Publish(ctx context.Context, events ...*Event) error
	// Subscribe delivers the live events of one workspace, or of every
	// workspace when workspaceID is empty.
	Subscribe(workspaceID string) (Subscription, error)
}
