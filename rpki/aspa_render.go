package rpki

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// ASPA rendering: BIRD's native ASPA table (BIRD >= 2.16) and, for daemons without
// ASPA support, AS-path filters that reject the hops the ASPAs of a customer cone
// forbid.

// RenderOptions select what an ASPA rendering covers.
type RenderOptions struct {
	// Name is the table / filter name; it must be a plain identifier
	// ([A-Za-z_][A-Za-z0-9_-]*, no '-' for BIRD).
	Name string
	// Cone, when not empty, limits the output to these customer ASes (a customer
	// cone, e.g. the expansion of the customer's AS-SET). Required for the AS-path
	// filters.
	Cone []routing.ASN
	// AFI selects per-AFI provider sets (4 or 6); 0 uses their union.
	AFI int
}

var (
	birdIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	listIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)
)

func (t *Table) providersFor(a ASPA, afi int) []routing.ASN {
	switch afi {
	case 4:
		return a.IPv4
	case 6:
		return a.IPv6
	}
	return a.Providers()
}

// selectASPAs returns the ASPAs of the cone (all when cone is empty), by customer.
func (t *Table) selectASPAs(cone []routing.ASN) []ASPA {
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

// WriteBIRDASPA writes an ASPA table for BIRD 2.16 or later: "aspa table NAME;", a
// static protocol with one "route aspa CUSTOMER providers ...;" per ASPA ("transit"
// for an AS0-only ASPA), and a usage comment for aspa_check().
func (t *Table) WriteBIRDASPA(w io.Writer, opt RenderOptions) error {
	if !birdIdent.MatchString(opt.Name) {
		return fmt.Errorf("rpki: invalid BIRD table name %q: %w", opt.Name, ErrInvalidName)
	}
	bw := bufio.NewWriter(w)
	aspas := t.selectASPAs(opt.Cone)
	fmt.Fprintf(bw, "# ASPA table for BIRD >= 2.16: %d ASPAs\n", len(aspas))
	fmt.Fprintf(bw, "# from customers: if aspa_check(%s, bgp_path, true) = ASPA_INVALID then reject;\n", opt.Name)
	fmt.Fprintf(bw, "# from providers: if aspa_check(%s, bgp_path, false) = ASPA_INVALID then reject;\n", opt.Name)
	fmt.Fprintf(bw, "aspa table %s;\n\nprotocol static %s_static {\n\taspa { table %s; };\n", opt.Name, opt.Name, opt.Name)
	for _, a := range aspas {
		prov := nonZero(t.providersFor(a, opt.AFI))
		if len(prov) == 0 {
			fmt.Fprintf(bw, "\troute aspa %d transit;\n", a.Customer)
			continue
		}
		fmt.Fprintf(bw, "\troute aspa %d providers %s;\n", a.Customer, joinASNs(prov, ", "))
	}
	bw.WriteString("}\n")
	return bw.Flush()
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

func joinASNs(s []routing.ASN, sep string) string {
	parts := make([]string, len(s))
	for i, a := range s {
		parts[i] = strconv.FormatUint(uint64(a), 10)
	}
	return strings.Join(parts, sep)
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
		prov := t.providersFor(a, afi)
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

// chunk splits s into pieces of at most n.
func chunk(s []routing.ASN, n int) [][]routing.ASN {
	var out [][]routing.ASN
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// regexAlternatives per line keeps AS-path regexes short enough for every vendor.
const regexAlternatives = 16

// ErrInvalidName means a table or filter name (the user's --name) that the router
// syntax cannot hold; nothing is written then.
var ErrInvalidName = errors.New("invalid name")

// WriteASPAPathFilter writes the cone's ASPA rules as an AS-path filter for format
// "frr", "junos" or "iosxr": routes matching a rule are rejected, everything else is
// passed on (combine it with the origin/AS-path filter of the same customer).
func (t *Table) WriteASPAPathFilter(w io.Writer, format string, opt RenderOptions) error {
	if !listIdent.MatchString(opt.Name) {
		return fmt.Errorf("rpki: invalid filter name %q: %w", opt.Name, ErrInvalidName)
	}
	if len(opt.Cone) == 0 {
		return fmt.Errorf("rpki: an ASPA AS-path filter needs a customer cone")
	}
	rules := t.ConeRules(opt.Cone, opt.AFI)
	type line struct{ re, junos string }
	var lines []line
	for _, r := range rules {
		for _, c := range chunk(r.Before, regexAlternatives) {
			alt := joinASNs(c, "|")
			lines = append(lines, line{
				re:    fmt.Sprintf("_(%s)_%d_", alt, r.Customer),
				junos: fmt.Sprintf(".* (%s) %d .*", alt, r.Customer),
			})
		}
	}
	bw := bufio.NewWriter(w)
	n := opt.Name
	switch format {
	case "frr":
		fmt.Fprintf(bw, "! ASPA-derived AS-path filter: %d rules for a cone of %d ASes\n", len(lines), len(opt.Cone))
		for i, l := range lines {
			fmt.Fprintf(bw, "bgp as-path access-list %s seq %d deny %s\n", n, (i+1)*5, l.re)
		}
		fmt.Fprintf(bw, "bgp as-path access-list %s seq %d permit .*\n", n, (len(lines)+1)*5)
	case "junos":
		fmt.Fprintf(bw, "/* ASPA-derived AS-path filter: %d rules for a cone of %d ASes */\npolicy-options {\n", len(lines), len(opt.Cone))
		for i, l := range lines {
			fmt.Fprintf(bw, "    as-path %s-%d \"%s\";\n", n, i+1, l.junos)
		}
		fmt.Fprintf(bw, "    policy-statement %s {\n", n)
		for i := range lines {
			fmt.Fprintf(bw, "        term aspa-%d {\n            from as-path %s-%d;\n            then reject;\n        }\n", i+1, n, i+1)
		}
		bw.WriteString("    }\n}\n")
	case "iosxr":
		fmt.Fprintf(bw, "! ASPA-derived AS-path filter: %d rules for a cone of %d ASes\n", len(lines), len(opt.Cone))
		if len(lines) > 0 {
			fmt.Fprintf(bw, "as-path-set %s\n", n)
			for i, l := range lines {
				sep := ","
				if i == len(lines)-1 {
					sep = ""
				}
				fmt.Fprintf(bw, "  ios-regex '%s'%s\n", l.re, sep)
			}
			bw.WriteString("end-set\n!\n")
		}
		fmt.Fprintf(bw, "route-policy %s\n", n)
		if len(lines) > 0 {
			fmt.Fprintf(bw, "  if as-path in %s then\n    drop\n  endif\n", n)
		}
		bw.WriteString("  pass\nend-policy\n")
	default:
		return fmt.Errorf("rpki: unknown ASPA filter format %q (want bird, frr, junos or iosxr)", format)
	}
	return bw.Flush()
}
