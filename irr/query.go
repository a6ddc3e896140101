package irr

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/routing"
)

var _ Querier = (*Index)(nil)

// selected returns the sources to consult, in order: the given names (upper-cased,
// unknown ones skipped) or the default list. The caller holds the read lock.
func (ix *Index) selected(sources []string) []*source {
	names := ix.order
	if len(sources) > 0 {
		names = sources
	}
	out := make([]*source, 0, len(names))
	for _, n := range names {
		if s := ix.srcs[strings.ToUpper(strings.TrimSpace(n))]; s != nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Sources returns the default source list in priority order.
func (ix *Index) Sources(ctx context.Context) ([]string, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return slices.Clone(ix.order), nil
}

// AllSources returns every loaded source, in load order, whether or not it is in the
// default list.
func (ix *Index) AllSources() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]string, 0, len(ix.srcs))
	for n := range ix.srcs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CheckSources returns an error wrapping ErrUnknownSource when a name is not loaded.
func (ix *Index) CheckSources(ctx context.Context, sources []string) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var unknown []string
	for _, n := range sources {
		if ix.srcs[strings.ToUpper(strings.TrimSpace(n))] == nil {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("irr: %s: %w", strings.Join(unknown, ","), ErrUnknownSource)
	}
	return nil
}

// findSet returns the set called name (case-insensitive) from the first source that
// holds it, and that source.
func findSet(srcs []*source, name string) (*rpslSet, *source) {
	key := strings.ToUpper(name)
	for _, s := range srcs {
		if set := s.set(key); set != nil {
			return set, s
		}
	}
	return nil, nil
}

// mntMatch reports whether an object maintained by mnts may join a set whose
// mbrs-by-ref is refs (RFC 2622 §5.1: ANY admits every maintainer).
func mntMatch(refs, mnts []string) bool {
	for _, r := range refs {
		if r == "ANY" {
			return true
		}
		if slices.Contains(mnts, r) {
			return true
		}
	}
	return false
}

// directMembers returns the members of set as written plus its mbrs-by-ref matches:
// the aut-nums (for an as-set) or route prefixes (for a route-set) of any selected
// source whose member-of names the set and whose mnt-by is in mbrs-by-ref (or any, for
// ANY), as IRRd finds them.
func directMembers(set *rpslSet, srcs []*source) []string {
	out := slices.Clone(set.members)
	if len(set.mbrsByRef) == 0 {
		return out
	}
	key := strings.ToUpper(set.name)
	for _, s := range srcs {
		if set.class == "as-set" {
			for asn, ref := range s.asMembers(key) {
				if mntMatch(set.mbrsByRef, ref.mnts) {
					out = append(out, asn.String())
				}
			}
			continue
		}
		for rk, ref := range s.routeMembers(key) {
			if mntMatch(set.mbrsByRef, ref.mnts) {
				out = append(out, rk.p.Prefix().String())
			}
		}
	}
	return out
}

// IsSetName reports whether a member token names an as-set or route-set rather than an
// ASN or a prefix: it starts with "AS-" or "RS-" or is hierarchical (contains ':' and
// is not an IPv6 prefix). A range operator suffix is ignored.
func IsSetName(tok string) bool {
	name, _, _ := strings.Cut(tok, "^")
	u := strings.ToUpper(name)
	if strings.HasPrefix(u, "AS-") || strings.HasPrefix(u, "RS-") {
		return true
	}
	if strings.Contains(u, ":") && !strings.Contains(u, "/") {
		for _, part := range strings.Split(u, ":") {
			if strings.HasPrefix(part, "AS-") || strings.HasPrefix(part, "RS-") {
				return true
			}
		}
	}
	return false
}

// IsRouteSetName reports whether a set name names a route-set: its last "AS-" or "RS-"
// component (hierarchical names are split at ':') starts with "RS-".
func IsRouteSetName(name string) bool {
	name, _, _ = strings.Cut(name, "^")
	parts := strings.Split(strings.ToUpper(name), ":")
	for i := len(parts) - 1; i >= 0; i-- {
		switch {
		case strings.HasPrefix(parts[i], "RS-"):
			return true
		case strings.HasPrefix(parts[i], "AS-"):
			return false
		}
	}
	return false
}

// Members answers "!i<name>" and "!i<name>,1" (see Querier). The result is
// deduplicated and sorted as strings, as IRRd does.
func (ix *Index) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out, found := ix.members(ix.selected(sources), name, recursive)
	if err := ix.snapErr(); err != nil {
		return nil, false, err
	}
	return out, found, nil
}

func (ix *Index) members(srcs []*source, name string, recursive bool) ([]string, bool) {
	set, _ := findSet(srcs, name)
	if set == nil {
		return nil, false
	}
	if !recursive {
		return sortUnique(directMembers(set, srcs)), true
	}
	if set.class == "as-set" {
		asns := ix.expandASNs(srcs, set)
		out := make([]string, 0, len(asns))
		for _, a := range asns {
			out = append(out, a.String())
		}
		return sortUnique(out), true
	}
	return sortUnique(ix.expandRouteSet(srcs, set)), true
}

// expandRouteSet resolves a route-set recursively as IRRd's "!i<rs>,1" does: prefixes
// and ranges as written, the prefixes of member ASNs (both families) and of the ASNs of
// member as-sets, nested route-sets followed. Like IRRd, it does not apply range
// operators to set or AS members ("AS64496^+", "RS-FOO^24"): such members name no
// object and are dropped (the native Resolver applies them, RFC 2622 §5.2).
func (ix *Index) expandRouteSet(srcs []*source, root *rpslSet) []string {
	var out []string
	seen := map[string]bool{strings.ToUpper(root.name): true}
	queue := []*rpslSet{root}
	addASN := func(a routing.ASN) {
		for f := 0; f < 2; f++ {
			for _, s := range srcs {
				for _, k := range s.prefixes(f, a) {
					out = append(out, k.Prefix().String())
				}
			}
		}
	}
	for len(queue) > 0 {
		set := queue[0]
		queue = queue[1:]
		for _, m := range directMembers(set, srcs) {
			if _, err := ParsePrefixRange(m); err == nil {
				out = append(out, m)
				continue
			}
			if a, err := routing.ParseASN(m); err == nil {
				addASN(a)
				continue
			}
			if !IsSetName(m) || strings.Contains(m, "^") {
				continue
			}
			k := strings.ToUpper(m)
			if seen[k] {
				continue
			}
			seen[k] = true
			sub, _ := findSet(srcs, m)
			switch {
			case sub == nil:
			case sub.class == "as-set":
				for _, a := range ix.expandASNs(srcs, sub) {
					addASN(a)
				}
			default:
				queue = append(queue, sub)
			}
		}
	}
	return out
}

// composeOps returns the single operator equivalent to applying inner and then outer
// to a plain prefix, where it is expressible; otherwise outer (the later operator
// decides the lengths, RFC 2622 §5.2).
func composeOps(inner, outer RangeOp) RangeOp {
	if inner.Kind == OpMinus && outer.Kind == OpPlus {
		return inner // {p^-}^+ = p^-
	}
	return outer
}

func sortUnique(list []string) []string {
	sort.Strings(list)
	return slices.Compact(list)
}

// SetPrefixes answers "!a4<set>" / "!a6<set>": the prefixes, of one family, of every
// origin the as-set recursively contains. As in IRRd, only as-sets are looked up: a
// route-set name is not found.
func (ix *Index) SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out, found := ix.setPrefixes(ix.selected(sources), name, v6)
	if err := ix.snapErr(); err != nil {
		return nil, false, err
	}
	return out, found, nil
}

func (ix *Index) setPrefixes(srcs []*source, name string, v6 bool) ([]netip.Prefix, bool) {
	l, found := ix.setPrefixKeys(srcs, name, v6)
	if !found {
		return nil, false
	}
	return l.Prefixes(), true
}

// setPrefixKeys is setPrefixes as sorted, distinct keys (see SetPrefixKeys).
func (ix *Index) setPrefixKeys(srcs []*source, name string, v6 bool) (pfxkey.List, bool) {
	set, _ := findSet(srcs, name)
	if set == nil || set.class != "as-set" {
		return pfxkey.List{V6: v6}, false
	}
	f := 0
	if v6 {
		f = 1
	}
	asns := ix.expandASNs(srcs, set)
	n := 0
	for _, src := range srcs {
		if src.lz != nil {
			// An estimate, without a lookup per origin: twice the average per origin.
			if o := len(src.lz.originTable(f)) / originRow; o > 0 {
				n += min(src.lz.n[f], 2*len(asns)*src.lz.n[f]/o)
			}
			continue
		}
		for _, a := range asns {
			n += src.countPrefixes(f, a)
		}
	}
	// Source by source (the result is sorted at the end): a snapshot's origin table is
	// walked once in ASN order (originCursor), the other family's never touched.
	if !v6 {
		// Pack straight from the per-origin lists: half the bytes to move.
		packed := make([]uint64, 0, n)
		for _, src := range srcs {
			if src.lz != nil {
				cur := src.lz.cursor(0)
				for _, a := range asns {
					packed = src.lz.decodePacked4(packed, cur.routes(a), a)
				}
				continue
			}
			for _, a := range asns {
				packed = src.appendPacked4(packed, a)
			}
		}
		return pfxkey.List{P4: packed}.Normalize(), true
	}
	keys := make([]pkey, 0, n)
	for _, src := range srcs {
		if src.lz != nil {
			cur := src.lz.cursor(1)
			for _, a := range asns {
				keys = src.lz.decodeKeys(keys, cur.routes(a), 1, a)
			}
			continue
		}
		for _, a := range asns {
			keys = src.appendKeys(keys, 1, a)
		}
	}
	return pfxkey.List{V6: true, K6: keys}.Normalize(), true
}

// sortKeys sorts and deduplicates keys (in place) and converts them to prefixes.
func sortKeys(keys []pkey) []netip.Prefix {
	slices.SortFunc(keys, comparePKey)
	keys = slices.Compact(keys)
	out := make([]netip.Prefix, len(keys))
	for i, k := range keys {
		out[i] = k.Prefix()
	}
	return out
}

// Routes answers "!gas<N>" / "!6as<N>" for every ASN: the union over the selected
// sources, deduplicated and sorted, one entry per requested ASN.
func (ix *Index) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	srcs := ix.selected(sources)
	f := 0
	if v6 {
		f = 1
	}
	out := make([][]netip.Prefix, len(asns))
	var keys []pkey
	for i, a := range asns {
		keys = keys[:0]
		for _, s := range srcs {
			keys = s.appendKeys(keys, f, a)
		}
		out[i] = sortKeys(keys)
	}
	if err := ix.snapErr(); err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup is a plain whois lookup: every object of any class whose primary key equals
// key (case-insensitive; for routes the prefix), in source order, then class order of
// loading. The objects are fresh copies the caller may keep.
func (ix *Index) Lookup(sources []string, key string) []*rpsl.Object {
	key = strings.TrimSpace(key)
	ix.mu.RLock()
	srcs := ix.selected(sources)
	var texts []string
	ix.materialize()
	tx := &ix.texts
	uk := strings.ToUpper(key)
	if a, err := routing.ParseASN(key); err == nil {
		uk = a.String()
	}
	p, perr := netip.ParsePrefix(key)
	for _, s := range srcs {
		for _, c := range s.byKey[uk] {
			if t, ok := s.objs[c+"\x00"+uk]; ok {
				texts = append(texts, tx.get(t))
			}
		}
		if perr == nil {
			var origins []routing.ASN
			for rk := range ix.routesByPrefix(s, p) {
				origins = append(origins, rk)
			}
			slices.Sort(origins)
			var seen []textRef // a multi-origin object is one object, listed once
			for _, o := range origins {
				if t, ok := s.route(routeKey{toKey(p), o}); ok && !slices.Contains(seen, t) {
					seen = append(seen, t)
					texts = append(texts, tx.get(t))
				}
			}
		}
	}
	ix.mu.RUnlock()
	out := make([]*rpsl.Object, 0, len(texts))
	for _, t := range texts {
		if o, err := rpsl.NewScanner(strings.NewReader(t), "index").Next(); err == nil {
			out = append(out, o)
		}
	}
	return out
}

// routesByPrefix returns the origins of the route objects of s for exactly p.
func (ix *Index) routesByPrefix(s *source, p netip.Prefix) map[routing.ASN]struct{} {
	out := make(map[routing.ASN]struct{})
	tab := ix.routeTable()
	i := sort.Search(len(tab), func(i int) bool { return routing.ComparePrefix(tab[i].p, p) >= 0 })
	for ; i < len(tab) && tab[i].p == p; i++ {
		if tab[i].src == s.idx {
			out[tab[i].origin] = struct{}{}
		}
	}
	return out
}
