package irr

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// PrefixRange is an RPSL address prefix range (RFC 2622 §2): the more specifics of
// Prefix whose length is in [Min, Max]. A plain prefix has Min == Max == Prefix.Bits().
// The zero value is invalid.
type PrefixRange struct {
	Prefix netip.Prefix
	Min    int
	Max    int
}

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
func ParsePrefixRange(s string) (PrefixRange, error) {
	ps, ops, hasOp := strings.Cut(s, "^")
	p, err := netip.ParsePrefix(ps)
	if err != nil {
		return PrefixRange{}, fmt.Errorf("irr: invalid prefix %q", s)
	}
	if p.Masked() != p {
		return PrefixRange{}, fmt.Errorf("irr: invalid prefix %q: host bits set", s)
	}
	pr := PrefixRange{Prefix: p, Min: p.Bits(), Max: p.Bits()}
	if !hasOp {
		return pr, nil
	}
	op, err := ParseRangeOp(ops)
	if err != nil {
		return PrefixRange{}, fmt.Errorf("irr: invalid prefix range %q: %w", s, err)
	}
	r, ok := pr.Apply(op)
	if !ok {
		return PrefixRange{}, fmt.Errorf("irr: invalid prefix range %q: lengths out of range", s)
	}
	return r, nil
}

// Apply applies a range operator to r (RFC 2622 §2, composed as in §5.2 when r already
// carries a range): the operator acts on every prefix of r, and the result is the union.
// ^- gives [Min+1, max], ^+ gives [Min, max], ^n gives [n, n] and ^n-m gives [n, m],
// where n must not be shorter than r.Min. ok is false when the result is empty or
// invalid (n beyond the family maximum, n shorter than the prefix).
func (r PrefixRange) Apply(op RangeOp) (PrefixRange, bool) {
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
			return PrefixRange{}, false
		}
		out.Min, out.Max = op.N, m
	default:
		return PrefixRange{}, false
	}
	if out.Min > maxLen || out.Max > maxLen || out.Min > out.Max {
		return PrefixRange{}, false
	}
	return out, true
}

// String renders the range in RPSL form: the prefix alone when exact, else the shortest
// operator that says it ("^-", "^+", "^n", "^n-m").
func (r PrefixRange) String() string {
	p := r.Prefix.String()
	bits, maxLen := r.Prefix.Bits(), r.Prefix.Addr().BitLen()
	switch {
	case r.Min == bits && r.Max == bits:
		return p
	case r.Min == bits+1 && r.Max == maxLen:
		return p + "^-"
	case r.Min == bits && r.Max == maxLen:
		return p + "^+"
	case r.Min == r.Max:
		return p + "^" + strconv.Itoa(r.Min)
	}
	return p + "^" + strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// Exact reports whether the range holds only its own prefix.
func (r PrefixRange) Exact() bool { return r.Min == r.Prefix.Bits() && r.Max == r.Prefix.Bits() }

// Contains reports whether p is one of the prefixes of the range.
func (r PrefixRange) Contains(p netip.Prefix) bool {
	return p.Addr().BitLen() == r.Prefix.Addr().BitLen() && p.Bits() >= r.Min && p.Bits() <= r.Max &&
		r.Prefix.Contains(p.Addr())
}

// ComparePrefix orders prefixes by family (IPv4 first), address, then length.
func ComparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// CompareRange orders ranges by prefix, then Min, then Max.
func CompareRange(a, b PrefixRange) int {
	if c := ComparePrefix(a.Prefix, b.Prefix); c != 0 {
		return c
	}
	if a.Min != b.Min {
		return a.Min - b.Min
	}
	return a.Max - b.Max
}
