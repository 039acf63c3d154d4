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
	waits    prometheus.Histogram
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
		waits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "starpost_queue_wait_seconds",
			Help:    "How long conversations waited in their queue before an agent took them.",
			Buckets: []float64{1, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600},
		}),
	}
	reg.MustRegister(m.latency, m.events, m.failures, m.waits)
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
		if e.Kind == starpost.KindAssigned {
			m.observeWait(ctx, e)
		}
	}
	return out, nil
}

// observeWait records how long the conversation of an assigned event waited
// since it last entered its queue.
func (m *meteredStore) observeWait(ctx context.Context, e *starpost.Event) {
	c, err := m.Store.FindConversation(ctx, e.WorkspaceID, e.ConversationID)
	if err != nil || c.QueuedAt == nil || e.At.Before(*c.QueuedAt) {
		return
	}
	m.waits.Observe(e.At.Sub(*c.QueuedAt).Seconds())
}

// queueCollector reports, at scrape time, how many conversations wait in
// each queue and how long the oldest has waited, read from the store.
type queueCollector struct {
	store   starpost.Store
	clock   starpost.Clock
	depth   *prometheus.Desc
	longest *prometheus.Desc
}

func newQueueCollector(s starpost.Store, clock starpost.Clock) *queueCollector {
	labels := []string{"workspace", "queue"}
	return &queueCollector{store: s, clock: clock,
		depth:   prometheus.NewDesc("starpost_queue_waiting", "Conversations waiting for an agent (queued or offered).", labels, nil),
		longest: prometheus.NewDesc("starpost_queue_longest_wait_seconds", "How long the oldest waiting conversation has waited.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.longest
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wss, err := c.store.ListWorkspaces(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	now := c.clock.Now()
	for _, ws := range wss {
		waiting, err := c.store.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws.ID,
			States: []starpost.State{starpost.StateQueued, starpost.StateOffered}})
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.depth, err)
			return
		}
		queues, err := c.store.ListQueues(ctx, ws.ID)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.depth, err)
			return
		}
		depth, oldest := map[string]int{}, map[string]time.Duration{}
		for _, q := range queues {
			depth[q.ID] = 0
		}
		for _, cv := range waiting {
			depth[cv.QueueID]++
			if cv.QueuedAt != nil {
				oldest[cv.QueueID] = max(oldest[cv.QueueID], now.Sub(*cv.QueuedAt))
			}
		}
		for q, n := range depth {
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), ws.ID, q)
			ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, oldest[q].Seconds(), ws.ID, q)
		}
	}
}
