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

	"github.com/bgpfilter/bgpfilter/routing"
)

// Server is one IRR server of a Failover: a Querier with the name messages use for it
// (e.g. "whois://whois.radb.net:43").
type Server struct {
	Name string
	Q    Querier
}

// Failover is a Querier over several servers tried in order. A server that fails a
// query with ErrUnavailable (connect error, timeout, truncated or mis-framed reply, F
// reply, dropped connection) is reported with a warning and skipped for the rest of
// the run, and the same query is retried on the next one. Other errors (an unknown
// source, an invalid name) are answers, not failures, and are returned as they are.
// When every server has failed, the error wraps ErrUnavailable and names each server
// with its error, and the query. Failover is safe for concurrent use: when one call
// finds a server failed, the calls still in flight on it are cancelled and retried on
// the next server at once, so that a dead server costs one timeout and one warning per
// run, not one per concurrent query.
type Failover struct {
	servers []Server
	log     *slog.Logger

	mu     sync.Mutex
	failed []error // per server; nil while it is healthy
	// down[i] is closed when server i fails: it cancels the calls in flight on it.
	down []chan struct{}
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
	down := make([]chan struct{}, len(servers))
	for i := range down {
		down[i] = make(chan struct{})
	}
	return &Failover{servers: servers, log: log, failed: make([]error, len(servers)), down: down}
}

// Failed returns the names of the servers skipped so far, with why, in server order.
func (f *Failover) Failed() map[string]error {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]error{}
	for i, err := range f.failed {
		if err != nil {
			out[f.servers[i].Name] = err
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

// do runs call on the first healthy server, failing over on ErrUnavailable.
func (f *Failover) do(ctx context.Context, query string, call func(context.Context, Querier) error) error {
	if len(f.servers) == 0 {
		return fmt.Errorf("irr: %s: no IRR server configured: %w", query, ErrUnavailable)
	}
	for i, s := range f.servers {
		f.mu.Lock()
		skip := f.failed[i] != nil
		f.mu.Unlock()
		if skip {
			continue
		}
		err := f.callOn(ctx, i, call)
		if err == nil || !errors.Is(err, ErrUnavailable) && !errors.Is(err, errSkipped) {
			return err
		}
		if ctx.Err() != nil {
			// The run is over (deadline, interrupt): not this server's fault.
			return err
		}
		f.mu.Lock()
		first := f.failed[i] == nil
		if first {
			f.failed[i] = err
			close(f.down[i])
		}
		f.mu.Unlock()
		if !first {
			// Another call already reported this server (and cancelled this one).
			continue
		}
		f.log.Warn("IRR server failed; skipping it for the rest of the run", "server", s.Name, "query", query, "err", err)
	}
	var b strings.Builder
	f.mu.Lock()
	for i, s := range f.servers {
		fmt.Fprintf(&b, "; %s: %v", s.Name, f.failed[i])
	}
	f.mu.Unlock()
	return fmt.Errorf("irr: %s: every IRR server failed%s: %w", query, b.String(), ErrUnavailable)
}

// callOn runs call on server i with a context that also ends when server i is found
// failed by another call.
func (f *Failover) callOn(ctx context.Context, i int, call func(context.Context, Querier) error) error {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	down := f.down[i]
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
