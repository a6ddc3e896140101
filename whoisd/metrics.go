package whoisd

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bgpfilter/bgpfilter/whois"
)

// metrics are the server's Prometheus collectors. Label values come from fixed sets
// (query kinds, close reasons), never from client input, so cardinality is bounded.
type metrics struct {
	queries  *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	open     prometheus.Gauge
	accepted prometheus.Counter
	rejected prometheus.Counter
	closed   *prometheus.CounterVec
	pending  prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bgpfilter_whois_queries_total",
			Help: "Queries answered, by query type.",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bgpfilter_whois_query_errors_total",
			Help: "Queries answered with an error (F or %% ERROR), by query type.",
		}, []string{"type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bgpfilter_whois_query_duration_seconds",
			Help:    "Time to answer a query into the connection's output buffer, by query type.",
			Buckets: []float64{1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5},
		}, []string{"type"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bgpfilter_whois_open_connections",
			Help: "Client connections currently open.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bgpfilter_whois_connections_total",
			Help: "Client connections accepted.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bgpfilter_whois_connections_rejected_total",
			Help: "Client connections refused because the connection limit was reached.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bgpfilter_whois_pending_query_bytes",
			Help: "Query bytes read ahead and not answered yet, over all connections (each bounded by MaxPendingBytes).",
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bgpfilter_whois_connections_closed_total",
			Help: "Client connections closed, by reason (eof, quit, single_query, idle, line_too_long, write_failed, shutdown, aborted).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.queries, m.errors, m.duration, m.open, m.accepted, m.rejected, m.closed, m.pending)
	kinds := append(whois.Kinds(), whois.KindInvalid)
	for _, k := range kinds {
		m.queries.WithLabelValues(k.String())
		m.errors.WithLabelValues(k.String())
	}
	for _, r := range []string{closeEOF, closeQuit, closeOneShot, closeIdle, closeTooLong, closeWriteFail, closeShutdown, closeAborted} {
		m.closed.WithLabelValues(r)
	}
	return m
}
