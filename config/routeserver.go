package config

import (
	"net/netip"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Next-hop policies of a route server (RFC 7948 §4.8; arouteserver's next_hop.policy).
const (
	NextHopAuthorized = "authorized" // the member's own addresses (default)
	NextHopSameAS     = "same-as"    // any address of a member with the same ASN
	NextHopOff        = "off"        // not checked
)

// ROV modes of a route server.
const (
	ROVRTR    = "rtr"    // BIRD validates against the RTR cache rtr_cache
	ROVStatic = "static" // the VRPs of rpki rendered as a static ROA table
	ROVOff    = "off"
)

// RSSession are the transport settings of the route server's BGP sessions.
type RSSession struct {
	// LocalAddress4/6 are the route server's own addresses on the peering LAN; zero:
	// BIRD picks the source address.
	LocalAddress4, LocalAddress6 netip.Addr
	// Port is the TCP port the route server listens on (default 179).
	Port uint16
	// Passive (default true): the route server waits for the members to connect.
	Passive bool
	// Multihop, when > 0, renders multihop sessions with that TTL (a route server
	// that is not on the members' LAN, or a lab on loopback addresses); 0: direct.
	Multihop int
}

// rsKeys are the keys of the rs section.
var rsKeys = []string{"asn", "router_id", "reject_policy", "local_address", "port", "passive", "multihop",
	"next_hop", "blackhole", "never_via_route_servers", "rov", "aspa", "bird_version"}

// routeServerExtra parses the rs keys beyond asn, router_id and reject_policy.
func (p *parser) routeServerExtra(m map[string]*yaml.Node, rs *RouteServer) {
	rs.Session.Passive = true
	rs.NeverViaRSPeeringDB = true // as arouteserver: PeeringDB's flag counts when PeeringDB data is given
	rs.NextHop = NextHopAuthorized
	rs.BIRDVersion = "2.0.12"
	if v, ok := m["local_address"]; ok {
		fm := p.fields(v, "rs.local_address", "ipv4", "ipv6")
		if c, ok := fm["ipv4"]; ok {
			if rs.Session.LocalAddress4 = p.addr(c, "rs.local_address.ipv4"); rs.Session.LocalAddress4.IsValid() && !rs.Session.LocalAddress4.Is4() {
				p.failf(c, "rs.local_address.ipv4", "not an IPv4 address: %s", rs.Session.LocalAddress4)
			}
		}
		if c, ok := fm["ipv6"]; ok {
			if rs.Session.LocalAddress6 = p.addr(c, "rs.local_address.ipv6"); rs.Session.LocalAddress6.IsValid() && !rs.Session.LocalAddress6.Is6() {
				p.failf(c, "rs.local_address.ipv6", "not an IPv6 address: %s", rs.Session.LocalAddress6)
			}
		}
	}
	if v, ok := m["port"]; ok {
		rs.Session.Port = uint16(p.integer(v, "rs.port", 1, 65535))
	}
	if v, ok := m["passive"]; ok {
		rs.Session.Passive = p.boolean(v, "rs.passive")
	}
	if v, ok := m["multihop"]; ok {
		rs.Session.Multihop = p.integer(v, "rs.multihop", 1, 255)
	}
	if v, ok := m["next_hop"]; ok {
		if s, ok := p.scalar(v, "rs.next_hop", "authorized, same-as or off"); ok {
			switch s {
			case NextHopAuthorized, NextHopSameAS, NextHopOff:
				rs.NextHop = s
			default:
				p.failf(v, "rs.next_hop", "unknown next-hop policy %q (want authorized, same-as or off)", s)
			}
		}
	}
	if v, ok := m["blackhole"]; ok {
		fm := p.fields(v, "rs.blackhole", "next_hop_ipv4", "next_hop_ipv6")
		if c, ok := fm["next_hop_ipv4"]; ok {
			if rs.BlackholeNextHop4 = p.addr(c, "rs.blackhole.next_hop_ipv4"); rs.BlackholeNextHop4.IsValid() && !rs.BlackholeNextHop4.Is4() {
				p.failf(c, "rs.blackhole.next_hop_ipv4", "not an IPv4 address: %s", rs.BlackholeNextHop4)
			}
		}
		if c, ok := fm["next_hop_ipv6"]; ok {
			if rs.BlackholeNextHop6 = p.addr(c, "rs.blackhole.next_hop_ipv6"); rs.BlackholeNextHop6.IsValid() && !rs.BlackholeNextHop6.Is6() {
				p.failf(c, "rs.blackhole.next_hop_ipv6", "not an IPv6 address: %s", rs.BlackholeNextHop6)
			}
		}
		if !rs.BlackholeNextHop4.IsValid() && !rs.BlackholeNextHop6.IsValid() {
			p.failf(v, "rs.blackhole", "needs next_hop_ipv4 and/or next_hop_ipv6")
		}
	}
	if v, ok := m["never_via_route_servers"]; ok {
		fm := p.fields(v, "rs.never_via_route_servers", "peeringdb", "asns")
		if c, ok := fm["peeringdb"]; ok {
			rs.NeverViaRSPeeringDB = p.boolean(c, "rs.never_via_route_servers.peeringdb")
		}
		for i, c := range p.list(fm["asns"], "rs.never_via_route_servers.asns", true) {
			if a := p.asn(c, idx("rs.never_via_route_servers.asns", i)); a != 0 {
				rs.NeverViaRS = append(rs.NeverViaRS, a)
			}
		}
	}
	if v, ok := m["rov"]; ok {
		if s, ok := p.scalar(v, "rs.rov", "rtr, static or off"); ok {
			switch s {
			case ROVRTR, ROVStatic, ROVOff:
				rs.ROV = s
			default:
				p.failf(v, "rs.rov", "unknown ROV mode %q (want rtr, static or off)", s)
			}
		}
	}
	if v, ok := m["aspa"]; ok {
		rs.ASPA = p.boolean(v, "rs.aspa")
	}
	if v, ok := m["bird_version"]; ok {
		if s, ok := p.scalar(v, "rs.bird_version", "a BIRD version such as 2.16"); ok {
			if _, _, ok := ParseBIRDVersion(s); !ok {
				p.failf(v, "rs.bird_version", "want a BIRD 2 version such as 2.0.12 or 2.16, not %q", s)
			}
			rs.BIRDVersion = s
		}
	}
}

// ParseBIRDVersion parses "2.16" or "2.0.12" into major and minor (2, 16) / (2, 0).
func ParseBIRDVersion(s string) (major, minor int, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, false
	}
	var nums []int
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		nums = append(nums, n)
	}
	if nums[0] != 2 && nums[0] != 3 {
		return 0, 0, false
	}
	return nums[0], nums[1], true
}

// BIRDAtLeast reports whether version v is major.minor or later.
func BIRDAtLeast(v string, major, minor int) bool {
	ma, mi, ok := ParseBIRDVersion(v)
	return ok && (ma > major || ma == major && mi >= minor)
}

// NeverVia returns, for the route-server builder, the configured list plus
// the PeeringDB ASNs flagged info_never_via_route_servers (when enabled).
func (rs *RouteServer) NeverVia(pdb map[routing.ASN]bool) []routing.ASN {
	out := append([]routing.ASN(nil), rs.NeverViaRS...)
	if rs.NeverViaRSPeeringDB {
		for a, never := range pdb {
			if never {
				out = append(out, a)
			}
		}
	}
	return out
}

// ValidSetName reports whether s is an AS-SET, route-set or ASN name the config would
// accept (optionally SOURCE::NAME), for members imported from other files.
func ValidSetName(s string) bool { return validSetName(s) }

// ValidName reports whether s is a valid customer or member name.
func ValidName(s string) bool { return validName(s) }
