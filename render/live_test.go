package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestBirdLiveWithGoBGP: a BIRD 2 import filter built from the rendered prefix set and
// origin set, fed routes by gobgpd over a real BGP session on loopback, accepts exactly
// the routes the model permits (recipe 02 of the shared peers notes).
func TestBirdLiveWithGoBGP(t *testing.T) {
	peer.SkipShort(t, "live BGP session")
	r, err := New("bird", Options{})
	if err != nil {
		t.Fatal(err)
	}
	pf := withName(fixture4(), "CUST")
	pset, err := r.PrefixList(pf)
	if err != nil {
		t.Fatal(err)
	}
	af := &policy.ASPathFilter{Name: "CUST_ORIGINS", Origins: []routing.ASN{64500, 64501}}
	oset, err := r.ASPath(af)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bport, gport := peer.FreePort(t), peer.FreePort(t)
	conf := fmt.Sprintf(`log "%s/bird.log" all;
router id 198.18.0.2;
protocol device { }
%s%s
filter cust_in {
  if net ~ CUST && bgp_path.last ~ CUST_ORIGINS then accept;
  reject;
}
protocol bgp cust {
  local 127.0.0.2 port %d as 64496;
  strict bind on;
  multihop 2;
  connect delay time 1;
  neighbor 127.0.0.3 port %d as 64500;
  ipv4 { import keep filtered on; import filter cust_in; export none; };
}
`, dir, pset, oset, bport, gport)
	g := peer.StartGoBGP(t, dir, peer.GoBGPConfig{AS: 64500, RouterID: "198.18.0.3", Local: "127.0.0.3", Port: gport,
		Neighbor: "127.0.0.2", NeighborAS: 64496})
	b := peer.StartBIRD(t, dir, conf)
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		peer.Eventually(t, what, d, ok, b.Daemon, g.Daemon)
	}
	bc := func(args ...string) string {
		out, _ := b.Birdc(args...)
		return out
	}
	waitFor("Established", 30*time.Second, func() bool { return strings.Contains(bc("show", "protocols", "cust"), "Established") })

	routes := probes(pf.Entries, "10.0.0.0/8", "192.0.2.0/23", "203.0.113.128/26")
	slices.SortFunc(routes, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	routes = slices.Compact(routes)
	var want []string
	for _, p := range routes {
		if err := g.AddRoute(p.String(), "", "198.18.0.3"); err != nil {
			t.Fatal(err)
		}
		if matches(pf.Entries, p) {
			want = append(want, p.String())
		}
	}
	n := len(routes)
	waitFor(fmt.Sprintf("%d updates", n), 30*time.Second, func() bool {
		return strings.Contains(bc("show", "protocols", "all", "cust"), fmt.Sprintf("Import updates:     %6d", n)) ||
			strings.Contains(strings.Join(strings.Fields(bc("show", "protocols", "all", "cust")), " "), fmt.Sprintf("Import updates: %d ", n))
	})
	var got []string
	for _, line := range strings.Split(bc("show", "route", "protocol", "cust"), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "/") {
			got = append(got, f[0])
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("BIRD accepted %d routes %q\nmodel permits %d %q", len(got), got, len(want), want)
	}
	if len(want) < 10 || len(want) == n {
		t.Fatalf("weak test: %d of %d routes permitted", len(want), n)
	}
	// The same permitted prefix with an origin outside the origin set is rejected.
	if err := g.AddRoute("198.51.100.0/24", "64999", "198.18.0.3"); err != nil {
		t.Fatal(err)
	}
	waitFor("198.51.100.0/24 from AS64999 filtered", 20*time.Second, func() bool {
		return strings.Contains(bc("show", "route", "filtered", "protocol", "cust", "all"), "64500 64999") &&
			!strings.Contains(bc("show", "route", "protocol", "cust"), "198.51.100.0/24")
	})
	t.Logf("%d routes sent over BGP, BIRD accepted exactly the %d the filter model permits", n, len(want))
}
