package bgpq4

import (
	"net/netip"
	"strings"
)

// parsePrefix is bgpq4's sx_prefix_parse(p, 0, text): the family comes from the
// presence of ':', a missing or out-of-range length means a host route, host bits are
// cleared, and an IPv4 address that inet_pton refuses is retried as sscanf("%i.%i.%i.%i")
// would read it (so leading zeros are octal: 010.0.0.0 is 8.0.0.0). Errors are printed
// as bgpq4 prints them.
func (r *runner) parsePrefix(text string) (netip.Prefix, bool) {
	mtext := text
	if len(mtext) > 50 { // strlcpy into char[INET6_ADDRSTRLEN+5]
		mtext = mtext[:50]
	}
	addr := mtext
	masklen := -1
	if i := strings.IndexByte(mtext, '/'); i >= 0 {
		addr = mtext[:i]
		v, rest, ok := strtol(mtext[i+1:])
		if rest != "" && !isSpace(rest[0]) {
			r.errorf("Invalid masklen in prefix %s\n", text)
			return netip.Prefix{}, false
		}
		if ok {
			masklen = v
		} else {
			masklen = 0
		}
		if v < 0 {
			masklen = 1 << 20 // out of range: becomes a host route below
		}
	}
	v6 := strings.IndexByte(addr, ':') >= 0
	var a netip.Addr
	if v6 {
		x, err := netip.ParseAddr(addr)
		if err != nil || !x.Is6() || x.Zone() != "" {
			r.errorf("Unable to parse prefix '%s', af=10 (inet6), ret=0\n", mtext)
			return netip.Prefix{}, false
		}
		a = x
	} else {
		x, err := netip.ParseAddr(addr)
		if err != nil || !x.Is4() {
			b, ok := scanQuad(addr)
			if !ok {
				r.errorf("Unable to parse prefix '%s', af=2 (inet), ret=0\n", mtext)
				return netip.Prefix{}, false
			}
			x = netip.AddrFrom4(b)
		}
		a = x
	}
	max := 32
	if v6 {
		max = 128
	}
	if masklen < 0 || masklen > max {
		masklen = max
	}
	return netip.PrefixFrom(a, masklen).Masked(), true
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// skipSpaceSign skips leading C white space and one sign, as strtol, strtoul and
// sscanf's %i do: it returns the index after them and whether the sign was '-'.
func skipSpaceSign(s string) (i int, neg bool) {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	return i, neg
}

// strtol is C strtol(s, &end, 10) for small values: ok is false when no digits were
// read (then rest is s).
func strtol(s string) (int, string, bool) {
	i, neg := skipSpaceSign(s)
	start := i
	v := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v < 1<<24 {
			v = v*10 + int(s[i]-'0')
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

// scanQuad reads "%i.%i.%i.%i" as glibc sscanf does and requires each part in 0..255;
// trailing text after the fourth number is ignored, as sscanf ignores it.
func scanQuad(s string) ([4]byte, bool) {
	var out [4]byte
	for part := 0; part < 4; part++ {
		if part > 0 {
			if s == "" || s[0] != '.' {
				return out, false
			}
			s = s[1:]
		}
		v, rest, ok := scanInt(s)
		if !ok || v < 0 || v > 255 {
			return out, false
		}
		out[part] = byte(v)
		s = rest
	}
	return out, true
}

// scanInt is one "%i" conversion: optional space and sign, then hex (0x), octal (0) or
// decimal digits.
func scanInt(s string) (int64, string, bool) {
	i, neg := skipSpaceSign(s)
	base := int64(10)
	if i < len(s) && s[i] == '0' {
		base = 8
		if i+2 < len(s)+1 && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && hexVal(s[i+2]) >= 0 {
			base = 16
			i += 2
		}
	}
	start := i
	var v int64
	for i < len(s) {
		d := hexVal(s[i])
		if d < 0 || int64(d) >= base {
			break
		}
		if v < 1<<40 {
			v = v*base + int64(d)
		}
		i++
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
