package rpsl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Limits that keep memory bounded on hostile input. A longer line or a larger object is
// reported as a SyntaxError and skipped. Real aut-nums reach 1.5 MB (RIPE-NONAUTH has
// one with 40,000 lines), hence 4 MiB per object.
const (
	MaxLineBytes   = 64 << 10
	MaxObjectBytes = 4 << 20
)

// SyntaxError is a malformed object. The Scanner has skipped to the next object when
// it returns one, so scanning can continue.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Scanner reads RPSL objects one at a time from a plain or gzip-compressed stream
// (detected by its magic bytes). Empty lines separate objects; lines starting with '%'
// or '#' are comments and ignored.
type Scanner struct {
	name  string
	src   io.Reader
	r     *bufio.Reader
	gz    *gzip.Reader
	ready bool
	line  int
	err   error // sticky read error (io.EOF at the end)

	names map[string]nameEntry // interned lower-case attribute names, by spelling
	cache [64]nameEntry        // direct-mapped cache in front of names
	val   []byte               // value of the current attribute
	raw   []byte               // raw text of the current attribute
	text  []byte               // values and raw texts of the finished attributes
	pend  []pendAttr           // the finished attributes of the current object

	// A chunk scanner (NewChunkScanner) cuts lines out of data in place instead of
	// copying them through a bufio.Reader, and returns the same Object (and attribute
	// array) from every Next: a parallel load keeps nothing of an object but the
	// strings of its values.
	chunk bool
	data  []byte
	obj   Object
	attrs []Attr
}

// nameEntry is an attribute name as spelled in the input and its lower-case form.
type nameEntry struct{ raw, lower string }

// pendAttr is a finished attribute whose value and raw text are text[v0:v1] and
// text[r0:r1]; one string per object holds them all.
type pendAttr struct {
	name           string
	line           int
	v0, v1, r0, r1 int
}

// NewScanner returns a Scanner over r; name is used in error messages (usually the file
// path).
func NewScanner(r io.Reader, name string) *Scanner {
	return &Scanner{name: name, src: r, names: make(map[string]nameEntry)}
}

// Name returns the name given to NewScanner.
func (s *Scanner) Name() string { return s.name }

func (s *Scanner) init() error {
	s.ready = true
	br := bufio.NewReaderSize(s.src, MaxLineBytes+1)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("rpsl: %s: gzip: %w", s.name, err)
		}
		s.gz = gz
		br = bufio.NewReaderSize(gz, MaxLineBytes+1)
	}
	s.r = br
	return nil
}

// readLine returns the next line without its line ending. tooLong reports a line over
// MaxLineBytes (its content is discarded). err is io.EOF only when no line is left.
func (s *Scanner) readLine() (line []byte, tooLong bool, err error) {
	if s.chunk {
		return s.chunkLine()
	}
	line, err = s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		tooLong = true
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = s.r.ReadSlice('\n')
		}
		line = nil
		if err == io.EOF {
			err = nil
		}
	}
	if err != nil {
		if err == io.EOF && (len(line) > 0 || tooLong) {
			err = nil
		} else {
			return nil, false, err
		}
	}
	s.line++
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(line) > MaxLineBytes {
		return nil, true, nil
	}
	return line, tooLong, nil
}

// chunkLine is readLine over s.data. A bufio.Reader of MaxLineBytes+1 bytes, as
// readLine uses, reports a line as too long exactly when it has more than MaxLineBytes
// bytes before its '\n' (or before the end of the input), so the lines, line numbers
// and too-long lines are those readLine gives for the same bytes (FuzzParallelLoad
// compares the two).
func (s *Scanner) chunkLine() (line []byte, tooLong bool, err error) {
	if len(s.data) == 0 {
		return nil, false, io.EOF
	}
	i := bytes.IndexByte(s.data, '\n')
	if i < 0 {
		line, s.data = s.data, nil
	} else {
		line, s.data = s.data[:i], s.data[i+1:]
	}
	s.line++
	if len(line) > MaxLineBytes {
		return nil, true, nil
	}
	for len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, false, nil
}

// Next returns the next object, io.EOF at the end of the input, a *SyntaxError for a
// malformed object (scanning may continue), or another error when reading fails (the
// Scanner is then unusable).
func (s *Scanner) Next() (*Object, error) {
	if s.err != nil {
		return nil, s.err
	}
	if !s.ready {
		if err := s.init(); err != nil {
			s.err = err
			return nil, err
		}
	}
	s.text, s.pend = s.text[:0], s.pend[:0]
	started, startLine := false, 0
	var (
		synErr  *SyntaxError
		size    int
		inAttr  bool
		curName string
		curLine int
		contd   bool
	)
	fail := func(line int, format string, args ...any) {
		if synErr == nil {
			synErr = &SyntaxError{File: s.name, Line: line, Msg: fmt.Sprintf(format, args...)}
		}
	}
	finishAttr := func() {
		if !inAttr {
			return
		}
		inAttr = false
		if synErr != nil {
			return
		}
		a := pendAttr{name: curName, line: curLine, v0: len(s.text)}
		s.text = append(s.text, s.val...)
		a.v1 = len(s.text)
		a.r0, a.r1 = a.v0, a.v1
		if contd || !bytes.Equal(s.raw, s.val) {
			a.r0 = len(s.text)
			s.text = append(s.text, s.raw...)
			a.r1 = len(s.text)
		}
		s.pend = append(s.pend, a)
	}
	finish := func() (*Object, error) {
		finishAttr()
		if synErr != nil {
			return nil, synErr
		}
		if len(s.pend) == 0 {
			return nil, &SyntaxError{File: s.name, Line: startLine, Msg: "object without attributes"}
		}
		// One allocation for every value of the object, one for the object and its
		// attributes.
		text := string(s.text)
		var (
			obj   *Object
			attrs []Attr
		)
		if s.chunk {
			if cap(s.attrs) < len(s.pend) {
				s.attrs = make([]Attr, len(s.pend), max(len(s.pend), 2*cap(s.attrs)))
			}
			obj, attrs = &s.obj, s.attrs[:len(s.pend)]
		} else {
			obj, attrs = newObject(len(s.pend))
		}
		for i, a := range s.pend {
			attrs[i] = Attr{Name: a.name, Value: text[a.v0:a.v1], Raw: text[a.r0:a.r1], Line: a.line}
		}
		*obj = Object{Class: attrs[0].Name, Key: attrs[0].Value, File: s.name, Line: attrs[0].Line, Attrs: attrs}
		if obj.Key == "" {
			return nil, &SyntaxError{File: s.name, Line: obj.Line, Msg: fmt.Sprintf("%s object without a primary key", obj.Class)}
		}
		return obj, nil
	}
	for {
		line, tooLong, err := s.readLine()
		if err != nil {
			if err != io.EOF {
				s.err = fmt.Errorf("rpsl: read %s: %w", s.name, err)
				return nil, s.err
			}
			s.err = io.EOF
			if started {
				return finish()
			}
			return nil, io.EOF
		}
		if tooLong {
			started = true
			fail(s.line, "line longer than %d bytes", MaxLineBytes)
			continue
		}
		// Only an empty line ends an object; a line of white space inside an object
		// is an empty continuation line (as IRRd reads it).
		if len(line) == 0 || !started && len(bytes.TrimSpace(line)) == 0 {
			if started {
				return finish()
			}
			continue
		}
		if line[0] == '%' || line[0] == '#' {
			continue
		}
		if !started {
			started, startLine = true, s.line
		}
		size += len(line) + 1
		if size > MaxObjectBytes {
			fail(s.line, "object starting at line %d larger than %d bytes", startLine, MaxObjectBytes)
			continue
		}
		if synErr != nil {
			continue
		}
		switch line[0] {
		case ' ', '\t', '+':
			if !inAttr {
				fail(s.line, "continuation line before any attribute")
				continue
			}
			contd = true
			s.raw = append(s.raw, '\n')
			if kept := bytes.TrimRight(line, " \t\r"); len(kept) > 0 {
				s.raw = append(s.raw, kept...)
			} else {
				s.raw = append(s.raw, line[0]) // keep the marker: an empty line would end the object
			}
			piece := bytes.TrimSpace(stripComment(line[1:]))
			if len(piece) > 0 {
				if len(s.val) > 0 {
					s.val = append(s.val, ' ')
				}
				s.val = append(s.val, piece...)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			fail(s.line, "line is neither an attribute nor a continuation: %q", truncate(line))
			continue
		}
		name := line[:colon]
		if !validName(name) {
			fail(s.line, "invalid attribute name %q", truncate(name))
			continue
		}
		finishAttr()
		inAttr, contd, curLine = true, false, s.line
		curName = s.intern(name)
		rest := line[colon+1:]
		s.raw = append(s.raw[:0], bytes.TrimSpace(rest)...)
		s.val = append(s.val[:0], bytes.TrimSpace(stripComment(rest))...)
	}
}

// newObject allocates an Object and n attributes, together when n is small (most
// objects have at most eight attributes).
func newObject(n int) (*Object, []Attr) {
	switch {
	case n <= 4:
		x := new(struct {
			o Object
			a [4]Attr
		})
		return &x.o, x.a[:n:n]
	case n <= 8:
		x := new(struct {
			o Object
			a [8]Attr
		})
		return &x.o, x.a[:n:n]
	}
	return new(Object), make([]Attr, n)
}

// Close releases the gzip reader, if any. It does not close the underlying reader.
func (s *Scanner) Close() error {
	if s.gz != nil {
		return s.gz.Close()
	}
	return nil
}

func (s *Scanner) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	c := &s.cache[(uint(len(b))<<3^uint(b[0])^uint(b[len(b)-1])<<1)&63]
	if c.raw == string(b) {
		return c.lower
	}
	if e, ok := s.names[string(b)]; ok {
		*c = e
		return e.lower
	}
	e := nameEntry{raw: string(b), lower: strings.ToLower(string(b))}
	if len(s.names) < 1024 {
		s.names[e.raw] = e
		*c = e
	}
	return e.lower
}

func stripComment(b []byte) []byte {
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		return b[:i]
	}
	return b
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// validName reports whether b is an RPSL attribute name: a letter followed by letters,
// digits, '-' or '_'.
func validName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// Files expands path into the RPSL files to read: the path itself when it is a file, or
// every regular file of a directory (not recursive, hidden files skipped) in sorted
// order.
func Files(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rpsl: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("rpsl: %w", err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		out = append(out, filepath.Join(path, e.Name()))
	}
	sort.Strings(out)
	return out, nil
}

// NewChunkScanner returns a Scanner over one piece of a plain RPSL stream that starts
// after line firstLine of the file (so that messages give the file's line numbers).
// The piece must start at an object boundary (after an empty line, or at the start of
// the file) for its objects to be those a Scanner over the whole file returns: a
// parallel load cuts a file at empty lines. No gzip detection is done.
//
// Unlike NewScanner's, the *Object that Next returns and its Attrs are valid only
// until the next call to Next (they are reused); the strings in them stay valid.
// data must not change while the Scanner is used.
func NewChunkScanner(data []byte, name string, firstLine int) *Scanner {
	s := NewScanner(nil, name)
	s.ready, s.line = true, firstLine
	s.chunk, s.data = true, data
	return s
}

// Reset points a chunk scanner (NewChunkScanner) at data, which must start at an object
// boundary after line line of the file: a parallel load scans most objects itself and
// hands this Scanner only the ones its fast path declines, one at a time.
func (s *Scanner) Reset(data []byte, line int) {
	s.data, s.line, s.err = data, line, nil
}

// Rest returns what a chunk scanner has not read yet and the number of the last line
// it read: after Next, the data after the object (and the empty line that ended it).
func (s *Scanner) Rest() ([]byte, int) { return s.data, s.line }
