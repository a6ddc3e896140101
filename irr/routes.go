package irr

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/bgpfilter/bgpfilter/routing"
)

// RouteMatch selects which route objects FindRoutes returns, as IRRd's "!r" options.
type RouteMatch int

// The "!r<prefix>[,o|l|L|M]" match modes.
const (
	Exact           RouteMatch = iota // "!r<p>": route objects for exactly p
	OneLessSpecific                   // ",l": the most specific covering prefix, p excluded
	AllLessSpecific                   // ",L": every covering prefix, p included
	AllMoreSpecific                   // ",M": every more specific prefix, p excluded
)

// Route is one route or route6 object: its prefix, origin and source.
type Route struct {
	Prefix netip.Prefix
	Origin routing.ASN
	Source string
}

type routeEntry struct {
	p      netip.Prefix
	origin routing.ASN
	src    uint16 // source.idx
}

// routeTable returns every route of every source sorted by prefix, building it on first
// use after a change. The caller holds at least the read lock.
func (ix *Index) routeTable() []routeEntry {
	if t := ix.sorted.Load(); t != nil {
		return *t
	}
	ix.sortedMu.Lock()
	defer ix.sortedMu.Unlock()
	if t := ix.sorted.Load(); t != nil {
		return *t
	}
	ix.materialize()
	n := 0
	for _, s := range ix.srcs {
		n += s.nroutes[0] + s.nroutes[1]
	}
	tab := make([]routeEntry, 0, n)
	for _, s := range ix.srcs {
		s.eachRoute(func(rk routeKey) {
			tab = append(tab, routeEntry{rk.p.Prefix(), rk.origin, s.idx})
		})
	}
	slices.SortFunc(tab, func(a, b routeEntry) int {
		if c := routing.ComparePrefix(a.p, b.p); c != 0 {
			return c
		}
		if a.origin != b.origin {
			if a.origin < b.origin {
				return -1
			}
			return 1
		}
		return int(a.src) - int(b.src)
	})
	ix.sorted.Store(&tab)
	return tab
}

// FindRoutes returns the route objects of the selected sources related to p as m says,
// sorted by prefix, origin, then source order.
func (ix *Index) FindRoutes(sources []string, p netip.Prefix, m RouteMatch) []Route {
	p = p.Masked()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	srcs := ix.selected(sources)
	rank := make(map[uint16]int, len(srcs))
	byIdx := make(map[uint16]*source, len(srcs))
	for i, s := range srcs {
		rank[s.idx] = i
		byIdx[s.idx] = s
	}
	tab := ix.routeTable()
	var hits []routeEntry
	exact := func(q netip.Prefix) []routeEntry {
		i := sort.Search(len(tab), func(i int) bool { return routing.ComparePrefix(tab[i].p, q) >= 0 })
		j := i
		for j < len(tab) && tab[j].p == q {
			j++
		}
		return tab[i:j]
	}
	switch m {
	case Exact:
		hits = exact(p)
	case OneLessSpecific, AllLessSpecific:
		top := p.Bits() - 1
		if m == AllLessSpecific {
			top = p.Bits()
		}
		for b := top; b >= 0; b-- {
			q, _ := p.Addr().Prefix(b)
			found := false
			for _, e := range exact(q) {
				if _, ok := rank[e.src]; ok {
					hits = append(hits, e)
					found = true
				}
			}
			if found && m == OneLessSpecific {
				break
			}
		}
	case AllMoreSpecific:
		i := sort.Search(len(tab), func(i int) bool { return tab[i].p.Addr().Compare(p.Addr()) >= 0 })
		for ; i < len(tab) && p.Contains(tab[i].p.Addr()) && tab[i].p.Addr().BitLen() == p.Addr().BitLen(); i++ {
			if tab[i].p.Bits() > p.Bits() {
				hits = append(hits, tab[i])
			}
		}
	}
	var out []Route
	for _, e := range hits {
		if _, ok := rank[e.src]; ok {
			out = append(out, Route{Prefix: e.p, Origin: e.origin, Source: byIdx[e.src].name})
		}
	}
	slices.SortStableFunc(out, func(a, b Route) int {
		if c := routing.ComparePrefix(a.Prefix, b.Prefix); c != 0 {
			return c
		}
		if a.Origin != b.Origin {
			if a.Origin < b.Origin {
				return -1
			}
			return 1
		}
		return rank[ix.srcs[a.Source].idx] - rank[ix.srcs[b.Source].idx]
	})
	return out
}

// RouteSources returns, in default source order, the sources holding a route object
// for exactly p with origin (for provenance).
func (ix *Index) RouteSources(p netip.Prefix, origin routing.ASN) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []string
	for _, s := range ix.selected(nil) {
		if s.hasRoute(routeKey{toKey(p), origin}) {
			out = append(out, s.name)
		}
	}
	return out
}
