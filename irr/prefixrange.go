package irr

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// RangeOp is a range operator applied to a set or AS member of a route-set
// ("AS64496^+", "RS-FOO^24-32"). The zero value (Kind OpNone) applies nothing.
type RangeOp struct {
	Kind OpKind
	N, M int // for OpN and OpNM
}

// OpKind names the RPSL range operators.
type OpKind uint8

// The range operators of RFC 2622 §2.
const (
	OpNone  OpKind = iota
	OpMinus        // ^-  exclusive more specifics
	OpPlus         // ^+  inclusive more specifics
	OpN            // ^n  more specifics of length n
	OpNM           // ^n-m more specifics of length n to m
)

// String renders the operator as written in RPSL ("^+", "^24-32"), or "".
func (op RangeOp) String() string {
	switch op.Kind {
	case OpMinus:
		return "^-"
	case OpPlus:
		return "^+"
	case OpN:
		return "^" + strconv.Itoa(op.N)
	case OpNM:
		return "^" + strconv.Itoa(op.N) + "-" + strconv.Itoa(op.M)
	}
	return ""
}

// ParseRangeOp parses an operator suffix without or with its '^' ("^+", "24-32").
func ParseRangeOp(s string) (RangeOp, error) {
	s = strings.TrimPrefix(s, "^")
	switch s {
	case "-":
		return RangeOp{Kind: OpMinus}, nil
	case "+":
		return RangeOp{Kind: OpPlus}, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	n, err := parseLen(a)
	if err != nil {
		return RangeOp{}, fmt.Errorf("irr: invalid range operator %q", "^"+s)
	}
	if !isRange {
		return RangeOp{Kind: OpN, N: n, M: n}, nil
	}
	m, err := parseLen(b)
	if err != nil || m < n {
		return RangeOp{}, fmt.Errorf("irr: invalid range operator %q", "^"+s)
	}
	return RangeOp{Kind: OpNM, N: n, M: m}, nil
}

func parseLen(s string) (int, error) {
	if s == "" || len(s) > 3 {
		return 0, fmt.Errorf("bad length")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad length")
		}
	}
	return strconv.Atoi(s)
}

// SplitRangeOp splits "NAME^op" into the name and its operator; a member without '^'
// returns OpNone.
func SplitRangeOp(member string) (string, RangeOp, error) {
	name, op, ok := strings.Cut(member, "^")
	if !ok {
		return member, RangeOp{}, nil
	}
	o, err := ParseRangeOp(op)
	if err != nil {
		return name, RangeOp{}, err
	}
	return name, o, nil
}

// ParsePrefixRange parses an RPSL prefix or prefix range: "192.0.2.0/24",
// "198.51.100.0/24^25-26", "2001:db8::/32^+", "192.0.2.0/24^-", "192.0.2.0/24^28".
// The prefix must be in canonical form (no host bits); lengths must satisfy
// len <= n <= m <= family maximum (n > len for ^-, which needs len < maximum).
func ParsePrefixRange(s string) (routing.PrefixRange, error) {
	ps, ops, hasOp := strings.Cut(s, "^")
	p, err := netip.ParsePrefix(ps)
	if err != nil {
		return routing.PrefixRange{}, fmt.Errorf("irr: invalid prefix %q", s)
	}
	if p.Masked() != p {
		return routing.PrefixRange{}, fmt.Errorf("irr: invalid prefix %q: host bits set", s)
	}
	pr := routing.PrefixRange{Prefix: p, Min: p.Bits(), Max: p.Bits()}
	if !hasOp {
		return pr, nil
	}
	op, err := ParseRangeOp(ops)
	if err != nil {
		return routing.PrefixRange{}, fmt.Errorf("irr: invalid prefix range %q: %w", s, err)
	}
	r, ok := op.Apply(pr)
	if !ok {
		return routing.PrefixRange{}, fmt.Errorf("irr: invalid prefix range %q: lengths out of range", s)
	}
	return r, nil
}

// Apply applies the range operator to r (RFC 2622 §2, composed as in §5.2 when r already
// carries a range): the operator acts on every prefix of r, and the result is the union.
// ^- gives [Min+1, max], ^+ gives [Min, max], ^n gives [n, n] and ^n-m gives [n, m],
// where n must not be shorter than r.Min. ok is false when the result is empty or
// invalid (n beyond the family maximum, n shorter than the prefix).
func (op RangeOp) Apply(r routing.PrefixRange) (routing.PrefixRange, bool) {
	maxLen := r.Prefix.Addr().BitLen()
	out := r
	switch op.Kind {
	case OpNone:
		return r, r.Min <= r.Max
	case OpMinus:
		out.Min, out.Max = r.Min+1, maxLen
	case OpPlus:
		out.Min, out.Max = r.Min, maxLen
	case OpN, OpNM:
		m := op.M
		if op.Kind == OpN {
			m = op.N
		}
		if op.N < r.Min || m < op.N {
			return routing.PrefixRange{}, false
		}
		out.Min, out.Max = op.N, m
	default:
		return routing.PrefixRange{}, false
	}
	if out.Min > maxLen || out.Max > maxLen || out.Min > out.Max {
		return routing.PrefixRange{}, false
	}
	return out, true
}
