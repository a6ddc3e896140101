package irr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Server is one IRR server of a Failover: a Querier with the name messages use for it
// (e.g. "whois://whois.radb.net:43").
type Server struct {
	Name string
	Q    Querier
}

// Failover is a Querier over several servers tried in order, with a circuit breaker
// per server. A server that fails a query with ErrUnavailable (connect error, timeout,
// truncated or mis-framed reply, F reply, dropped connection) is reported with one
// warning and the same query is retried on the next server. The failed server is not
// given up at once (one timed-out query must not make every later customer of a
// generate run unavailable): while a later server is healthy it is skipped for
// retryAfter, then one query probes it; when no later server is healthy the next query
// probes it right away. One probe runs at a time: the queries arriving meanwhile wait
// for its outcome (or go to a healthy later server). A probe that answers makes the
// server healthy again; after maxFailures failures in a row the server is skipped for
// the rest of the run, with a second warning. Other errors (an unknown source, an
// invalid name) are answers, not failures, and are returned as they are. When every
// server has failed, the error wraps ErrUnavailable and names each server with its
// error, and the query.
//
// Failover is safe for concurrent use: when one call finds a server failed, the calls
// still in flight on it are cancelled (a whois.Client serialises its queries, so each
// would otherwise wait for its own timeout) and go through the breaker again, so that
// a dead server costs a bounded number of timeouts and two warnings per run, not one
// per concurrent query (issue 12 item 16).
type Failover struct {
	servers []Server
	log     *slog.Logger
	now     func() time.Time

	mu sync.Mutex
	st []breaker // per server
}

// maxFailures is how many queries in a row a server may fail before it is skipped
// for the rest of the run: a dead server costs at most this many timeouts.
const maxFailures = 3

// retryAfter is how long a failed server is skipped while a later server is healthy,
// before one query probes it again (a probe that fails costs that query a timeout,
// then it is answered by the later server).
const retryAfter = 30 * time.Second

// breaker is one server's circuit breaker.
type breaker struct {
	fails    int       // failures in a row; 0: healthy
	err      error     // the last failure
	failedAt time.Time // of the last failure
	dropped  bool      // fails >= maxFailures: skipped for the rest of the run
	// down is closed when the server fails: it cancels the calls in flight on it
	// (started while it was healthy). A new one is made when it answers again.
	down chan struct{}
	// probe is non-nil while a probe call is in flight, and closed when it ends;
	// probes counts the probes started.
	probe  chan struct{}
	probes int
}

// errSkipped is the cause of a call cancelled because another call found its server
// failed.
var errSkipped = errors.New("irr: server failed in another query; skipped")

var _ Querier = (*Failover)(nil)

// NewFailover returns a Failover over servers, in priority order. log receives the
// warnings (nil: discard).
func NewFailover(log *slog.Logger, servers ...Server) *Failover {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := make([]breaker, len(servers))
	for i := range st {
		st[i].down = make(chan struct{})
	}
	return &Failover{servers: servers, log: log, now: time.Now, st: st}
}

// Failed returns the servers whose last query failed (not answering since), with why.
func (f *Failover) Failed() map[string]error {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]error{}
	for i, b := range f.st {
		if b.fails > 0 {
			out[f.servers[i].Name] = b.err
		}
	}
	return out
}

// Identity names the server list in priority order, e.g. "whois://a:43 whois://b:43":
// the cache (irrcache) keys answers by it, so that what one configuration was told is
// never served to another.
func (f *Failover) Identity() string {
	names := make([]string, len(f.servers))
	for i, s := range f.servers {
		names[i] = s.Name
	}
	return strings.Join(names, " ")
}

// Close closes every server that has a Close method.
func (f *Failover) Close() error {
	var errs []error
	for _, s := range f.servers {
		if c, ok := s.Q.(interface{ Close() error }); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// admission is what the breaker lets a call do on one server.
type admission int

const (
	skip   admission = iota // not now: the next server
	normal                  // healthy: call it (cancelled if another call finds it failed)
	probe                   // failed before: this call is the one probe
)

// healthyAfterLocked reports whether a server after i is healthy.
func (f *Failover) healthyAfterLocked(i int) bool {
	for _, b := range f.st[i+1:] {
		if b.fails == 0 {
			return true
		}
	}
	return false
}

// admit asks server i's breaker what this call may do; it may wait for a probe in
// flight. down is the channel that cancels a normal call; probes is the breaker's
// probe count, which the call passes back as seen when it is admitted again after a
// cancellation (seen < 0 the first time): a probe started since then tried the server
// on its behalf, so it does not start another (a dead server costs one probe per
// failure, not one per cancelled call).
func (f *Failover) admit(ctx context.Context, i, seen int) (adm admission, down chan struct{}, probes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &f.st[i]
	switch {
	case b.dropped:
		return skip, nil, b.probes
	case b.fails == 0:
		return normal, b.down, b.probes
	case b.probe != nil:
		if f.healthyAfterLocked(i) {
			return skip, nil, b.probes
		}
		// Wait for the probe's outcome instead of paying a timeout of our own.
		wait := b.probe
		f.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
		}
		f.mu.Lock()
		if b.fails == 0 && ctx.Err() == nil {
			return normal, b.down, b.probes
		}
		return skip, nil, b.probes
	case seen >= 0 && b.probes > seen,
		f.healthyAfterLocked(i) && f.now().Before(b.failedAt.Add(retryAfter)):
		return skip, nil, b.probes
	}
	b.probe = make(chan struct{})
	b.probes++
	return probe, nil, b.probes
}

// do runs call on the first server the breakers admit, failing over on
// ErrUnavailable.
func (f *Failover) do(ctx context.Context, query string, call func(context.Context, Querier) error) error {
	if len(f.servers) == 0 {
		return fmt.Errorf("irr: %s: no IRR server configured: %w", query, ErrUnavailable)
	}
	mine := make([]error, len(f.servers)) // this call's own failure per server, for the message
	for i := 0; i < len(f.servers); i++ {
		// A call cancelled because another one found the server failed goes through
		// the breaker again (it may probe, or wait for the probe); at most twice.
		seen := -1
		for again := 0; again < 3; again++ {
			adm, down, probes := f.admit(ctx, i, seen)
			seen = probes
			if adm == skip {
				break
			}
			err := f.callOn(ctx, i, down, call)
			if adm == probe {
				f.probed(i, query, err, ctx.Err() != nil)
			}
			if err == nil || !errors.Is(err, ErrUnavailable) && !errors.Is(err, errSkipped) {
				return err
			}
			if ctx.Err() != nil {
				// The run is over (deadline, interrupt): not this server's fault.
				return err
			}
			mine[i] = err
			if adm == probe || !f.failedNormal(i, query, down, err) {
				break
			}
		}
	}
	var b strings.Builder
	f.mu.Lock()
	for i, s := range f.servers {
		err := f.st[i].err
		if err == nil {
			err = mine[i]
		}
		fmt.Fprintf(&b, "; %s: %v", s.Name, err)
	}
	f.mu.Unlock()
	return fmt.Errorf("irr: %s: every IRR server failed%s: %w", query, b.String(), ErrUnavailable)
}

// failedNormal records that a normal call on server i failed with err; it reports
// whether the call should go through the breaker again (it was cancelled or failed
// while another call found the server failed, so it has not had its own try).
func (f *Failover) failedNormal(i int, query string, down chan struct{}, err error) bool {
	f.mu.Lock()
	b := &f.st[i]
	if errors.Is(err, errSkipped) || b.down != down {
		// Another call reported the server first (and cancelled this one), or it
		// answered a probe since.
		f.mu.Unlock()
		return true
	}
	if b.fails > 0 {
		f.mu.Unlock()
		return true
	}
	b.fails, b.err, b.failedAt = 1, err, f.now()
	close(b.down)
	f.mu.Unlock()
	f.log.Warn("IRR server failed; later queries will try it again", "server", f.servers[i].Name, "query", query, "err", err)
	return false
}

// probed records the outcome of a probe on server i.
func (f *Failover) probed(i int, query string, err error, canceled bool) {
	f.mu.Lock()
	b := &f.st[i]
	close(b.probe)
	b.probe = nil
	name := f.servers[i].Name
	switch {
	case err == nil || !errors.Is(err, ErrUnavailable):
		b.fails, b.err = 0, nil
		b.down = make(chan struct{})
		f.mu.Unlock()
		f.log.Info("IRR server answers again", "server", name, "query", query)
	case canceled:
		f.mu.Unlock()
	default:
		b.fails++
		b.err, b.failedAt = err, f.now()
		n := b.fails
		if n >= maxFailures {
			b.dropped = true
		}
		f.mu.Unlock()
		if n >= maxFailures {
			f.log.Warn(fmt.Sprintf("IRR server failed %d queries in a row; skipping it for the rest of the run", n), "server", name, "query", query, "err", err)
		} else {
			f.log.Debug("IRR server still failing", "server", name, "failures", n, "query", query, "err", err)
		}
	}
}

// callOn runs call on server i with a context that also ends when down (nil for a
// probe) is closed by another call that found the server failed.
func (f *Failover) callOn(ctx context.Context, i int, down chan struct{}, call func(context.Context, Querier) error) error {
	if down == nil {
		return call(ctx, f.servers[i].Q)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-down:
			cancel(errSkipped)
		case <-done:
		}
	}()
	err := call(cctx, f.servers[i].Q)
	if err != nil && context.Cause(cctx) == errSkipped && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errSkipped, err)
	}
	return err
}

// Sources returns the default source list of the first healthy server.
func (f *Failover) Sources(ctx context.Context) (out []string, err error) {
	err = f.do(ctx, "!s-lc", func(ctx context.Context, q Querier) error {
		out, err = q.Sources(ctx)
		return err
	})
	return out, err
}

// CheckSources checks the list on the first healthy server.
func (f *Failover) CheckSources(ctx context.Context, sources []string) error {
	return f.do(ctx, "!s"+strings.Join(sources, ","), func(ctx context.Context, q Querier) error {
		return q.CheckSources(ctx, sources)
	})
}

// Members answers "!i" from the first healthy server.
func (f *Failover) Members(ctx context.Context, sources []string, name string, recursive bool) (members []string, found bool, err error) {
	err = f.do(ctx, DescribeMembers(sources, name, recursive), func(ctx context.Context, q Querier) error {
		members, found, err = q.Members(ctx, sources, name, recursive)
		return err
	})
	return members, found, err
}

// SetPrefixes answers "!a4"/"!a6" from the first healthy server.
func (f *Failover) SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) (prefixes []netip.Prefix, found bool, err error) {
	err = f.do(ctx, DescribeSetPrefixes(sources, name, v6), func(ctx context.Context, q Querier) error {
		prefixes, found, err = q.SetPrefixes(ctx, sources, name, v6)
		return err
	})
	return prefixes, found, err
}

// Routes answers a batch of "!g"/"!6" queries from the first healthy server; a batch
// that fails part-way is asked again in full from the next one.
func (f *Failover) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) (routes [][]netip.Prefix, err error) {
	err = f.do(ctx, DescribeRoutes(sources, asns, v6), func(ctx context.Context, q Querier) error {
		routes, err = q.Routes(ctx, sources, asns, v6)
		return err
	})
	return routes, err
}

// DescribeMembers renders a Members call as the IRRd query it stands for, with the
// sources: "!iAS-FOO,1 [RIPE,RADB]" (messages and cache keys).
func DescribeMembers(sources []string, name string, recursive bool) string {
	q := "!i" + name
	if recursive {
		q += ",1"
	}
	return q + describeSources(sources)
}

// DescribeSetPrefixes renders a SetPrefixes call: "!a6AS-FOO [RIPE]".
func DescribeSetPrefixes(sources []string, name string, v6 bool) string {
	q := "!a4" + name
	if v6 {
		q = "!a6" + name
	}
	return q + describeSources(sources)
}

// DescribeRoutes renders a Routes call: "!gas64496 (+2 more) [default sources]".
func DescribeRoutes(sources []string, asns []routing.ASN, v6 bool) string {
	q := "!g"
	if v6 {
		q = "!6"
	}
	switch len(asns) {
	case 0:
		q += " (no ASNs)"
	case 1:
		q += "as" + strconv.FormatUint(uint64(asns[0]), 10)
	default:
		q += "as" + strconv.FormatUint(uint64(asns[0]), 10) + " (+" + strconv.Itoa(len(asns)-1) + " more)"
	}
	return q + describeSources(sources)
}

func describeSources(sources []string) string {
	if len(sources) == 0 {
		return " [default sources]"
	}
	return " [" + strings.ToUpper(strings.Join(sources, ",")) + "]"
}
