package whoisd

import (
	"github.com/bgpfilter/bgpfilter/internal/metrics"
	"github.com/bgpfilter/bgpfilter/whois"
)

// serverMetrics are the server's Prometheus metrics. Label values come from fixed sets
// (query kinds, close reasons), never from client input, so cardinality is bounded.
type serverMetrics struct {
	queries  *metrics.CounterVec
	errors   *metrics.CounterVec
	duration *metrics.HistogramVec
	open     *metrics.Gauge
	accepted *metrics.Counter
	rejected *metrics.Counter
	closed   *metrics.CounterVec
	pending  *metrics.Gauge
}

func newMetrics(reg *metrics.Registry) *serverMetrics {
	m := &serverMetrics{
		queries: reg.NewCounterVec("bgpfilter_whois_queries_total",
			"Queries answered, by query type.", "type"),
		errors: reg.NewCounterVec("bgpfilter_whois_query_errors_total",
			"Queries answered with an error (F or %% ERROR), by query type.", "type"),
		duration: reg.NewHistogramVec("bgpfilter_whois_query_duration_seconds",
			"Time to answer a query into the connection's output buffer, by query type.", "type",
			[]float64{1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5}),
		open:     reg.NewGauge("bgpfilter_whois_open_connections", "Client connections currently open."),
		accepted: reg.NewCounter("bgpfilter_whois_connections_total", "Client connections accepted."),
		rejected: reg.NewCounter("bgpfilter_whois_connections_rejected_total",
			"Client connections refused because the connection limit was reached."),
		pending: reg.NewGauge("bgpfilter_whois_pending_query_bytes",
			"Query bytes read ahead and not answered yet, over all connections (each bounded by MaxPendingBytes)."),
		closed: reg.NewCounterVec("bgpfilter_whois_connections_closed_total",
			"Client connections closed, by reason (eof, quit, single_query, idle, line_too_long, write_failed, shutdown, aborted).", "reason"),
	}
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
