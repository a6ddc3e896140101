package routing

import (
	"net/netip"
	"strconv"
)

// PrefixRange is a prefix with a window of accepted lengths: the more specifics of
// Prefix (and Prefix itself) whose length is in [Min, Max]. It is what an RPSL range
// operator means (RFC 2622 §2), what a prefix-list line with ge/le accepts and what a
// filter entry holds. A plain prefix has Min == Max == Prefix.Bits(). The zero value is
// invalid.
type PrefixRange struct {
	Prefix netip.Prefix
	Min    int
	Max    int
}

// Exact returns the range that holds only p (masked).
func Exact(p netip.Prefix) PrefixRange {
	p = p.Masked()
	return PrefixRange{Prefix: p, Min: p.Bits(), Max: p.Bits()}
}

// Exact reports whether the range holds only its own prefix.
func (r PrefixRange) Exact() bool { return r.Min == r.Prefix.Bits() && r.Max == r.Prefix.Bits() }

// HasGE reports whether the lower length bound is above the prefix length (IOS "ge").
func (r PrefixRange) HasGE() bool { return r.Min > r.Prefix.Bits() }

// HasLE reports whether the range accepts more-specifics (IOS "le").
func (r PrefixRange) HasLE() bool { return r.Max > r.Prefix.Bits() }

// Bits is the prefix length of Prefix.
func (r PrefixRange) Bits() int { return r.Prefix.Bits() }

// Contains reports whether p is one of the prefixes of the range.
func (r PrefixRange) Contains(p netip.Prefix) bool {
	return p.Addr().BitLen() == r.Prefix.Addr().BitLen() && p.Bits() >= r.Min && p.Bits() <= r.Max &&
		r.Prefix.Contains(p.Addr())
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

// ComparePrefix orders prefixes by family (IPv4 first), address, then length.
func ComparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// Compare orders ranges by prefix, then Min, then Max.
func Compare(a, b PrefixRange) int {
	if c := ComparePrefix(a.Prefix, b.Prefix); c != 0 {
		return c
	}
	if a.Min != b.Min {
		return a.Min - b.Min
	}
	return a.Max - b.Max
}
