package render

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// The live session-policy test (issue 7, "Must show"): seven customers, three with our
// own documentation fixtures (testdata/live.db) and four with real AS-SETs and route
// objects from the RIPE dumps in ../shared/data/irr, one of them (bound) with
// origin_binding, whose routes of the filter from another cone member's origin the
// routers must reject; BIRD 2 and FRR 8.4 each run the
// configs bgpfilter renders for all of them (policies and session stanzas), with
// run-time ROV against stayrtr serving testdata/live-vrps.json; one gobgpd per
// customer announces over 200 routes to both routers; each router must accept exactly
// the routes policy.Evaluate (what explain runs) accepts; and the customer whose
// announcements exceed its max-prefix limit must lose its sessions.
//
// Loopback plumbing the test adds to the rendered configs (the model has no local
// address): BIRD gets "local 127.0.0.2 port P; strict bind on; multihop 2;" in every
// protocol bgp, FRR "update-source", "ebgp-multihop 2" and "timers connect 1" on
// every neighbour. The first-as rule cannot be exercised: gobgpd always prepends its
// own AS, the neighbour's.

type liveCustomer struct {
	name, asn, asSet string
	addr             string // gobgpd's loopback address
	maxPrefix        int
	// binding sets origin_binding: routes of the filter from another cone member's
	// origin (routesFor's "another origin" case) are then rejected.
	binding bool
	// moreSpecifics sets allow_more_specifics: the filter's entries become ranges up to
	// the IPv4 limit, and routesFor announces accepted more-specifics of each entry.
	moreSpecifics bool
}

var liveCustomers = []liveCustomer{
	{name: "acme", asn: "64500", asSet: "AS-ACME", addr: "127.0.0.21", maxPrefix: 1000, moreSpecifics: true},
	{name: "beta", asn: "64510", addr: "127.0.0.22", maxPrefix: 1000, moreSpecifics: true}, // no as_set: the ASN alone
	{name: "kenic", asn: "21280", asSet: "AS-KENIC", addr: "127.0.0.23", maxPrefix: 1000, moreSpecifics: true},
	{name: "gsta", asn: "29674", asSet: "AS-GSTA", addr: "127.0.0.24", maxPrefix: 1000, moreSpecifics: true},
	{name: "cloudsigma", asn: "50837", asSet: "AS-CLOUDSIGMA", addr: "127.0.0.25", maxPrefix: 1000, moreSpecifics: true},
	// limited goes over its limit: 3 accepted routes, limit 1. FRR 8.4 compares the
	// count with the limit when it accepts a route, before counting that route, so
	// it tears the session down on the (limit+2)th accepted route; BIRD on the
	// (limit+1)th.
	{name: "limited", asn: "64505", addr: "127.0.0.26", maxPrefix: 1},
	// bound: a real RIPE AS-SET of five networks with origin binding.
	{name: "bound", asn: "37133", asSet: "AS-37133", addr: "127.0.0.27", maxPrefix: 1000, binding: true},
}

const (
	liveBIRD = "127.0.0.2"
	liveFRR  = "127.0.0.3"
	liveAS   = 64496
)

// liveRoute is one announcement: the prefix and the path after the neighbour's AS
// (gobgpd prepends it).
type liveRoute struct {
	prefix netip.Prefix
	after  []routing.ASN
}

func (r liveRoute) path(neighbor routing.ASN) policy.ASPath {
	return policy.Sequence(append([]routing.ASN{neighbor}, r.after...)...)
}

// leakRoutes reads IPv4 routes with plain AS_SEQUENCE paths from the RouteViews
// update dump (a "full table" a customer might leak), without AS64496 (the routers'
// own AS, which they drop as a loop).
func leakRoutes(t *testing.T) []liveRoute {
	seen := map[netip.Prefix]bool{}
	var out []liveRoute
	bgpdumpAnnouncements(t, "mrt/expected/routeviews.updates.20260222.1530.bgpdump-m.txt.gz", func(p netip.Prefix, aspath string) bool {
		if !p.Addr().Is4() || seen[p] || p.Bits() > 24 {
			return true
		}
		path, ok := plainPath(aspath)
		if !ok || len(path) == 0 || len(path) > 20 || slices.Contains(path, liveAS) {
			return true
		}
		seen[p] = true
		out = append(out, liveRoute{prefix: p, after: path})
		return true
	})
	if len(out) < 1000 {
		t.Fatalf("only %d leak routes", len(out))
	}
	return out
}

// routesFor builds the announcements of one customer: around every prefix entry
// (the entry, a more-specific past its Max, its shortest length when longer than the
// prefix), with paths cycling through the cases each rule must reject (a bogon ASN,
// a transit-free ASN, a path of 34 ASNs, an origin outside the cone, another origin
// of the cone, which is RPKI-invalid where a ROA names the first one); bogon and too
// short prefixes; with moreSpecific, accepted more-specifics of every range entry; and
// leaked full-table routes until there are n.
func routesFor(d *policy.Document, neighbor routing.ASN, leaks []liveRoute, n, seed int, moreSpecific bool) []liveRoute {
	seen := map[netip.Prefix]bool{}
	var out []liveRoute
	add := func(p netip.Prefix, after ...routing.ASN) {
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, liveRoute{prefix: p, after: after})
		}
	}
	cone := d.Origins.ASNs
	originOf := func(e policy.Entry) []routing.ASN {
		for _, o := range e.Origins {
			if o != neighbor && slices.Contains(cone, o) {
				return []routing.ASN{o}
			}
		}
		return nil // the neighbour itself originates
	}
	other := func(e policy.Entry) []routing.ASN {
		for _, o := range cone {
			if !slices.Contains(e.Origins, o) && o != neighbor {
				return []routing.ASN{o}
			}
		}
		return []routing.ASN{64511}
	}
	long := make([]routing.ASN, 33)
	for i := range long {
		long[i] = neighbor // prepends count
	}
	for i, e := range d.Prefixes.Entries {
		o := originOf(e)
		var after []routing.ASN
		switch i % 8 {
		case 1:
			after = append([]routing.ASN{65000}, o...) // bogon-asn
		case 3:
			after = append([]routing.ASN{174}, o...) // peerlock
		case 5:
			after = append(slices.Clone(long), o...) // as-path-length
		case 6:
			after = []routing.ASN{15169} // origin outside the cone
		case 7:
			after = other(e) // another origin of the cone (RPKI-invalid where a ROA says so)
		default:
			after = o
		}
		add(e.Prefix, after...)
		if e.Max < 32 {
			add(netip.PrefixFrom(e.Prefix.Addr(), e.Max+1), o...) // longer than the entry allows
		}
		if e.Min > e.Prefix.Bits() {
			add(netip.PrefixFrom(e.Prefix.Addr(), e.Min), o...)
		}
	}
	if moreSpecific {
		// More-specifics inside each range entry with the plain path: accepted unless a
		// ROA's maxLength makes them RPKI-invalid.
		for _, e := range d.Prefixes.Entries {
			for _, p := range moreSpecifics(e, 8) {
				add(p, originOf(e)...)
			}
		}
	}
	b := byte(seed)
	add(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 0, 0}), 16), cone...)          // bogon-prefix
	add(netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, b, 0}), 24), cone...)       // bogon-prefix
	add(netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64 + b, 0, 0}), 16), cone...)    // bogon-prefix (RFC 6598)
	add(netip.PrefixFrom(netip.AddrFrom4([4]byte{2 * (b + 10), 0, 0, 0}), 7), cone...) // too short
	add(netip.PrefixFrom(netip.AddrFrom4([4]byte{45, b, 1, 0}), 28), cone...)          // too long, outside the filter
	for _, l := range leaks {
		if len(out) >= n {
			break
		}
		add(l.prefix, l.after...)
	}
	return out
}

func TestLivePolicies(t *testing.T) {
	if testing.Short() {
		peer.Missing(t, "-short: live BGP sessions")
	}
	peer.Require(t, "bird")
	peer.FRRBgpd(t)
	peer.Require(t, "gobgpd")
	root := peer.RepoRoot(t)
	dir := t.TempDir()
	vrps, err := filepath.Abs("testdata/live-vrps.json")
	if err != nil {
		t.Fatal(err)
	}
	rtr := peer.StartStayRTR(t, vrps)

	// The config, as an operator writes it.
	gports := map[string]int{}
	var y strings.Builder
	for _, c := range liveCustomers {
		gports[c.name] = peer.FreePort(t)
		fmt.Fprintf(&y, "  - name: %s\n    asn: %s\n", c.name, c.asn)
		if c.asSet != "" {
			fmt.Fprintf(&y, "    as_set: [%s]\n", c.asSet)
		}
		fmt.Fprintf(&y, "    max_prefix: {ipv4: %d, ipv6: 100}\n    sessions: [{address: %s, port: %d}]\n", c.maxPrefix, c.addr, gports[c.name])
		if c.binding {
			y.WriteString("    origin_binding: true\n")
		}
		if c.moreSpecifics {
			y.WriteString("    allow_more_specifics: true\n")
		}
	}
	head := fmt.Sprintf("local_as: %d\nrouter_id: 192.0.2.1\nirr: [%q, %q, %q]\nsources: [TEST, RIPE, RIPE-NONAUTH]\nrpki: %q\nrtr_cache: %s\nself: {prefixes: [192.0.2.0/24]}\n",
		liveAS, filepath.Join(root, "render/testdata/live.db"), peer.SharedData(t, "irr/ripe.db.as-set.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.route.gz"), vrps, rtr)
	docs, table := liveSessions(t, dir, head, 26, y.String())
	var birdConf, frrConf strings.Builder
	// The shared export file first, as generate writes it and the README loads it:
	// BIRD includes it, FRR reads it before the customers' files.
	birdConf.WriteString(liveBIRDHead(t, dir, docs))
	frrConf.WriteString(liveExport(t, "frr", docs))
	bport := peer.FreePort(t)
	for _, c := range liveCustomers {
		d := docs[c.name]
		all := []*policy.Document{d.Import4, d.Import6, d.Export4, d.Export6}
		b, err := RenderPolicy("bird", all, Options{})
		if err != nil {
			t.Fatal(err)
		}
		birdConf.WriteString(strings.ReplaceAll(string(b.Text), "protocol bgp "+c.name+"_1 {\n",
			fmt.Sprintf("protocol bgp %s_1 {\n  local %s port %d; strict bind on; multihop 2; connect delay time 1;\n", c.name, liveBIRD, bport)))
		f, err := RenderPolicy("frr", all, Options{})
		if err != nil {
			t.Fatal(err)
		}
		frrConf.WriteString(strings.ReplaceAll(string(f.Text), fmt.Sprintf(" neighbor %s remote-as %s\n", c.addr, c.asn),
			fmt.Sprintf(" neighbor %[1]s remote-as %[2]s\n neighbor %[1]s update-source %[3]s\n neighbor %[1]s ebgp-multihop 2\n neighbor %[1]s timers connect 1\n", c.addr, c.asn, liveFRR)))
	}
	for _, c := range liveCustomers {
		for _, s := range []string{"protocol bgp " + c.name + "_1 {\n  local " + liveBIRD} {
			if !strings.Contains(birdConf.String(), s) {
				t.Fatalf("loopback plumbing not applied for %s", c.name)
			}
		}
	}

	frrText := frrOneRPKI(frrConf.String())
	b := peer.StartBIRD(t, dir, birdConf.String())
	f := peer.StartFRR(t, t.TempDir(), peer.FRRConfig{Listen: liveFRR, Policy: frrText, Modules: []string{"rpki"}})
	peer.Eventually(t, "BIRD up", 20*time.Second, b.Up, b.Daemon)
	// FRR reads a config of some thousand lines slowly (seconds of CPU for the route-map
	// dependency updates), more on a loaded machine.
	frrStart := time.Now()
	peer.Eventually(t, "FRR up", 420*time.Second, f.Up, f.Daemon)
	t.Logf("FRR read the %d-line config in %s", strings.Count(frrText, "\n"), time.Since(frrStart).Round(time.Second))
	if log, _ := os.ReadFile(f.LogFile); strings.Contains(string(log), "Config Failed") || strings.Contains(string(log), "Unknown command") {
		t.Fatalf("FRR refused the config:\n%s", log)
	}
	// Both routers have the VRPs before any route arrives (the routes are evaluated
	// once, on receipt).
	peer.Eventually(t, "BIRD ROA table", 30*time.Second, func() bool {
		out, _ := b.Birdc("show", "route", "table", "acme_ROA_V4", "count")
		return strings.Contains(out, "3 of 3 routes")
	}, b.Daemon)
	peer.Eventually(t, "FRR RPKI cache", 30*time.Second, func() bool {
		out, _ := f.Vty("show rpki prefix-table")
		return strings.Contains(out, "192.0.2.0") && strings.Contains(out, "2001:db8:1000::")
	}, f.Daemon)

	leaks := leakRoutes(t)
	type session struct {
		c      liveCustomer
		routes []liveRoute
		want   []string
		rules  map[policy.RuleName]int
		// boundOnly counts the routes origin binding alone rejects.
		boundOnly int
	}
	var sessions []*session
	ruleSeen := map[policy.RuleName]int{}
	for i, c := range liveCustomers {
		d := docs[c.name].Import4
		asn := routing.ASN(must(strconv.ParseUint(c.asn, 10, 32)))
		s := &session{c: c, rules: map[policy.RuleName]int{}}
		n := 210
		if c.maxPrefix < 10 {
			n = 40
		}
		s.routes = routesFor(d, asn, leaks[i*400:], n, i+1, c.moreSpecifics)
		for _, r := range s.routes {
			dec, err := policy.Evaluate(d, policy.Announcement{Prefix: r.prefix, Path: r.path(asn)}.WithROV(table))
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, r.prefix, err)
			}
			s.rules[dec.Rule]++
			ruleSeen[dec.Rule]++
			if c.binding && dec.Rule == policy.RulePrefix {
				// Rejected only because of the binding: the same route passes without it.
				free := *d
				free.Session.OriginBinding = false
				if fd, err := policy.Evaluate(&free, policy.Announcement{Prefix: r.prefix, Path: r.path(asn)}.WithROV(table)); err == nil && fd.Accepted() {
					s.boundOnly++
				}
			}
			if dec.Accepted() {
				s.want = append(s.want, r.prefix.String())
			}
		}
		slices.Sort(s.want)
		if c.maxPrefix >= 10 && (len(s.routes) < 200 || len(s.want) < 3) {
			t.Fatalf("%s: %d routes, %d accepted: too weak", c.name, len(s.routes), len(s.want))
		}
		if c.binding && s.boundOnly < 5 {
			t.Fatalf("%s: only %d routes are rejected by origin binding alone: too weak", c.name, s.boundOnly)
		}
		bound := ""
		if c.binding {
			bound = fmt.Sprintf("; origin binding alone rejects %d", s.boundOnly)
		}
		t.Logf("%s: %d routes, Evaluate accepts %d; deciding rules %v%s", c.name, len(s.routes), len(s.want), s.rules, bound)
		sessions = append(sessions, s)
	}
	// The documentation fixtures have little address space; the real AS-SETs' more-specifics
	// carry most of the accepted routes.
	if total := ruleSeen[policy.RuleAccept]; total < 100 {
		t.Fatalf("only %d accepted routes over all sessions: too weak", total)
	}
	for _, r := range []policy.RuleName{policy.RuleBogonASN, policy.RuleBogonPrefix, policy.RulePrefixLength, policy.RuleRPKIInvalid,
		policy.RulePeerlock, policy.RuleASPathLength, policy.RuleOrigin, policy.RulePrefix, policy.RuleAccept} {
		if ruleSeen[r] == 0 {
			t.Errorf("no route is decided by rule %s", r)
		}
	}

	// One gobgpd per customer, peering with both routers, announcing its routes.
	var wg sync.WaitGroup
	errs := make(chan error, len(sessions))
	for _, s := range sessions {
		asn := uint32(must(strconv.ParseUint(s.c.asn, 10, 32)))
		// A next hop off loopback: FRR refuses 127/8 next hops (martian) with a
		// NOTIFICATION; neither router needs to reach it.
		nextHop := "198.18.0." + strings.TrimPrefix(s.c.addr, "127.0.0.")
		g := peer.StartGoBGP(t, t.TempDir(), peer.GoBGPConfig{AS: asn, RouterID: s.c.addr, Local: s.c.addr, Port: gports[s.c.name],
			Neighbor: liveBIRD, NeighborAS: liveAS, More: []peer.GoBGPNeighbor{{Address: liveFRR, AS: liveAS}}, NextHop: nextHop})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range s.routes {
				var p []string
				for _, a := range r.after {
					p = append(p, strconv.FormatUint(uint64(a), 10))
				}
				if err := g.AddRoute(r.prefix.String(), strings.Join(p, ","), nextHop); err != nil {
					errs <- fmt.Errorf("%s: %w", s.c.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

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
		proto := s.c.name + "_1"
		if s.c.maxPrefix < 10 {
			// More accepted routes than the limit: both sessions go down and stay down.
			if len(s.want) < s.c.maxPrefix+2 {
				t.Fatalf("%s: %d accepted routes do not exceed the limit %d", s.c.name, len(s.want), s.c.maxPrefix)
			}
			peer.Eventually(t, s.c.name+": BIRD import limit", 60*time.Second, func() bool {
				out, _ := b.Birdc("show", "protocols", "all", proto)
				return strings.Contains(out, "down") && strings.Contains(strings.ToLower(out), "limit")
			}, b.Daemon)
			var nb string
			frrDown := func() bool {
				nb, _ = f.Vty("show bgp neighbors " + s.c.addr + " json")
				return strings.Contains(nb, `"bgpState":"Idle"`) && strings.Contains(nb, "Maximum Number of Prefixes Reached")
			}
			for end := time.Now().Add(60 * time.Second); !frrDown() && time.Now().Before(end); {
				time.Sleep(500 * time.Millisecond)
			}
			if !frrDown() {
				t.Fatalf("%s: FRR did not take the session down over max-prefix %d:\n%s", s.c.name, s.c.maxPrefix, nb)
			}
			out, _ := f.Vty("show bgp neighbors " + s.c.addr)
			t.Logf("%s: over max-prefix %d with %d accepted routes: BIRD protocol down (route limit), FRR Idle: %s", s.c.name, s.c.maxPrefix, len(s.want), firstLine(out, "notification"))
			continue
		}
		var gotB, gotF []string
		ok := func() bool {
			gotB, gotF = birdRoutes(proto), f.NeighborPrefixes(s.c.addr, "routes")
			return slices.Equal(gotB, s.want) && slices.Equal(gotF, s.want)
		}
		deadline := time.Now().Add(90 * time.Second)
		for !ok() && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond)
		}
		if !slices.Equal(gotB, s.want) {
			t.Errorf("%s: BIRD accepted %d routes, Evaluate %d\nonly BIRD: %q\nonly Evaluate: %q", s.c.name, len(gotB), len(s.want), minus(gotB, s.want), minus(s.want, gotB))
		}
		if !slices.Equal(gotF, s.want) {
			t.Errorf("%s: FRR accepted %d routes, Evaluate %d\nonly FRR: %q\nonly Evaluate: %q", s.c.name, len(gotF), len(s.want), minus(gotF, s.want), minus(s.want, gotF))
		}
		// Everything was received: the rejections are the policy's, not lost updates.
		out, _ := b.Birdc("show", "protocols", "all", proto)
		if !strings.Contains(strings.Join(strings.Fields(out), " "), fmt.Sprintf("Import updates: %d ", len(s.routes))) {
			t.Errorf("%s: BIRD did not receive all %d routes:\n%s", s.c.name, len(s.routes), out)
		}
		t.Logf("%s: BIRD and FRR accept exactly the %d of %d routes Evaluate accepts", s.c.name, len(s.want), len(s.routes))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(strings.ToLower(l), sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
