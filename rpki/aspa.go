package rpki

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// ASPAState is the outcome of AS_PATH verification with ASPA
// (draft-ietf-sidrops-aspa-verification).
type ASPAState uint8

// AS_PATH verification outcomes.
const (
	ASPAUnknown ASPAState = iota // some hop lacks an attestation
	ASPAValid                    // every hop is attested as customer-to-provider where required
	ASPAInvalid                  // a hop is attested as not customer-to-provider
)

// String returns "valid", "invalid" or "unknown".
func (s ASPAState) String() string {
	switch s {
	case ASPAValid:
		return "valid"
	case ASPAInvalid:
		return "invalid"
	default:
		return "unknown"
	}
}

// Hop is the authorisation of one AS_PATH hop: is the second AS a provider of the
// first (draft section "Hop-Check Function")?
type Hop uint8

// Hop-check results.
const (
	NoAttestation   Hop = iota // the customer AS has no ASPA
	ProviderPlus               // the ASPA lists the other AS
	NotProviderPlus            // the ASPA exists and does not list the other AS
)

// String returns the draft's name of the hop result.
func (h Hop) String() string {
	switch h {
	case ProviderPlus:
		return "Provider+"
	case NotProviderPlus:
		return "Not Provider+"
	default:
		return "No Attestation"
	}
}

// HopCheck tells whether provider is an authorised provider of customer for the
// address family (4 or 6; 0 = either family, the union: VerifyPath uses it only
// when the customer's lists are the same for both). An ASPA whose only provider is AS0 lists no
// provider, so every hop from that customer is Not Provider+.
func (t *Table) HopCheck(customer, provider routing.ASN, afi int) Hop {
	a, ok := t.aspas[customer]
	if !ok {
		return NoAttestation
	}
	var set []routing.ASN
	switch afi {
	case 4:
		set = a.IPv4
	case 6:
		set = a.IPv6
	default:
		set = a.Providers()
	}
	for _, p := range set {
		if p == provider && p != 0 {
			return ProviderPlus
		}
	}
	return NotProviderPlus
}

// ASPath is an AS_PATH as received: Segments[0] is the neighbour (most recently
// added AS) and the last element is the origin. A segment with Set true is an
// AS_SET.
type ASPath []PathSegment

// PathSegment is one AS or one AS_SET of an AS_PATH.
type PathSegment struct {
	ASNs []routing.ASN
	Set  bool
}

// ParseASPath parses "64500 64501 {64502,64503}" (spaces or commas between hops,
// "AS" prefixes allowed, AS_SETs in braces), neighbour first.
func ParseASPath(s string) (ASPath, error) {
	var out ASPath
	s = strings.TrimSpace(s)
	for len(s) > 0 {
		switch {
		case s[0] == ' ' || s[0] == ',' || s[0] == '\t':
			s = s[1:]
		case s[0] == '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return nil, fmt.Errorf("rpki: AS path: unterminated AS_SET in %q", s)
			}
			var set []routing.ASN
			for _, f := range strings.FieldsFunc(s[1:end], func(r rune) bool { return r == ',' || r == ' ' }) {
				n, err := parseASNText(f)
				if err != nil {
					return nil, fmt.Errorf("rpki: AS path: %w", err)
				}
				set = append(set, n)
			}
			out = append(out, PathSegment{ASNs: set, Set: true})
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, " ,\t{")
			if end < 0 {
				end = len(s)
			}
			n, err := parseASNText(s[:end])
			if err != nil {
				return nil, fmt.Errorf("rpki: AS path: %w", err)
			}
			out = append(out, PathSegment{ASNs: []routing.ASN{n}})
			s = s[end:]
		}
	}
	return out, nil
}

// String renders the path as it was parsed (neighbour first).
func (p ASPath) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s.Set {
			b.WriteByte('{')
		}
		for j, a := range s.ASNs {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatUint(uint64(a), 10))
		}
		if s.Set {
			b.WriteByte('}')
		}
	}
	return b.String()
}

// ASPAVerdict is a verification result with the reason.
type ASPAVerdict struct {
	State  ASPAState
	Reason string
}

// VerifyOptions select the direction and context of AS_PATH verification.
type VerifyOptions struct {
	// Downstream selects the procedure for routes from a provider; otherwise the
	// upstream procedure (routes from a customer, a lateral peer, or an RS client).
	Downstream bool
	// Neighbor, when not 0, is the neighbour AS the route was received from; the
	// most recently added AS must equal it unless RouteServer is set.
	Neighbor routing.ASN
	// RouteServer: the neighbour is a transparent route server (its AS is not in
	// the path).
	RouteServer bool
	// AFI is 4 or 6 (per-AFI ASPA data). With 0 the path is verified for both
	// families when an ASPA on it lists different providers per family: the verdict
	// is theirs when they agree, unknown (saying both) when they do not; never the
	// union of the lists, which would accept an IPv4-only provider for IPv6.
	AFI int
}

// VerifyPath runs draft-ietf-sidrops-aspa-verification on path (neighbour first).
func (t *Table) VerifyPath(path ASPath, opt VerifyOptions) ASPAVerdict {
	if opt.AFI == 0 && t.pathPerAFI(path) {
		o4, o6 := opt, opt
		o4.AFI, o6.AFI = 4, 6
		v4, v6 := t.verifyPath(path, o4), t.verifyPath(path, o6)
		if v4.State == v6.State {
			return ASPAVerdict{v4.State, "both address families: IPv4 " + v4.Reason + "; IPv6 " + v6.Reason}
		}
		return ASPAVerdict{ASPAUnknown, fmt.Sprintf("the ASPA data differs per address family: IPv4 %s (%s), IPv6 %s (%s); verify per family",
			v4.State, v4.Reason, v6.State, v6.Reason)}
	}
	return t.verifyPath(path, opt)
}

// pathPerAFI reports whether an AS of path has an ASPA whose IPv4 and IPv6 provider
// lists differ.
func (t *Table) pathPerAFI(path ASPath) bool {
	for _, s := range path {
		for _, a := range s.ASNs {
			if x, ok := t.aspas[a]; ok && !slices.Equal(x.IPv4, x.IPv6) {
				return true
			}
		}
	}
	return false
}

func (t *Table) verifyPath(path ASPath, opt VerifyOptions) ASPAVerdict {
	// Rule: an empty AS_PATH is Invalid.
	if len(path) == 0 {
		return ASPAVerdict{ASPAInvalid, "empty AS_PATH"}
	}
	// Rule: an AS_PATH with an AS_SET is Invalid.
	for _, s := range path {
		if s.Set {
			return ASPAVerdict{ASPAInvalid, "AS_PATH contains an AS_SET"}
		}
	}
	// Collapse prepends: the draft works on the de-duplicated sequence.
	var seq []routing.ASN
	for _, s := range path {
		a := s.ASNs[0]
		if len(seq) == 0 || seq[len(seq)-1] != a {
			seq = append(seq, a)
		}
	}
	// Rule: the neighbour must be the most recently added AS (not at an RS).
	if opt.Neighbor != 0 && !opt.RouteServer && seq[0] != opt.Neighbor {
		return ASPAVerdict{ASPAInvalid, fmt.Sprintf("neighbor AS%d is not the first AS of the path (AS%d)", opt.Neighbor, seq[0])}
	}
	// The draft numbers the path origin first: AS(1) = origin ... AS(N) = neighbour.
	n := len(seq)
	as := func(i int) routing.ASN { return seq[n-i] } // 1-based, AS(1) = origin
	hop := func(i, j int) Hop { return t.HopCheck(as(i), as(j), opt.AFI) }
	hopName := func(i, j int) string {
		return fmt.Sprintf("hop AS%d -> AS%d is %s", as(i), as(j), hop(i, j))
	}

	if !opt.Downstream {
		// Upstream: N = 1 is Valid; a Not Provider+ hop makes it Invalid; a hop
		// without attestation makes it Unknown.
		if n == 1 {
			return ASPAVerdict{ASPAValid, "single-AS path"}
		}
		unknown := ""
		for i := 1; i < n; i++ {
			switch hop(i, i+1) {
			case NotProviderPlus:
				return ASPAVerdict{ASPAInvalid, hopName(i, i+1)}
			case NoAttestation:
				if unknown == "" {
					unknown = hopName(i, i+1)
				}
			}
		}
		if unknown != "" {
			return ASPAVerdict{ASPAUnknown, unknown}
		}
		return ASPAVerdict{ASPAValid, "every hop is customer-to-provider"}
	}

	// Downstream: N <= 2 is Valid.
	if n <= 2 {
		return ASPAVerdict{ASPAValid, "path of one or two ASes from a provider"}
	}
	// Up-ramp from the origin: max counts until the first Not Provider+, min until
	// the first hop that is not Provider+.
	maxUp, minUp := n, n
	for i := 1; i < n; i++ {
		h := hop(i, i+1)
		if h != ProviderPlus && minUp == n {
			minUp = i
		}
		if h == NotProviderPlus {
			maxUp = i
			break
		}
	}
	// Down-ramp from the neighbour: hop(AS(j), AS(j-1)) for j = N down to 2.
	maxDown, minDown := n, n
	for j := n; j >= 2; j-- {
		h := hop(j, j-1)
		if h != ProviderPlus && minDown == n {
			minDown = n - j + 1
		}
		if h == NotProviderPlus {
			maxDown = n - j + 1
			break
		}
	}
	switch {
	case maxUp+maxDown < n:
		return ASPAVerdict{ASPAInvalid, fmt.Sprintf("max up-ramp %d + max down-ramp %d < path length %d (valley or leak)", maxUp, maxDown, n)}
	case minUp+minDown < n:
		return ASPAVerdict{ASPAUnknown, fmt.Sprintf("min up-ramp %d + min down-ramp %d < path length %d (unattested hops)", minUp, minDown, n)}
	}
	return ASPAVerdict{ASPAValid, fmt.Sprintf("up-ramp %d and down-ramp %d cover the path of %d", minUp, minDown, n)}
}
