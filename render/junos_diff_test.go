package render

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// junosCase is one route of the differential test and why it is in the mix.
type junosCase struct {
	prefix netip.Prefix
	path   []routing.ASN
	why    string
}

// junosRoutes builds the routes for import document d: around every prefix entry
// (the entry, its shortest and longest accepted length, one bit longer, and, for an
// entry with more-specifics, the lengths in between) from its own origin, from
// every other origin of the cone (origin binding mismatches: prefix of origin A
// announced by origin B), from an origin outside the cone and with a wrong first
// ASN; every reject case of the path rules (a bogon ASN in the middle and as the
// origin, a transit-free ASN, 32 and 33 ASNs, prepends); every bogon entry of the
// family and one of its more-specifics; the default route; lengths just outside the
// accepted window; and leaked full-table routes of the family (RouteViews and RIS dumps).
func junosRoutes(d *policy.Document, leaks []liveRoute) []junosCase {
	n := d.Session.NeighborASN
	bitlen := 32
	if d.Family == 6 {
		bitlen = 128
	}
	var out []junosCase
	seen := map[string]bool{}
	add := func(p netip.Prefix, why string, path ...routing.ASN) {
		p = p.Masked()
		k := p.String() + " " + fmt.Sprint(path)
		if !seen[k] {
			seen[k] = true
			out = append(out, junosCase{prefix: p, path: path, why: why})
		}
	}
	from := func(o routing.ASN, mid ...routing.ASN) []routing.ASN {
		path := append([]routing.ASN{n}, mid...)
		if o != n || len(mid) > 0 {
			path = append(path, o)
		}
		return path
	}
	prepend := func(k int, o routing.ASN) []routing.ASN {
		path := slices.Repeat([]routing.ASN{n}, k)
		return append(path, o)
	}
	cone := d.Origins.ASNs
	for i, e := range d.Prefixes.Entries {
		own := n
		for _, o := range e.Origins {
			if slices.Contains(cone, o) {
				own = o
				break
			}
		}
		lens := []int{e.Prefix.Bits(), e.Min, e.Max, e.Max + 1, e.Min - 1}
		for l := e.Min + 1; l < e.Max && l < e.Min+4; l++ {
			lens = append(lens, l)
		}
		for _, l := range lens {
			if l >= e.Prefix.Bits() && l <= bitlen {
				add(netip.PrefixFrom(e.Prefix.Addr(), l), "entry length", from(own)...)
			}
			if l > e.Prefix.Bits() && l <= bitlen {
				add(netip.PrefixFrom(upperHalf(e.Prefix), l), "entry length, upper half", from(own)...)
			}
		}
		p := netip.PrefixFrom(e.Prefix.Addr(), e.Min)
		for j, o := range cone {
			if o != own && (len(cone) < 8 || (j+i)%3 == 0) {
				add(p, "another origin of the cone", from(o)...)
			}
		}
		add(p, "the neighbour as origin", n)
		add(p, "origin outside the cone", from(15169)...)
		add(p, "wrong first ASN", 15169, own)
		switch i % 6 {
		case 0:
			add(p, "bogon ASN in the path", from(own, 65000)...)
			add(p, "bogon ASN as origin", from(4200000001)...)
		case 1:
			add(p, "transit-free ASN in the path", from(own, 174)...)
		case 2:
			add(p, "32 ASNs", prepend(31, own)...)
			add(p, "33 ASNs", prepend(32, own)...)
		case 3:
			add(p, "prepends", prepend(3, own)...)
			add(p, "23456 (AS_TRANS) in the path", from(own, 23456)...)
		case 4:
			add(p, "40 ASNs", prepend(39, own)...)
		}
	}
	some := n
	if len(cone) > 0 {
		some = cone[0]
	}
	for _, b := range d.BogonPrefixes.Entries {
		add(b.Prefix, "bogon prefix", from(some)...)
		if b.Prefix.Bits() < bitlen {
			add(netip.PrefixFrom(b.Prefix.Addr(), min(b.Max, b.Prefix.Bits()+8)), "inside a bogon", from(some)...)
		}
	}
	zero := netip.IPv4Unspecified()
	if d.Family == 6 {
		zero = netip.IPv6Unspecified()
	}
	add(netip.PrefixFrom(zero, 0), "default route", from(some)...)
	if len(d.Prefixes.Entries) > 0 {
		a := d.Prefixes.Entries[0].Prefix.Addr()
		for _, l := range []int{d.PrefixLength.Min - 1, d.PrefixLength.Max + 1, bitlen} {
			if l >= 0 && l <= bitlen {
				add(netip.PrefixFrom(a, l), "length outside the window", from(some)...)
			}
		}
	}
	for _, l := range leaks {
		if l.prefix.Addr().Is4() == (d.Family == 4) {
			add(l.prefix, "leaked full-table route", append([]routing.ASN{n}, l.after...)...)
		}
	}
	return out
}

// leakRoutes6 reads up to n IPv6 announcements with plain AS_SEQUENCE paths from the
// RIS update dump of 2016-08-11 (the RouteViews dump leakRoutes reads has none).
func leakRoutes6(t *testing.T, n int) []liveRoute {
	seen := map[netip.Prefix]bool{}
	var out []liveRoute
	bgpdumpAnnouncements(t, "mrt/expected/ris.updates.20160811.1600.gz.bgpdump-m.txt.gz", func(p netip.Prefix, aspath string) bool {
		if !p.Addr().Is6() || seen[p] {
			return true
		}
		if path, ok := plainPath(aspath); ok && len(path) > 0 {
			seen[p] = true
			out = append(out, liveRoute{prefix: p, after: path})
		}
		return len(out) < n
	})
	if len(out) < n {
		t.Fatalf("only %d IPv6 leak routes", len(out))
	}
	return out
}

// upperHalf is the first address of the upper half of p.
func upperHalf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	b[p.Bits()/8] |= 0x80 >> (p.Bits() % 8)
	a, _ := netip.AddrFromSlice(b)
	return a
}

// junosDiffStats counts what a differential run covered.
type junosDiffStats struct {
	routes   int
	rules    map[policy.RuleName]int
	bindings int // routes only origin binding rejects
}

// junosDiff renders docs for Junos, reads the text back and compares every import
// policy's decision with policy.Evaluate; it returns the disagreements.
func junosDiff(t *testing.T, text string, docs []*policy.Document, table policy.RouteValidator, leaks []liveRoute, st *junosDiffStats) []string {
	t.Helper()
	cfg, err := readJunos(text)
	if err != nil {
		t.Fatalf("reading the Junos output back: %v", err)
	}
	var bad []string
	for _, d := range docs {
		if d == nil || d.Direction != policy.Import {
			continue
		}
		for _, c := range junosRoutes(d, leaks) {
			a := policy.Announcement{Prefix: c.prefix, Path: policy.Sequence(c.path...)}.WithROV(table)
			dec, err := policy.Evaluate(d, a)
			if err != nil {
				t.Fatalf("%s %s %v: %v", d.Name, c.prefix, c.path, err)
			}
			act, term, err := cfg.evaluate(d.Name, junosRoute{prefix: c.prefix, path: c.path, invalid: a.ROV != nil && a.ROV.State == routing.Invalid})
			if err != nil {
				t.Fatal(err)
			}
			st.routes++
			st.rules[dec.Rule]++
			if dec.Rule == policy.RulePrefix && len(d.Prefixes.Match(c.prefix)) > 0 {
				st.bindings++
			}
			if ok, want := junosTermAgrees(dec, act, term); !ok {
				bad = append(bad, fmt.Sprintf("%s %s path %v (%s): Junos %s by term %q, Evaluate %s by %s (%s); want %s",
					d.Name, c.prefix, c.path, c.why, act, term, dec.Action, dec.Rule, dec.Reason, want))
			}
		}
	}
	return bad
}

// junosTermAgrees: the same action, and the term that decided is the rule's: a
// rejecting rule rendered as its own term (bogon-asn … as-path-length) rejects in
// the term of that name; first-as, origin and prefix are conditions of the accept
// terms, so their rejects fall through to the final unnamed term; an accepted route
// is accepted by an accept term ("accept" or the origin-binding "accept-asN").
func junosTermAgrees(dec policy.Decision, act, term string) (bool, string) {
	if string(dec.Action) != act {
		return false, string(dec.Action)
	}
	switch dec.Rule {
	case policy.RuleAccept:
		if dec.Accepted() {
			return term == "accept" || strings.HasPrefix(term, "accept-as"), "an accept term"
		}
		return term == "", "the final term"
	case policy.RuleFirstAS, policy.RuleOrigin, policy.RulePrefix:
		return term == "", "the final term"
	}
	return term == string(dec.Rule), "term " + string(dec.Rule)
}

// ripeJunosConfig writes a config over real RIPE AS-SETs and route objects and the
// July 2025 rpki-client VRPs, with run-time ROV (the rpki-invalid term), drop-invalid
// and roa-add, origin binding on two customers and more-specifics on one.
func ripeJunosConfig(t *testing.T) *config.File {
	t.Helper()
	y := fmt.Sprintf(`local_as: 64496
router_id: 192.0.2.1
irr: [%q, %q, %q]
sources: [RIPE, RIPE-NONAUTH]
rpki: %q
rtr_cache: 192.0.2.10:8282
self: {prefixes: [192.0.2.0/24]}
defaults:
  prefix_length: {ipv4: [8, 24], ipv6: [16, 48]}
  peerlock: default
  bogons: true
customers:
  - {name: kenic, asn: 21280, as_set: [AS-KENIC]}
  - {name: gsta, asn: 29674, as_set: [AS-GSTA], allow_more_specifics: true}
  - {name: cloudsigma, asn: 50837, as_set: [AS-CLOUDSIGMA], rpki_policy: roa-add, origin_binding: true}
  - {name: bound, asn: 37133, as_set: [AS-37133], origin_binding: true, max_prefix: {ipv4: 100}}
  - {name: alone, asn: 5400, rules: {first-as: false}}
`, peer.SharedData(t, "irr/ripe.db.as-set.gz"), peer.SharedData(t, "irr/ripe-nonauth.db.route.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.route6.gz"), peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz"))
	path := filepath.Join(t.TempDir(), "bgpfilter.yml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return cfg
}

// buildImports builds the import documents of cfg's customers (no export
// policies) as generate does, with the VRPs loaded past their expiry: the stored
// rpki-client snapshot is from July 2025 and every VRP in it has expired since.
func buildImports(t *testing.T, cfg *config.File) (map[string][]*policy.Document, *rpki.Table) {
	t.Helper()
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, cfg.IRR, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := rpki.LoadFile(ctx, cfg.RPKI, rpki.Options{IgnoreExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	in := policy.Inputs{Querier: ix, Resolver: &irr.Resolver{Q: ix, Sources: cfg.Sources}, Validator: table, ROAs: table}
	out := map[string][]*policy.Document{}
	for i := range cfg.Customers {
		c := &cfg.Customers[i]
		d, err := policy.BuildSession(ctx, in, cfg.CustomerSpec(c))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out[c.Name] = []*policy.Document{d.Import4, d.Import6}
	}
	return out, table
}

// TestJunosReadBackDiff reads the rendered Junos policy back with the independent
// reader of junos_reader_test.go and evaluates a mix of routes against every import
// policy-statement: the example customers with and without origin binding, and five
// customers with real RIPE AS-SETs (run-time ROV on real VRPs, roa-add, more-
// specifics, origin binding, a rule switched off). Every route must get the action
// policy.Evaluate gives it, decided by the term of the rule Evaluate names.
func TestJunosReadBackDiff(t *testing.T) {
	leaks := append(leakRoutes(t)[:300], leakRoutes6(t, 90)...)
	st := &junosDiffStats{rules: map[policy.RuleName]int{}}
	type set struct {
		name string
		cfg  *config.File
	}
	exPlain, _ := exampleDocs(t, noOriginBinding)
	exBound, exCfg := exampleDocs(t, withOriginBinding)
	_, exTable := buildSessions(t, exCfg)
	run := func(label string, docs map[string][]*policy.Document, table policy.RouteValidator) {
		names := make([]string, 0, len(docs))
		for n := range docs {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			out, err := RenderPolicy("junos", docs[name], Options{})
			if err != nil {
				t.Fatalf("%s %s: %v", label, name, err)
			}
			for _, b := range junosDiff(t, string(out.Text), docs[name], table, leaks, st) {
				t.Errorf("%s: %s", label, b)
			}
		}
	}
	run("examples", exPlain, exTable)
	run("examples with origin binding", exBound, exTable)
	ripe := ripeJunosConfig(t)
	ripeDocs, table := buildImports(t, ripe)
	for name, ds := range ripeDocs {
		if len(ds[0].Prefixes.Entries) == 0 {
			t.Fatalf("RIPE customer %s has no IPv4 entries", name)
		}
	}
	run("RIPE", ripeDocs, table)
	t.Logf("%d routes, decisions by rule: %v; %d rejected by origin binding alone", st.routes, st.rules, st.bindings)
	for _, r := range []policy.RuleName{policy.RuleBogonASN, policy.RuleBogonPrefix, policy.RulePrefixLength, policy.RuleRPKIInvalid,
		policy.RulePeerlock, policy.RuleASPathLength, policy.RuleFirstAS, policy.RuleOrigin, policy.RulePrefix, policy.RuleAccept} {
		if st.rules[r] < 5 {
			t.Errorf("weak differential: rule %s decided only %d routes", r, st.rules[r])
		}
	}
	if st.bindings < 20 || st.routes < 5000 {
		t.Errorf("weak differential: %d routes, %d origin-binding rejects", st.routes, st.bindings)
	}
}

// TestJunosReaderCatchesMutations: the read-back differential can fail. Each
// mutation of the rendered text is a plausible template bug, and the reader must see
// at least one route decided differently from policy.Evaluate.
func TestJunosReaderCatchesMutations(t *testing.T) {
	docs, cfg := exampleDocs(t, withOriginBinding)
	_, table := buildSessions(t, cfg)
	leaks := leakRoutes(t)[:100]
	out, err := RenderPolicy("junos", docs["transit_cust"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := string(out.Text)
	st := &junosDiffStats{rules: map[policy.RuleName]int{}}
	if bad := junosDiff(t, text, docs["transit_cust"], table, leaks, st); len(bad) > 0 {
		t.Fatalf("the unmutated output disagrees:\n%s", strings.Join(bad, "\n"))
	}
	mutations := []struct{ name, old, new string }{
		{"exact becomes orlonger in a bound prefix list", "route-filter-list transit_cust_PFX_V4_AS64497 {\n  198.51.100.0/24 exact;", "route-filter-list transit_cust_PFX_V4_AS64497 {\n  198.51.100.0/24 orlonger;"},
		{"exact becomes upto in the bogon list", "  0.0.0.0/0 exact;", "  0.0.0.0/0 upto /8;"},
		{"as-path-length off by one", `".{33,}"`, `".{34,}"`},
		{"prefix-length window one bit wider", "prefix-length-range /28-/32", "prefix-length-range /29-/32"},
		{"bogon ASN range lost", "(0|23456|64512-65534|", "(0|23456|"},
		{"origin binding groups swapped", "as-path-group transit_cust_AS64496;", "as-path-group transit_cust_AS64497;"},
		{"first-as not checked in a binding group", `as-path a0 "^64501(.)*(64496)$"`, `as-path a0 "^(.)*(64496)$"`},
		{"unbound entries accepted from any origin", "as-path-group transit_cust_PATH;\n    route-filter-list transit_cust_PFX_V4_ANY;", "route-filter-list transit_cust_PFX_V4_ANY;"},
		{"bogon term after accept", "  term bogon-asn {\n   from as-path transit_cust_BOGON_ASNS;\n   then reject;\n  }\n", ""},
	}
	for _, m := range mutations {
		if strings.Count(text, m.old) < 1 {
			t.Fatalf("%s: %q not in the output (the template changed: update the mutation)", m.name, m.old)
		}
		mutated := strings.Replace(text, m.old, m.new, 1)
		bad := junosDiff(t, mutated, docs["transit_cust"], table, leaks, &junosDiffStats{rules: map[policy.RuleName]int{}})
		if len(bad) == 0 {
			t.Errorf("mutation %q: no route decided differently", m.name)
		} else {
			t.Logf("mutation %q: %d routes differ, e.g. %s", m.name, len(bad), bad[0])
		}
	}
}

// TestJunosRouteListSemantics pins the documented route-list rules the reader
// implements on the examples of Juniper's guide: longest match first, no fallback to
// a shorter prefix when the match type fails, and same-prefix entries in order.
func TestJunosRouteListSemantics(t *testing.T) {
	rl := func(lines ...string) []junosRouteFilter {
		var out []junosRouteFilter
		for _, l := range lines {
			rf, err := parseRouteFilter(strings.Fields(l))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rf)
		}
		return out
	}
	// "route-filter 192.168.0.0/16 orlonger; route-filter 192.168.254.0/23 exact;":
	// 192.168.254.0/24 hits the /23 as the longest prefix, fails exact, and does not
	// fall back to the /16.
	list := rl("192.168.0.0/16 orlonger", "192.168.254.0/23 exact")
	for p, want := range map[string]bool{"192.168.254.0/24": false, "192.168.254.0/23": true, "192.168.1.0/24": true, "10.0.0.0/8": false} {
		if got, _ := matchRouteList(list, netip.MustParsePrefix(p)); got != want {
			t.Errorf("%s: match %v, want %v", p, got, want)
		}
	}
	// Same prefix three times: scanned in order, the first match type that fits wins.
	list = rl("0.0.0.0/0 upto /7 reject", "0.0.0.0/0 upto /24 accept", "0.0.0.0/0 orlonger reject")
	for p, want := range map[string]string{"0.0.0.0/0": "reject", "10.0.0.0/8": "accept", "10.0.0.0/25": "reject"} {
		if _, got := matchRouteList(list, netip.MustParsePrefix(p)); got != want {
			t.Errorf("%s: action %q, want %q", p, got, want)
		}
	}
	for _, c := range []struct {
		re   string
		path []routing.ASN
		want bool
	}{
		{".{3,}", []routing.ASN{1, 2, 3}, true},
		{".{3,}", []routing.ASN{1, 2}, false},
		{"^64501(64501)*$", []routing.ASN{64501, 64501}, true},
		{"^64501(64501)*$", []routing.ASN{64501, 64502}, false},
		{"^64501(.)*(64496|64497)$", []routing.ASN{64501, 64496}, true},
		{"^64501(.)*(64496|64497)$", []routing.ASN{64501, 3356, 64498}, false},
		{".* (0|64512-65534) .*", []routing.ASN{64501, 65000, 64496}, true},
		{".* (0|64512-65534) .*", []routing.ASN{64501, 65535}, false},
		{"64501 .?", []routing.ASN{64501}, true},
		{"64501 .{1,2}", []routing.ASN{64501, 1, 2, 3}, false},
	} {
		re, err := compileJunosRegex(c.re)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.match(c.path); got != c.want {
			t.Errorf("%q on %v: %v, want %v", c.re, c.path, got, c.want)
		}
	}
}

// TestJunosLongestMatchGap checks a shape the reader found. Lossless aggregation (a
// route-set range or a roa-add ROA with a maxLength turns it on) can produce a
// covering range and a more-specific one whose lengths do not include the covering
// range's: prefixset aggregates 10.0.0.0/16^17-18 plus 10.0.0.0/18^20 into exactly
// those two entries, and this test uses the same shape, 198.51.100.0/24^24-25 and
// 198.51.100.128/25^27. policy.Evaluate (and BIRD, FRR, IOS-XR prefix sets) accept
// 198.51.100.128/25, which the first entry contains; Junos looks up the longest
// prefix of the route-filter-list, 198.51.100.128/25, and tries only its lines, so
// the rendering must list /25 there too (longestMatch, junos_lpm.go). Every length
// of every route under the /24 is compared.
func TestJunosLongestMatchGap(t *testing.T) {
	docs, cfg := exampleDocs(t, noOriginBinding)
	_, table := buildSessions(t, cfg)
	d := *docs["transit_cust"][0]
	d.Session.RTRCache = netip.AddrPort{} // the neighbour's own origin, whatever the ROAs say
	d.Prefixes.Entries = []policy.Entry{
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Min: 24, Max: 25}, Origins: []routing.ASN{64501}},
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("198.51.100.128/25"), Min: 27, Max: 27}, Origins: []routing.ASN{64501}},
	}
	out, err := RenderPolicy("junos", []*policy.Document{&d}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := readJunos(string(out.Text))
	if err != nil {
		t.Fatal(err)
	}
	path := []routing.ASN{64501}
	base := netip.MustParsePrefix("198.51.100.0/24")
	checked := 0
	for bits := 24; bits <= 32; bits++ {
		for off := 0; off < 256; off += 1 << (32 - bits) {
			p := netip.PrefixFrom(addrPlus(base.Addr(), uint64(off)), bits)
			dec, act, term := junosAndModel(t, c, &d, table, p, path)
			if dec.Accepted() != (act == "accept") {
				t.Errorf("%s: Evaluate %s (%s), Junos %s by term %q", p, dec.Action, dec.Reason, act, term)
			}
			checked++
		}
	}
	p := netip.MustParsePrefix("198.51.100.128/25")
	a := policy.Announcement{Prefix: p, Path: policy.Sequence(path...)}.WithROV(table)
	if dec, _ := policy.Evaluate(&d, a); !dec.Accepted() {
		t.Fatalf("Evaluate rejects %s (%s): the fixture changed", p, dec.Reason)
	}
	t.Logf("%d routes under %s agree", checked, base)
}

// junosAndModel decides one route with a plain AS path twice: by policy.Evaluate on d and
// by the reader's evaluation c of d's rendered Junos policy.
func junosAndModel(t *testing.T, c *junosConfig, d *policy.Document, table *rpki.Table, p netip.Prefix, path []routing.ASN) (dec policy.Decision, act, term string) {
	t.Helper()
	a := policy.Announcement{Prefix: p, Path: policy.Sequence(path...)}.WithROV(table)
	dec, err := policy.Evaluate(d, a)
	if err != nil {
		t.Fatal(err)
	}
	act, term, err = c.evaluate(d.Name, junosRoute{prefix: p, path: path, invalid: a.ROV.State == routing.Invalid})
	if err != nil {
		t.Fatal(err)
	}
	return dec, act, term
}
