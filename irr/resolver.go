package irr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
	"golang.org/x/sync/errgroup"
)

// Defaults for Resolver limits.
const (
	DefaultMaxDepth = 32
	DefaultParallel = 8
)

// ErrLimit means an expansion exceeded Resolver.MaxDepth or Resolver.MaxSize.
var ErrLimit = errors.New("IRR expansion limit exceeded")

// Resolver expands AS-SETs, route-sets, ASNs and prefixes with correct RPSL semantics
// through non-recursive Members queries, so it works the same on a local Index and on
// a remote whois server. The zero MaxDepth means DefaultMaxDepth; zero MaxSize means no
// size limit.
type Resolver struct {
	Q        Querier
	Sources  []string // default source list for member lookups; nil: the Querier's
	MaxDepth int      // sets on the longest path from the root, root included
	MaxSize  int      // maximum number of ASNs plus prefix ranges
	Parallel int      // concurrent Members queries per nesting level; 0: DefaultParallel
	// Memo, when set, shares the sets' members and their parsing with every other
	// expansion that uses the same memo (see SetMemo); the result is the same.
	Memo *SetMemo
}

// Missing is a member set that does not exist, with the set path that referenced it
// (root first, the referencing set last).
type Missing struct {
	Name string
	Path []string
}

// Invalid is a set member that contributes nothing because it is malformed: not an
// ASN, set name, prefix or ANY ("AS1;AS2"), a prefix range whose lengths are out of
// range ("192.0.2.0/24^33"), an invalid operator ("^24-16"), an operator of an
// enclosing member that leaves no lengths, or a member an as-set cannot hold.
type Invalid struct {
	Set    string   // the set holding the member
	Member string   // the member as the set lists it
	Reason string   // why it contributes nothing
	Path   []string // root first, Set last
}

// Expansion is the result of Resolver.Expand.
type Expansion struct {
	// ASNs reached through as-sets, route-sets or given directly: sorted, unique.
	ASNs []routing.ASN
	// ASNRanges holds the range operator of ASNs that are members of a route-set
	// with an operator ("AS64496^+"): their route prefixes are to be widened by it.
	ASNRanges map[routing.ASN]RangeOp
	// Prefixes are the route-set prefix members (and prefix arguments) with their
	// ranges, operators on enclosing set members applied; sorted, unique.
	Prefixes []routing.PrefixRange
	// Paths holds, for every ASN, the first set path (root first) that reached it;
	// a directly given ASN has an empty path.
	Paths map[routing.ASN][]string
	// PrefixPaths holds the first set path that reached each prefix range.
	PrefixPaths map[routing.PrefixRange][]string
	// Missing lists unknown member sets and the path that referenced them.
	Missing []Missing
	// Loops lists set paths that came back to a set already on the path (the
	// repeated set last), including loops between sets reached on different paths.
	Loops [][]string
	// Invalid lists the malformed members, which contribute nothing.
	Invalid []Invalid
	// Sets lists every set that was expanded, in expansion order, with its members as
	// the server returned them (for --tree).
	Sets []SetNode
}

// SetNode is one expanded set and its direct members.
type SetNode struct {
	Name    string
	Path    []string // root first, this set last
	Members []string
}

// Expand expands the named objects: AS-SETs and route-sets (optionally
// "SOURCE::NAME", whose root is looked up in SOURCE only and its members in the
// default list), ASNs ("AS64496") and prefixes or prefix ranges. An unknown root set is
// an error wrapping ErrNotFound; a depth or size overflow an error wrapping ErrLimit.
// Unknown member sets and loops are reported in the Expansion, not as errors.
func (r *Resolver) Expand(ctx context.Context, names ...string) (*Expansion, error) {
	maxDepth := r.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	e := &Expansion{Paths: make(map[routing.ASN][]string), PrefixPaths: make(map[routing.PrefixRange][]string)}
	asns := make(map[routing.ASN]bool)
	prefixes := make(map[routing.PrefixRange]bool)
	size := 0
	grow := func(what string) error {
		size++
		if r.MaxSize > 0 && size > r.MaxSize {
			return fmt.Errorf("irr: expand %s: more than %d entries: %w", what, r.MaxSize, ErrLimit)
		}
		return nil
	}
	plain := make(map[routing.ASN]bool)
	addASN := func(a routing.ASN, path []string, op RangeOp) error {
		switch {
		case op.Kind == OpNone:
			plain[a] = true
			delete(e.ASNRanges, a)
		case !plain[a]:
			if e.ASNRanges == nil {
				e.ASNRanges = make(map[routing.ASN]RangeOp)
			}
			if _, ok := e.ASNRanges[a]; !ok {
				e.ASNRanges[a] = op
			}
		}
		if asns[a] {
			return nil
		}
		asns[a] = true
		e.Paths[a] = slices.Clone(path)
		return grow(a.String())
	}
	addPrefix := func(pr routing.PrefixRange, path []string) error {
		if prefixes[pr] {
			return nil
		}
		prefixes[pr] = true
		e.PrefixPaths[pr] = slices.Clone(path)
		return grow(pr.String())
	}

	type item struct {
		name    string
		sources []string // nil: r.Sources
		path    []string // sets before this one
		op      RangeOp
	}
	var queue []item
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if a, err := routing.ParseASN(n); err == nil {
			if err := addASN(a, nil, RangeOp{}); err != nil {
				return nil, err
			}
			continue
		}
		if pr, err := ParsePrefixRange(n); err == nil {
			if err := addPrefix(pr, nil); err != nil {
				return nil, err
			}
			continue
		}
		src, name, hasSrc := strings.Cut(n, "::")
		if !hasSrc {
			name, src = n, ""
		}
		if !IsSetName(name) {
			return nil, fmt.Errorf("irr: expand %s: not an AS-SET, route-set, ASN or prefix", n)
		}
		it := item{name: name}
		if hasSrc {
			it.sources = []string{strings.ToUpper(src)}
		}
		queue = append(queue, it)
	}

	expanded := make(map[string]bool) // [SOURCE::]UPPER(name)+op
	keyOf := func(it item) string {
		k := strings.ToUpper(it.name) + it.op.String()
		if it.sources != nil {
			k = strings.Join(it.sources, ",") + "::" + k
		}
		return k
	}
	type answer struct {
		members []string
		classes []memberClass // nil: classified here
		found   bool
	}
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	// Breadth first, one nesting level at a time: the Members queries of a level run
	// concurrently (a remote server answers them in parallel or pipelined), and the
	// answers are then processed in queue order, so the result is deterministic.
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("irr: expand: %w", err)
		}
		var level []item
		for _, it := range queue {
			k := keyOf(it)
			if expanded[k] {
				continue
			}
			expanded[k] = true
			if len(it.path)+1 > maxDepth {
				return nil, fmt.Errorf("irr: expand %s: nesting deeper than %d (%s): %w",
					it.name, maxDepth, strings.Join(append(slices.Clone(it.path), it.name), " > "), ErrLimit)
			}
			level = append(level, it)
		}
		queue = nil
		answers := make([]answer, len(level))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(parallel)
		for i, it := range level {
			sources := it.sources
			if sources == nil {
				sources = r.Sources
			}
			g.Go(func() error {
				var a answer
				var err error
				if r.Memo != nil {
					a.members, a.classes, a.found, err = r.Memo.members(gctx, r.Q, sources, it.name)
				} else {
					a.members, a.found, err = r.Q.Members(gctx, sources, it.name, false)
				}
				if err != nil {
					return fmt.Errorf("irr: expand %s: %w", it.name, err)
				}
				answers[i] = a
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for i, it := range level {
			members, found, classes := answers[i].members, answers[i].found, answers[i].classes
			if !found {
				if len(it.path) == 0 {
					where := ""
					if it.sources != nil {
						where = " in " + strings.Join(it.sources, ",")
					}
					return nil, fmt.Errorf("irr: expand %s%s: %w", it.name, where, ErrNotFound)
				}
				e.Missing = append(e.Missing, Missing{Name: it.name, Path: slices.Clone(it.path)})
				continue
			}
			path := append(slices.Clone(it.path), it.name)
			e.Sets = append(e.Sets, SetNode{Name: it.name, Path: path, Members: members})
			asSet := !IsRouteSetName(it.name)
			bad := func(m, reason string) {
				e.Invalid = append(e.Invalid, Invalid{Set: it.name, Member: m, Reason: reason, Path: path})
			}
			for k, m := range members {
				var c memberClass
				if classes != nil {
					c = classes[k]
				} else {
					c = classifyMember(m)
				}
				if asSet && c.notInASSet {
					// An as-set holds ASNs and as-sets only (RFC 2622 §5.1).
					bad(m, "an as-set holds ASNs and as-sets only")
					continue
				}
				if err := applyMember(&c, m, it.op, path, addASN, addPrefix, bad, func(name string, op RangeOp) {
					for _, p := range path {
						if strings.EqualFold(p, name) {
							e.Loops = append(e.Loops, append(slices.Clone(path), name))
							return
						}
					}
					queue = append(queue, item{name: name, path: path, op: op})
				}); err != nil {
					return nil, err
				}
			}
		}
	}
	e.Loops = append(e.Loops, crossLoops(e.Sets, names, e.Loops)...)
	e.ASNs = make([]routing.ASN, 0, len(asns))
	for a := range asns {
		e.ASNs = append(e.ASNs, a)
	}
	slices.Sort(e.ASNs)
	e.Prefixes = make([]routing.PrefixRange, 0, len(prefixes))
	for p := range prefixes {
		e.Prefixes = append(e.Prefixes, p)
	}
	slices.SortFunc(e.Prefixes, routing.Compare)
	return e, nil
}

// crossLoops finds the loops of the set graph (sets and their set members) that the
// breadth-first expansion does not see on one path: AS-A and AS-B, both reached from
// the root, holding each other. Each loop is reported once, as the depth-first path
// from a root to the repeated set; loops already in known (same closing edge) are
// left out.
func crossLoops(sets []SetNode, roots []string, known [][]string) [][]string {
	members := make(map[string][]string, len(sets))
	names := make(map[string]string, len(sets))
	for _, n := range sets {
		k := strings.ToUpper(n.Name)
		if _, ok := members[k]; ok {
			continue
		}
		names[k] = n.Name
		for _, m := range n.Members {
			if IsSetName(m) {
				base, _, _ := strings.Cut(m, "^")
				members[k] = append(members[k], base)
			}
		}
	}
	seen := make(map[[2]string]bool)
	for _, l := range known {
		if len(l) >= 2 {
			seen[[2]string{strings.ToUpper(l[len(l)-2]), strings.ToUpper(l[len(l)-1])}] = true
		}
	}
	const (
		white = iota
		grey
		black
	)
	state := make(map[string]int)
	var out [][]string
	var stack []string
	var visit func(k string)
	visit = func(k string) {
		state[k] = grey
		stack = append(stack, names[k])
		for _, m := range members[k] {
			mk := strings.ToUpper(m)
			if _, expanded := members[mk]; !expanded && names[mk] == "" {
				continue // not found or not expanded (a leaf)
			}
			switch state[mk] {
			case white:
				visit(mk)
			case grey:
				if edge := [2]string{k, mk}; !seen[edge] {
					seen[edge] = true
					out = append(out, append(slices.Clone(stack), m))
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[k] = black
	}
	for _, r := range roots {
		if _, n, ok := strings.Cut(r, "::"); ok {
			r = n
		}
		if k := strings.ToUpper(strings.TrimSpace(r)); names[k] != "" && state[k] == white {
			visit(k)
		}
	}
	return out
}

// AllPrefixes returns the union of the route-set prefixes and the route prefixes of the
// ASNs of e, of one family, from q (ASN ranges applied), sorted and unique. It is the
// usual next step of a prefix filter.
func (e *Expansion) AllPrefixes(ctx context.Context, q Querier, sources []string, v6 bool) ([]routing.PrefixRange, error) {
	var out []routing.PrefixRange
	for _, p := range e.Prefixes {
		if p.Prefix.Addr().Is6() == v6 {
			out = append(out, p)
		}
	}
	routes, err := q.Routes(ctx, sources, e.ASNs, v6)
	if err != nil {
		return nil, fmt.Errorf("irr: routes: %w", err)
	}
	for i, a := range e.ASNs {
		op, ranged := e.ASNRanges[a]
		for _, p := range routes[i] {
			pr := routing.PrefixRange{Prefix: p, Min: p.Bits(), Max: p.Bits()}
			if ranged {
				var ok bool
				if pr, ok = op.Apply(pr); !ok {
					continue
				}
			}
			out = append(out, pr)
		}
	}
	slices.SortFunc(out, routing.Compare)
	return slices.Compact(out), nil
}
