package rpki

import (
	"slices"

	"github.com/bgpfilter/bgpfilter/routing"
)

// The data behind ASPA renderings (render.ASPA turns it into BIRD's native ASPA table
// or, for daemons without ASPA support, AS-path filters that reject the hops the
// ASPAs of a customer cone forbid).

// ProvidersFor returns a's providers for afi: the per-AFI set (4 or 6), or for 0
// their union.
func ProvidersFor(a ASPA, afi int) []routing.ASN {
	switch afi {
	case 4:
		return a.IPv4
	case 6:
		return a.IPv6
	}
	return a.Providers()
}

// PerAFIDiffers returns the customers among customers (all ASPAs when empty) whose
// ASPA lists different providers for IPv4 and IPv6, sorted. Renderings for "either
// family" (AFI 0) must refuse them: merging the lists would permit a provider in the
// family whose ASPA does not list it.
func (t *Table) PerAFIDiffers(customers []routing.ASN) []routing.ASN {
	var out []routing.ASN
	for _, a := range t.ConeASPAs(customers) {
		if !slices.Equal(a.IPv4, a.IPv6) {
			out = append(out, a.Customer)
		}
	}
	return out
}

// ConeASPAs returns the ASPAs of the cone's ASes (all ASPAs when cone is empty), by
// customer.
func (t *Table) ConeASPAs(cone []routing.ASN) []ASPA {
	if len(cone) == 0 {
		return t.ASPAs()
	}
	var out []ASPA
	for _, c := range sortedUnique(slices.Clone(cone)) {
		if a, ok := t.aspas[c]; ok {
			out = append(out, a)
		}
	}
	return out
}

// ASPARule forbids a hop: a route whose AS_PATH has one of Before immediately to
// the left of (i.e. received from) Customer is invalid, because Customer's ASPA does
// not list that AS as a provider.
type ASPARule struct {
	Customer routing.ASN
	Before   []routing.ASN
}

// ConeRules derives the forbidden hops inside a customer cone: for every AS X of the
// cone with an ASPA, the other cone members that are not X's providers must not
// appear right before X in the path (upstream verification restricted to the cone;
// ASes outside the cone are the AS-path filter's job). Sorted by customer.
func (t *Table) ConeRules(cone []routing.ASN, afi int) []ASPARule {
	members := sortedUnique(slices.Clone(cone))
	var rules []ASPARule
	for _, x := range members {
		a, ok := t.aspas[x]
		if !ok {
			continue
		}
		prov := ProvidersFor(a, afi)
		var before []routing.ASN
		for _, y := range members {
			if y == x || y == 0 {
				continue
			}
			if _, found := slices.BinarySearch(prov, y); !found {
				before = append(before, y)
			}
		}
		if len(before) > 0 {
			rules = append(rules, ASPARule{Customer: x, Before: before})
		}
	}
	return rules
}
