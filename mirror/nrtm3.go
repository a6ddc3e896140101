package mirror

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Errors of the NRTMv3 stream parser; callers branch on them with errors.Is.
var (
	// ErrNRTMFormat means the stream is not a well-formed NRTM reply.
	ErrNRTMFormat = errors.New("malformed NRTM stream")
	// ErrSerial means a serial is missing, repeated, out of order or outside the
	// announced range, or the stream does not start where the mirror stands.
	ErrSerial = errors.New("NRTM serial out of sequence")
	// ErrTruncated means the stream ended before its %END line.
	ErrTruncated = errors.New("NRTM stream truncated")
)

// ServerError is an "%ERROR" reply of an NRTM server (a range error, or serials too
// old: the mirror is out of sync and must be reloaded from a dump).
type ServerError struct {
	Msg string // the error line as sent, without the leading '%'
}

// Error returns the server's message.
func (e *ServerError) Error() string { return "NRTM server error: " + e.Msg }

// (compiled on first use, not at every start of the binary)
var notWithin = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)not within\s+(\d+)\s*-\s*(\d+)`) })

// Range returns the serial range the server says it holds, for replies of the form
// "invalid range: Not within LO-HI"; ok is false for other errors.
func (e *ServerError) Range() (lo, hi uint64, ok bool) {
	m := notWithin().FindStringSubmatch(e.Msg)
	if m == nil {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(m[1], 10, 64)
	hi, err2 := strconv.ParseUint(m[2], 10, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// OpKind is the operation of one NRTM update.
type OpKind uint8

// Operations of an NRTM stream.
const (
	OpAdd OpKind = iota + 1 // ADD: add or replace the object
	OpDel                   // DEL: delete the object
)

// String returns the keyword of the operation in an NRTM stream.
func (k OpKind) String() string {
	switch k {
	case OpAdd:
		return "ADD"
	case OpDel:
		return "DEL"
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// Op is one update of an NRTM stream.
type Op struct {
	Kind   OpKind
	Serial uint64 // NRTMv3: as sent; NRTMv1: implied (First + index)
	Object *Object
}

// Stream is a parsed NRTM reply: the %START header and the operations, which are
// checked to carry consecutive serials starting at First.
type Stream struct {
	Version  int    // 1 or 3
	Source   string // upper case, as announced in %START
	First    uint64 // first serial announced in %START
	Last     uint64 // last serial announced in %START
	Filtered bool   // the server announced FILTERED (objects stripped of personal data)
	Ops      []Op
}

// LastSerial returns the serial of the last operation, or First-1 for an empty stream.
func (s *Stream) LastSerial() uint64 {
	if len(s.Ops) == 0 {
		return s.First - 1
	}
	return s.Ops[len(s.Ops)-1].Serial
}

// Expect is what the client asked for; zero fields are not checked.
type Expect struct {
	Source string // the source the stream must announce
	First  uint64 // the first serial requested: the stream must start exactly there
}

// ParseNRTM3 reads a complete NRTM (version 3, or version 1 without per-operation
// serials) reply. It fails on a server %ERROR (as *ServerError), on a missing %END
// (ErrTruncated), on any serial gap, repetition or reordering (ErrSerial) and on
// malformed framing or objects. Nothing is returned on failure: a mirror applies a
// stream completely or not at all.
func ParseNRTM3(r io.Reader, want Expect) (*Stream, error) {
	p := &nrtmParser{br: bufio.NewReaderSize(r, 64<<10)}
	s, err := p.parse(want)
	if err != nil {
		return nil, err
	}
	return s, nil
}

type nrtmParser struct {
	br     *bufio.Reader
	lineNo int
	peeked *string
}

// next returns the next line without its line ending; io.EOF at the end.
func (p *nrtmParser) next() (string, error) {
	if p.peeked != nil {
		l := *p.peeked
		p.peeked = nil
		return l, nil
	}
	var b []byte
	for {
		chunk, isPrefix, err := p.br.ReadLine()
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				break
			}
			if err == io.EOF {
				return "", io.EOF
			}
			return "", fmt.Errorf("mirror: read NRTM stream: %w", err)
		}
		b = append(b, chunk...)
		if len(b) > MaxObjectBytes {
			return "", fmt.Errorf("%w: line %d longer than %d bytes", ErrNRTMFormat, p.lineNo+1, MaxObjectBytes)
		}
		if !isPrefix {
			break
		}
	}
	p.lineNo++
	return strings.TrimRight(string(b), "\r"), nil
}

func (p *nrtmParser) unread(l string) { p.peeked = &l }

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

// serverError recognises "%ERROR..." and "% ERROR..." lines.
func serverError(l string) *ServerError {
	t := strings.TrimSpace(strings.TrimLeft(l, "%"))
	if len(t) >= 5 && strings.EqualFold(t[:5], "ERROR") {
		return &ServerError{Msg: t}
	}
	return nil
}

func (p *nrtmParser) parse(want Expect) (*Stream, error) {
	var s *Stream
	for s == nil {
		l, err := p.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no %%START line", ErrTruncated)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case isBlank(l):
		case serverError(l) != nil:
			return nil, serverError(l)
		case strings.HasPrefix(l, "%START"):
			if s, err = parseStart(l); err != nil {
				return nil, err
			}
		case l[0] == '%' || l[0] == '#':
		default:
			return nil, fmt.Errorf("%w: line %d before %%START: %.60q", ErrNRTMFormat, p.lineNo, l)
		}
	}
	if want.Source != "" && !strings.EqualFold(want.Source, s.Source) {
		return nil, fmt.Errorf("%w: stream is for source %s, requested %s", ErrNRTMFormat, s.Source, strings.ToUpper(want.Source))
	}
	if want.First != 0 && s.First != want.First {
		return nil, fmt.Errorf("%w: stream starts at serial %d, requested %d", ErrSerial, s.First, want.First)
	}
	next := s.First
	for {
		l, err := p.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no %%END %s after serial %d", ErrTruncated, s.Source, next-1)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case isBlank(l):
			continue
		case serverError(l) != nil:
			return nil, serverError(l)
		case strings.HasPrefix(l, "%END"):
			f := strings.Fields(l)
			if len(f) != 2 || !strings.EqualFold(f[1], s.Source) {
				return nil, fmt.Errorf("%w: line %d: %q does not end source %s", ErrNRTMFormat, p.lineNo, l, s.Source)
			}
			return s, nil
		case l[0] == '%' || l[0] == '#':
			continue
		}
		op, err := p.parseOp(l, s, next)
		if err != nil {
			return nil, err
		}
		s.Ops = append(s.Ops, op)
		next = op.Serial + 1
	}
}

func parseStart(l string) (*Stream, error) {
	f := strings.Fields(l)
	if len(f) < 5 || len(f) > 6 || f[0] != "%START" || !strings.EqualFold(f[1], "Version:") {
		return nil, fmt.Errorf("%w: bad header %q", ErrNRTMFormat, l)
	}
	s := &Stream{Source: strings.ToUpper(f[3])}
	switch f[2] {
	case "1":
		s.Version = 1
	case "3":
		s.Version = 3
	default:
		return nil, fmt.Errorf("%w: unsupported NRTM version %q", ErrNRTMFormat, f[2])
	}
	a, b, ok := strings.Cut(f[4], "-")
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first == 0 || last < first {
		return nil, fmt.Errorf("%w: bad serial range %q", ErrNRTMFormat, f[4])
	}
	s.First, s.Last = first, last
	if len(f) == 6 {
		if !strings.EqualFold(f[5], "FILTERED") {
			return nil, fmt.Errorf("%w: bad header %q", ErrNRTMFormat, l)
		}
		s.Filtered = true
	}
	if !validAttrName(s.Source) {
		return nil, fmt.Errorf("%w: bad source name %q", ErrNRTMFormat, f[3])
	}
	return s, nil
}

// parseOp reads "ADD serial" / "DEL serial" (v3) or "ADD" / "DEL" (v1), a blank line
// and the object up to the next blank line.
func (p *nrtmParser) parseOp(l string, s *Stream, want uint64) (Op, error) {
	f := strings.Fields(l)
	var op Op
	switch strings.ToUpper(f[0]) {
	case "ADD":
		op.Kind = OpAdd
	case "DEL":
		op.Kind = OpDel
	default:
		return op, fmt.Errorf("%w: line %d: expected ADD or DEL, got %.60q", ErrNRTMFormat, p.lineNo, l)
	}
	switch {
	case s.Version == 1 && len(f) == 1:
		op.Serial = want
	case s.Version == 3 && len(f) == 2:
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return op, fmt.Errorf("%w: line %d: bad serial %q", ErrNRTMFormat, p.lineNo, f[1])
		}
		op.Serial = n
	default:
		return op, fmt.Errorf("%w: line %d: %q in an NRTMv%d stream", ErrNRTMFormat, p.lineNo, l, s.Version)
	}
	if op.Serial != want {
		return op, fmt.Errorf("%w: serial %d where %d was due (line %d)", ErrSerial, op.Serial, want, p.lineNo)
	}
	if op.Serial > s.Last {
		return op, fmt.Errorf("%w: serial %d beyond the announced range %d-%d", ErrSerial, op.Serial, s.First, s.Last)
	}
	var b strings.Builder
	for {
		l, err := p.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return op, err
		}
		if isBlank(l) {
			if b.Len() == 0 {
				continue
			}
			break
		}
		if l[0] == '%' {
			p.unread(l)
			break
		}
		if b.Len()+len(l) > MaxObjectBytes {
			return op, fmt.Errorf("%w: object of serial %d exceeds %d bytes", ErrNRTMFormat, op.Serial, MaxObjectBytes)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return op, fmt.Errorf("%w: %s %d without an object", ErrNRTMFormat, op.Kind, op.Serial)
	}
	o, err := ParseObject(b.String())
	if err != nil {
		return op, fmt.Errorf("mirror: NRTM %s %d: %w", op.Kind, op.Serial, err)
	}
	op.Object = o
	return op, nil
}
