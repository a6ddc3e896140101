package whois

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// Prefix answers parsed straight into keys (pfxkey.List, for irr.KeyQuerier): the data
// of an "!a4" reply is scanned in the bufio.Reader's buffer a fill at a time, each
// token turned into a packed IPv4 key (address << 8 | length) in one pass over its
// bytes, without a netip value, a string or a call per token. Anything the fast path
// does not take (odd spellings: leading zeros, embedded IPv4 in IPv6, zones) goes
// through netip.ParsePrefix as the other modes do, so both accept the same replies
// with the same prefixes (FuzzKeysMatchPrefixes).

// spaceTab marks the bytes isSpace accepts.
var spaceTab = func() (t [256]bool) {
	for _, c := range []byte{' ', '\n', '\t', '\r', '\v', '\f'} {
		t[c] = true
	}
	return t
}()

// keys returns the tokens as a List of family v6: masked, sorted, distinct. A token
// that is not a prefix of that family fails the reply (errClientData).
func (s *tokenScanner) keys(v6 bool) (pfxkey.List, error) {
	l := pfxkey.List{V6: v6}
	if v6 {
		l.K6 = make([]pfxkey.Key, 0, min(s.left/16+1, 1<<20))
	} else {
		// The shortest IPv4 prefix and its separator take 10 bytes: one allocation.
		l.P4 = make([]uint64, 0, s.left/10+1)
	}
	ordered := true // ascending and distinct so far
	var last4 uint64
	add := func(tok []byte) error {
		if !v6 {
			v, ok := parsePacked4(tok)
			if !ok {
				k, err := slowKey(tok, v6)
				if err != nil {
					return err
				}
				v = pfxkey.Pack4(k)
			}
			if len(l.P4) > 0 && v <= last4 {
				ordered = false
			}
			last4 = v
			l.P4 = append(l.P4, v)
			return nil
		}
		var k pfxkey.Key
		if p, ok := parsePrefixFast(tok); ok && p.Addr().Is6() && !p.Addr().Is4In6() {
			k = pfxkey.From16(p.Addr().As16(), p.Bits()).Masked()
		} else {
			var err error
			if k, err = slowKey(tok, v6); err != nil {
				return err
			}
		}
		if n := len(l.K6); n > 0 && pfxkey.Compare(l.K6[n-1], k) >= 0 {
			ordered = false
		}
		l.K6 = append(l.K6, k)
		return nil
	}
	for s.left > 0 {
		if s.br.Buffered() == 0 {
			if _, err := s.br.Peek(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return l, fmt.Errorf("whois: read reply data (%d bytes missing): %w", s.left, err)
			}
		}
		buf, _ := s.br.Peek(min(s.left, s.br.Buffered()))
		end := len(buf) == s.left // the data ends in this buffer
		i := 0
		if len(s.tmp) > 0 {
			// the rest of a token the previous fill cut
			for i < len(buf) && !spaceTab[buf[i]] {
				i++
			}
			s.tmp = append(s.tmp, buf[:i]...)
			if i < len(buf) || end {
				if err := add(s.tmp); err != nil {
					return l, err
				}
				s.tmp = s.tmp[:0]
			}
		}
		for i < len(buf) {
			for i < len(buf) && spaceTab[buf[i]] {
				i++
			}
			j := i
			for j < len(buf) && !spaceTab[buf[j]] {
				j++
			}
			if j == i {
				break
			}
			if j == len(buf) && !end {
				s.tmp = append(s.tmp[:0], buf[i:j]...)
				i = j
				break
			}
			if err := add(buf[i:j]); err != nil {
				return l, err
			}
			i = j
		}
		s.last = buf[len(buf)-1]
		s.consume(len(buf))
	}
	if !ordered {
		l = l.Normalize()
	}
	return l, nil
}

// slowKey parses a token the fast paths did not take, as netip.ParsePrefix does, and
// checks its family.
func slowKey(tok []byte, v6 bool) (pfxkey.Key, error) {
	p, err := netip.ParsePrefix(string(tok))
	if err != nil {
		return pfxkey.Key{}, fmt.Errorf("%w: %q is not a prefix", errClientData, clientClip(string(tok)))
	}
	if p.Addr().Is6() != v6 || p.Addr().Is4In6() {
		return pfxkey.Key{}, fmt.Errorf("%w: %s has the wrong address family", errClientData, p)
	}
	return pfxkey.FromPrefix(p).Masked(), nil
}

// parsePacked4 parses "d.d.d.d/n" (decimal fields 0..255 and a length 0..32, no leading
// zeros) into a masked packed key. It returns false for anything else, which then goes
// through netip.ParsePrefix; where it says true, netip.ParsePrefix gives the same
// prefix.
func parsePacked4(b []byte) (uint64, bool) {
	var a, n uint32
	digits, dots, i := 0, 0, 0
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && n == 0 {
				return 0, false // a leading zero
			}
			n = n*10 + uint32(c-'0')
			digits++
			if n > 255 {
				return 0, false
			}
			continue
		case c == '.':
			if digits == 0 || dots == 3 {
				return 0, false
			}
			a = a<<8 | n
			n, digits = 0, 0
			dots++
			continue
		case c == '/':
		default:
			return 0, false
		}
		break
	}
	if dots != 3 || digits == 0 || i >= len(b)-1 {
		return 0, false
	}
	a = a<<8 | n
	lb := b[i+1:]
	var bits uint32
	switch {
	case len(lb) == 1 && lb[0] >= '0' && lb[0] <= '9':
		bits = uint32(lb[0] - '0')
	case len(lb) == 2 && lb[0] >= '1' && lb[0] <= '9' && lb[1] >= '0' && lb[1] <= '9':
		bits = uint32(lb[0]-'0')*10 + uint32(lb[1]-'0')
	default:
		return 0, false
	}
	if bits > 32 {
		return 0, false
	}
	if bits < 32 {
		a &^= ^uint32(0) >> bits
	}
	return uint64(a)<<8 | uint64(bits), true
}
