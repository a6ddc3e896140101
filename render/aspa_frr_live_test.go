package render

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// TestFRRLiveASPAFilter applies the generated AS-path filter in a real FRR bgpd to
// routes a real gobgpd (the customer, AS64500) announces with chosen AS paths, and
// checks that FRR accepts exactly the routes upstream ASPA verification calls valid
// or unknown.
func TestFRRLiveASPAFilter(t *testing.T) {
	// Cone of customer AS64500; we are AS64496.
	tb := aspaTable(t, map[routing.ASN][]routing.ASN{
		64500: {64496, 64510},
		64501: {64500},
		64502: {64510},
		64503: {64500},
	})
	cone := []routing.ASN{64500, 64501, 64502, 64503}
	routes := []struct{ prefix, aspath string }{ // aspath after gobgpd's own 64500
		{"192.0.2.0/26", ""},
		{"192.0.2.64/26", "64501"},
		{"192.0.2.128/26", "64502"},
		{"192.0.2.192/26", "64503 64501"},
		{"198.51.100.0/24", "64501 64501"},
		{"203.0.113.0/24", "64503"},
		{"203.0.113.128/25", "64501 64503"},
	}
	var want []string
	for _, r := range routes {
		p, _ := rpki.ParseASPath(strings.TrimSpace("64500 " + r.aspath))
		if tb.VerifyPath(p, rpki.VerifyOptions{Neighbor: 64500}).State != rpki.ASPAInvalid {
			want = append(want, r.prefix)
		}
	}
	slices.Sort(want)
	if len(want) == 0 || len(want) == len(routes) {
		t.Fatalf("test routes do not exercise the filter: want %v", want)
	}

	var filter bytes.Buffer
	if err := writeASPA(&filter, tb, "frr", ASPAOptions{Name: "CUST-ASPA", Cone: cone}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gport := peer.FreePort(t)
	gd := peer.StartGoBGP(t, dir, peer.GoBGPConfig{AS: 64500, RouterID: "198.18.0.3", Local: "127.0.0.3", Port: gport,
		Neighbor: "127.0.0.6", NeighborAS: 64496, NextHop: "198.18.0.3"})
	fd := peer.StartFRR(t, dir, peer.FRRConfig{AS: 64496, Listen: "127.0.0.6", Policy: filter.String(),
		Neighbor: "127.0.0.3", NeighborAS: 64500, NeighborPort: gport, InFilter: "filter-list CUST-ASPA in"})
	poll := func(what string, ok func() bool) {
		t.Helper()
		peer.Eventually(t, what, 60*time.Second, ok, gd.Daemon, fd.Daemon)
	}
	for _, r := range routes {
		if err := gd.AddRoute(r.prefix, strings.ReplaceAll(r.aspath, " ", ","), "127.0.0.3"); err != nil {
			t.Fatal(err)
		}
	}
	poll("all routes in Adj-RIB-In", func() bool {
		return len(fd.NeighborPrefixes("127.0.0.3", "received-routes")) == len(routes)
	})
	// Check the AS paths FRR received are the ones the test meant.
	out, _ := fd.Vty("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes")
	if !strings.Contains(out, "64500 64503 64501") {
		t.Fatalf("gobgpd did not send the intended AS paths:\n%s", out)
	}
	var got []string
	poll("filter applied", func() bool {
		got = fd.NeighborPrefixes("127.0.0.3", "routes")
		return len(got) > 0
	})
	t.Logf("FRR accepted %v of %d routes", got, len(routes))
	if !slices.Equal(got, want) {
		rcv, _ := fd.Vty("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes")
		t.Errorf("FRR accepted %v, ASPA verification wants %v\n%s\nfilter:\n%s", got, want, rcv, filter.String())
	}
}
