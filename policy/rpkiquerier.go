package policy

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// RPKIQuerier wraps an irr.Querier and applies RPKI to its route answers the way an
// RPKI-aware IRRd (rr.ntt.net, IRRd 4 with RPKI enabled) does on the server side, so
// that code which only speaks the Querier interface (the bgpq4 engine) builds IRR ∩
// RPKI filters:
//
//   - Routes drops the prefixes that Validator calls "invalid" for that origin (with
//     DropInvalid), and with ROAAdd appends the ROA prefixes of that origin that have
//     no route object. A Querier answer holds plain prefixes, so a ROA-added prefix is
//     the ROA's own prefix, exact: the lengths up to its maxLength are not expressed
//     (the native prefix-list command, which has ranges, permits them).
//   - SetPrefixes ("!a") is answered from Members(recursive) and the filtered Routes,
//     because "!a" carries no origins to validate. A set whose recursive members are
//     not all ASNs (a route-set) or that has none is passed through unchanged.
//   - Members is passed through: route-set prefixes are not bound to an origin, and
//     as-set members are ASNs (see DropInvalidOrigins for as-path filters).
//
// The zero value is not usable; build one with NewRPKIQuerier. It is safe for
// concurrent use if the wrapped Querier is.
type RPKIQuerier struct {
	irr.Querier
	v           RouteValidator
	dropInvalid bool
	roaAdd      func(origin routing.ASN, v6 bool) []netip.Prefix

	mu      sync.Mutex
	dropped map[Route][]string
	added   map[Route]struct{}
}

// Route is one (prefix, origin) pair.
type Route struct {
	Prefix netip.Prefix
	Origin routing.ASN
}

// RouteDrop is a route object RPKIQuerier (or DropInvalidOrigins) dropped as
// RPKI-invalid, with the ROAs that made it invalid.
type RouteDrop struct {
	Route
	Reasons []string
}

// NewRPKIQuerier wraps q. v validates (prefix, origin) pairs (nil: nothing is
// dropped); dropInvalid drops the invalid ones; roaAdd, when non-nil, returns the ROA
// prefixes of an origin to append to its route answers. These are the values of
// rpki.Table.Hooks.
func NewRPKIQuerier(q irr.Querier, v RouteValidator, dropInvalid bool, roaAdd func(origin routing.ASN, v6 bool) []netip.Prefix) *RPKIQuerier {
	return &RPKIQuerier{Querier: q, v: v, dropInvalid: dropInvalid && v != nil, roaAdd: roaAdd,
		dropped: map[Route][]string{}, added: map[Route]struct{}{}}
}

// Routes answers like the wrapped Querier with RPKI applied per origin (see the type).
func (r *RPKIQuerier) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	res, err := r.Querier.Routes(ctx, sources, asns, v6)
	if err != nil || len(res) != len(asns) {
		return res, err // the caller reports a short answer
	}
	out := make([][]netip.Prefix, len(res))
	for i, a := range asns {
		out[i] = r.filter(a, res[i], v6)
	}
	return out, nil
}

// filter returns ps (never modified) without the invalid prefixes of origin a and with
// its ROA prefixes added, sorted and deduplicated.
func (r *RPKIQuerier) filter(a routing.ASN, ps []netip.Prefix, v6 bool) []netip.Prefix {
	kept := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if r.dropInvalid && p.IsValid() && p.Addr().Is6() == v6 {
			// A prefix of the wrong family is kept: the caller refuses the answer.
			if st, why := r.v.Validate(p, a); st == routing.Invalid {
				r.mu.Lock()
				r.dropped[Route{p.Masked(), a}] = why
				r.mu.Unlock()
				continue
			}
		}
		kept = append(kept, p)
	}
	if r.roaAdd == nil {
		return kept
	}
	n := len(kept)
	for _, p := range r.roaAdd(a, v6) {
		if !p.IsValid() || p.Addr().Is6() != v6 {
			continue
		}
		p = p.Masked()
		if slices.Contains(kept[:n], p) {
			continue // the origin has a route object for it
		}
		kept = append(kept, p)
		r.mu.Lock()
		r.added[Route{p, a}] = struct{}{}
		r.mu.Unlock()
	}
	if len(kept) > n {
		sortPrefixes(kept)
		kept = slices.Compact(kept)
	}
	return kept
}

// SetPrefixes answers "!a" as Members(recursive) and Routes would, so the RPKI
// filter applies per origin; route-sets and empty sets go to the wrapped Querier.
func (r *RPKIQuerier) SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	asns, err := r.setASNs(ctx, sources, name)
	if err != nil {
		return nil, false, err
	}
	if asns == nil {
		return nil, false, nil
	}
	if len(asns) == 0 {
		return r.Querier.SetPrefixes(ctx, sources, name, v6)
	}
	routes, err := r.Routes(ctx, sources, asns, v6)
	if err != nil {
		return nil, false, fmt.Errorf("rpki filter: routes of %s: %w", name, err)
	}
	if len(routes) != len(asns) {
		return nil, false, fmt.Errorf("rpki filter: routes of %s: %d answers for %d ASNs: %w", name, len(routes), len(asns), irr.ErrUnavailable)
	}
	var out []netip.Prefix
	for _, ps := range routes {
		out = append(out, ps...)
	}
	sortPrefixes(out)
	return slices.Compact(out), true, nil
}

// setASNs returns the ASNs of the as-set name (as numbers when the wrapped Querier
// can, irr.ASNQuerier; else parsed from Members): nil when it does not exist, empty
// when it is no as-set of ASNs only (a route-set) or has no members.
func (r *RPKIQuerier) setASNs(ctx context.Context, sources []string, name string) ([]routing.ASN, error) {
	asns, ok, err := irr.SetASNs(ctx, r.Querier, sources, name)
	if err != nil {
		return nil, fmt.Errorf("rpki filter: members of %s: %w", name, err)
	}
	if ok {
		if asns == nil {
			asns = []routing.ASN{} // found, no members
		}
		return asns, nil
	}
	mem, found, err := r.Querier.Members(ctx, sources, name, true)
	if err != nil {
		return nil, fmt.Errorf("rpki filter: members of %s: %w", name, err)
	}
	if !found {
		return nil, nil
	}
	asns = make([]routing.ASN, 0, len(mem))
	for _, m := range mem {
		a, err := routing.ParseASN(m)
		if err != nil {
			return []routing.ASN{}, nil
		}
		asns = append(asns, a)
	}
	return asns, nil
}

// SetASNs implements irr.ASNQuerier: passed through, as Members is (as-set members
// are ASNs; the RPKI filter applies to routes).
func (r *RPKIQuerier) SetASNs(ctx context.Context, sources []string, name string) ([]routing.ASN, bool, error) {
	return irr.SetASNs(ctx, r.Querier, sources, name)
}

// Dropped returns the route objects dropped as invalid so far, sorted by prefix, then
// origin.
func (r *RPKIQuerier) Dropped() []RouteDrop {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RouteDrop, 0, len(r.dropped))
	for k, why := range r.dropped {
		out = append(out, RouteDrop{Route: k, Reasons: slices.Clone(why)})
	}
	slices.SortFunc(out, func(a, b RouteDrop) int { return compareRoute(a.Route, b.Route) })
	return out
}

// Added returns the ROA prefixes added so far, sorted by prefix, then origin.
func (r *RPKIQuerier) Added() []Route {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Route, 0, len(r.added))
	for k := range r.added {
		out = append(out, k)
	}
	slices.SortFunc(out, compareRoute)
	return out
}

// Close closes the wrapped Querier when it can be closed.
func (r *RPKIQuerier) Close() error {
	if c, ok := r.Querier.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

func compareRoute(a, b Route) int {
	if c := comparePrefix(a.Prefix, b.Prefix); c != 0 {
		return c
	}
	return cmp.Compare(a.Origin, b.Origin)
}

func sortPrefixes(ps []netip.Prefix) { slices.SortFunc(ps, comparePrefix) }

// String renders the drop as "192.0.2.0/26 AS64500".
func (r Route) String() string { return r.Prefix.String() + " " + r.Origin.String() }

// DropInvalidOrigins applies RPKI to an as-path filter, which is about origin ASNs
// and not prefixes: an origin is removed when it has route objects (of either family,
// from q with sources) and every one of them is RPKI-invalid for it, since it would
// announce nothing valid. Origins without route objects stay (nothing to judge). When
// the removed origin is PeerAS, PeerIsMember becomes false (paths through the peer
// stay). Each removal is added to f.Warnings and returned with its invalid routes.
func DropInvalidOrigins(ctx context.Context, q irr.Querier, sources []string, f *ASPathFilter, v RouteValidator) ([]OriginDrop, error) {
	if v == nil || len(f.Origins) == 0 {
		return nil, nil
	}
	var fams [2][][]netip.Prefix
	for i, v6 := range []bool{false, true} {
		res, err := q.Routes(ctx, sources, f.Origins, v6)
		if err != nil {
			return nil, fmt.Errorf("policy: rpki: routes of %d origins: %w", len(f.Origins), err)
		}
		if len(res) != len(f.Origins) {
			return nil, fmt.Errorf("policy: rpki: routes: %d answers for %d origins: %w", len(res), len(f.Origins), irr.ErrUnavailable)
		}
		fams[i] = res
	}
	var drops []OriginDrop
	kept := f.Origins[:0:0]
	for i, a := range f.Origins {
		d := OriginDrop{Origin: a}
		n, bad := 0, 0
		for _, res := range fams {
			for _, p := range res[i] {
				n++
				st, why := v.Validate(p, a)
				if st != routing.Invalid {
					continue
				}
				bad++
				d.Routes = append(d.Routes, RouteDrop{Route: Route{p, a}, Reasons: why})
			}
		}
		if n == 0 || bad < n {
			kept = append(kept, a)
			continue
		}
		drops = append(drops, d)
		f.Warnings = append(f.Warnings, fmt.Sprintf("dropped origin %s: all %d route objects are RPKI-invalid", a, n))
		if a == f.PeerAS {
			f.PeerIsMember = false
		}
	}
	f.Origins = kept
	slices.Sort(f.Warnings)
	f.Warnings = slices.Compact(f.Warnings)
	return drops, nil
}

// OriginDrop is an origin DropInvalidOrigins removed, with its invalid route objects.
type OriginDrop struct {
	Origin routing.ASN
	Routes []RouteDrop
}
