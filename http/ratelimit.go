package http

import (
	"sync"
	"time"
)

// limiter is a set of token buckets keyed by client address or email, timed
// by the server's injected clock.
type limiter struct {
	rate Rate
	mu   sync.Mutex
	m    map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the memory one limiter may hold; full buckets are
// dropped first since they carry no information.
const maxBuckets = 100_000

func newLimiter(r Rate) *limiter {
	return &limiter{rate: r, m: make(map[string]*bucket)}
}

// allow takes one token from key's bucket at now. When the bucket is empty it
// returns false and how long until a token is available.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.m[key] = b
	}
	b.refill(l.rate, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.rate.Every))
	if wait < time.Second {
		wait = time.Second
	}
	return false, wait
}

// refund gives back the token a successful attempt took, so that only
// failures count: a whole service station signing in from one address at
// the start of a shift is never limited, a password guesser is.
func (l *limiter) refund(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.m[key]; ok {
		b.refill(l.rate, now)
		b.tokens = min(b.tokens+1, float64(l.rate.Burst))
	}
}

func (b *bucket) refill(r Rate, now time.Time) {
	if el := now.Sub(b.last); el > 0 && r.Every > 0 {
		b.tokens += float64(el) / float64(r.Every)
		if b.tokens > float64(r.Burst) {
			b.tokens = float64(r.Burst)
		}
	}
	b.last = now
}

func (l *limiter) prune(now time.Time) {
	for k, b := range l.m {
		b.refill(l.rate, now)
		if b.tokens >= float64(l.rate.Burst) {
			delete(l.m, k)
		}
	}
	if len(l.m) >= maxBuckets { // everyone is limited: start over rather than grow
		clear(l.m)
	}
}
