package render

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/prefixset"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// The property tests of longestMatch (junos_lpm.go). The oracle for the list formats
// is prefix-set membership (a route is in the set when some entry contains it), the
// oracle for the policy is policy.Evaluate; the Junos side is always the rendered text
// read back by the independent reader (junos_reader_test.go), whose route lists do
// Juniper's longest-match lookup. The entry sets have nested covers, from prefixset's
// lossless aggregation and made by hand; lpmMustShadow checks that they hold the shape
// the unrepaired lines get wrong, so the tests fail without longestMatch.

// addrPlus is a + n (n counted in the last 64 bits; no carry into the upper half of
// an IPv6 address, which the documentation prefixes here never need).
func addrPlus(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	lo := uint64(0)
	for i := 8; i < 16; i++ {
		lo = lo<<8 | uint64(b[i])
	}
	lo += n
	for i := 15; i >= 8; i-- {
		b[i] = byte(lo)
		lo >>= 8
	}
	out := netip.AddrFrom16(b)
	if a.Is4() {
		return out.Unmap()
	}
	return out
}

// lpmSpace is where a case's prefixes live: a documentation prefix and the longest
// length its entries and routes use.
type lpmSpace struct {
	base netip.Prefix
	deep int
}

var (
	lpmSpace4 = lpmSpace{netip.MustParsePrefix("198.51.100.0/24"), 32}
	lpmSpace6 = lpmSpace{netip.MustParsePrefix("2001:db8::/32"), 44}
)

// randomUnder is a random prefix of length bits inside s.base.
func (s lpmSpace) randomUnder(rng *rand.Rand, bits int) netip.Prefix {
	b := s.base.Addr().As16()
	off := 0
	if s.base.Addr().Is4() {
		off = 12
	}
	for i := off + s.base.Bits()/8; i < 16; i++ {
		b[i] = byte(rng.IntN(256))
	}
	a := netip.AddrFrom16(b)
	if s.base.Addr().Is4() {
		a = a.Unmap()
	}
	return netip.PrefixFrom(a, bits).Masked()
}

// handEntries is a random set of n entries with random length windows; about half of
// them are put under an earlier one, so covers nest, sometimes several deep.
func handEntries(rng *rand.Rand, s lpmSpace, n int) []policy.Entry {
	var es []policy.Entry
	for len(es) < n {
		var p netip.Prefix
		if len(es) > 0 && rng.IntN(2) == 0 {
			c := es[rng.IntN(len(es))].Prefix
			if c.Bits() >= s.deep {
				continue
			}
			bits := c.Bits() + 1 + rng.IntN(min(4, s.deep-c.Bits()))
			p = mergeBits(c, s.randomUnder(rng, bits), bits) // c's bits, random ones below
		} else {
			p = s.randomUnder(rng, s.base.Bits()+rng.IntN(s.deep-s.base.Bits()+1))
		}
		lo := p.Bits() + rng.IntN(min(4, s.deep-p.Bits())+1)
		hi := lo + rng.IntN(min(4, s.deep-lo)+1)
		es = append(es, policy.Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: lo, Max: hi}, Origins: []routing.ASN{64501}})
	}
	return sortEntries(es)
}

// mergeBits is the prefix of length bits whose first c.Bits() bits are c's and the
// rest q's.
func mergeBits(c, q netip.Prefix, bits int) netip.Prefix {
	cb, qb := c.Addr().As16(), q.Addr().As16()
	off := 0
	if c.Addr().Is4() {
		off = 96
	}
	for i := c.Bits() + off; i < 128; i++ {
		m := byte(0x80 >> (i % 8))
		cb[i/8] = cb[i/8]&^m | qb[i/8]&m
	}
	a := netip.AddrFrom16(cb)
	if c.Addr().Is4() {
		a = a.Unmap()
	}
	return netip.PrefixFrom(a, bits).Masked()
}

// sortEntries sorts as the model does (address, then length, then lengths) and drops
// duplicate ranges.
func sortEntries(es []policy.Entry) []policy.Entry {
	slices.SortFunc(es, func(a, b policy.Entry) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		if c := a.Prefix.Bits() - b.Prefix.Bits(); c != 0 {
			return c
		}
		if c := a.Min - b.Min; c != 0 {
			return c
		}
		return a.Max - b.Max
	})
	return slices.CompactFunc(es, func(a, b policy.Entry) bool { return a.PrefixRange == b.PrefixRange })
}

// aggEntries is what the policy builder makes of random inputs with ranges:
// prefixset's lossless aggregation (the same calls as policy.Build).
func aggEntries(t testing.TB, rng *rand.Rand, s lpmSpace, n int) []policy.Entry {
	set := prefixset.New(s.base.Addr().Is6())
	for _, e := range handEntries(rng, s, n) {
		if e.Max-e.Prefix.Bits() > 10 {
			continue // stay far below prefixset's enumeration bound
		}
		if e.Exact() && rng.IntN(2) == 0 {
			set.Add(e.Prefix)
			continue
		}
		if err := set.AddRange(e.Prefix, e.Min, e.Max); err != nil {
			t.Fatal(err)
		}
	}
	set.Aggregate()
	var out []policy.Entry
	for _, e := range set.Entries() {
		out = append(out, policy.Entry{PrefixRange: routing.PrefixRange{Prefix: e.Prefix, Min: e.Min, Max: e.Max}, Origins: []routing.ASN{64501}})
	}
	return out
}

// inSet is prefix-set membership: some entry contains p.
func inSet(es []policy.Entry, p netip.Prefix) bool {
	for _, e := range es {
		if e.Contains(p) {
			return true
		}
	}
	return false
}

// lpmRoutes are random routes for es: most under an entry with a length near its
// window, some anywhere in the space, plus every entry's own prefix.
func lpmRoutes(rng *rand.Rand, s lpmSpace, es []policy.Entry, n int) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range es {
		out = append(out, e.Prefix)
	}
	maxLen := s.base.Addr().BitLen()
	for len(out) < n {
		if len(es) > 0 && rng.IntN(4) != 0 {
			e := es[rng.IntN(len(es))]
			bits := min(maxLen, e.Prefix.Bits()+rng.IntN(e.Max-e.Prefix.Bits()+3))
			out = append(out, mergeBits(e.Prefix, s.randomUnder(rng, maxLen), bits))
			continue
		}
		out = append(out, s.randomUnder(rng, s.base.Bits()-2+rng.IntN(s.deep-s.base.Bits()+3)))
	}
	return out
}

// lpmCases are the entry sets of the tests: the shape TestJunosLongestMatchGap
// names, a chain of three covers, and random hand-made and aggregated sets of both
// families.
func lpmCases(t testing.TB, seed uint64, random int) map[string][]policy.Entry {
	e := func(p string, lo, hi int) policy.Entry {
		return policy.Entry{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix(p), Min: lo, Max: hi}, Origins: []routing.ASN{64501}}
	}
	cases := map[string][]policy.Entry{
		"gap": {e("198.51.100.0/24", 24, 25), e("198.51.100.128/25", 27, 27)},
		"chain": {e("198.51.100.0/24", 24, 24), e("198.51.100.0/24", 26, 27), e("198.51.100.0/25", 29, 30),
			e("198.51.100.64/26", 26, 26), e("198.51.100.96/27", 32, 32), e("198.51.100.128/25", 25, 32)},
		"gap6": {e("2001:db8::/32", 32, 33), e("2001:db8:8000::/33", 40, 48)},
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c706d))
	for i := range random {
		cases[fmt.Sprintf("hand4-%d", i)] = handEntries(rng, lpmSpace4, 2+rng.IntN(12))
		cases[fmt.Sprintf("hand6-%d", i)] = handEntries(rng, lpmSpace6, 2+rng.IntN(12))
		cases[fmt.Sprintf("agg4-%d", i)] = aggEntries(t, rng, lpmSpace4, 2+rng.IntN(16))
		cases[fmt.Sprintf("agg6-%d", i)] = aggEntries(t, rng, lpmSpace6, 2+rng.IntN(16))
	}
	return cases
}

func spaceOf(es []policy.Entry) lpmSpace {
	if len(es) > 0 && es[0].Prefix.Addr().Is6() {
		return lpmSpace6
	}
	return lpmSpace4
}

// rawRouteList is the route list as the templates printed it before longestMatch:
// one line per entry. The tests use it to show that their cases need the repair.
func rawRouteList(es []policy.Entry) []junosRouteFilter {
	out := make([]junosRouteFilter, len(es))
	for i, e := range es {
		out[i] = junosRouteFilter{prefix: e.Prefix, lo: e.Min, hi: e.Max}
	}
	return out
}

// lpmMustShadow fails unless some route of the cases is judged differently by the
// unrepaired lines and by set membership (so a test over them can fail).
func lpmMustShadow(t *testing.T, wrong int) {
	t.Helper()
	if wrong == 0 {
		t.Fatal("no case has a route the unrepaired Junos lines get wrong: the generator lost the nested-cover shape")
	}
	t.Logf("%d (case, route) pairs the unrepaired lines get wrong", wrong)
}

// TestJunosLongestMatchLists: the native Junos list formats with route filters
// (junos-route-filter's route-filter-list, junos-policy's route-filter lines), read
// back, accept exactly the routes of the prefix set, and list, under each prefix,
// exactly the lengths it and its covers accept there, in the fewest lines (runs),
// leaving unshadowed prefixes' lines as they were.
func TestJunosLongestMatchLists(t *testing.T) {
	cases := lpmCases(t, 1, 150)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range cases {
			if !yield(k) {
				return
			}
		}
	})
	wrong, routes := 0, 0
	for _, format := range []string{"junos-route-filter", "junos-policy"} {
		r, err := New(format, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			es := cases[name]
			fam := 4
			if spaceOf(es).base.Addr().Is6() {
				fam = 6
			}
			pf := &policy.PrefixFilter{Name: "AS-LPM", Family: fam, Entries: es}
			out, err := r.PrefixList(pf)
			if err != nil {
				t.Fatal(err)
			}
			list, err := readRouteList(format, string(out))
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", format, name, err, out)
			}
			checkLPMLines(t, format+" "+name, es, list)
			rng := rand.New(rand.NewPCG(7, uint64(len(name))))
			raw := rawRouteList(es)
			for _, p := range lpmRoutes(rng, spaceOf(es), es, 300) {
				want := inSet(es, p)
				got, _ := matchRouteList(list, p)
				if got != want {
					t.Errorf("%s %s: %s: Junos %v, set %v\n%s", format, name, p, got, want, out)
				}
				if old, _ := matchRouteList(raw, p); old != want && format == "junos-route-filter" {
					wrong++
				}
				routes++
			}
		}
	}
	t.Logf("%d cases, %d routes", len(cases), routes)
	lpmMustShadow(t, wrong)
}

// readRouteList reads the one route list of a rendered list format.
func readRouteList(format, text string) ([]junosRouteFilter, error) {
	if format == "junos-route-filter" {
		c, err := readJunos(text)
		if err != nil {
			return nil, err
		}
		if len(c.rfls) != 1 {
			return nil, fmt.Errorf("%d route-filter-lists", len(c.rfls))
		}
		for _, l := range c.rfls {
			return l, nil
		}
	}
	// junos-policy: the route-filter lines of term prefixes (the reader does not read
	// "then next policy", so the lines are taken one by one).
	var out []junosRouteFilter
	for _, l := range strings.Split(text, "\n") {
		w := strings.Fields(strings.TrimSuffix(strings.TrimSpace(l), ";"))
		if len(w) == 0 || w[0] != "route-filter" {
			continue
		}
		rf, err := parseRouteFilter(w[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, rf)
	}
	return out, nil
}

// checkLPMLines checks the lines of every prefix against a brute-force count: the
// lengths under prefix P must be those of the entries whose prefix is P or covers
// it, clipped to P's length, as disjoint runs, one line per run, and unshadowed
// prefixes keep their own entries' lines in order.
func checkLPMLines(t *testing.T, what string, es []policy.Entry, list []junosRouteFilter) {
	t.Helper()
	byPrefix := map[netip.Prefix][]junosRouteFilter{}
	for _, rf := range list {
		byPrefix[rf.prefix] = append(byPrefix[rf.prefix], rf)
	}
	own := map[netip.Prefix][]junosRouteFilter{}
	for _, e := range es {
		own[e.Prefix] = append(own[e.Prefix], junosRouteFilter{prefix: e.Prefix, lo: e.Min, hi: e.Max})
	}
	if len(byPrefix) != len(own) {
		t.Errorf("%s: %d prefixes listed, the set has %d", what, len(byPrefix), len(own))
	}
	for p, lines := range byPrefix {
		want := make([]bool, p.Addr().BitLen()+1)
		shadowed := false
		for _, e := range es {
			if e.Prefix.Bits() > p.Bits() || !e.Prefix.Contains(p.Addr()) {
				continue
			}
			for l := max(e.Min, p.Bits()); l <= e.Max; l++ {
				if e.Prefix != p && !inOwn(own[p], l) {
					shadowed = true
				}
				want[l] = true
			}
		}
		got := make([]bool, len(want))
		for _, rf := range lines {
			for l := rf.lo; l <= rf.hi; l++ {
				if got[l] && shadowed {
					t.Errorf("%s: %s: length %d listed twice", what, p, l)
				}
				got[l] = true
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %s: lines %v, want the lengths %v", what, p, lines, runsOf(want))
		}
		if !shadowed && !slices.Equal(lines, own[p]) {
			t.Errorf("%s: %s is not shadowed, but its lines changed: %v, were %v", what, p, lines, own[p])
		}
		if shadowed && len(lines) != len(runsOf(want)) {
			t.Errorf("%s: %s: %d lines for %d runs", what, p, len(lines), len(runsOf(want)))
		}
	}
}

func inOwn(rs []junosRouteFilter, l int) bool {
	for _, r := range rs {
		if r.lo <= l && l <= r.hi {
			return true
		}
	}
	return false
}

func runsOf(in []bool) [][2]int {
	var out [][2]int
	for l := 0; l < len(in); l++ {
		if !in[l] {
			continue
		}
		h := l
		for h+1 < len(in) && in[h+1] {
			h++
		}
		out = append(out, [2]int{l, h})
		l = h
	}
	return out
}

// TestJunosLongestMatchPolicy: the Junos session policy of the example transit
// customer, with the entries of the cases as its prefix set, decides every random
// route as policy.Evaluate does (read back by the reader; the route-filter-list of
// term accept does the longest-match lookup).
func TestJunosLongestMatchPolicy(t *testing.T) {
	docs, cfg := exampleDocs(t, noOriginBinding)
	_, table := buildSessions(t, cfg)
	cases := lpmCases(t, 2, 40)
	wrong, routes := 0, 0
	path := []routing.ASN{64501}
	for name, es := range cases {
		s := spaceOf(es)
		d := *docs["transit_cust"][0]
		if s.base.Addr().Is6() {
			d = *docs["transit_cust"][1]
		}
		d.Session.RTRCache = netip.AddrPort{}
		d.Prefixes.Entries = es
		out, err := RenderPolicy("junos", []*policy.Document{&d}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := readJunos(string(out.Text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw := rawRouteList(es)
		rng := rand.New(rand.NewPCG(11, uint64(len(name))))
		for _, p := range lpmRoutes(rng, s, es, 200) {
			dec, act, term := junosAndModel(t, c, &d, table, p, path)
			routes++
			if dec.Accepted() != (act == "accept") {
				t.Errorf("%s: %s: Evaluate %s (%s), Junos %s by term %q", name, p, dec.Action, dec.Reason, act, term)
			}
			if dec.Accepted() && term == "accept" {
				if old, _ := matchRouteList(raw, p); !old {
					wrong++
				}
			}
		}
	}
	t.Logf("%d cases, %d routes", len(cases), routes)
	lpmMustShadow(t, wrong)
}

// TestJunosLongestMatchBinding: the same with origin binding (the example transit
// customer's default), where each origin's entries are a route-filter-list of their
// own (NAME_ASn, and NAME_NOORIGIN for entries without one) and every list gets its
// own longest-match repair. Entries get one or two origins of the cone, or none;
// routes come from a random origin of the cone.
func TestJunosLongestMatchBinding(t *testing.T) {
	docs, cfg := exampleDocs(t, nil)
	_, table := buildSessions(t, cfg)
	cases := lpmCases(t, 4, 30)
	wrong, routes := 0, 0
	for name, es := range cases {
		s := spaceOf(es)
		d := *docs["transit_cust"][0]
		if s.base.Addr().Is6() {
			d = *docs["transit_cust"][1]
		}
		if !d.Session.OriginBinding {
			t.Fatal("the example transit customer has no origin binding")
		}
		cone := d.Origins.ASNs
		rng := rand.New(rand.NewPCG(17, uint64(len(name))))
		bound := make([]policy.Entry, len(es))
		for i, e := range es {
			switch rng.IntN(10) {
			case 0:
				e.Origins = nil
			case 1:
				e.Origins = []routing.ASN{cone[0], cone[len(cone)-1]}
			default:
				e.Origins = []routing.ASN{cone[rng.IntN(len(cone))]}
			}
			bound[i] = e
		}
		d.Session.RTRCache = netip.AddrPort{}
		d.Prefixes.Entries = bound
		out, err := RenderPolicy("junos", []*policy.Document{&d}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := readJunos(string(out.Text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range lpmRoutes(rng, s, es, 200) {
			origin := cone[rng.IntN(len(cone))]
			path := []routing.ASN{64501}
			if origin != 64501 {
				path = append(path, origin)
			}
			dec, act, term := junosAndModel(t, c, &d, table, p, path)
			routes++
			if dec.Accepted() != (act == "accept") {
				t.Errorf("%s: %s from AS%d: Evaluate %s (%s), Junos %s by term %q", name, p, origin, dec.Action, dec.Reason, act, term)
			}
			if dec.Accepted() && strings.HasPrefix(term, "accept") {
				var mine, none []policy.Entry // the raw lists of the origin's group and the unbound one
				for _, e := range bound {
					if len(e.Origins) == 0 {
						none = append(none, e)
					} else if slices.Contains(e.Origins, origin) {
						mine = append(mine, e)
					}
				}
				okMine, _ := matchRouteList(rawRouteList(mine), p)
				okNone, _ := matchRouteList(rawRouteList(none), p)
				if !okMine && !okNone {
					wrong++
				}
			}
		}
	}
	t.Logf("%d cases, %d routes", len(cases), routes)
	lpmMustShadow(t, wrong)
}

// TestLongestMatchUnchanged: a set without nested covers comes back as the same
// PrefixData (no copy), and a shadowed one leaves the input untouched.
func TestLongestMatchUnchanged(t *testing.T) {
	e := func(p string, lo, hi int) policy.Entry {
		return policy.Entry{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix(p), Min: lo, Max: hi}}
	}
	plain := newPrefixData(&policy.PrefixFilter{Name: "A", Family: 4, Entries: []policy.Entry{
		e("192.0.2.0/24", 24, 24), e("192.0.2.0/25", 25, 25), e("198.51.100.0/24", 24, 26), e("198.51.100.0/25", 25, 27)}})
	got, err := longestMatch(plain)
	if err != nil || got != plain {
		t.Fatalf("unshadowed set: %v, %v", got == plain, err)
	}
	gap := newPrefixData(&policy.PrefixFilter{Name: "A", Family: 4, Entries: cases1gap()})
	before := slices.Clone(gap.Entries)
	got, err = longestMatch(gap)
	if err != nil || got == gap || !slices.Equal(gap.Entries, before) {
		t.Fatalf("shadowed set: copy %v, input kept %v, %v", got != gap, slices.Equal(gap.Entries, before), err)
	}
	if _, err := longestMatch(&PrefixData{Name: "A", Entries: []Line{{}}}); err == nil {
		t.Fatal("lines without their entries: no error")
	}
}

func cases1gap() []policy.Entry {
	return lpmCases(nil, 0, 0)["gap"]
}

// lpmBGPQ4DB is a route-set whose bgpq4 -A aggregation is a shadowed pair: the two
// /26s of 198.51.100.0/25 become 198.51.100.0/25^26, the four /28s of
// 198.51.100.64/26 become 198.51.100.64/26^28, and a Junos longest-match lookup of
// 198.51.100.64/26 (a member) finds only the second.
const lpmBGPQ4DB = `route-set:  RS-LPM
members:    198.51.100.0/26, 198.51.100.64/26, 198.51.100.64/28, 198.51.100.80/28,
            198.51.100.96/28, 198.51.100.112/28
source:     TEST
`

// TestBGPQ4LongestMatchShape runs the real bgpq4 (-A -Jz and -A -JE) on a set whose
// aggregation shadows a prefix: bgpq4 prints the pair unrepaired, so the Junos reader
// rejects a member of the set with bgpq4's list (the bgpq4 command keeps these bytes,
// bug for bug), while the native junos-route-filter and junos-policy output are
// bgpq4's lines plus exactly the one line the lookup needs, and accept exactly the
// set's routes (every prefix of 198.51.100.0/24, lengths 24 to 32).
func TestBGPQ4LongestMatchShape(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "lpm.db")
	if err := os.WriteFile(db, []byte(lpmBGPQ4DB), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := irr.Load(ctx, []string{db}, irr.LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := whoistest.Serve(t, ix, whoisd.Options{})
	f, err := policy.BuildPrefixFilter(ctx, ix, &irr.Resolver{Q: ix}, []string{"RS-LPM"}, policy.Options{Family: 4, Aggregate: true, Name: "NN"})
	if err != nil {
		t.Fatal(err)
	}
	member := netip.MustParsePrefix("198.51.100.64/26")
	const added = "198.51.100.64/26 exact;"
	for _, format := range []string{"junos-route-filter", "junos-policy"} {
		res := peer.BGPQ4(t, bin, addr, []string{"PATH=/usr/bin:/bin"}, append([]string{"-l", "NN", "-A"}, append(bgpq4Flag[format], "RS-LPM")...)...)
		if res.Code != 0 {
			t.Fatalf("bgpq4 %s: exit %d %s", format, res.Code, res.Stderr)
		}
		r, err := New(format, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ours, err := r.PrefixList(f)
		if err != nil {
			t.Fatal(err)
		}
		theirLines, ourLines := routeFilterLines(res.Stdout), routeFilterLines(string(ours))
		if format == "junos-route-filter" {
			theirLines, ourLines = rflLines(res.Stdout), rflLines(string(ours))
		}
		prefix := ""
		if format == "junos-policy" {
			prefix = "route-filter "
		}
		want := slices.Insert(slices.Clone(theirLines), 1, prefix+added)
		if len(theirLines) != 2 || !slices.Equal(ourLines, want) {
			t.Fatalf("%s: bgpq4 %q, ours %q, want bgpq4's plus %q", format, theirLines, ourLines, added)
		}
		theirs, err := readRouteList(format, res.Stdout)
		if format == "junos-policy" {
			theirs, err = readRouteList(format, strings.Join(theirLines, "\n"))
		}
		if err != nil {
			t.Fatal(err)
		}
		list, err := readRouteList(format, string(ours))
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := matchRouteList(theirs, member); ok {
			t.Fatalf("%s: bgpq4's list accepts %s: the shape is gone, this test needs another set", format, member)
		}
		base := netip.MustParsePrefix("198.51.100.0/24")
		for bits := 24; bits <= 32; bits++ {
			for off := 0; off < 256; off += 1 << (32 - bits) {
				p := netip.PrefixFrom(addrPlus(base.Addr(), uint64(off)), bits)
				if got, _ := matchRouteList(list, p); got != inSet(f.Entries, p) {
					t.Errorf("%s: %s: Junos %v, set %v", format, p, got, !got)
				}
			}
		}
	}
}

// rflLines are the entry lines of a route-filter-list, trimmed.
func rflLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "198.51.100.") {
			out = append(out, l)
		}
	}
	return out
}

// BenchmarkLongestMatch: longestMatch over 100,000 random sorted IPv6 entries, the
// cost every Junos route-filter rendering of such a set pays: "nested" (lengths /32
// to /48 under one /32, so many covers and shadowed prefixes) and "flat" (exact
// /48s, no cover: the common case, where the set comes back as it was).
func BenchmarkLongestMatch(b *testing.B) {
	for _, shape := range []string{"nested", "flat"} {
		b.Run(shape, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 3))
			var es []policy.Entry
			for range 100000 {
				bits, extra := 48, 0
				if shape == "nested" {
					bits, extra = 32+rng.IntN(17), rng.IntN(3)
				}
				p := lpmSpace6.randomUnder(rng, bits)
				es = append(es, policy.Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: p.Bits(), Max: p.Bits() + extra}})
			}
			es = sortEntries(es)
			d := newPrefixData(&policy.PrefixFilter{Name: "A", Family: 6, Entries: es})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := longestMatch(d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(es)), "entries")
			b.ReportMetric(float64(len(lpmGroups(es))), "shadowed")
		})
	}
}

// TestJunosLongestMatchExport: the shared export set merges the customers' filters
// without aggregating them, so one customer's range next to another's more-specific
// is the shadowed shape with no aggregation at all. The Junos export file
// (RenderExport), read back, accepts exactly the merged set's routes, for the hand-made
// and aggregated cases split between two customers.
func TestJunosLongestMatchExport(t *testing.T) {
	cases := lpmCases(t, 3, 40)
	cases["customers"] = []policy.Entry{
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Min: 24, Max: 26}},
		{PrefixRange: routing.PrefixRange{Prefix: netip.MustParsePrefix("203.0.113.0/25"), Min: 25, Max: 25}},
	}
	wrong := 0
	for name, es := range cases {
		fam := 4
		if es[0].Prefix.Addr().Is6() {
			fam = 6
		}
		var a, b []policy.Entry
		for i, e := range es {
			if i%2 == 0 {
				a = append(a, e)
			} else {
				b = append(b, e)
			}
		}
		docs := []*policy.Document{
			{Customer: "a", Family: fam, Direction: policy.Import, Prefixes: policy.PrefixSet{Entries: a}},
			{Customer: "b", Family: fam, Direction: policy.Import, Prefixes: policy.PrefixSet{Entries: b}},
		}
		set := policy.NewExportSet(fam, policy.PrefixSet{}, docs)
		out, err := RenderExport("junos", []*policy.ExportSet{set}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := readJunos(string(out.Text))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out.Text)
		}
		list, ok := c.rfls[policy.ExportSetName(fam)]
		if !ok || len(c.rfls) != 1 {
			t.Fatalf("%s: no route-filter-list %s in\n%s", name, policy.ExportSetName(fam), out.Text)
		}
		raw := rawRouteList(set.Entries)
		rng := rand.New(rand.NewPCG(13, uint64(len(name))))
		for _, p := range lpmRoutes(rng, spaceOf(es), es, 200) {
			want := inSet(es, p)
			if got, _ := matchRouteList(list, p); got != want {
				t.Errorf("%s: %s: Junos %v, set %v", name, p, got, want)
			}
			if old, _ := matchRouteList(raw, p); old != want {
				wrong++
			}
		}
	}
	lpmMustShadow(t, wrong)
}
