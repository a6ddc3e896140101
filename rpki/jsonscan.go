package rpki

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bgpfilter/bgpfilter/routing"
)

// scanner is a minimal streaming JSON reader, built for the large, flat arrays of
// relying-party output: it reads the members it needs and skips the rest without
// building a generic tree, holding only a window of the input (issue 12 item 7: the
// whole file was one buffer). Every method distrusts its input and returns an error
// instead of panicking.
//
// b[i:] is the unread part of the window. Byte slices returned by str alias the
// window and are valid until the next call; object copies its keys.
type scanner struct {
	r    io.Reader // nil: b is the whole input
	b    []byte
	i    int
	off  int64 // input offset of b[0]
	mark int   // start of the token being read (kept across refills), -1 none
	err  error // the read error that ended the input (not io.EOF)
	keys [][]byte
	dep  int // object nesting
}

// scanBuf is the window size of a streaming scanner; maxToken bounds one string or
// number (a relying party writes none longer than a few hundred bytes).
var scanBuf = 64 << 10

const maxToken = 1 << 20

var (
	errEOF     = errors.New("unexpected end of JSON input")
	errTooLong = errors.New("string or number longer than 1 MiB")
	errTooDeep = errors.New("nesting too deep")
)

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, b: make([]byte, 0, scanBuf), mark: -1}
}

// more reads more input into the window, keeping b[mark:] (or b[i:]); false at the
// end of the input or on a read error (kept in s.err).
func (s *scanner) more() bool {
	if s.r == nil || s.err != nil {
		return false
	}
	keep := s.i
	if s.mark >= 0 {
		keep = s.mark
		if len(s.b)-keep > maxToken {
			s.err = errTooLong
			return false
		}
	}
	if keep > 0 {
		n := copy(s.b, s.b[keep:])
		s.b = s.b[:n]
		s.off += int64(keep)
		s.i -= keep
		if s.mark >= 0 {
			s.mark -= keep
		}
	}
	if len(s.b) == cap(s.b) {
		nb := make([]byte, len(s.b), 2*cap(s.b))
		copy(nb, s.b)
		s.b = nb
	}
	for range 100 {
		n, err := s.r.Read(s.b[len(s.b):cap(s.b)])
		s.b = s.b[:len(s.b)+n]
		if err != nil {
			if err != io.EOF {
				s.err = err
			}
			s.r = nil
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// avail reports whether n unread bytes are in the window, reading more if needed.
func (s *scanner) avail(n int) bool {
	for len(s.b)-s.i < n {
		if !s.more() {
			return false
		}
	}
	return true
}

// eof is the error for input that ended early: the read error if there was one.
func (s *scanner) eof() error {
	if s.err != nil {
		return s.errf("%w", s.err)
	}
	return errEOF
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("json offset %d: %w", s.off+int64(s.i), fmt.Errorf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) || s.more() {
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
		return 0 // ws read to the end
	}
	return s.b[s.i]
}

// end reports whether only whitespace is left (reading the input to its end, so
// that a gzip checksum error after the document is seen; check s.err after).
func (s *scanner) end() bool {
	s.ws()
	return s.i >= len(s.b)
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return s.eof()
		}
		return s.errf("expected %q, found %q", c, s.b[s.i])
	}
	s.i++
	return nil
}

// str reads a string. The result aliases the window when the string has no escapes.
func (s *scanner) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	s.mark = s.i
	high := false
	for s.i < len(s.b) || s.more() {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[s.mark:s.i]
			s.mark = -1
			s.i++
			if high && !utf8.Valid(out) {
				return nil, s.errf("invalid UTF-8 in string")
			}
			return out, nil
		case c >= 0x80:
			high = true
		case c == '\\':
			return s.strSlow()
		case c < 0x20:
			s.mark = -1
			return nil, s.errf("control character in string")
		}
		s.i++
	}
	s.mark = -1
	return nil, s.eof()
}

// strSlow finishes a string with escapes, from s.mark (just after the quote).
func (s *scanner) strSlow() ([]byte, error) {
	out := append([]byte(nil), s.b[s.mark:s.i]...)
	s.mark = -1
	for s.i < len(s.b) || s.more() {
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
			if len(out) >= maxToken {
				return nil, s.errf("%w", errTooLong)
			}
			out = append(out, c)
			s.i++
			continue
		}
		if !s.avail(2) {
			return nil, s.eof()
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
				if s.avail(2) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
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
	return nil, s.eof()
}

func (s *scanner) hex4() (rune, bool) {
	if !s.avail(4) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(n), true
}

func numberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// numberToken reads the bytes of a number; the result aliases the window.
func (s *scanner) numberToken() []byte {
	s.ws()
	s.mark = s.i
	for (s.i < len(s.b) || s.more()) && numberByte(s.b[s.i]) {
		s.i++
	}
	tok := s.b[s.mark:s.i]
	s.mark = -1
	return tok
}

// number reads a JSON number as an int64; fractions and exponents must give an
// integral value.
func (s *scanner) number() (int64, error) {
	tok := s.numberToken()
	if len(tok) == 0 {
		if s.i >= len(s.b) {
			return 0, s.eof()
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
		for s.i < len(s.b) || s.more() {
			switch s.b[s.i] {
			case '{', '[':
				depth++
				if depth > 512 {
					return s.errf("%w", errTooDeep)
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
		return s.eof()
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if s.avail(len(lit)) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return nil
			}
		}
		return s.errf("bad literal")
	case 0:
		if s.i >= len(s.b) {
			return s.eof()
		}
		return s.errf("unexpected %q", c)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			if len(s.numberToken()) == 0 {
				return s.errf("bad number")
			}
			if s.err != nil {
				return s.eof()
			}
			return nil
		}
		return s.errf("unexpected %q", c)
	}
}

// isNull consumes a null literal if one is next.
func (s *scanner) isNull() bool {
	if s.peek() == 'n' && s.avail(4) && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// object calls member for each key; member must consume the value. The key is a
// copy, valid while member runs.
func (s *scanner) object(member func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.dep >= 512 {
		return s.errf("%w", errTooDeep)
	}
	if s.dep == len(s.keys) {
		s.keys = append(s.keys, make([]byte, 0, 32))
	}
	s.dep++
	defer func() { s.dep-- }()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		key := append(s.keys[s.dep-1][:0], k...)
		s.keys[s.dep-1] = key
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		case 0:
			if s.i >= len(s.b) {
				return s.eof()
			}
			return s.errf("expected ',' or '}' in object")
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
			if s.i >= len(s.b) {
				return s.eof()
			}
			return s.errf("expected ',' or ']' in array")
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
