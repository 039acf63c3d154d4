package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starpost/starpost"
)

// meteredStore measures every Append: commit latency and events by kind.
type meteredStore struct {
	starpost.Store
	latency  prometheus.Histogram
	events   *prometheus.CounterVec
	failures *prometheus.CounterVec
}

func newMeteredStore(s starpost.Store, reg prometheus.Registerer) *meteredStore {
	m := &meteredStore{
		Store: s,
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "starpost_event_commit_seconds",
			Help:    "Time from Append to commit (group commit included).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "starpost_events_committed_total",
			Help: "Committed events by kind (assigned counts assignments).",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "starpost_append_failures_total",
			Help: "Append calls that failed, by error code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.latency, m.events, m.failures)
	return m
}

// Append commits through the wrapped store and records the figures.
func (m *meteredStore) Append(ctx context.Context, events ...*starpost.Event) ([]*starpost.Event, error) {
	start := time.Now()
	out, err := m.Store.Append(ctx, events...)
	m.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		m.failures.WithLabelValues(starpost.ErrorCode(err)).Inc()
		return out, err
	}
	for _, e := range out {
		m.events.WithLabelValues(string(e.Kind)).Inc()
	}
	return out, nil
}
