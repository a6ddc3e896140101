package irr

import (
	"bytes"
	"net/netip"
	"unicode/utf8"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/routing"
)

// The fast path of a parallel load. Route and route6 objects are nearly all of a
// registry (1M of the synthetic registry's 1.02M objects, most of the RIPE route dump's
// bytes), and a dump writes them in the form the index stores: lower-case attribute
// names, values from column 16, no continuation or comment lines. For such an object
// the stored text (rpsl.Object.AppendText) is the input bytes themselves, so the fast
// path reads the few attributes the index needs straight from the chunk, builds no
// rpsl.Object, no strings and no record, and the merge copies the bytes once into the
// arena. Anything else — another class, another layout, several origins, member-of,
// any value the index would refuse — is declined and goes through rpsl.Scanner and
// prepareInto as before, so errors and their messages come from one place. What the
// fast path accepts it must read exactly as that path does (TestFastRouteMatchesSlow,
// FuzzFastRoute, and the parallel/serial differential tests).

// fastRoute is what the fast path read from one route object.
type fastRoute struct {
	key, origin, source []byte // values (comments removed), nil when absent
	nsource             int
	text                int // bytes of the object's text (through its last '\n')
	end                 int // bytes consumed: the text and the empty line after it
	lines               int // lines consumed
}

// scanFastRoute reads the route or route6 object at the start of data, which starts at
// an object boundary with a non-empty line. ok is false when the object is not in the
// plain form described above.
func scanFastRoute(data []byte) (fr fastRoute, ok bool) {
	p, size := 0, 0
	for first := true; ; first = false {
		if p == len(data) {
			fr.text, fr.end = p, p // the input ends the object
			return fr, !first
		}
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			return fr, false // a last line without '\n': not the stored text
		}
		line := data[p : p+i]
		if len(line) == 0 {
			fr.text, fr.end, fr.lines = p, p+1, fr.lines+1
			return fr, true
		}
		p += i + 1
		fr.lines++
		if size += len(line) + 1; len(line) > rpsl.MaxLineBytes || size > rpsl.MaxObjectBytes {
			return fr, false
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 || !plainName(line[:colon]) {
			return fr, false // also continuation, comment and '\r'-ended lines
		}
		name, rest := line[:colon], line[colon+1:]
		if !storedForm(len(name), rest) {
			return fr, false
		}
		if first {
			if string(name) != "route" && string(name) != "route6" {
				return fr, false
			}
			fr.key = attrValue(len(name), rest)
			continue
		}
		switch string(name) {
		case "origin":
			if fr.origin != nil {
				return fr, false // several origins: prepareInto indexes each
			}
			fr.origin = attrValue(len(name), rest)
		case "source":
			fr.nsource++
			fr.source = attrValue(len(name), rest)
		case "member-of":
			return fr, false
		}
	}
}

// plainName reports whether b is an attribute name in lower case (rpsl's validName,
// which also allows upper case, lower-cases names).
func plainName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// storedForm reports whether the text after the colon of an attribute named with n
// bytes is as AppendText writes it: empty, or the padding to column 16 (none for a
// long name) and a value without surrounding white space (as bytes.TrimSpace sees it).
func storedForm(n int, rest []byte) bool {
	if len(rest) == 0 {
		return true
	}
	pad := max(15-n, 0)
	if len(rest) <= pad {
		return false
	}
	for _, c := range rest[:pad] {
		if c != ' ' {
			return false
		}
	}
	first, last := rest[pad], rest[len(rest)-1]
	if first >= utf8.RuneSelf || last >= utf8.RuneSelf {
		t := bytes.TrimSpace(rest) // a non-ASCII space would be trimmed too
		return len(t) > 0 && len(t) == len(rest)-pad
	}
	return !asciiSpace(first) && !asciiSpace(last)
}

// asciiSpace is bytes.TrimSpace's set of ASCII white space.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// attrValue is the value rpsl.Scanner gives a one-line attribute whose name has n
// bytes and whose text after the colon is rest, in stored form (see storedForm): the
// text after the padding, without its comment, trimmed.
func attrValue(n int, rest []byte) []byte {
	if len(rest) == 0 {
		return []byte{} // present but empty
	}
	v := rest[max(15-n, 0):]
	if i := bytes.IndexByte(v, '#'); i >= 0 {
		if v = bytes.TrimSpace(v[:i]); v == nil {
			v = []byte{}
		}
	}
	return v
}

// fastRouteKey validates fr as prepareInto validates a route object with one origin
// and no member-of: the source (or defSource, upper case), the prefix (masked, of the
// class's family) and the origin. ok is false when prepareInto would refuse it.
func fastRouteKey(fr *fastRoute, v6 bool) (rk routeKey, ok bool) {
	if len(fr.key) == 0 || fr.origin == nil || fr.nsource > 1 {
		return rk, false
	}
	var p netip.Prefix
	if k, ok := parseV4Fast(fr.key); ok && !v6 {
		rk.p = k
	} else {
		var err error
		if p, err = parseRPSLPrefix(string(fr.key)); err != nil || p.Masked() != p || p.Addr().Is4() == v6 {
			return rk, false
		}
		rk.p = toKey(p)
	}
	a, ok := parseASNFast(fr.origin)
	if !ok {
		var err error
		if a, err = parseRPSLASN(string(fr.origin)); err != nil {
			return rk, false
		}
	}
	rk.origin = a
	return rk, true
}

// parseV4Fast parses a masked IPv4 prefix "a.b.c.d/n" written as netip.ParsePrefix
// accepts it (no leading zeros); ok is false for anything else, which the caller then
// parses with parseRPSLPrefix.
func parseV4Fast(b []byte) (pkey, bool) {
	var ip [4]byte
	i := 0
	for k := range 4 {
		start, v := i, 0
		for i < len(b) && i-start < 4 && b[i] >= '0' && b[i] <= '9' {
			v = v*10 + int(b[i]-'0')
			i++
		}
		if n := i - start; n == 0 || n > 3 || v > 255 || n > 1 && b[start] == '0' {
			return pkey{}, false
		}
		ip[k] = byte(v)
		sep := byte('.')
		if k == 3 {
			sep = '/'
		}
		if i >= len(b) || b[i] != sep {
			return pkey{}, false
		}
		i++
	}
	d := b[i:]
	if len(d) == 0 || len(d) > 2 || len(d) == 2 && d[0] == '0' {
		return pkey{}, false
	}
	bits := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return pkey{}, false
		}
		bits = bits*10 + int(c-'0')
	}
	if bits > 32 {
		return pkey{}, false
	}
	k := pfxkey.From4(ip, bits)
	if bits < 32 && uint32(k.Hi>>32)<<bits != 0 {
		return pkey{}, false // host bits set: prepareInto refuses it
	}
	return k, true
}

// parseASNFast parses "AS" (any case) and an asplain number without leading zeros, as
// routing.ParseASN does; ok is false for anything else (parseRPSLASN decides).
func parseASNFast(b []byte) (routing.ASN, bool) {
	if len(b) < 3 || len(b) > 12 || b[0]|0x20 != 'a' || b[1]|0x20 != 's' || len(b) > 3 && b[2] == '0' {
		return 0, false
	}
	var n uint64
	for _, c := range b[2:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return routing.ASN(n), true
}
