package irr

import (
	"fmt"
	"strconv"
	"strings"
)

// ASN is an autonomous system number (RFC 6793, 32 bits).
type ASN uint32

// String renders the ASN in RPSL form, "AS64496".
func (a ASN) String() string { return "AS" + strconv.FormatUint(uint64(a), 10) }

// ParseASN parses an RPSL aut-num name: "AS" (any case) followed by an asplain number.
// Leading zeros, signs, spaces and asdot are refused, as IRRd refuses them in keys.
func ParseASN(s string) (ASN, error) {
	if len(s) < 3 || !strings.EqualFold(s[:2], "AS") {
		return 0, fmt.Errorf("irr: invalid AS number %q", s)
	}
	d := s[2:]
	if len(d) > 1 && d[0] == '0' {
		return 0, fmt.Errorf("irr: invalid AS number %q: leading zero", s)
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, fmt.Errorf("irr: invalid AS number %q", s)
		}
	}
	var n uint64
	for i := 0; i < len(d); i++ {
		if n = n*10 + uint64(d[i]-'0'); n > 1<<32-1 {
			return 0, fmt.Errorf("irr: invalid AS number %q: out of range", s)
		}
	}
	return ASN(n), nil
}

// IsASN reports whether s has the form of an aut-num name (see ParseASN).
func IsASN(s string) bool {
	_, err := ParseASN(s)
	return err == nil
}
