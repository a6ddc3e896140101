package render

import (
	"fmt"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// ASPA renderings: BIRD's native ASPA table (BIRD >= 2.16) and, for daemons without
// ASPA support (FRR, Junos, IOS-XR), AS-path filters that reject the hops the ASPAs
// of a customer cone forbid. The text is in templates/<vendor>/aspa.tmpl.

// aspaTemplate is the entry template of an ASPA rendering in every vendor folder.
const aspaTemplate = "aspa.tmpl"

// aspaFormats are the formats with an ASPA rendering; bird renders the table, the
// others the cone's AS-path filter.
var aspaFormats = map[string]bool{"bird": true, "frr": true, "junos": true, "iosxr": true}

// ASPAFormats returns the formats of ASPA renderings.
func ASPAFormats() []string { return []string{"bird", "frr", "junos", "iosxr"} }

// ASPANeedsCone reports whether the format renders a cone's AS-path filter (and so
// needs a cone) rather than the whole table.
func ASPANeedsCone(format string) bool { return format != "bird" }

// ASPAOptions select what an ASPA rendering covers.
type ASPAOptions struct {
	// Name is the table / filter name, validated by the format's name rules.
	Name string
	// Cone, when not empty, limits the output to these customer ASes (a customer
	// cone, e.g. the expansion of the customer's AS-SET). Required for the AS-path
	// filters.
	Cone []routing.ASN
	// AFI selects per-AFI provider sets (4 or 6); 0 uses their union.
	AFI int
}

// ASPAData is what aspa.tmpl executes on.
type ASPAData struct {
	Name string
	// ConeSize is the number of ASes of the cone as given.
	ConeSize int
	// ASPAs (BIRD table) are the cone's ASPAs; Providers without AS0, empty for an
	// AS0-only ("transit") ASPA.
	ASPAs []ASPAEntry
	// Rules (AS-path filters) are the forbidden hops, at most ASPAAlternatives
	// neighbours per rule so every vendor's regex stays short.
	Rules []rpki.ASPARule
}

// ASPAEntry is one ASPA of a BIRD table.
type ASPAEntry struct {
	Customer  routing.ASN
	Providers []routing.ASN
}

// ASPAAlternatives bounds the alternatives of one AS-path regex line.
const ASPAAlternatives = 16

// ASPA renders the ASPA data of t for the renderer's format: the table for bird,
// the cone's AS-path filter otherwise. The name is validated first.
func (r *Renderer) ASPA(t *rpki.Table, opt ASPAOptions) ([]byte, error) {
	if !aspaFormats[r.format] {
		return nil, fmt.Errorf("render: %s: ASPA (formats: bird, frr, junos, iosxr): %w", r.format, ErrUnsupported)
	}
	if err := ValidateName(r.format, opt.Name); err != nil {
		return nil, err
	}
	if opt.AFI == 0 {
		if diff := t.PerAFIDiffers(opt.Cone); len(diff) > 0 {
			return nil, fmt.Errorf("render: the ASPAs of AS%s list different providers for IPv4 and IPv6: render per address family (AFI 4 or 6)", asnJoin(", AS", diff))
		}
	}
	d := &ASPAData{Name: opt.Name, ConeSize: len(opt.Cone)}
	if !ASPANeedsCone(r.format) {
		for _, a := range t.ConeASPAs(opt.Cone) {
			d.ASPAs = append(d.ASPAs, ASPAEntry{Customer: a.Customer, Providers: nonZero(rpki.ProvidersFor(a, opt.AFI))})
		}
		return r.exec(aspaTemplate, d)
	}
	if len(opt.Cone) == 0 {
		return nil, fmt.Errorf("render: an ASPA AS-path filter needs a customer cone")
	}
	for _, rule := range t.ConeRules(opt.Cone, opt.AFI) {
		for _, c := range asnChunks(ASPAAlternatives, rule.Before) {
			d.Rules = append(d.Rules, rpki.ASPARule{Customer: rule.Customer, Before: c})
		}
	}
	return r.exec(aspaTemplate, d)
}

func nonZero(s []routing.ASN) []routing.ASN {
	out := make([]routing.ASN, 0, len(s))
	for _, a := range s {
		if a != 0 {
			out = append(out, a)
		}
	}
	return out
}
