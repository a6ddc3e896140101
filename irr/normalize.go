package irr

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// IRRd accepts some non-canonical spellings in primary keys and origins and stores
// them normalised (its own RPSL samples say so: "as065537" is AS65537 and the route
// 192.0.02.0/24 is 192.0.2.0/24). The loader does the same, so an object that IRRd
// serves is not dropped here. Everything else stays strict: signs, spaces, asdot,
// host bits and out-of-range values are still errors.

// parseRPSLASN parses an AS number as IRRd reads one in an RPSL attribute: "AS"
// (any case) and decimal digits, leading zeros allowed and removed.
func parseRPSLASN(s string) (routing.ASN, error) {
	if len(s) > 3 && strings.EqualFold(s[:2], "AS") && s[2] == '0' {
		d := strings.TrimLeft(s[2:], "0")
		if d == "" {
			d = "0"
		}
		a, err := routing.ParseASN("AS" + d)
		if err != nil {
			return 0, fmt.Errorf("invalid AS number %q", s)
		}
		return a, nil
	}
	return routing.ParseASN(s)
}

// parseRPSLPrefix parses a route or route6 key as IRRd does: an IPv4 octet may carry
// leading zeros ("192.0.02.0/24"), which are removed (never read as octal).
func parseRPSLPrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	addr, bits, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(addr, ":") {
		return netip.ParsePrefix(s)
	}
	octets := strings.Split(addr, ".")
	if len(octets) != 4 {
		return netip.ParsePrefix(s)
	}
	for i, o := range octets {
		if len(o) > 3 || o == "" {
			return netip.ParsePrefix(s)
		}
		if t := strings.TrimLeft(o, "0"); t != "" {
			octets[i] = t
		} else {
			octets[i] = "0"
		}
	}
	return netip.ParsePrefix(strings.Join(octets, ".") + "/" + bits)
}
