package rpki

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bgpfilter/bgpfilter/routing"
)

// scanner is a minimal JSON reader over a byte slice, built for the large, flat
// arrays of relying-party output: it reads the members it needs and skips the
// rest without building a generic tree. Every method distrusts its input and
// returns an error instead of panicking.
type scanner struct {
	b []byte
	i int
}

var errEOF = errors.New("unexpected end of JSON input")

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("json offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i >= len(s.b)
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return errEOF
		}
		return s.errf("expected %q, found %q", c, s.b[s.i])
	}
	s.i++
	return nil
}

// str reads a string. The result aliases the input when the string has no escapes.
func (s *scanner) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	start := s.i
	high := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if high && !utf8.Valid(out) {
				return nil, s.errf("invalid UTF-8 in string")
			}
			return out, nil
		case c >= 0x80:
			high = true
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return nil, s.errf("control character in string")
		}
		s.i++
	}
	return nil, errEOF
}

// strSlow finishes a string with escapes, from start (just after the quote).
func (s *scanner) strSlow(start int) ([]byte, error) {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return nil, s.errf("invalid UTF-8 in string")
			}
			return out, nil
		case c < 0x20:
			return nil, s.errf("control character in string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, errEOF
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.errf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					if r2, ok = s.hex4(); !ok {
						return nil, s.errf("bad \\u escape")
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errf("bad string escape")
		}
	}
	return nil, errEOF
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(n), true
}

// number reads a JSON number as an int64; fractions and exponents must give an
// integral value.
func (s *scanner) number() (int64, error) {
	s.ws()
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.i++
			continue
		}
		break
	}
	tok := s.b[start:s.i]
	if len(tok) == 0 {
		if s.i >= len(s.b) {
			return 0, errEOF
		}
		return 0, s.errf("expected a number")
	}
	// fast path: plain non-negative integer
	if len(tok) <= 18 {
		var n int64
		ok := true
		for _, c := range tok {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			return n, nil
		}
	}
	if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, s.errf("number %q is not an integer", tok)
	}
	return int64(f), nil
}

// skip consumes one value of any type.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '{', '[':
				depth++
				if depth > 512 {
					return s.errf("nesting too deep")
				}
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			case '"':
				if _, err := s.str(); err != nil {
					return err
				}
				continue
			}
			s.i++
		}
		return errEOF
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return nil
			}
		}
		return s.errf("bad literal")
	case 0:
		return errEOF
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			start := s.i
			for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] == '+' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' || (s.b[s.i] >= '0' && s.b[s.i] <= '9')) {
				s.i++
			}
			if s.i == start {
				return s.errf("bad number")
			}
			return nil
		}
		return s.errf("unexpected %q", c)
	}
}

// isNull consumes a null literal if one is next.
func (s *scanner) isNull() bool {
	if s.peek() == 'n' && len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// object calls member for each key; member must consume the value.
func (s *scanner) object(member func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		case 0:
			return errEOF
		default:
			return s.errf("expected ',' or '}' in object")
		}
	}
}

// array calls elem for each element; elem must consume it. null counts as empty.
func (s *scanner) array(elem func() error) error {
	if s.isNull() {
		return nil
	}
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		case 0:
			return errEOF
		default:
			return s.errf("expected ',' or ']' in array")
		}
	}
}

// asn reads an AS number written as a number or as a string ("AS13335", "13335").
func (s *scanner) asn() (routing.ASN, error) {
	if s.peek() == '"' {
		b, err := s.str()
		if err != nil {
			return 0, err
		}
		n, err := parseASNText(string(b))
		if err != nil {
			return 0, s.errf("%v", err)
		}
		return n, nil
	}
	n, err := s.number()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 1<<32-1 {
		return 0, s.errf("AS number %d out of range", n)
	}
	return routing.ASN(n), nil
}

// asnList reads an array of AS numbers.
func (s *scanner) asnList() ([]routing.ASN, error) {
	var out []routing.ASN
	err := s.array(func() error {
		n, err := s.asn()
		out = append(out, n)
		return err
	})
	return out, err
}
