package rpki

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Errors callers branch on.
var (
	// ErrStale reports data older than the allowed maximum age, or a table whose
	// VRPs have all expired.
	ErrStale = errors.New("stale RPKI data")
	// ErrFormat reports input that is not a recognised RPKI data format.
	ErrFormat = errors.New("rpki: unrecognised format")
)

// VRP is a validated ROA payload: origin ASN, prefix and maximum length, with the
// trust anchor it came from. The zero value is not a valid VRP.
type VRP struct {
	Prefix    netip.Prefix
	MaxLength uint8
	ASN       routing.ASN
	TA        string
	// Expires is the Unix time at which the VRP's signing chain expires (0 = unknown).
	Expires int64
}

// String renders the VRP as "192.0.2.0/24-24 AS64496 (ta)".
func (v VRP) String() string {
	s := v.Prefix.String() + "-" + strconv.Itoa(int(v.MaxLength)) + " AS" + strconv.FormatUint(uint64(v.ASN), 10)
	if v.TA != "" {
		s += " (" + v.TA + ")"
	}
	return s
}

// check validates the VRP's invariants: canonical prefix, maxLength in
// [prefix length, address bits].
func (v VRP) check() error {
	if !v.Prefix.IsValid() {
		return fmt.Errorf("invalid prefix")
	}
	if v.Prefix != v.Prefix.Masked() {
		return fmt.Errorf("prefix %s has host bits set", v.Prefix)
	}
	if v.Prefix.Addr().Is4In6() || v.Prefix.Addr().Zone() != "" {
		return fmt.Errorf("prefix %s is not a plain IPv4 or IPv6 prefix", v.Prefix)
	}
	if int(v.MaxLength) < v.Prefix.Bits() || int(v.MaxLength) > v.Prefix.Addr().BitLen() {
		return fmt.Errorf("maxLength %d out of range for %s", v.MaxLength, v.Prefix)
	}
	if !validTA(v.TA) {
		return fmt.Errorf("trust anchor name %q is not printable UTF-8 of at most 256 bytes", v.TA)
	}
	return nil
}

// ASPA is an AS provider authorisation: the customer AS and the ASes it authorises as
// its upstream providers. Older rpki-client output (and RTR per draft-8210bis-10)
// carries per-address-family provider sets; then IPv4 and IPv6 differ, otherwise
// both hold the same providers. Provider lists are sorted and duplicate-free. A
// provider list of only AS0 means "this AS has no providers".
type ASPA struct {
	Customer routing.ASN
	IPv4     []routing.ASN
	IPv6     []routing.ASN
	Expires  int64
}

// Providers returns the union of the IPv4 and IPv6 provider sets, sorted.
func (a ASPA) Providers() []routing.ASN {
	return mergeASNs(a.IPv4, a.IPv6)
}

// parseASNText parses "AS13335", "as13335" or "13335".
func parseASNText(s string) (routing.ASN, error) { return routing.ParseASNumber(s) }

// ParseASN parses an AS number written as "AS64496", "as64496" or "64496".
func ParseASN(s string) (routing.ASN, error) {
	n, err := parseASNText(s)
	if err != nil {
		return 0, fmt.Errorf("rpki: %w", err)
	}
	return n, nil
}

// mergeASNs returns the sorted union of two sorted, duplicate-free lists.
func mergeASNs(a, b []routing.ASN) []routing.ASN {
	out := make([]routing.ASN, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// sortedUnique sorts s in place and removes duplicates.
func sortedUnique(s []routing.ASN) []routing.ASN {
	if len(s) < 2 {
		return s
	}
	slicesSort(s)
	w := 1
	for i := 1; i < len(s); i++ {
		if s[i] != s[w-1] {
			s[w] = s[i]
			w++
		}
	}
	return s[:w]
}

// validTA accepts trust anchor names that are safe to print: valid UTF-8, no control
// characters, at most 256 bytes.
func validTA(s string) bool {
	if len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
