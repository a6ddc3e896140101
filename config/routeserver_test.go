package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

const rsMinimal = "members: [{name: m1, asn: 64496, addresses: [192.0.2.1]}]\n"

func TestRouteServerKeys(t *testing.T) {
	cfg, err := Parse([]byte(`rs:
  asn: 64511
  router_id: 192.0.2.250
  reject_policy: tag
  local_address: {ipv4: 192.0.2.250, ipv6: "2001:db8::250"}
  port: 1179
  passive: false
  multihop: 2
  next_hop: same-as
  blackhole: {next_hop_ipv4: 192.0.2.66, next_hop_ipv6: "2001:db8::66"}
  never_via_route_servers: {peeringdb: true, asns: [64500, AS64501]}
  rov: static
  aspa: true
  bird_version: "2.16"
` + rsMinimal))
	if err != nil {
		t.Fatal(err)
	}
	rs := cfg.RS
	want := RSSession{LocalAddress4: netip.MustParseAddr("192.0.2.250"), LocalAddress6: netip.MustParseAddr("2001:db8::250"), Port: 1179, Multihop: 2}
	if rs.Session != want || rs.NextHop != NextHopSameAS || rs.RejectPolicy != RejectPolicyTag ||
		rs.BlackholeNextHop4 != netip.MustParseAddr("192.0.2.66") || rs.BlackholeNextHop6 != netip.MustParseAddr("2001:db8::66") ||
		!rs.NeverViaRSPeeringDB || !slices.Equal(rs.NeverViaRS, []routing.ASN{64500, 64501}) || rs.ROV != ROVStatic || !rs.ASPA || rs.BIRDVersion != "2.16" {
		t.Errorf("rs %+v", rs)
	}
	nv := rs.NeverVia(map[routing.ASN]bool{64502: true, 64503: false})
	slices.Sort(nv)
	if !slices.Equal(nv, []routing.ASN{64500, 64501, 64502}) {
		t.Errorf("NeverVia %v", nv)
	}

	cfg, err = Parse([]byte("rs: {asn: 64511, router_id: 192.0.2.250}\n" + rsMinimal))
	if err != nil {
		t.Fatal(err)
	}
	if rs := cfg.RS; !rs.Session.Passive || rs.NextHop != NextHopAuthorized || rs.RejectPolicy != RejectPolicyReject || rs.BIRDVersion != "2.0.12" || rs.ROV != "" {
		t.Errorf("defaults %+v", rs)
	}
	// Members may come from --ixf: an rs section alone is a valid config.
	if _, err := Parse([]byte("rs: {asn: 64511, router_id: 192.0.2.250}\n")); err != nil {
		t.Errorf("rs without members: %v", err)
	}
}

func TestRouteServerErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rs: {asn: 1, router_id: 192.0.2.1, next_hop: peer}\n", `unknown next-hop policy "peer"`},
		{"rs: {asn: 1, router_id: 192.0.2.1, blackhole: {}}\n", "needs next_hop_ipv4 and/or next_hop_ipv6"},
		{"rs: {asn: 1, router_id: 192.0.2.1, blackhole: {next_hop_ipv4: '2001:db8::1'}}\n", "not an IPv4 address"},
		{"rs: {asn: 1, router_id: 192.0.2.1, rov: maybe}\n", `unknown ROV mode "maybe"`},
		{"rs: {asn: 1, router_id: 192.0.2.1, bird_version: 'latest'}\n", "want a BIRD 2 version"},
		{"rs: {asn: 1, router_id: 192.0.2.1, port: 0}\n", "rs.port"},
		{"rs: {asn: 1, router_id: 192.0.2.1, colour: red}\n", `unknown key "colour"`},
		{"rs: {asn: 1, router_id: 192.0.2.1, local_address: {ipv6: 192.0.2.1}}\n", "not an IPv6 address"},
	} {
		_, err := Parse([]byte(tc.in + rsMinimal))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestBIRDVersion(t *testing.T) {
	for _, tc := range []struct {
		v    string
		ok   bool
		at16 bool
	}{{"2.0.12", true, false}, {"2.16", true, true}, {"2.17.1", true, true}, {"3.0", true, true}, {"1.6.8", false, false}, {"2", false, false}, {"2.x", false, false}} {
		_, _, ok := ParseBIRDVersion(tc.v)
		if ok != tc.ok || BIRDAtLeast(tc.v, 2, 16) != tc.at16 {
			t.Errorf("%s: ok %v at16 %v", tc.v, ok, BIRDAtLeast(tc.v, 2, 16))
		}
	}
}
