package render

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
)

// TestFRRLiveASPathWithGoBGP: FRR 8.4 bgpd with a route-map matching the rendered
// as-path access-list and prefix-list, fed by gobgpd (AS64500) over a real BGP
// session, accepts exactly the routes whose AS path the filter model permits: the
// regexes are checked by FRR's own regex engine, including substring traps
// (AS6553 vs AS65536, AS164496 vs AS64496).
func TestFRRLiveASPathWithGoBGP(t *testing.T) {
	if testing.Short() {
		t.Skip("live BGP session")
	}
	bgpd := peer.Require(t, "bgpd", "/usr/lib/frr")
	vtysh := peer.Require(t, "vtysh")
	gobgpd := peer.Require(t, "gobgpd")
	gobgp := peer.Require(t, "gobgp")
	r, err := New("frr", Options{})
	if err != nil {
		t.Fatal(err)
	}
	withPeer := &policy.ASPathFilter{Name: "AP_PEER", PeerAS: 64500, PeerIsMember: true, Origins: []irr.ASN{64496, 64500, 65536}}
	noPeer := &policy.ASPathFilter{Name: "AP_ORIGIN", Origins: []irr.ASN{64499, 65551}}
	pl := &policy.PrefixFilter{Name: "PL", Family: 4, Entries: []policy.Entry{{Prefix: mustPrefix("203.0.113.0/24"), Min: 24, Max: 28}}}
	var cfg strings.Builder
	dir := t.TempDir()
	fport, gport, api := peer.FreePort(t), peer.FreePort(t), peer.FreePort(t)
	fmt.Fprintf(&cfg, "frr defaults traditional\nhostname live\nlog file %s/bgpd.log informational\n!\n", dir)
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
	// FRR's local AS (64511) must not occur in any test path: FRR drops a path holding
	// its own AS before the route-map runs.
	fmt.Fprintf(&cfg, `route-map CUST-IN permit 10
 match ip address prefix-list PL
 match as-path AP_PEER
exit
route-map CUST-IN deny 100
exit
!
router bgp 64511
 bgp router-id 198.18.0.6
 no bgp ebgp-requires-policy
 neighbor 127.0.0.3 remote-as 64500
 neighbor 127.0.0.3 port %d
 neighbor 127.0.0.3 update-source 127.0.0.6
 neighbor 127.0.0.3 ebgp-multihop 2
 neighbor 127.0.0.3 timers connect 1
 address-family ipv4 unicast
  neighbor 127.0.0.3 soft-reconfiguration inbound
  neighbor 127.0.0.3 route-map CUST-IN in
 exit-address-family
exit
!
`, gport)
	gconf := fmt.Sprintf(`[global.config]
  as = 64500
  router-id = "198.18.0.3"
  port = %d
  local-address-list = ["127.0.0.3"]
[global.apply-policy.config]
  export-policy-list = ["nh"]
  default-export-policy = "accept-route"
[[policy-definitions]]
  name = "nh"
  [[policy-definitions.statements]]
    name = "s1"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
      [policy-definitions.statements.actions.bgp-actions]
        set-next-hop = "198.18.0.3"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.6"
    peer-as = 64511
  [neighbors.transport.config]
    local-address = "127.0.0.3"
    passive-mode = true
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
`, gport)
	cpath, gpath := filepath.Join(dir, "frr.conf"), filepath.Join(dir, "gobgpd.toml")
	os.WriteFile(cpath, []byte(cfg.String()), 0o644)
	os.WriteFile(gpath, []byte(gconf), 0o644)
	g := peer.Start(t, gobgpd, "-f", gpath, "--api-hosts", fmt.Sprintf("127.0.0.1:%d", api), "--pprof-disable", "-p", "-l", "info")
	f := peer.Start(t, bgpd, "-S", "-Z", "-f", cpath, "-i", filepath.Join(dir, "bgpd.pid"), "--vty_socket", dir,
		"-A", "127.0.0.1", "-P", "0", "-p", fmt.Sprint(fport), "-l", "127.0.0.6")
	vty := func(cmd string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, vtysh, "--vty_socket", dir, "-d", "bgpd", "-c", cmd).Output()
		return string(out)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) || f.Exited() || g.Exited() {
				log, _ := os.ReadFile(filepath.Join(dir, "bgpd.log"))
				t.Fatalf("timeout waiting for %s\nbgpd: %s\n%s\ngobgpd: %s", what, f.Output(), log, g.Output())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	routes := func(which string) []string {
		var doc struct {
			Routes map[string]any `json:"routes"`
			Recv   map[string]any `json:"receivedRoutes"`
		}
		json.Unmarshal([]byte(vty("show bgp ipv4 unicast neighbors 127.0.0.3 "+which+" json")), &doc)
		m := doc.Routes
		if m == nil {
			m = doc.Recv
		}
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	waitFor("Established", func() bool {
		return strings.Contains(vty("show bgp ipv4 unicast summary"), "127.0.0.3") && len(vty("show bgp neighbors 127.0.0.3 json")) > 0 && strings.Contains(vty("show bgp neighbors 127.0.0.3 json"), `"bgpState":"Established"`)
	})

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
		args := []string{"-p", fmt.Sprint(api), "global", "rib", "-a", "ipv4", "add", fmt.Sprintf("203.0.113.%d/28", i*16)}
		if c.aspath != "" {
			args = append(args, "aspath", c.aspath)
		}
		args = append(args, "origin", "igp", "nexthop", "198.18.0.3")
		if out, err := exec.Command(gobgp, args...).CombinedOutput(); err != nil {
			t.Fatalf("gobgp %q: %v %s", args, err, out)
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
			t.Errorf("%s: FRR accepted %q, model permits %q\n%s", list, got, exp, vty("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes"))
		}
		if len(exp) < 2 || len(exp) == len(cases) {
			t.Fatalf("%s: weak case set (%d of %d)", list, len(exp), len(cases))
		}
	}
	check("AP_PEER", func(i int) bool { return cases[i].peerOK })
	// Same routes against the origin-only list.
	delta := filepath.Join(dir, "delta.conf")
	os.WriteFile(delta, []byte("route-map CUST-IN permit 10\n no match as-path AP_PEER\n match as-path AP_ORIGIN\nexit\n"), 0o644)
	if out, err := exec.Command(vtysh, "--vty_socket", dir, "-d", "bgpd", "-f", delta).CombinedOutput(); err != nil {
		t.Fatalf("vtysh -f: %v %s", err, out)
	}
	vty("clear bgp ipv4 unicast 127.0.0.3 soft in")
	check("AP_ORIGIN", func(i int) bool { return cases[i].originOK })
}
