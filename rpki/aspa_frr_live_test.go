package rpki

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestFRRLiveASPAFilter applies the generated AS-path filter in a real FRR bgpd to
// routes a real gobgpd (the customer, AS64500) announces with chosen AS paths, and
// checks that FRR accepts exactly the routes upstream ASPA verification calls valid
// or unknown.
func TestFRRLiveASPAFilter(t *testing.T) {
	bgpd := peer.Require(t, "bgpd", "/usr/lib/frr")
	vtysh := peer.Require(t, "vtysh")
	gobgpd := peer.Require(t, "gobgpd")
	gobgp := peer.Require(t, "gobgp")

	// Cone of customer AS64500; we are AS64496.
	tb := aspaTable(t, map[uint32][]uint32{
		64500: {64496, 64510},
		64501: {64500},
		64502: {64510},
		64503: {64500},
	})
	cone := []uint32{64500, 64501, 64502, 64503}
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
		p, _ := ParseASPath(strings.TrimSpace("64500 " + r.aspath))
		if tb.VerifyPath(p, VerifyOptions{Neighbor: 64500}).State != ASPAInvalid {
			want = append(want, r.prefix)
		}
	}
	slices.Sort(want)
	if len(want) == 0 || len(want) == len(routes) {
		t.Fatalf("test routes do not exercise the filter: want %v", want)
	}

	var filter bytes.Buffer
	if err := tb.WriteASPAPathFilter(&filter, "frr", RenderOptions{Name: "CUST-ASPA", Cone: cone}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fport, gport, gapi := peer.FreePort(t), peer.FreePort(t), peer.FreePort(t)
	conf := fmt.Sprintf(`frr defaults traditional
hostname aspa-live
log file %s informational
!
%s!
router bgp 64496
 bgp router-id 198.18.0.6
 no bgp ebgp-requires-policy
 neighbor 127.0.0.3 remote-as 64500
 neighbor 127.0.0.3 port %d
 neighbor 127.0.0.3 update-source 127.0.0.6
 neighbor 127.0.0.3 ebgp-multihop 2
 neighbor 127.0.0.3 timers connect 1
 address-family ipv4 unicast
  neighbor 127.0.0.3 soft-reconfiguration inbound
  neighbor 127.0.0.3 filter-list CUST-ASPA in
 exit-address-family
exit
!
`, filepath.Join(dir, "bgpd.log"), filter.String(), gport)
	toml := fmt.Sprintf(`[global.config]
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
    peer-as = 64496
  [neighbors.transport.config]
    local-address = "127.0.0.3"
    passive-mode = true
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
`, gport)
	for name, body := range map[string]string{"frr.conf": conf, "gobgpd.toml": toml} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	api := "127.0.0.1:" + strconv.Itoa(gapi)
	gd := peer.Start(t, gobgpd, "-f", filepath.Join(dir, "gobgpd.toml"), "--api-hosts", api, "--pprof-disable", "-p", "-l", "warn")
	fd := peer.Start(t, bgpd, "-S", "-Z", "-f", filepath.Join(dir, "frr.conf"), "-i", filepath.Join(dir, "bgpd.pid"),
		"--vty_socket", dir, "-A", "127.0.0.1", "-P", "0", "-p", strconv.Itoa(fport), "-l", "127.0.0.6")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vty := func(cmd string) ([]byte, error) {
		return exec.CommandContext(ctx, vtysh, "--vty_socket", dir, "-d", "bgpd", "-c", cmd).Output()
	}
	poll := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				log, _ := os.ReadFile(filepath.Join(dir, "bgpd.log"))
				t.Fatalf("timeout waiting for %s\ngobgpd: %s\nbgpd: %s\n%s", what, gd.Output(), fd.Output(), log)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	poll("gobgpd API", func() bool {
		return exec.CommandContext(ctx, gobgp, "-p", strconv.Itoa(gapi), "global").Run() == nil
	})
	for _, r := range routes {
		args := []string{"-p", strconv.Itoa(gapi), "global", "rib", "-a", "ipv4", "add", r.prefix, "origin", "igp"}
		if r.aspath != "" {
			args = append(args, "aspath", strings.ReplaceAll(r.aspath, " ", ","))
		}
		args = append(args, "nexthop", "127.0.0.3")
		if out, err := exec.CommandContext(ctx, gobgp, args...).CombinedOutput(); err != nil {
			t.Fatalf("gobgp %v: %v %s", args, err, out)
		}
	}
	prefixes := func(cmd string) []string {
		out, err := vty(cmd)
		if err != nil {
			return nil
		}
		var d map[string]json.RawMessage
		if json.Unmarshal(out, &d) != nil {
			return nil
		}
		var m map[string]json.RawMessage
		for _, k := range []string{"routes", "receivedRoutes"} {
			if raw, ok := d[k]; ok {
				json.Unmarshal(raw, &m)
			}
		}
		var ps []string
		for p := range m {
			ps = append(ps, p)
		}
		slices.Sort(ps)
		return ps
	}
	poll("all routes in Adj-RIB-In", func() bool {
		return len(prefixes("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes json")) == len(routes)
	})
	// Check the AS paths FRR received are the ones the test meant.
	out, _ := vty("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes")
	if !strings.Contains(string(out), "64500 64503 64501") {
		t.Fatalf("gobgpd did not send the intended AS paths:\n%s", out)
	}
	var got []string
	poll("filter applied", func() bool {
		got = prefixes("show bgp ipv4 unicast neighbors 127.0.0.3 routes json")
		return len(got) > 0
	})
	t.Logf("FRR accepted %v of %d routes", got, len(routes))
	if !slices.Equal(got, want) {
		rcv, _ := vty("show bgp ipv4 unicast neighbors 127.0.0.3 received-routes")
		t.Errorf("FRR accepted %v, ASPA verification wants %v\n%s\nfilter:\n%s", got, want, rcv, filter.String())
	}
}
