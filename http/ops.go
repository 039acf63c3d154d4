package http

import (
	"context"
	_ "embed"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/starpost/starpost"
)

// metrics are the API's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	sockets  *prometheus.GaugeVec
	dropped  prometheus.Counter
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "starpost_http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "starpost_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern and method (WebSockets: the connection's life).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		sockets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "starpost_websocket_connections",
			Help: "Open WebSocket connections by kind (agent, visitor).",
		}, []string{"kind"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "starpost_websocket_slow_disconnects_total",
			Help: "WebSockets closed because the client read too slowly.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.sockets, m.dropped)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if method == "" {
		method = "ANY"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// pinger is implemented by stores and buses that can check their
// connection.
type pinger interface {
	Ping(ctx context.Context) error
}

// natsConner is implemented by the NATS bus.
type natsConner interface {
	Conn() *nats.Conn
}

// handleReadyz reports whether the store answers and the bus is reachable.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if p, ok := s.Store.(pinger); ok {
		if err := p.Ping(ctx); err != nil {
			s.Logger.WarnContext(ctx, "readyz: store not ready", "err", err)
			return starpost.Errorf(starpost.EUNAVAILABLE, "store not ready")
		}
	}
	if p, ok := s.Bus.(pinger); ok {
		if err := p.Ping(ctx); err != nil {
			s.Logger.WarnContext(ctx, "readyz: bus not ready", "err", err)
			return starpost.Errorf(starpost.EUNAVAILABLE, "bus not reachable")
		}
	} else if c, ok := s.Bus.(natsConner); ok {
		if nc := c.Conn(); nc == nil || !nc.IsConnected() {
			return starpost.Errorf(starpost.EUNAVAILABLE, "bus not connected")
		}
	} else {
		sub, err := s.Bus.Subscribe("")
		if err != nil {
			s.Logger.WarnContext(ctx, "readyz: bus not ready", "err", err)
			return starpost.Errorf(starpost.EUNAVAILABLE, "bus not reachable")
		}
		sub.Close()
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the embedded OpenAPI 3.1 document of the API.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
	return nil
}
