package lease

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Single is the lease of a node that is alone (SQLite): it always holds
// every lease at once. Run still honours its context, and each call of lead
// is a new term. The zero value is ready to use, with a random ID, the
// system clock and no logging.
type Single struct {
	ID     string
	Clock  starpost.Clock
	Logger *slog.Logger

	mu    sync.Mutex
	terms map[string]uint64
}

var _ Lease = (*Single)(nil)

// Run calls lead at once, and again a second after each time it returns
// nil, until ctx ends or lead fails.
func (s *Single) Run(ctx context.Context, name string, lead func(context.Context) error) error {
	s.mu.Lock()
	defaults(&s.ID, &s.Clock, &s.Logger)
	id, clock, log := s.ID, s.Clock, s.Logger
	s.mu.Unlock()
	return run(ctx, name, lead, func(ctx context.Context, name string) (*hold, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.terms == nil {
			s.terms = map[string]uint64{}
		}
		s.terms[name]++
		n := s.terms[name]
		s.mu.Unlock()
		return &hold{
			term:    Term{Name: name, Number: n, Holder: id, Since: clock.Now()},
			lost:    make(chan struct{}),
			release: func() {},
		}, nil
	}, time.Second, log)
}
