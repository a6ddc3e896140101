package render

// Origin binding (Session.OriginBinding, bgp/bgpq4#24): the prefix rule accepts a
// route only when an entry that contains the prefix lists the route's origin among
// its route objects' (or ROAs') origins, or lists no origin at all (a literal config
// prefix, which binds to every origin). Every vendor expresses that the same way,
// from the view built here: the entries grouped by origin ASN, one prefix set per
// origin (NAME_PFX_V4_AS64500) and one of the unbound entries (NAME_PFX_V4_ANY),
// and a match "prefix in the origin's set and path ends in that origin" per group.
// A route has one origin, so at most one group can match it; the size of the output
// grows with the number of (entry, origin) pairs, about the number of route objects,
// not with origins times entries.

import (
	"slices"
	"strconv"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Object name suffixes of origin binding: the unbound entries of a family's prefix
// set, one prefix set per origin (+ the ASN), and one path object per origin (+ the
// ASN), shared by the families.
const (
	suffixUnbound    = "_ANY"
	suffixBoundPfx   = "_AS"
	suffixOriginPath = "_AS"
)

// boundView is one origin's group of a document's prefix set.
type boundView struct {
	ASN uint32
	// Prefixes are the entries that list ASN among their origins.
	Prefixes *PrefixData
	// Path is the name of the origin's path object (FRR as-path list, Junos
	// as-path-group) in policyView.OriginPaths.
	Path string
}

// originPathView is the path object of one bound origin: paths whose origin is ASN
// (and that start with the neighbour when the first-as rule is on, for vendors
// that fold it into the same match).
type originPathView struct {
	Name string
	ASN  uint32
	// IsNeighbor: ASN is the neighbour's own (a path that starts and ends with it).
	IsNeighbor bool
}

// bindingView fills dv's origin-binding groups from d. Groups whose origin the
// origin rule would reject anyway (outside the cone) are left out: they could never
// accept a route, and a cone's route objects may name origins outside it (route-set
// members). It returns the origins bound in this document.
func bindingView(dv *docView, d *policy.Document) []routing.ASN {
	dv.Binding = d.Direction == policy.Import && d.Session.OriginBinding && dv.Enabled[string(policy.RulePrefix)]
	if !dv.Binding {
		return nil
	}
	originRule := dv.Enabled[string(policy.RuleOrigin)]
	unbound := &policy.PrefixFilter{Name: d.Prefixes.Name + suffixUnbound, Family: d.Family}
	groups := map[routing.ASN]*policy.PrefixFilter{}
	for _, e := range d.Prefixes.Entries {
		if len(e.Origins) == 0 {
			unbound.Entries = append(unbound.Entries, e)
			continue
		}
		for _, a := range e.Origins {
			if originRule && !d.Origins.Contains(a) {
				continue
			}
			g := groups[a]
			if g == nil {
				g = &policy.PrefixFilter{Name: d.Prefixes.Name + suffixBoundPfx + strconv.FormatUint(uint64(a), 10), Family: d.Family}
				groups[a] = g
			}
			g.Entries = append(g.Entries, e)
		}
	}
	asns := make([]routing.ASN, 0, len(groups))
	for a := range groups {
		asns = append(asns, a)
	}
	slices.Sort(asns)
	dv.Unbound = newPrefixData(unbound)
	dv.Bound = make([]boundView, 0, len(asns))
	for _, a := range asns {
		dv.Bound = append(dv.Bound, boundView{ASN: uint32(a), Prefixes: newPrefixData(groups[a]),
			Path: originPathName(d.Customer, a)})
	}
	return asns
}

func originPathName(customer string, a routing.ASN) string {
	return customer + suffixOriginPath + strconv.FormatUint(uint64(a), 10)
}

// bindingNames returns the object names of dv's groups (for validation).
func bindingNames(dv *docView) []string {
	if !dv.Binding {
		return nil
	}
	names := []string{dv.Unbound.Name}
	for _, g := range dv.Bound {
		names = append(names, g.Prefixes.Name)
	}
	return names
}

// originPathsView is the union of the bound origins of both families, one path
// object each.
func originPathsView(customer string, neighbor routing.ASN, asns []routing.ASN) []originPathView {
	slices.Sort(asns)
	asns = slices.Compact(asns)
	out := make([]originPathView, 0, len(asns))
	for _, a := range asns {
		out = append(out, originPathView{Name: originPathName(customer, a), ASN: uint32(a), IsNeighbor: a == neighbor})
	}
	return out
}
