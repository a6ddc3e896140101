package routing

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
		return 0, fmt.Errorf("invalid AS number %q", s)
	}
	return parseDigits(s, s[2:])
}

// ParseASNumber parses an AS number as people and RPKI tools write it: "AS64496",
// "as64496" or a bare "64496". Leading zeros and anything but decimal digits are refused.
func ParseASNumber(s string) (ASN, error) {
	d := s
	if len(d) >= 2 && strings.EqualFold(d[:2], "AS") {
		d = d[2:]
	}
	return parseDigits(s, d)
}

// parseDigits parses the asplain digits d of the text s (s only for messages).
func parseDigits(s, d string) (ASN, error) {
	if d == "" {
		return 0, fmt.Errorf("invalid AS number %q", s)
	}
	if len(d) > 1 && d[0] == '0' {
		return 0, fmt.Errorf("invalid AS number %q: leading zero", s)
	}
	var n uint64
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, fmt.Errorf("invalid AS number %q", s)
		}
		if n = n*10 + uint64(d[i]-'0'); n > 1<<32-1 {
			return 0, fmt.Errorf("invalid AS number %q: out of range", s)
		}
	}
	return ASN(n), nil
}

// IsASN reports whether s has the form of an aut-num name (see ParseASN).
func IsASN(s string) bool {
	_, err := ParseASN(s)
	return err == nil
}
