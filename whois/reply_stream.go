package whois

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// Streamed replies. The data of an "!i" (members) or "!g"/"!6"/"!a" (prefixes) answer
// is parsed while it passes through the connection's bufio.Reader: it is never held
// whole, so a reply costs what its result costs (one string per member, 24 bytes per
// prefix) and not several copies of its text (a 100 MB "!i" answer took 3.1 GB when it
// was read into one buffer and split). Prefixes are parsed into netip values without
// an allocation per prefix.

// dataMode says how exchangeLocked reads the data of an A reply.
type dataMode uint8

const (
	dataRaw       dataMode = iota // Reply.Data
	dataMembers                   // Reply.Members: whitespace-separated tokens
	dataPrefixes4                 // Reply.Prefixes: IPv4 prefixes, sorted, unique
	dataPrefixes6                 // Reply.Prefixes: IPv6 prefixes
	dataKeys4                     // Reply.Keys: IPv4 prefixes as keys (reply_keys.go)
	dataKeys6                     // Reply.Keys: IPv6 prefixes as keys
)

// readReplyMode is ReadReply with the data of an A reply parsed as mode says.
// scratch is reused between calls for the prefixes of one reply.
func readReplyMode(r *bufio.Reader, maxLen int, mode dataMode, scratch *[]netip.Prefix) (Reply, error) {
	hdr, err := readHeader(r)
	if err != nil {
		return Reply{}, err
	}
	if hdr[0] != 'A' || mode == dataRaw {
		return replyOf(r, hdr, maxLen)
	}
	n, err := replyLength(hdr[1:], maxLen)
	if err != nil {
		return Reply{}, err
	}
	sc := tokenScanner{br: r, left: n}
	rep := Reply{Kind: ReplyA}
	switch mode {
	case dataMembers:
		rep.Members, err = sc.members()
	case dataKeys4, dataKeys6:
		rep.Keys, err = sc.keys(mode == dataKeys6)
	default:
		rep.Prefixes, err = sc.prefixes(mode == dataPrefixes6, scratch)
	}
	if err != nil {
		return Reply{}, err
	}
	if sc.last != '\n' {
		return Reply{}, fmt.Errorf("whois: reply data does not end where its length says: %w", ErrFraming)
	}
	if err := readTerminator(r); err != nil {
		return Reply{}, err
	}
	return rep, nil
}

// tokenScanner reads the whitespace-separated tokens of left bytes of reply data.
type tokenScanner struct {
	br   *bufio.Reader
	left int    // data bytes not read yet (the final newline included)
	last byte   // the last data byte read
	tmp  []byte // a token that spans two fills of the buffer
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// next returns the next token, valid until the following call, or nil at the end of
// the data.
func (s *tokenScanner) next() ([]byte, error) {
	s.tmp = s.tmp[:0]
	for s.left > 0 {
		if s.br.Buffered() == 0 {
			if _, err := s.br.Peek(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("whois: read reply data (%d bytes missing): %w", s.left, err)
			}
		}
		buf, _ := s.br.Peek(min(s.left, s.br.Buffered()))
		i := 0
		if len(s.tmp) == 0 {
			for i < len(buf) && isSpace(buf[i]) {
				i++
			}
		}
		j := i
		for j < len(buf) && !isSpace(buf[j]) {
			j++
		}
		if j > 0 {
			s.last = buf[j-1]
		}
		switch {
		case j < len(buf):
			// the token ends in this buffer (at buf[j], whitespace)
			s.last = buf[j]
			s.consume(j + 1)
			if len(s.tmp) > 0 {
				s.tmp = append(s.tmp, buf[i:j]...)
				return s.tmp, nil
			}
			if j > i {
				return buf[i:j], nil
			}
		default:
			s.tmp = append(s.tmp, buf[i:j]...)
			s.consume(j)
		}
	}
	if len(s.tmp) > 0 {
		return s.tmp, nil
	}
	return nil, nil
}

func (s *tokenScanner) consume(n int) {
	s.br.Discard(n)
	s.left -= n
}

// members returns the tokens as strings sharing one backing string: one allocation
// of the data's length for their bytes and one for the slice.
func (s *tokenScanner) members() ([]string, error) {
	var sb strings.Builder
	sb.Grow(s.left)
	n := 0
	for {
		tok, err := s.next()
		if err != nil {
			return nil, err
		}
		if tok == nil {
			break
		}
		sb.Write(tok)
		sb.WriteByte(' ')
		n++
	}
	all := sb.String()
	out := make([]string, 0, n)
	for start := 0; start < len(all); {
		end := start + strings.IndexByte(all[start:], ' ')
		out = append(out, all[start:end])
		start = end + 1
	}
	return out, nil
}

// scratchMax is the most prefixes of one answer parsed into the reused scratch buffer
// and then copied out; a larger answer keeps the buffer it was parsed into.
const scratchMax = 4096

// prefixes returns the tokens as prefixes of one family, sorted and without
// duplicates; a token that is not such a prefix fails the reply (errClientData).
func (s *tokenScanner) prefixes(v6 bool, scratch *[]netip.Prefix) ([]netip.Prefix, error) {
	buf := (*scratch)[:0]
	// A large answer gets its buffer once, sized for IPv4 prefixes of 12 bytes with
	// their separator (the shortest IPv4 prefix takes 10): growing a slice of netip
	// values by doubling copied them, write barriers included, about twice over.
	if est := s.left / 12; est > scratchMax && cap(buf) < est {
		buf = make([]netip.Prefix, 0, est)
	}
	sorted := true
	for {
		tok, err := s.next()
		if err != nil {
			return nil, err
		}
		if tok == nil {
			break
		}
		p, ok := parsePrefixFast(tok)
		if !ok {
			if p, err = netip.ParsePrefix(string(tok)); err != nil {
				return nil, fmt.Errorf("%w: %q is not a prefix", errClientData, clientClip(string(tok)))
			}
		}
		if p.Addr().Is6() != v6 || p.Addr().Is4In6() {
			return nil, fmt.Errorf("%w: %s has the wrong address family", errClientData, p)
		}
		if sorted && len(buf) > 0 && clientComparePrefix(buf[len(buf)-1], p) >= 0 {
			sorted = false
		}
		buf = append(buf, p)
	}
	if !sorted {
		slices.SortFunc(buf, clientComparePrefix)
		buf = slices.Compact(buf)
	}
	if len(buf) > scratchMax && len(buf) > cap(buf)/4 {
		*scratch = nil // a large answer keeps the buffer it grew
		return slices.Clip(buf), nil
	}
	*scratch = buf
	return slices.Clone(buf), nil
}

// parsePrefixFast parses the common spellings of a prefix without allocating: a
// dotted-quad IPv4 address or an IPv6 address of hex groups with at most one "::"
// (no zone, no embedded IPv4), "/" and a length without leading zeros. It returns
// false for anything else, which netip.ParsePrefix then decides: both accept the same
// strings with the same value wherever the fast path says true.
func parsePrefixFast(b []byte) (netip.Prefix, bool) {
	slash := -1
	for i, c := range b {
		if c == '/' {
			slash = i
			break
		}
	}
	if slash <= 0 || slash == len(b)-1 || len(b)-slash-1 > 3 {
		return netip.Prefix{}, false
	}
	bits := 0
	lb := b[slash+1:]
	if lb[0] == '0' && len(lb) > 1 {
		return netip.Prefix{}, false
	}
	for _, c := range lb {
		if c < '0' || c > '9' {
			return netip.Prefix{}, false
		}
		bits = bits*10 + int(c-'0')
	}
	a := b[:slash]
	if addr, ok := parseIPv4Fast(a); ok {
		if bits > 32 {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(addr, bits), true
	}
	if addr, ok := parseIPv6Fast(a); ok {
		if bits > 128 {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(addr, bits), true
	}
	return netip.Prefix{}, false
}

// parseIPv4Fast parses d.d.d.d with decimal fields 0..255 without leading zeros.
func parseIPv4Fast(b []byte) (netip.Addr, bool) {
	var out [4]byte
	f, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || f > 3 {
				return netip.Addr{}, false
			}
			out[f] = byte(n)
			f++
			n, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || digits > 0 && n == 0 {
			return netip.Addr{}, false // not a digit, or a leading zero
		}
		n = n*10 + int(c-'0')
		if digits++; n > 255 {
			return netip.Addr{}, false
		}
	}
	if f != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(out), true
}

// parseIPv6Fast parses up to 8 groups of 1-4 hex digits separated by ':', with at
// most one "::".
func parseIPv6Fast(b []byte) (netip.Addr, bool) {
	var groups [8]uint16
	ng, gap := 0, -1
	i := 0
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		gap = 0
		i = 2
	}
	for i < len(b) {
		v, d := 0, 0
		for ; i < len(b) && d < 5; i++ {
			x := hexDigit(b[i])
			if x < 0 {
				break
			}
			v = v<<4 | x
			d++
		}
		if d == 0 || d > 4 || ng == 8 {
			return netip.Addr{}, false
		}
		groups[ng] = uint16(v)
		ng++
		if i == len(b) {
			break
		}
		if b[i] != ':' {
			return netip.Addr{}, false // '.', '%' or garbage: leave it to netip
		}
		i++
		if i < len(b) && b[i] == ':' {
			if gap >= 0 {
				return netip.Addr{}, false
			}
			gap = ng
			i++
		} else if i == len(b) {
			return netip.Addr{}, false // a trailing single ':'
		}
	}
	if gap < 0 && ng != 8 || gap >= 0 && ng > 7 {
		return netip.Addr{}, false
	}
	var out [16]byte
	k := 0
	for g := 0; g < 8; g++ {
		var v uint16
		switch {
		case gap < 0 || g < gap:
			v = groups[k]
			k++
		case g < gap+8-ng:
			v = 0
		default:
			v = groups[k]
			k++
		}
		out[2*g], out[2*g+1] = byte(v>>8), byte(v)
	}
	return netip.AddrFrom16(out), true
}

func hexDigit(c byte) int {
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
