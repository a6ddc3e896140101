package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irrcache"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

// remoteFlags are the global flags of the remote IRR (whois://) path; NewApp adds them
// to globalFlags. The per-query timeout is the global --timeout.
func remoteFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.DurationFlag{Name: "connect-timeout", EnvVars: []string{"BGPFILTER_CONNECT_TIMEOUT"}, Value: whois.DefaultConnectTimeout,
			Usage: "whois://: timeout of the TCP connect and handshake with each IRR server"},
		&ucli.DurationFlag{Name: "run-timeout", EnvVars: []string{"BGPFILTER_RUN_TIMEOUT"}, Value: 30 * time.Minute,
			Usage: "whois://: no IRR query of the run continues past this much time after the start (0: no limit)"},
		&ucli.StringFlag{Name: "cache-dir", EnvVars: []string{"BGPFILTER_CACHE_DIR"},
			Usage: "keep IRR answers (whois://, per query and source list) and snapshots of --irr files (default: the user cache directory's bgpfilter/) in this directory, verified on read"},
		&ucli.BoolFlag{Name: "no-snapshot-cache", EnvVars: []string{"BGPFILTER_NO_SNAPSHOT_CACHE"},
			Usage: "parse --irr files every run instead of keeping their snapshot in the cache directory"},
		&ucli.DurationFlag{Name: "cache-ttl", EnvVars: []string{"BGPFILTER_CACHE_TTL"}, Value: time.Hour,
			Usage: "whois://: serve cached answers younger than this without asking the servers (0: always ask)"},
		&ucli.DurationFlag{Name: "stale-on-failure", EnvVars: []string{"BGPFILTER_STALE_ON_FAILURE"},
			Usage: "whois://: when every IRR server fails, use a cached answer up to this old, with a warning (needs --cache-dir)"},
	}
}

// isRemoteSpec reports whether an --irr value names a whois server.
func isRemoteSpec(spec string) bool {
	return strings.HasPrefix(strings.ToLower(spec), "whois://")
}

// openRemote builds the Querier for whois:// --irr values: one whois.Client per server
// (per-query --timeout, --connect-timeout, a shared --run-timeout deadline), tried in
// order by an irr.Failover, wrapped by the --cache-dir cache, and with --sources as the
// default source list (checked against the server first: exit 2 when it is refused).
// The caller closes it with closeIRR.
func openRemote(c *ucli.Context, specs []string) (irr.Querier, error) {
	q, err := remoteQuerier(c, specs)
	if err != nil {
		return nil, err
	}
	srcs := sourceList(c)
	if len(srcs) == 0 {
		return q, nil
	}
	if err := q.CheckSources(c.Context, srcs); err != nil {
		closeIRR(q)
		if errors.Is(err, irr.ErrUnknownSource) {
			return nil, exitErr(ExitData, fmt.Errorf("--sources: %w", err))
		}
		return nil, exitErr(ExitUnavailable, err)
	}
	return &defaultSources{Querier: q, sources: srcs}, nil
}

// openRemoteHost is openRemote for bgpq4's "-h host[:port]": one server, and no
// --sources substitution (bgpq4 passes its own -S / IRRD_SOURCES list).
func openRemoteHost(c *ucli.Context, hostport string) (irr.Querier, error) {
	return remoteQuerier(c, []string{hostport})
}

func remoteQuerier(c *ucli.Context, specs []string) (irr.Querier, error) {
	log := logger(c)
	stale := c.Duration("stale-on-failure")
	dir := c.String("cache-dir")
	if stale > 0 && dir == "" {
		return nil, exitErr(ExitUsage, errors.New("--stale-on-failure needs --cache-dir"))
	}
	opt := whois.ClientOptions{
		ConnectTimeout: c.Duration("connect-timeout"),
		QueryTimeout:   c.Duration("timeout"),
		Logger:         log,
	}
	if d := c.Duration("run-timeout"); d > 0 {
		opt.Deadline = time.Now().Add(d)
	}
	servers := make([]irr.Server, 0, len(specs))
	for _, spec := range specs {
		addr, err := whois.ParseServer(spec)
		if err != nil {
			return nil, exitErr(ExitUsage, fmt.Errorf("--irr: %w", err))
		}
		cl := whois.NewClient(addr, opt)
		servers = append(servers, irr.Server{Name: cl.String(), Q: cl})
	}
	var q irr.Querier = irr.NewFailover(log, servers...)
	if dir != "" {
		cq, err := irrcache.New(q, irrcache.Options{Dir: dir, TTL: c.Duration("cache-ttl"), StaleOnFailure: stale, Logger: log})
		if err != nil {
			return nil, exitErr(ExitUsage, fmt.Errorf("--cache-dir: %w", err))
		}
		q = cq
	}
	return q, nil
}

// irrStaleUses returns the answers a run took from the cache because every IRR server
// failed (for the JSON summary); nil when there were none or q has no cache.
func irrStaleUses(q irr.Querier) []irrcache.StaleUse {
	if d, ok := q.(*defaultSources); ok {
		q = d.Querier
	}
	if cq, ok := q.(*irrcache.Cache); ok {
		return cq.StaleUses()
	}
	return nil
}

// closeIRR releases the connections of a Querier from openIRR/openRemote.
func closeIRR(q irr.Querier) {
	if cl, ok := q.(interface{ Close() error }); ok {
		cl.Close()
	}
}

// defaultSources applies --sources to every query that names no sources, as
// irr.Index.SetDefaultSources does for local data.
type defaultSources struct {
	irr.Querier
	sources []string
}

func (d *defaultSources) pick(s []string) []string {
	if len(s) == 0 {
		return d.sources
	}
	return s
}

// Sources returns the --sources list.
func (d *defaultSources) Sources(context.Context) ([]string, error) {
	return append([]string(nil), d.sources...), nil
}

// CheckSources checks the list (the --sources list when empty).
func (d *defaultSources) CheckSources(ctx context.Context, s []string) error {
	return d.Querier.CheckSources(ctx, d.pick(s))
}

// Members asks with the --sources list when s is empty.
func (d *defaultSources) Members(ctx context.Context, s []string, name string, recursive bool) ([]string, bool, error) {
	return d.Querier.Members(ctx, d.pick(s), name, recursive)
}

// SetPrefixes asks with the --sources list when s is empty.
func (d *defaultSources) SetPrefixes(ctx context.Context, s []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	return d.Querier.SetPrefixes(ctx, d.pick(s), name, v6)
}

// Routes asks with the --sources list when s is empty.
func (d *defaultSources) Routes(ctx context.Context, s []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	return d.Querier.Routes(ctx, d.pick(s), asns, v6)
}

// Close closes the wrapped Querier.
func (d *defaultSources) Close() error {
	closeIRR(d.Querier)
	return nil
}
