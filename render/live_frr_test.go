package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestFRRLiveASPathWithGoBGP: FRR 8.4 bgpd with a route-map matching the rendered
// as-path access-list and prefix-list, fed by gobgpd (AS64500) over a real BGP
// session, accepts exactly the routes whose AS path the filter model permits: the
// regexes are checked by FRR's own regex engine, including substring traps
// (AS6553 vs AS65536, AS164496 vs AS64496).
func TestFRRLiveASPathWithGoBGP(t *testing.T) {
	peer.SkipShort(t, "live BGP session")
	r, err := New("frr", Options{})
	if err != nil {
		t.Fatal(err)
	}
	withPeer := &policy.ASPathFilter{Name: "AP_PEER", PeerAS: 64500, PeerIsMember: true, Origins: []routing.ASN{64496, 64500, 65536}}
	noPeer := &policy.ASPathFilter{Name: "AP_ORIGIN", Origins: []routing.ASN{64499, 65551}}
	pl := &policy.PrefixFilter{Name: "PL", Family: 4, Entries: []policy.Entry{{PrefixRange: routing.PrefixRange{Prefix: mustPrefix("203.0.113.0/24"), Min: 24, Max: 28}}}}
	var cfg strings.Builder
	for _, f := range []*policy.ASPathFilter{withPeer, noPeer} {
		b, err := r.ASPath(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Write(b)
	}
	b, err := r.PrefixList(pl)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Write(b)
	cfg.WriteString(`route-map CUST-IN permit 10
 match ip address prefix-list PL
 match as-path AP_PEER
exit
route-map CUST-IN deny 100
exit
`)
	dir := t.TempDir()
	gport := peer.FreePort(t)
	g := peer.StartGoBGP(t, dir, peer.GoBGPConfig{AS: 64500, RouterID: "198.18.0.3", Local: "127.0.0.3", Port: gport,
		Neighbor: "127.0.0.6", NeighborAS: 64511, NextHop: "198.18.0.3"})
	// FRR's local AS (64511) must not occur in any test path: FRR drops a path holding
	// its own AS before the route-map runs.
	f := peer.StartFRR(t, dir, peer.FRRConfig{AS: 64511, Listen: "127.0.0.6", Policy: cfg.String(),
		Neighbor: "127.0.0.3", NeighborAS: 64500, NeighborPort: gport, InFilter: "route-map CUST-IN in"})
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		peer.Eventually(t, what, 30*time.Second, ok, f.Daemon, g.Daemon)
	}
	routes := func(which string) []string { return f.NeighborPrefixes("127.0.0.3", which) }
	waitFor("Established", func() bool { return f.Established("127.0.0.3") })

	// The path FRR sees is "64500" followed by the injected aspath.
	cases := []struct {
		aspath           string
		peerOK, originOK bool
	}{
		{"", true, false},             // 64500: the peer itself, a member
		{"64500", true, false},        // peer prepended
		{"64496", true, false},        // member behind the peer
		{"64499,64496", true, false},  // transit then member
		{"64496,64499", false, true},  // origin 64499
		{"65536", true, false},        // 32-bit member
		{"6553", false, false},        // prefix of 65536
		{"164496", false, false},      // 64496 as a suffix
		{"64496,64497", false, false}, // not a member origin
		{"65551,64496", true, false},  // 65551 in the middle only
		{"64496,65551", false, true},  // origin 65551
		{"64496,64496,64499", false, true},
	}
	for i, c := range cases {
		if err := g.AddRoute(fmt.Sprintf("203.0.113.%d/28", i*16), c.aspath, "198.18.0.3"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("all routes received", func() bool { return len(routes("received-routes")) == len(cases) })
	check := func(list string, want func(int) bool) {
		t.Helper()
		var exp []string
		for i := range cases {
			if want(i) {
				exp = append(exp, fmt.Sprintf("203.0.113.%d/28", i*16))
			}
		}
		slices.Sort(exp)
		var got []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			got = routes("routes")
			if slices.Equal(got, exp) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !slices.Equal(got, exp) {
			rcv, _ := f.Vty("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes")
			t.Errorf("%s: FRR accepted %q, model permits %q\n%s", list, got, exp, rcv)
		}
		if len(exp) < 2 || len(exp) == len(cases) {
			t.Fatalf("%s: weak case set (%d of %d)", list, len(exp), len(cases))
		}
	}
	check("AP_PEER", func(i int) bool { return cases[i].peerOK })
	// Same routes against the origin-only list.
	if err := f.Apply("route-map CUST-IN permit 10\n no match as-path AP_PEER\n match as-path AP_ORIGIN\nexit\n"); err != nil {
		t.Fatal(err)
	}
	_, _ = f.Vty("clear bgp ipv4 unicast 127.0.0.3 soft in")
	check("AP_ORIGIN", func(i int) bool { return cases[i].originOK })
}
