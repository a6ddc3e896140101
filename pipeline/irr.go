package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irrcache"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

// DefaultIRR is used when a job names no IRR data.
const DefaultIRR = "whois://whois.radb.net"

// IRRSpec names the IRR data of a job and how to reach it (the global --irr flags).
type IRRSpec struct {
	// Specs are RPSL files, .gz files, directories, snapshots or whois://HOST[:PORT]
	// servers (SplitSpecs normalises the flag values); whois servers and files cannot
	// be mixed.
	Specs []string
	// Sources is the default source list in priority order (upper case), or nil.
	Sources []string
	// Strict makes a malformed RPSL object fatal instead of skipped.
	Strict bool
	// QueryTimeout, ConnectTimeout and RunTimeout bound each whois query, each
	// connect and the whole run (0: no run limit).
	QueryTimeout, ConnectTimeout, RunTimeout time.Duration
	// MaxReply bounds one whois reply in bytes (--max-reply; 0: whois.DefaultMaxReply).
	MaxReply int
	// CacheDir keeps whois answers; CacheTTL serves them without asking when younger;
	// StaleOnFailure serves older ones when every server fails (needs CacheDir).
	CacheDir                 string
	CacheTTL, StaleOnFailure time.Duration
	// SnapshotCacheDir keeps a snapshot of local RPSL files so that the next job on
	// the unchanged files opens it instead of parsing (irrcache.LoadFiles); "" parses
	// every time. Servers never use it.
	SnapshotCacheDir string
	// Logger receives warnings (skipped objects, failovers); nil discards them.
	Logger *slog.Logger
	// Progress, when set, draws the progress of long reads (a terminal line; see
	// TerminalProgress).
	Progress ProgressFunc
}

// SplitSpecs splits comma-separated --irr values and returns DefaultIRR when none is
// left.
func SplitSpecs(values []string) []string {
	var specs []string
	for _, s := range values {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				specs = append(specs, p)
			}
		}
	}
	if len(specs) == 0 {
		specs = []string{DefaultIRR}
	}
	return specs
}

// SplitSources turns a --sources value into an upper-case list (nil when empty).
func SplitSources(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// IsRemote reports whether an IRR spec names a whois server.
func IsRemote(spec string) bool {
	return strings.HasPrefix(strings.ToLower(spec), "whois://")
}

func (s IRRSpec) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s IRRSpec) progress(what string, items *atomic.Int64, unit string) (func(read, total int64), func()) {
	if s.Progress == nil {
		return nil, func() {}
	}
	return s.Progress(what, items, unit)
}

// IRR is an opened IRR source: the Querier every builder uses and what the summary
// reports about it.
type IRR struct {
	Q irr.Querier
	// Index is the loaded index for local data (nil for whois servers).
	Index *irr.Index
	// Sources is the default source list (the spec's, or for local data the load
	// order).
	Sources []string
	cache   *irrcache.Cache
}

// Resolver returns a resolver over the source with the spec's source list.
func (s *IRR) Resolver(spec IRRSpec) *irr.Resolver {
	return &irr.Resolver{Q: s.Q, Sources: spec.Sources}
}

// StaleUses returns the answers the run took from the cache because every server
// failed; nil when there were none or the source has no cache.
func (s *IRR) StaleUses() []irrcache.StaleUse {
	if s == nil || s.cache == nil {
		return nil
	}
	return s.cache.StaleUses()
}

// Close releases the connections of the source.
func (s *IRR) Close() {
	if s == nil {
		return
	}
	closeQuerier(s.Q)
}

func closeQuerier(q irr.Querier) {
	if cl, ok := q.(interface{ Close() error }); ok {
		cl.Close()
	}
}

// OpenIRR opens the IRR data of spec: local files are loaded into one irr.Index
// (sources in load order, then reordered by spec.Sources); whois:// servers become
// one whois.Client each, tried in order, behind the answer cache. Errors carry exit
// codes: 2 for bad data (a malformed object with Strict, a corrupt snapshot) or an
// unknown source name, 3 for an unavailable source, 1 for a bad spec. The caller
// closes the source.
func OpenIRR(ctx context.Context, spec IRRSpec) (*IRR, error) {
	var paths, remote []string
	for _, sp := range spec.Specs {
		if IsRemote(sp) {
			remote = append(remote, sp)
			continue
		}
		paths = append(paths, sp)
	}
	switch {
	case len(remote) > 0 && len(paths) > 0:
		return nil, WithCode(ExitUsage, errors.New("--irr: whois:// servers and local files cannot be mixed"))
	case len(remote) > 0:
		return openRemote(ctx, spec, remote, true)
	case len(paths) == 0:
		return openRemote(ctx, spec, []string{DefaultIRR}, true)
	}
	oneShotGC()
	ix, err := loadLocal(ctx, spec, paths, false)
	if err != nil {
		return nil, err
	}
	if err := setIndexSources(ix, spec.Sources); err != nil {
		return nil, err
	}
	srcs := spec.Sources
	if len(srcs) == 0 {
		srcs, _ = ix.Sources(ctx)
	}
	return &IRR{Q: ix, Index: ix, Sources: srcs}, nil
}

// OpenIRRHost is OpenIRR for bgpq4's "-h host[:port]": one server, and no source list
// substitution (bgpq4 passes its own -S / IRRD_SOURCES list).
func OpenIRRHost(ctx context.Context, spec IRRSpec, hostport string) (*IRR, error) {
	return openRemote(ctx, spec, []string{hostport}, false)
}

// LoadIndex loads local IRR data into an index for a server (whois-server needs the
// index itself). With no files it returns an empty index when allowEmpty (a mirror
// fills it) and a usage error otherwise. The errors are OpenIRR's, with the same
// codes. The source list is not applied (see SetIndexSources).
func LoadIndex(ctx context.Context, spec IRRSpec, allowEmpty bool) (*irr.Index, error) {
	var paths []string
	for _, p := range spec.Specs {
		if strings.Contains(p, "://") {
			return nil, WithCode(ExitUsage, fmt.Errorf("--irr %s: the server serves local RPSL files or directories only", p))
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		if allowEmpty {
			return irr.NewIndex(), nil
		}
		return nil, WithCode(ExitUsage, errors.New("no IRR data: give RPSL files with --irr FILE (repeatable) or --mirror DIR"))
	}
	return loadLocal(ctx, spec, paths, true)
}

// SetIndexSources makes sources the default source list of ix (exit 2 naming the
// loaded sources when one is unknown).
func SetIndexSources(ix *irr.Index, sources []string) error { return setIndexSources(ix, sources) }

func setIndexSources(ix *irr.Index, sources []string) error {
	if len(sources) == 0 {
		return nil
	}
	if err := ix.SetDefaultSources(sources); err != nil {
		return WithCode(ExitData, fmt.Errorf("--sources: %w (loaded: %s)", err, strings.Join(ix.AllSources(), ",")))
	}
	return nil
}

// loadLocal is the one loader of local IRR data: a malformed object (with Strict) or
// a corrupt snapshot is the data's fault (2), anything else (unreadable file) means
// the source is unavailable (3). Skipped objects are one warning. For a server the
// load is logged at info level and a snapshot is read and verified whole.
func loadLocal(ctx context.Context, spec IRRSpec, paths []string, server bool) (*irr.Index, error) {
	log := spec.logger()
	start := time.Now()
	prog, done := spec.progress("loading IRR data", nil, "")
	// A server reads a snapshot into memory and verifies it whole: a long-running
	// server must not meet a corrupt block (or a file truncated under it) in the
	// middle of a query.
	lopt := irr.LoadOptions{Strict: spec.Strict, Progress: prog, ReadSnapshot: server}
	var ix *irr.Index
	var rep *irr.LoadReport
	var err error
	if server || spec.SnapshotCacheDir == "" {
		ix, rep, err = irr.Load(ctx, paths, lopt)
	} else {
		ix, rep, err = irrcache.LoadFiles(ctx, paths, lopt, irrcache.SnapshotOptions{Dir: spec.SnapshotCacheDir, Logger: log})
	}
	if err == nil && server {
		err = ix.Verify()
	}
	done()
	if err != nil {
		var oe *irr.ObjectError
		if errors.As(err, &oe) || errors.Is(err, irr.ErrSnapshot) {
			return nil, WithCode(ExitData, err)
		}
		return nil, WithCode(ExitUnavailable, err)
	}
	if rep.Skipped > 0 {
		log.Warn("skipped malformed RPSL objects", "count", rep.Skipped, "first", rep.Malformed[0].Error())
		for _, m := range rep.Malformed {
			log.Debug("malformed RPSL object", "file", m.File, "line", m.Line, "error", m.Msg)
		}
	}
	if rep.MultiOrigin > 0 {
		log.Warn("route objects with several origin attributes, indexed under each origin (--strict refuses them)",
			"count", rep.MultiOrigin, "first", rep.FirstMultiOrigin.Error())
	}
	level := slog.LevelDebug
	if server {
		level = slog.LevelInfo
	}
	log.Log(ctx, level, "IRR data loaded", "files", rep.Files, "bytes", rep.Bytes, "objects", rep.Objects,
		"sources", ix.AllSources(), "took", time.Since(start).Round(time.Millisecond))
	return ix, nil
}

// oneShotGC raises the GC target for jobs that build filters and exit (never the
// long-running whois-server): the index is allocated once and lives until exit, so
// collecting four times less often saves 10-20% CPU on large lists for a bounded
// amount of extra memory. GOGC from the environment wins.
func oneShotGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// minBatchHeapLimit is the smallest soft heap limit boundBatchHeap sets.
const minBatchHeapLimit = 1536 << 20

// boundBatchHeap caps the heap of a batch job (generate) that churns through far
// more garbage than it keeps: with oneShotGC's GOGC=400 the heap of a 1,000-customer
// run grew to 3 GB over ~0.4-0.6 GB live. The soft limit (runtime/debug.SetMemoryLimit)
// is three times what is live when called, at least minBatchHeapLimit; the GC runs
// more often only near it (measured: half the peak RSS for 9 % more CPU). GOMEMLIMIT
// or GOGC from the environment wins.
func boundBatchHeap() {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	limit := int64(minBatchHeapLimit)
	if s[0].Value.Kind() == metrics.KindUint64 {
		limit = max(limit, 3*int64(s[0].Value.Uint64()))
	}
	debug.SetMemoryLimit(limit)
}

// openRemote builds the Querier for whois servers: one whois.Client per server, tried
// in order by an irr.Failover, wrapped by the cache, and (withSources) with
// spec.Sources as the default source list, checked against the server first.
func openRemote(ctx context.Context, spec IRRSpec, specs []string, withSources bool) (*IRR, error) {
	log := spec.logger()
	if spec.StaleOnFailure > 0 && spec.CacheDir == "" {
		return nil, WithCode(ExitUsage, errors.New("--stale-on-failure needs --cache-dir"))
	}
	opt := whois.ClientOptions{ConnectTimeout: spec.ConnectTimeout, QueryTimeout: spec.QueryTimeout, MaxReply: spec.MaxReply, Logger: log}
	if spec.RunTimeout > 0 {
		opt.Deadline = time.Now().Add(spec.RunTimeout)
	}
	servers := make([]irr.Server, 0, len(specs))
	for _, sp := range specs {
		addr, err := whois.ParseServer(sp)
		if err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("--irr: %w", err))
		}
		cl := whois.NewClient(addr, opt)
		servers = append(servers, irr.Server{Name: cl.String(), Q: cl})
	}
	var q irr.Querier = irr.NewFailover(log, servers...)
	out := &IRR{}
	if spec.CacheDir != "" {
		cq, err := irrcache.New(q, irrcache.Options{Dir: spec.CacheDir, TTL: spec.CacheTTL, StaleOnFailure: spec.StaleOnFailure, Logger: log})
		if err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("--cache-dir: %w", err))
		}
		q, out.cache = cq, cq
	}
	out.Q = q
	if !withSources || len(spec.Sources) == 0 {
		return out, nil
	}
	if err := q.CheckSources(ctx, spec.Sources); err != nil {
		closeQuerier(q)
		if errors.Is(err, irr.ErrUnknownSource) {
			return nil, WithCode(ExitData, fmt.Errorf("--sources: %w", err))
		}
		return nil, WithCode(ExitUnavailable, err)
	}
	out.Q = &defaultSources{Querier: q, sources: spec.Sources}
	out.Sources = spec.Sources
	return out, nil
}

// defaultSources applies the job's source list to every query that names no
// sources, as irr.Index.SetDefaultSources does for local data.
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

// Sources returns the job's source list.
func (d *defaultSources) Sources(context.Context) ([]string, error) {
	return append([]string(nil), d.sources...), nil
}

// CheckSources checks the list (the job's list when empty).
func (d *defaultSources) CheckSources(ctx context.Context, s []string) error {
	return d.Querier.CheckSources(ctx, d.pick(s))
}

// Members asks with the job's source list when s is empty.
func (d *defaultSources) Members(ctx context.Context, s []string, name string, recursive bool) ([]string, bool, error) {
	return d.Querier.Members(ctx, d.pick(s), name, recursive)
}

// SetPrefixes asks with the job's source list when s is empty.
func (d *defaultSources) SetPrefixes(ctx context.Context, s []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	return d.Querier.SetPrefixes(ctx, d.pick(s), name, v6)
}

// Routes asks with the job's source list when s is empty.
func (d *defaultSources) Routes(ctx context.Context, s []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	return d.Querier.Routes(ctx, d.pick(s), asns, v6)
}

// SetPrefixKeys implements irr.KeyQuerier: the wrapped Querier's keys path, with the
// job's source list when s is empty.
func (d *defaultSources) SetPrefixKeys(ctx context.Context, s []string, name string, v6 bool) (pfxkey.List, bool, error) {
	return irr.SetPrefixKeys(ctx, d.Querier, d.pick(s), name, v6)
}

// SetASNs implements irr.ASNQuerier, with the job's source list when s is empty.
func (d *defaultSources) SetASNs(ctx context.Context, s []string, name string) ([]routing.ASN, bool, error) {
	return irr.SetASNs(ctx, d.Querier, d.pick(s), name)
}

// Close closes the wrapped Querier.
func (d *defaultSources) Close() error {
	closeQuerier(d.Querier)
	return nil
}

// WriteIRRSnapshot loads the local IRR data of spec and writes its binary snapshot
// (irr.Index.WriteSnapshot) to path atomically.
func WriteIRRSnapshot(ctx context.Context, spec IRRSpec, path string) error {
	src, err := OpenIRR(ctx, spec)
	if err != nil {
		return err
	}
	defer src.Close()
	if src.Index == nil {
		return WithCode(ExitUsage, errors.New("irr-snapshot: --irr must name local files"))
	}
	var b bytes.Buffer
	if err := src.Index.WriteSnapshot(&b); err != nil {
		return WithCode(ExitData, err)
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return WithCode(ExitData, fmt.Errorf("irr-snapshot: %w", err))
	}
	spec.logger().Info("IRR snapshot written", "file", path, "bytes", b.Len(), "objects", src.Index.Stats())
	return nil
}
