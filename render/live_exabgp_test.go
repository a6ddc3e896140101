package render

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// The live ExaBGP session-policy test (issue 7, "Must show"), for what
// TestLivePolicies cannot show: IPv6 sessions with the NAME_IN_V6 policies, and AS
// paths gobgpd cannot send. ExaBGP sends every AS_PATH exactly as given (no
// prepending of its own AS), so routes whose left-most ASN is not the neighbour's
// reach the first-as rule, and paths with AS_SET segments (at the start, in the
// middle, at the end) reach every rule that reads the path.
//
// Everything runs in a network namespace the test creates (peer.NewNetNS), because
// the root namespace has only one IPv6 loopback address: BIRD 2 and FRR 8.4 on
// 127.0.0.2/3 and 2001:db8:ffff::2/3, one ExaBGP per customer on 127.0.0.X and
// 2001:db8:ffff::X with four sessions (BIRD and FRR, both families), stayrtr on
// 127.0.0.1 of the namespace. Three customers: two with our own documentation
// fixtures (testdata/livex.db, VRPs in testdata/livex-vrps.json, IPv4 and IPv6) and
// AS12041 with its real route and route6 objects from ../shared/data/irr. Each
// session carries over 200 routes: around every filter entry, paths cycling through
// each rule's rejects and the path-length boundary (exactly the limit, and one more,
// with prepends and with an AS_SET counted as one), bogon and too short or too long
// prefixes of the family, and leaked full-table routes from ../shared/data/mrt (IPv4
// from RouteViews, IPv6 from RIS), some without the neighbour's ASN in front. Each
// router must accept exactly what policy.Evaluate (explain) accepts.
//
// Plumbing the test adds to the rendered configs (the model has no local address):
// BIRD gets "local ADDR port P; multihop 2;" in every protocol bgp, FRR
// "update-source" and "ebgp-multihop 2" on every neighbour. The export policies
// and the shared export file are loaded too; what the sessions export is not checked.

type exaCustomer struct {
	name, asn, asSet string
	noASSet          bool // the config switches the as-set rule off for this customer
	// moreSpecifics sets allow_more_specifics: the filter's entries become ranges up to
	// the length limit, and the session gets accepted more-specifics of each entry.
	moreSpecifics bool
	host          int // 127.0.0.HOST and 2001:db8:ffff::HOST (the same digits, read as hex)
	// probes are more routes, "PREFIX PATH" with the path as explain reads it.
	probes []string
}

var exaCustomers = []exaCustomer{
	{name: "exa", asn: "64502", asSet: "AS-EXA", host: 21, moreSpecifics: true, probes: []string{
		"198.51.100.0/24 64502 64503",                  // RPKI-invalid (ROA AS64502)
		"203.0.113.0/24 64502 64502 64502 64503",       // accepted, prepends
		"203.0.113.0/25 64502 64503",                   // longer than /24
		"198.51.100.0/23 64502 {64502,64503} 64503",    // an AS_SET in the middle
		"2001:db8:2000::/44 64502 64503",               // RPKI-invalid (ROA /36 max 40 AS64502)
		"2001:db8:2000::/40 64502 65540",               // RPKI-invalid: wrong origin
		"2001:db8:2100::/48 64502 64503",               // valid, in the filter
		"2001:db8:2100::/49 64502 64503",               // longer than /48
		"2001:db8:2100::/44 64502 {64503}",             // ends in an AS_SET: no origin, RPKI-invalid (ROAs cover it)
		"2001:db8::/32 64502 {64502}",                  // ends in an AS_SET, no ROA covers it: origin
		"2001:db8:2200::/47 {64502} 65540",             // starts with an AS_SET
		"2001:db8:2200::/48 64502 {64503,65540} 65540", // an AS_SET in the middle
		"2001:db8:2100::/40 64502 {64503} 64503",       // a one-member AS_SET: only the as-set rule rejects it
	}},
	{name: "solo", asn: "64504", host: 22, moreSpecifics: true, probes: []string{
		"192.0.2.0/24 64504 {64504}",                   // ends in an AS_SET: RPKI-invalid (no origin, ROA AS64504)
		"192.0.2.0/25 64504",                           // longer than /24
		"203.0.113.0/24 64504",                         // accepted
		"2001:db8:4000::/36 64504",                     // accepted
		"2001:db8:4f00::/48 64504 {64510,64511} 64504", // an AS_SET in the middle
		"2001:db8:4800::/40 64511 64504",               // first-as
	}},
	{name: "afilias", asn: "12041", host: 23, noASSet: true},
}

const exaLocalAS = 64496

// exaMaxV4 is the IPv4 length limit of the config: longer than /24 so that the few
// documentation /24s of the fixtures have more-specifics to accept.
const exaMaxV4 = 28

var (
	exaBIRD4, exaFRR4 = "127.0.0.2", "127.0.0.3"
	exaBIRD6, exaFRR6 = "2001:db8:ffff::2", "2001:db8:ffff::3"
)

func (c exaCustomer) addr(v6 bool) string {
	if v6 {
		return fmt.Sprintf("2001:db8:ffff::%d", c.host)
	}
	return fmt.Sprintf("127.0.0.%d", c.host)
}

// nextHop is off loopback for IPv4 (FRR refuses 127/8 next hops); for IPv6 the
// speaker's own address. Neither router needs to reach it.
func (c exaCustomer) nextHop(v6 bool) netip.Addr {
	if v6 {
		return netip.MustParseAddr(c.addr(true))
	}
	return netip.MustParseAddr(fmt.Sprintf("198.18.0.%d", c.host))
}

// exaRoute is one announcement with its whole AS path, left-most first.
type exaRoute struct {
	prefix netip.Prefix
	path   policy.ASPath
}

func (r exaRoute) segments() []peer.ExaSegment {
	var out []peer.ExaSegment
	for _, s := range r.path {
		seg := peer.ExaSegment{Set: s.Type == policy.ASSet}
		for _, a := range s.ASNs {
			seg.ASNs = append(seg.ASNs, uint32(a))
		}
		out = append(out, seg)
	}
	return out
}

// exaLeaks reads the announcements of one family from a bgpdump -m file of
// ../shared/data/mrt (a "full table" a customer might leak), AS_SETs included,
// without AS64496 (the routers' own AS, which they drop as a loop).
func exaLeaks(t *testing.T, rel string, v6 bool) []exaRoute {
	seen := map[netip.Prefix]bool{}
	var out []exaRoute
	bgpdumpAnnouncements(t, rel, func(p netip.Prefix, aspath string) bool {
		if p.Addr().Is6() != v6 || seen[p] || p != p.Masked() {
			return true
		}
		path, err := policy.ParseASPath(aspath)
		if err != nil || path.Len() > 20 || slices.Contains(path.ASNs(), exaLocalAS) {
			return true
		}
		seen[p] = true
		out = append(out, exaRoute{prefix: p, path: path})
		return true
	})
	if min := map[bool]int{false: 1000, true: 90}[v6]; len(out) < min {
		t.Fatalf("%s: only %d IPv%s leak routes", rel, len(out), map[bool]string{false: "4", true: "6"}[v6])
	}
	return out
}

// exaRoutes builds one session's announcements from the customer's import document
// of that family: the customer's probes, each prefix of the filter (every entry, and its more-specifics at
// the entry's longest length) with a path from the cycle below, a prefix one bit
// longer than each entry allows, the family's bogons and lengths outside the limits,
// and leaks until there are n.
func exaRoutes(t *testing.T, d *policy.Document, c exaCustomer, neighbor routing.ASN, leaks []exaRoute, n, seed int) []exaRoute {
	seen := map[netip.Prefix]bool{}
	var out []exaRoute
	add := func(p netip.Prefix, path policy.ASPath) {
		p = p.Masked()
		if !seen[p] && p.Addr().Is6() == (d.Family == 6) {
			seen[p] = true
			out = append(out, exaRoute{prefix: p, path: path})
		}
	}
	N := neighbor
	cone := d.Origins.ASNs
	rep := func(a routing.ASN, k int) []routing.ASN {
		s := make([]routing.ASN, k)
		for i := range s {
			s[i] = a
		}
		return s
	}
	seq := func(parts ...[]routing.ASN) policy.PathSegment {
		return policy.PathSegment{Type: policy.ASSequence, ASNs: slices.Concat(parts...)}
	}
	set := func(asns ...routing.ASN) policy.PathSegment {
		return policy.PathSegment{Type: policy.ASSet, ASNs: asns}
	}
	one := func(a ...routing.ASN) []routing.ASN { return a }
	// notN is a cone member other than the neighbour, else a documentation ASN.
	notN := routing.ASN(64511)
	for _, o := range cone {
		if o != N {
			notN = o
			break
		}
	}
	limit := d.MaxPathLength
	// acceptPath is the neighbour, then the entry's first origin in the cone.
	acceptPath := func(e policy.Entry) policy.ASPath {
		for _, x := range e.Origins {
			if x != N && slices.Contains(cone, x) {
				return policy.ASPath{seq(one(N, x))}
			}
		}
		return policy.ASPath{seq(one(N))}
	}
	k := 0
	path := func(e policy.Entry) policy.ASPath {
		o := N
		for _, x := range e.Origins {
			if slices.Contains(cone, x) {
				o = x
				break
			}
		}
		// tail is the path after the neighbour: nothing when it originates.
		var tail []routing.ASN
		if o != N {
			tail = one(o)
		}
		k++
		switch (k - 1) % 14 {
		case 1:
			return policy.ASPath{seq(one(N, 65000), tail)} // bogon-asn
		case 2:
			return policy.ASPath{seq(one(N, 174), tail)} // peerlock
		case 3:
			return policy.ASPath{seq(rep(N, limit-len(tail)), tail)} // exactly the limit, prepends
		case 4:
			return policy.ASPath{seq(rep(N, limit+1-len(tail)), tail)} // one more than the limit
		case 5:
			return policy.ASPath{seq(one(notN), one(o))} // first-as: not the neighbour
		case 6:
			return policy.ASPath{seq(one(N, 15169))} // origin outside the cone
		case 7:
			return policy.ASPath{seq(one(N, notN))} // another origin of the cone (RPKI-invalid where a ROA says so)
		case 8:
			return policy.ASPath{seq(one(N)), set(64510, 64511), seq(one(o))} // an AS_SET in the middle
		case 9:
			return policy.ASPath{seq(one(N)), set(o, 64511)} // ends in an AS_SET: no origin
		case 10:
			return policy.ASPath{set(N, 64511), seq(one(o))} // starts with an AS_SET: no first ASN
		case 11:
			return policy.ASPath{seq(rep(N, limit-2)), set(64510, 64511), seq(one(o))} // the limit, an AS_SET counted as one
		case 12:
			return policy.ASPath{seq(rep(N, limit-1)), set(64510, 64511), seq(one(o))} // one more, an AS_SET counted as one
		case 13:
			return policy.ASPath{seq(one(N)), set(64510, 65000), seq(one(o))} // bogon ASN inside an AS_SET
		}
		return policy.ASPath{seq(one(N), tail)}
	}
	for _, pr := range c.probes {
		p, rest, _ := strings.Cut(pr, " ")
		path, err := policy.ParseASPath(rest)
		if err != nil {
			t.Fatalf("probe %q: %v", pr, err)
		}
		add(netip.MustParsePrefix(p), path)
	}
	for _, e := range d.Prefixes.Entries {
		add(e.Prefix, path(e))
		if e.Max > e.Prefix.Bits() {
			add(netip.PrefixFrom(e.Prefix.Addr(), e.Max), path(e))
			last := e.Prefix.Addr()
			if b := e.Max - e.Prefix.Bits(); b < 16 {
				// the last more-specific at the longest length
				s := last.AsSlice()
				for i := e.Prefix.Bits(); i < e.Max; i++ {
					s[i/8] |= 0x80 >> (i % 8)
				}
				last, _ = netip.AddrFromSlice(s)
				add(netip.PrefixFrom(last, e.Max), path(e))
			}
		}
		if e.Max < e.Prefix.Addr().BitLen() {
			add(netip.PrefixFrom(e.Prefix.Addr(), e.Max+1), policy.Sequence(N)) // longer than the entry allows
		}
	}
	if c.moreSpecifics {
		// Up to moreSpecifics distinct more-specifics of every range entry with the
		// neighbour's own plain path: accepted where no ROA's maxLength forbids them
		// (then rpki-invalid), so that a customer with a handful of route objects still
		// has many accepted routes for the routers to agree on.
		for _, e := range d.Prefixes.Entries {
			for _, p := range moreSpecifics(e, 12) {
				add(p, acceptPath(e))
			}
		}
	}
	b := byte(seed)
	if d.Family == 4 {
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 0, 0}), 16), policy.Sequence(N))                   // bogon-prefix
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, b, 0}), 24), policy.Sequence(N))                // bogon-prefix
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64 + b, 0, 0}), 16), policy.Sequence(N))             // bogon-prefix (RFC 6598)
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{2 * (b + 10), 0, 0, 0}), 7), policy.Sequence(N))          // too short
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{45, b, 1, 0}), d.PrefixLength.Max+1), policy.Sequence(N)) // too long
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{45, b, 2, 0}), d.PrefixLength.Max), policy.Sequence(N))   // the longest length, outside the filter
	} else {
		v6 := func(hi uint16, bits int) netip.Prefix {
			var a [16]byte
			a[0], a[1], a[2], a[3] = byte(hi>>8), byte(hi), 0, b
			return netip.PrefixFrom(netip.AddrFrom16(a), bits)
		}
		add(v6(0xfd00, 32), policy.Sequence(N))             // bogon-prefix: fc00::/7 unique local
		add(v6(0x2002, 32), policy.Sequence(N))             // bogon-prefix: 6to4
		add(v6(0x3fff, 32), policy.Sequence(N))             // bogon-prefix: 3fff::/20 documentation
		add(v6(0x2c0e+2*uint16(b), 15), policy.Sequence(N)) // too short (the limit is 16)
		add(v6(0x2a10, 49), policy.Sequence(N))             // too long (the limit is 48)
		add(v6(0x2a11, 48), policy.Sequence(N))             // the longest length, outside the filter
		add(v6(0x2a12, 16), policy.Sequence(N))             // the shortest length, outside the filter
	}
	for i, l := range leaks {
		if len(out) >= n {
			break
		}
		if i%9 == 4 {
			add(l.prefix, l.path) // leaked without the neighbour in front
			continue
		}
		add(l.prefix, append(policy.ASPath{{Type: policy.ASSequence, ASNs: []routing.ASN{N}}}, l.path...))
	}
	return out
}

func TestLiveExaBGPPolicies(t *testing.T) {
	if testing.Short() {
		peer.Missing(t, "-short: live BGP sessions")
	}
	peer.Require(t, "bird")
	peer.FRRBgpd(t)
	peer.Require(t, "exabgp", "/usr/sbin")
	peer.Require(t, "stayrtr")
	// 198.18.0.1 on lo: without an IPv4 address off 127/8 getaddrinfo (AI_ADDRCONFIG)
	// refuses IPv4 and FRR's RTR client cannot reach the cache on 127.0.0.1.
	addrs := []string{"198.18.0.1", exaBIRD6, exaFRR6}
	for _, c := range exaCustomers {
		addrs = append(addrs, c.addr(true))
	}
	ns := peer.NewNetNS(t, addrs...)
	root := peer.RepoRoot(t)
	dir := t.TempDir()
	vrps := filepath.Join(root, "render/testdata/livex-vrps.json")
	rtr := ns.StartStayRTR(t, vrps)

	var y strings.Builder
	for _, c := range exaCustomers {
		fmt.Fprintf(&y, "  - name: %s\n    asn: %s\n", c.name, c.asn)
		if c.asSet != "" {
			fmt.Fprintf(&y, "    as_set: [%s]\n", c.asSet)
		}
		if c.noASSet {
			y.WriteString("    rules: {as-set: false}\n")
		}
		if c.moreSpecifics {
			y.WriteString("    allow_more_specifics: true\n")
		}
		fmt.Fprintf(&y, "    max_prefix: {ipv4: 2000, ipv6: 2000}\n    sessions: [{address: %s}, {address: %s}]\n", c.addr(false), c.addr(true))
	}
	head := fmt.Sprintf("local_as: %d\nrouter_id: 198.18.0.1\nirr: [%q, %q, %q]\nsources: [TEST, RIPE-NONAUTH]\nrpki: %q\nrtr_cache: %s\nself: {prefixes: [192.0.2.0/24, 2001:db8::/32]}\n",
		exaLocalAS, filepath.Join(root, "render/testdata/livex.db"), peer.SharedData(t, "irr/ripe-nonauth.db.route.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.route6.gz"), vrps, rtr)
	docs, table := liveSessions(t, dir, head, exaMaxV4, y.String())

	bport := peer.FreePort(t)
	var birdConf, frrConf strings.Builder
	// The shared export file first (BIRD includes it, FRR reads it first), then every
	// customer's policies, import and export.
	birdConf.WriteString(liveBIRDHead(t, dir, docs))
	frrConf.WriteString(liveExport(t, "frr", docs))
	for _, c := range exaCustomers {
		d := docs[c.name]
		all := []*policy.Document{d.Import4, d.Import6, d.Export4, d.Export6}
		b, err := RenderPolicy("bird", all, Options{})
		if err != nil {
			t.Fatal(err)
		}
		text := string(b.Text)
		for i, local := range []string{exaBIRD4, exaBIRD6} {
			head := fmt.Sprintf("protocol bgp %s_%d {\n", c.name, i+1)
			if !strings.Contains(text, head) {
				t.Fatalf("%s: no %q in the BIRD config", c.name, head)
			}
			text = strings.ReplaceAll(text, head, fmt.Sprintf("%s  local %s port %d; strict bind on; multihop 2;\n", head, local, bport))
		}
		birdConf.WriteString(text)
		f, err := RenderPolicy("frr", all, Options{})
		if err != nil {
			t.Fatal(err)
		}
		text = string(f.Text)
		for _, v6 := range []bool{false, true} {
			src := exaFRR4
			if v6 {
				src = exaFRR6
			}
			line := fmt.Sprintf(" neighbor %s remote-as %s\n", c.addr(v6), c.asn)
			if !strings.Contains(text, line) {
				t.Fatalf("%s: no %q in the FRR config", c.name, line)
			}
			text = strings.ReplaceAll(text, line, fmt.Sprintf("%[1]s neighbor %[2]s update-source %[3]s\n neighbor %[2]s ebgp-multihop 2\n", line, c.addr(v6), src))
		}
		frrConf.WriteString(text)
	}
	frrText := frrOneRPKI(frrConf.String())
	t.Logf("configs: BIRD %d lines, FRR %d lines", strings.Count(birdConf.String(), "\n"), strings.Count(frrText, "\n"))
	b := ns.StartBIRD(t, dir, birdConf.String())
	f := ns.StartFRR(t, t.TempDir(), peer.FRRConfig{Policy: frrText, Modules: []string{"rpki"}})
	peer.Eventually(t, "BIRD up", 20*time.Second, b.Up, b.Daemon)
	peer.Eventually(t, "FRR up", 120*time.Second, f.Up, f.Daemon)
	if log, _ := os.ReadFile(f.LogFile); strings.Contains(string(log), "Config Failed") || strings.Contains(string(log), "Unknown command") {
		t.Fatalf("FRR refused the config:\n%s", log)
	}
	// Both routers hold the VRPs of both families before any route arrives.
	peer.Eventually(t, "BIRD ROA tables", 30*time.Second, func() bool {
		o4, _ := b.Birdc("show", "route", "table", "exa_ROA_V4", "count")
		o6, _ := b.Birdc("show", "route", "table", "exa_ROA_V6", "count")
		return strings.Contains(o4, "2 of 2 routes") && strings.Contains(o6, "3 of 3 routes")
	}, b.Daemon)
	peer.Eventually(t, "FRR RPKI cache", 30*time.Second, func() bool {
		out, _ := f.Vty("show rpki prefix-table")
		return strings.Contains(out, "198.51.100.0") && strings.Contains(out, "2001:db8:4000::")
	}, f.Daemon)

	leaks4 := exaLeaks(t, "mrt/expected/routeviews.updates.20260222.1530.bgpdump-m.txt.gz", false)
	// The IPv6 dumps hold only 93 distinct prefixes: every IPv6 session gets them all,
	// then real IPv4 full-table paths on made-up prefixes of 2a0c::/16.
	leaks6 := exaLeaks(t, "mrt/expected/ris.updates.20160811.1600.gz.bgpdump-m.txt.gz", true)
	leaksFor := func(fam, i int) []exaRoute {
		if fam == 4 {
			return leaks4[i*300:]
		}
		out := slices.Clone(leaks6)
		for j, l := range leaks4[i*300 : i*300+300] {
			a := [16]byte{0x2a, 0x0c, byte(i), byte(j)}
			out = append(out, exaRoute{prefix: netip.PrefixFrom(netip.AddrFrom16(a), 32), path: l.path})
		}
		return out
	}
	type session struct {
		c      exaCustomer
		family int
		routes []exaRoute
		want   []string
		rules  map[policy.RuleName]int
		// withdrawn counts the routes with an AS_SET when the as-set rule is on.
		withdrawn int
	}
	var sessions []*session
	ruleSeen := map[int]map[policy.RuleName]int{4: {}, 6: {}}
	var boundary [2]int    // accepted at exactly the path-length limit; rejected at one more
	sets := map[bool]int{} // routes whose path holds an AS_SET: accepted or not
	daemons := []*peer.Daemon{b.Daemon, f.Daemon}
	for i, c := range exaCustomers {
		asn := routing.ASN(must(strconv.ParseUint(c.asn, 10, 32)))
		var neighbors []peer.ExaNeighbor
		for _, fam := range []int{4, 6} {
			d := docs[c.name].Import4
			if fam == 6 {
				d = docs[c.name].Import6
			}
			s := &session{c: c, family: fam, rules: map[policy.RuleName]int{}}
			s.routes = exaRoutes(t, d, c, asn, leaksFor(fam, i), 220, i+1)
			var ers []peer.ExaRoute
			for _, r := range s.routes {
				dec, err := policy.Evaluate(d, policy.Announcement{Prefix: r.prefix, Path: r.path}.WithROV(table))
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, r.prefix, err)
				}
				s.rules[dec.Rule]++
				ruleSeen[fam][dec.Rule]++
				if dec.Accepted() {
					s.want = append(s.want, r.prefix.String())
					if r.path.Len() == d.MaxPathLength {
						boundary[0]++
					}
					if hasSet(r.path) {
						sets[c.noASSet]++
						if !c.noASSet {
							t.Errorf("%s %s [%s]: accepted with an AS_SET although the as-set rule is on", c.name, r.prefix, r.path)
						}
					}
				}
				if hasSet(r.path) && !c.noASSet {
					s.withdrawn++
				}
				if !dec.Accepted() && dec.Rule == policy.RuleASPathLength && r.path.Len() == d.MaxPathLength+1 {
					boundary[1]++
				}
				ers = append(ers, peer.ExaRoute{Prefix: r.prefix, NextHop: c.nextHop(fam == 6), Path: r.segments()})
			}
			slices.Sort(s.want)
			if len(s.routes) < 200 || len(s.want) < 10 {
				t.Fatalf("%s IPv%d: %d routes, %d accepted: too weak (rules %v, entries %v)", c.name, fam, len(s.routes), len(s.want), s.rules, d.Prefixes.Entries)
			}
			t.Logf("%s IPv%d: %d routes, Evaluate accepts %d; deciding rules %v", c.name, fam, len(s.routes), len(s.want), s.rules)
			sessions = append(sessions, s)
			bird, frr := exaBIRD4, exaFRR4
			if fam == 6 {
				bird, frr = exaBIRD6, exaFRR6
			}
			neighbors = append(neighbors,
				peer.ExaNeighbor{Address: bird, Local: c.addr(fam == 6), Port: bport, AS: exaLocalAS, Routes: ers},
				peer.ExaNeighbor{Address: frr, Local: c.addr(fam == 6), Port: f.Port, AS: exaLocalAS, Routes: ers})
		}
		daemons = append(daemons, ns.StartExaBGP(t, t.TempDir(), peer.ExaBGPConfig{AS: uint32(asn),
			RouterID: fmt.Sprintf("198.18.0.%d", c.host), Neighbors: neighbors}))
	}
	for _, fam := range []int{4, 6} {
		for _, r := range []policy.RuleName{policy.RuleBogonASN, policy.RuleBogonPrefix, policy.RulePrefixLength, policy.RuleRPKIInvalid,
			policy.RulePeerlock, policy.RuleASPathLength, policy.RuleASSet, policy.RuleFirstAS, policy.RuleOrigin, policy.RulePrefix, policy.RuleAccept} {
			if ruleSeen[fam][r] == 0 {
				t.Errorf("IPv%d: no route is decided by rule %s", fam, r)
			}
		}
	}
	if boundary[0] == 0 || boundary[1] == 0 {
		t.Errorf("path-length boundary not exercised: %d accepted at the limit, %d rejected at one more", boundary[0], boundary[1])
	}
	if sets[true] == 0 {
		t.Errorf("no route with an AS_SET is accepted with the as-set rule off: the other rules' AS_SET semantics are not exercised")
	}
	t.Logf("%d accepted at exactly the path-length limit, %d rejected at one more; %d routes with an AS_SET accepted with the as-set rule off", boundary[0], boundary[1], sets[true])

	birdRoutes := func(proto string) []string {
		out, _ := b.Birdc("show", "route", "protocol", proto)
		var got []string
		for _, line := range strings.Split(out, "\n") {
			if fs := strings.Fields(line); len(fs) > 0 && strings.Contains(fs[0], "/") {
				got = append(got, fs[0])
			}
		}
		slices.Sort(got)
		return got
	}
	for _, s := range sessions {
		proto := fmt.Sprintf("%s_%d", s.c.name, s.family/2-1) // IPv4 is session 1, IPv6 session 2
		afi := map[int]string{4: "ipv4", 6: "ipv6"}[s.family]
		addr := s.c.addr(s.family == 6)
		// Every update arrived: the rejections are the policy's, not lost updates. With
		// the as-set rule on, BIRD's session turns an update with an AS_SET into a
		// withdrawal (allow as sets off), which it counts as such.
		want := fmt.Sprintf("Import updates: %d ", len(s.routes)-s.withdrawn)
		var counters string
		for deadline := time.Now().Add(90 * time.Second); ; {
			out, _ := b.Birdc("show", "protocols", "all", proto)
			counters = strings.Join(strings.Fields(out), " ")
			if strings.Contains(counters, want) {
				break
			}
			if time.Now().After(deadline) || slices.ContainsFunc(daemons, (*peer.Daemon).Exited) {
				t.Fatalf("%s: BIRD did not count %q (%d routes, %d with an AS_SET):\n%s", proto, want, len(s.routes), s.withdrawn, out)
			}
			time.Sleep(300 * time.Millisecond)
		}
		var gotB, gotF []string
		ok := func() bool {
			gotB, gotF = birdRoutes(proto), f.FamilyPrefixes(afi, addr, "routes")
			return slices.Equal(gotB, s.want) && slices.Equal(gotF, s.want)
		}
		for deadline := time.Now().Add(60 * time.Second); !ok() && time.Now().Before(deadline); {
			time.Sleep(300 * time.Millisecond)
		}
		if !slices.Equal(gotB, s.want) {
			t.Errorf("%s: BIRD accepted %d routes, Evaluate %d\nonly BIRD: %q\nonly Evaluate: %q", proto, len(gotB), len(s.want), minus(gotB, s.want), minus(s.want, gotB))
		}
		if !slices.Equal(gotF, s.want) {
			t.Errorf("%s (%s): FRR accepted %d routes, Evaluate %d\nonly FRR: %q\nonly Evaluate: %q", proto, addr, len(gotF), len(s.want), minus(gotF, s.want), minus(s.want, gotF))
		}
		t.Logf("%s: BIRD and FRR accept exactly the %d of %d routes Evaluate accepts", proto, len(s.want), len(s.routes))
	}
}

func hasSet(p policy.ASPath) bool {
	return slices.ContainsFunc(p, func(s policy.PathSegment) bool { return s.Type == policy.ASSet })
}

// moreSpecifics returns up to n distinct prefixes strictly inside e's range (longer
// than e's prefix, at most e.Max bits), spread evenly over the lengths and over the
// address space below e's prefix, in a fixed order.
func moreSpecifics(e policy.Entry, n int) []netip.Prefix {
	bits := e.Prefix.Bits()
	lo := max(e.Min, bits+1)
	if lo > e.Max {
		return nil
	}
	per := (n + e.Max - lo) / (e.Max - lo + 1) // per length, rounded up
	var out []netip.Prefix
	for l := lo; l <= e.Max; l++ {
		count := uint64(1) << min(l-bits, 62)
		k := min(uint64(per), count)
		for i := uint64(0); i < k && len(out) < n; i++ {
			out = append(out, subnet(e.Prefix, l, i*(count/k)+count/k/2))
		}
	}
	return out
}

// subnet is the j-th subnet of length l of p (j counted from 0, below p's bits).
func subnet(p netip.Prefix, l int, j uint64) netip.Prefix {
	s := p.Masked().Addr().AsSlice()
	for i := 0; i < l-p.Bits() && i < 64; i++ {
		if j>>(uint(l-p.Bits()-1-i))&1 == 1 {
			pos := p.Bits() + i
			s[pos/8] |= 0x80 >> (pos % 8)
		}
	}
	a, _ := netip.AddrFromSlice(s)
	return netip.PrefixFrom(a, l)
}
