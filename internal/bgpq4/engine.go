package bgpq4

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/prefixset"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Dial, when set, opens the IRR server named by "-h host[:port]" (default rr.ntt.net:43)
// for a Run given no Querier; when nil such runs fail with exit status 3. The bgpfilter
// command does not use it: it always passes a Querier (the --irr data, or the -h server
// through the whois client, see Host).
var Dial func(ctx context.Context, hostport string) (irr.Querier, error)

// ExitUnavailable is the exit status when the IRR data cannot be queried (no local data
// and no remote client, or a query failed). bgpq4 itself has no such status; it dies
// with 255 or 1 on connection problems.
const ExitUnavailable = 3

// Run executes one bgpq4 invocation. args are bgpq4's arguments without the program
// name, env the environment (IRRD_SOURCES, POSIXLY_CORRECT are read from it), q the IRR
// data; nil q means the server named by -h (see Dial). It writes bgpq4's stdout and
// stderr bytes and returns bgpq4's exit status.
func Run(ctx context.Context, args []string, env []string, q irr.Querier, stdout, stderr io.Writer) int {
	code, _ := RunResult(ctx, args, env, q, stdout, stderr)
	return code
}

// Result is what a run printed, for a caller's run summary: the objects of the
// command line (operands, "EXCEPT" and what follows it included) and the number of
// entries printed (prefixes, or ASNs for the as-path and as-set generators); Entries
// is -1 when the run failed before printing.
type Result struct {
	Objects []string
	Entries int
}

// RunResult is Run that also returns the Result.
func RunResult(ctx context.Context, args []string, env []string, q irr.Querier, stdout, stderr io.Writer) (int, Result) {
	res := Result{Objects: []string{}, Entries: -1}
	c, e := parseArgs(args, env)
	if e != nil {
		io.WriteString(stdout, e.stdout)
		io.WriteString(stderr, e.stderr)
		return e.code, res
	}
	res.Objects = append(res.Objects, c.objects...)
	r := &runner{ctx: ctx, c: c, errw: stderr, q: q, entries: -1}
	out := bufio.NewWriterSize(stdout, 64<<10)
	code := r.run(out)
	if err := out.Flush(); err != nil && code == 0 {
		fmt.Fprintf(stderr, "ERROR:write: %v\n", err)
		return 1, res
	}
	if code == 0 {
		res.Entries = r.entries
	}
	return code, res
}

// Check parses args as Run does and reports whether the command line alone decides the
// outcome (usage, -v, a refused flag combination). Then it has written bgpq4's output
// and returns done with the exit status, so a caller can skip loading IRR data.
func Check(args, env []string, stdout, stderr io.Writer) (code int, done bool) {
	if _, e := parseArgs(args, env); e != nil {
		io.WriteString(stdout, e.stdout)
		io.WriteString(stderr, e.stderr)
		return e.code, true
	}
	return 0, false
}

// Host returns the whois server bgpq4 would query for args: -h host[:port] (port 43
// when none is given; bgpq4 splits at the first ':'), default rr.ntt.net:43.
func Host(args, env []string) string {
	c, e := parseArgs(args, env)
	if e != nil || !c.hostSet {
		return "rr.ntt.net:43"
	}
	host, port, ok := strings.Cut(c.host, ":")
	if !ok {
		port = "43"
	}
	return host + ":" + port
}

type runner struct {
	ctx  context.Context
	c    *config
	errw io.Writer
	q    irr.Querier

	macros   []string
	rsets    []string
	asns     asnSet
	stop     map[string]bool
	already  map[string]bool
	set      *prefixset.Set
	defaults []string // bgpq4's defaultsources
	cur      []string // the server's current source selection (nil: its default)
	queue    []request
	failed   error
	entries  int // what the printer printed (Result.Entries)
}

type reqKind int

const (
	qSources reqKind = iota
	qSetMembers
	qRSMembers
	qRoutes
)

type request struct {
	kind      reqKind
	arg       string   // set name for qSetMembers / qRSMembers
	srcs      []string // for qSources
	recursive bool     // qRSMembers with ",1"
	depth     int
	asn       uint32
}

func (r *runner) errorf(format string, a ...any) {
	fmt.Fprintf(r.errw, "ERROR:"+format, a...)
}

func (r *runner) run(out *bufio.Writer) int {
	c := r.c
	r.stop = map[string]bool{}
	r.already = map[string]bool{}
	r.set = prefixset.New(c.v6)
	if c.maxlen != 0 {
		r.set.MaxLen(c.maxlen) // AddList drops longer prefixes as addPrefix does
	}

	except := false
	for _, arg := range c.objects {
		obj := arg
		if i := strings.Index(arg, "::"); i >= 0 {
			c.usesource = true
			obj = arg[i+2:]
		}
		switch {
		case arg == "EXCEPT":
			except = true
		case except:
			r.stop[strings.ToLower(arg)] = true
		case hasPrefixFold(obj, "AS-"):
			r.macros = append(r.macros, arg)
		case hasPrefixFold(obj, "RS-"):
			r.rsets = append(r.rsets, arg)
		case hasPrefixFold(obj, "AS"):
			if i := strings.IndexByte(obj, ':'); i >= 0 {
				switch {
				case hasPrefixFold(obj[i+1:], "AS-"):
					r.macros = append(r.macros, arg)
				case hasPrefixFold(obj[i+1:], "RS-"):
					r.rsets = append(r.rsets, arg)
				}
				continue // any other ASn:FOO is ignored (debug message only)
			}
			r.addAS(arg)
		default:
			if strings.IndexByte(arg, '^') < 0 {
				if !r.addPrefixText(arg) {
					r.errorf("Unable to add prefix %s (bad prefix or address-family)\n", arg)
					return 1
				}
			} else if !r.addRangeText(arg) {
				r.errorf("Unable to add prefix-range %s (bad range or address-family)\n", arg)
				return 1
			}
		}
	}

	if r.q == nil {
		if Dial == nil {
			fmt.Fprintf(r.errw, "bgpq4 -h: remote IRR not available yet; use --irr FILE\n")
			return ExitUnavailable
		}
		q, err := Dial(r.ctx, c.host)
		if err != nil {
			r.errorf("%v\n", err)
			return ExitUnavailable
		}
		r.q = q
	}
	if code := r.expand(); code != 0 {
		return code
	}
	if c.refine != 0 {
		r.set.Refine(c.refine)
	}
	if c.refineLow != 0 {
		r.set.RefineLow(c.refineLow)
	}
	switch {
	case c.aggTrace:
		r.set.AggregateTrace(out)
	case c.aggregate:
		r.set.Aggregate()
	}
	p := &printer{c: c, w: out, set: r.set, asns: r.asns.sorted(), errw: r.errw}
	if e := p.print(); e != nil {
		out.Flush()
		io.WriteString(r.errw, e.stderr)
		return e.code
	}
	switch c.gen {
	case tASPath, tOASPath, tASList, tASSet:
		r.entries = len(p.asns)
	default:
		r.entries = r.set.Len()
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// setName strips "SOURCE::" (bgpq_get_asset).
func setName(s string) string {
	if i := strings.Index(s, "::"); i >= 0 {
		return s[i+2:]
	}
	return s
}

// setSource returns the "SOURCE" of "SOURCE::NAME", or "".
func setSource(s string) string {
	if i := strings.Index(s, "::"); i >= 0 {
		return s[:i]
	}
	return ""
}

func splitSources(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// addAS is bgpq_expander_add_as: "ASn" with bgpq4 1.16's special-ASN filter.
func (r *runner) addAS(text string) bool {
	a, ok := r.checkAS(text)
	if ok {
		r.asns.insert(a)
	}
	return ok
}

// checkAS parses "ASn" with addAS's checks and messages.
func (r *runner) checkAS(text string) (uint32, bool) {
	if len(text) < 2 {
		r.errorf("Invalid symbol in AS number: '%s' in %s\n", text, text)
		return 0, false
	}
	v, rest := strtoul(text[2:])
	if rest != "" {
		r.errorf("Invalid symbol in AS number: '%c' in %s\n", rest[0], text)
		return 0, false
	}
	asno := uint32(v)
	if !r.c.special && specialASN(asno) {
		r.errorf("Invalid AS number: %d\n", asno)
		return 0, false
	}
	return asno, true
}

// addASList is addAS for every member of an "!i<set>,1" answer, the messages in the
// answer's order; the accepted ASNs are sorted and merged at once (a remote server's
// answer of 20k ASNs, one map insert each, cost more than the rest of the run).
func (r *runner) addASList(mem []string) {
	in := make([]uint32, 0, len(mem))
	for _, m := range mem {
		if a, ok := r.checkAS(m); ok {
			in = append(in, a)
		}
	}
	slices.Sort(in)
	r.asns.merge(slices.Compact(in))
}

// addPrefix inserts an already-parsed prefix with bgpq_expander_add_prefix's checks:
// other family ignored, longer than -m ignored.
func (r *runner) addPrefix(p netip.Prefix) bool {
	if p.Addr().Is6() != r.c.v6 {
		return false
	}
	if r.c.maxlen != 0 && p.Bits() > r.c.maxlen {
		return false
	}
	r.set.Add(p)
	return true
}

// addPrefixText parses and inserts a prefix token (CLI argument or route-set member).
func (r *runner) addPrefixText(text string) bool {
	p, ok := r.parsePrefix(text)
	if !ok {
		r.errorf("Unable to parse prefix %s\n", text)
		return false
	}
	return r.addPrefix(p)
}

// addRangeText is sx_prefix_range_parse: enumerate a "P^-", "P^+", "P^n", "P^n-m"
// range into the set, with bgpq4's bugs (p^n inserts nothing).
func (r *runner) addRangeText(text string) bool {
	base, op, _ := strings.Cut(text, "^")
	if op == "" {
		return false
	}
	p, ok := r.parsePrefix(base)
	if !ok {
		r.errorf("Unable to parse prefix %s^%s\n", base, op)
		return false
	}
	fam := 2
	if p.Addr().Is6() {
		fam = 10
	}
	if p.Addr().Is6() != r.c.v6 {
		r.errorf("Ignoring prefix %s, wrong af %d\n", text, fam)
		return false
	}
	maxlen := r.c.maxlen
	if maxlen != 0 && p.Bits() > maxlen {
		return false
	}
	var min, max int
	switch {
	case op[0] == '-':
		min, max = p.Bits()+1, maxlen
	case op[0] == '+':
		min, max = p.Bits(), maxlen
	case op[0] >= '0' && op[0] <= '9':
		v, rest := strtoul(op)
		min = int(min32(v))
		if len(rest) >= 2 && rest[0] == '-' && rest[1] >= '0' && rest[1] <= '9' {
			m, _ := strtoul(rest[1:])
			max = int(min32(m))
		} else if rest != "" {
			r.errorf("Unable to parse prefix-range %s\n", text)
			return false
		}
		// "p^n" leaves max at 0 (bgp/bgpq4#135)
	default:
		r.errorf("Invalid prefix-range %s\n", text)
		return false
	}
	if min < p.Bits() {
		r.errorf("Invalid prefix-range %s: min %d < masklen %d\n", text, min, p.Bits())
		return false
	}
	if !r.c.v6 && max > 32 {
		r.errorf("Invalid prefix-range %s: max %d > 32\n", text, max)
		return false
	}
	if r.c.v6 && max > 128 {
		r.errorf("Invalid ipv6 prefix-range %s: max %d > 128\n", text, max)
		return false
	}
	if max > maxlen {
		max = maxlen
	}
	if err := r.set.AddRangeBGPQ4(p, min, max); err != nil {
		r.errorf("%v\n", err)
		return false
	}
	return true
}

func min32(v uint64) uint64 {
	if v > 1<<16 {
		return 1 << 16
	}
	return v
}

// expand runs bgpq_expand's query sequence against the Querier.
func (r *runner) expand() int {
	c := r.c
	ctx := r.ctx
	aquery := c.gen >= tPrefixList && len(r.macros) > 0

	// Default sources: the -S list when given (no "!s-lc" is sent then), otherwise the
	// server's "!s-lc" answer.
	if c.sources != "" {
		r.defaults = splitSources(c.sources)
	} else {
		d, err := r.q.Sources(ctx)
		if err != nil {
			return r.queryFailed("!s-lc", err)
		}
		r.defaults = d
	}
	if c.sources != "" {
		list := splitSources(c.sources)
		if err := r.q.CheckSources(ctx, list); err != nil {
			if errors.Is(err, irr.ErrUnknownSource) {
				// bgpq4 prints the server's reply line with its newline, then its own
				r.errorf("Invalid source(s) '%s': F One or more selected sources are unavailable.\n\n", c.sources)
				return 1
			}
			return r.queryFailed("!s"+c.sources, err)
		}
		r.cur = list
	}

	for _, m := range r.macros {
		name := setName(m)
		switch {
		case c.maxdepth == 0 && len(r.stop) == 0:
			switch {
			case c.usesource:
				src := r.defaults
				if s := setSource(m); s != "" {
					src = splitSources(s)
				}
				r.push(request{kind: qSources, srcs: src})
				r.push(request{kind: qSetMembers, arg: name})
			case aquery:
				// As keys: the answer goes into the set without a netip value per
				// prefix (irr.KeyQuerier); the same prefixes as SetPrefixes.
				keys, _, err := irr.SetPrefixKeys(ctx, r.q, r.cur, name, c.v6)
				if err != nil {
					return r.queryFailed("!a"+name, err)
				}
				r.set.AddList(keys)
			default:
				// As numbers when the Querier can (irr.ASNQuerier): the same ASNs as the
				// strings of Members, without formatting, sorting and parsing 50k strings.
				asns, ok, err := irr.SetASNs(ctx, r.q, r.cur, name)
				if err != nil {
					return r.queryFailed("!i"+name+",1", err)
				}
				if ok {
					r.addASNs(asns)
					continue
				}
				mem, _, err := r.q.Members(ctx, r.cur, name, true)
				if err != nil {
					return r.queryFailed("!i"+name+",1", err)
				}
				r.addASList(mem)
			}
		default:
			r.already[strings.ToLower(name)] = true
			r.push(request{kind: qSetMembers, arg: name})
		}
	}
	r.push(request{kind: qSources, srcs: r.defaults})
	if code := r.drain(); code != 0 {
		return code
	}

	if c.gen >= tPrefixList || c.validate {
		for _, rs := range r.rsets {
			// With SOURCE:: anywhere on the command line bgpq4 asks a non-recursive
			// "!i<rs>" for every route-set (so AS and set members turn into parse
			// errors); otherwise "!i<rs>,1".
			src := r.defaults
			if s := setSource(rs); c.usesource && s != "" {
				src = splitSources(s)
			}
			r.push(request{kind: qSources, srcs: src})
			r.push(request{kind: qRSMembers, arg: setName(rs), recursive: !c.usesource})
		}
		for _, a := range r.asns.sorted() {
			r.push(request{kind: qRoutes, asn: a})
		}
		if code := r.drain(); code != 0 {
			return code
		}
	}
	return 0
}

func (r *runner) queryFailed(q string, err error) int {
	fmt.Fprintf(r.errw, "FATAL ERROR:IRR query %s failed: %v\n", q, err)
	return ExitUnavailable
}

func (r *runner) push(q request) { r.queue = append(r.queue, q) }

// drain answers the queued requests in order, as the server would process bgpq4's
// pipeline; callbacks may queue more requests behind them.
func (r *runner) drain() int {
	ctx := r.ctx
	for len(r.queue) > 0 {
		q := r.queue[0]
		switch q.kind {
		case qSources:
			r.queue = r.queue[1:]
			if err := r.q.CheckSources(ctx, q.srcs); err != nil {
				if !errors.Is(err, irr.ErrUnknownSource) {
					return r.queryFailed("!s"+strings.Join(q.srcs, ","), err)
				}
				r.errorf("Error expanding !s%s\n: F One or more selected sources are unavailable.\n", strings.Join(q.srcs, ","))
				continue
			}
			r.cur = q.srcs
		case qSetMembers:
			r.queue = r.queue[1:]
			mem, _, err := r.q.Members(ctx, r.cur, q.arg, false)
			if err != nil {
				return r.queryFailed("!i"+q.arg, err)
			}
			for _, m := range mem {
				r.macroLimit(m, q)
			}
		case qRSMembers:
			r.queue = r.queue[1:]
			mem, _, err := r.q.Members(ctx, r.cur, q.arg, q.recursive)
			if err != nil {
				return r.queryFailed("!i"+q.arg, err)
			}
			for _, m := range mem {
				if strings.IndexByte(m, '^') < 0 {
					r.addPrefixText(m)
				} else {
					r.addRangeText(m)
				}
			}
		case qRoutes:
			// Consecutive route queries share one source selection: batch them.
			n := 0
			for n < len(r.queue) && r.queue[n].kind == qRoutes {
				n++
			}
			batch := make([]routing.ASN, n)
			for i := 0; i < n; i++ {
				batch[i] = routing.ASN(r.queue[i].asn)
			}
			r.queue = r.queue[n:]
			if kq, ok := r.q.(irr.RouteKeyQuerier); ok {
				// As one list of keys (the same prefixes, no netip value per route).
				keys, has, err := kq.RouteKeys(ctx, r.cur, batch, r.c.v6)
				if err != nil {
					return r.queryFailed("!g", err)
				}
				if len(has) != len(batch) {
					return r.queryFailed("!g", fmt.Errorf("%d answers for %d ASNs: %w", len(has), len(batch), irr.ErrUnavailable))
				}
				for i, h := range has {
					if !h && r.c.validate {
						r.asns.remove(uint32(batch[i]))
					}
				}
				r.set.AddList(keys)
				continue
			}
			res, err := r.q.Routes(ctx, r.cur, batch, r.c.v6)
			if err != nil {
				return r.queryFailed("!g", err)
			}
			if len(res) != len(batch) {
				return r.queryFailed("!g", fmt.Errorf("%d answers for %d ASNs: %w", len(res), len(batch), irr.ErrUnavailable))
			}
			for i, ps := range res {
				if len(ps) == 0 && r.c.validate {
					r.asns.remove(uint32(batch[i]))
				}
				for _, p := range ps {
					r.addPrefix(p)
				}
			}
		}
	}
	return 0
}

// macroLimit is bgpq_expanded_macro_limit: one member of a non-recursive "!i" answer
// during client-side recursion.
func (r *runner) macroLimit(tok string, q request) {
	c := r.c
	key := strings.ToLower(tok)
	switch {
	case hasPrefixFold(tok, "AS-") || strings.ContainsAny(tok, "-:"):
		if r.already[key] || r.stop[key] {
			return
		}
		if c.maxdepth != 0 && !(1 < c.maxdepth && q.depth+1 < c.maxdepth) {
			return
		}
		r.already[key] = true
		if c.usesource {
			src := r.defaults
			if s := setSource(tok); s != "" {
				src = splitSources(s)
			}
			r.push(request{kind: qSources, srcs: src})
		}
		r.push(request{kind: qSetMembers, arg: setName(tok), depth: q.depth + 1})
	case hasPrefixFold(tok, "AS"):
		if r.stop[key] {
			return
		}
		r.addAS(tok)
	case strings.EqualFold(tok, "ANY"):
	default:
		r.errorf("unexpected object '%s' in expanded_macro_limit (in response to !i%s\n)\n", tok, q.arg)
	}
}
