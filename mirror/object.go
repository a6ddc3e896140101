// Package mirror keeps a local copy of IRR sources current. A mirror is a directory
// holding, per source, the current objects (an RPSL file) and a state file with the
// serial (NRTMv3) or session and version (NRTMv4). Updates come from NRTMv3 streams
// over whois (-g SOURCE:3:FIRST-LAST) and from NRTMv4 (draft-ietf-grow-nrtm-v4)
// signed Update Notification Files with snapshot and delta files. Every update is
// applied to a live index as one batch, so a query sees the state before or after an
// update, never a half-applied one.
package mirror

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// MaxObjectBytes caps the text of one RPSL object. The largest real objects (huge
// aut-nums) are about 2 MB.
const MaxObjectBytes = 16 << 20

// ErrObject is wrapped by every error about a malformed RPSL object.
var ErrObject = errors.New("malformed RPSL object")

// Object is one RPSL object as the mirror stores it: its exact text and the identity
// that adds, modifications and deletions are matched on. The zero value is not a valid
// object; build one with ParseObject.
type Object struct {
	Class  string // object class, lower case ("route", "as-set")
	Key    string // primary key, upper case; for route/route6 prefix and origin ("192.0.2.0/24AS64496")
	Source string // value of the source attribute, upper case
	Text   string // the object's lines, each ending in "\n"
}

// ID returns the identity of the object within its source: class and primary key.
func (o *Object) ID() string { return o.Class + "\x00" + o.Key }

// ParseObject checks the framing of one RPSL object and extracts its class, primary
// key and source. It does not validate attribute values beyond what the key needs.
func ParseObject(text string) (*Object, error) {
	if len(text) > MaxObjectBytes {
		return nil, fmt.Errorf("%w: object of %d bytes exceeds %d", ErrObject, len(text), MaxObjectBytes)
	}
	// Texts with "\n" line ends are kept as given; others are rebuilt normalised.
	normal := strings.HasSuffix(text, "\n") && !strings.Contains(text, "\r")
	var (
		b      strings.Builder
		attrs  []attr
		lineNo int
	)
	for line := range strings.Lines(text) {
		lineNo++
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			return nil, fmt.Errorf("%w: blank line %d inside the object", ErrObject, lineNo)
		}
		switch line[0] {
		case ' ', '\t', '+':
			if len(attrs) == 0 {
				return nil, fmt.Errorf("%w: continuation line before the first attribute", ErrObject)
			}
			attrs[len(attrs)-1].value += " " + strings.TrimSpace(strings.TrimPrefix(line, "+"))
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok || !validAttrName(name) {
				return nil, fmt.Errorf("%w: line %d is not an attribute: %.40q", ErrObject, lineNo, line)
			}
			attrs = append(attrs, attr{name: strings.ToLower(name), value: value})
		}
		if !normal {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if len(attrs) == 0 {
		return nil, fmt.Errorf("%w: empty object", ErrObject)
	}
	o := &Object{Class: attrs[0].name, Text: text}
	if !normal {
		o.Text = b.String()
	}
	first := clean(attrs[0].value)
	if first == "" {
		return nil, fmt.Errorf("%w: %s without a primary key", ErrObject, o.Class)
	}
	switch o.Class {
	case "route", "route6":
		origin := clean(lookup(attrs, "origin"))
		if origin == "" {
			return nil, fmt.Errorf("%w: %s %s without origin", ErrObject, o.Class, first)
		}
		if p, err := netip.ParsePrefix(first); err == nil {
			first = p.String()
		}
		o.Key = strings.ToUpper(first + origin)
	case "person", "role":
		h := clean(lookup(attrs, "nic-hdl"))
		if h == "" {
			return nil, fmt.Errorf("%w: %s %q without nic-hdl", ErrObject, o.Class, first)
		}
		o.Key = strings.ToUpper(h)
	default:
		o.Key = strings.ToUpper(first)
	}
	o.Source = strings.ToUpper(clean(lookup(attrs, "source")))
	if o.Source == "" {
		return nil, fmt.Errorf("%w: %s %s without source", ErrObject, o.Class, o.Key)
	}
	return o, nil
}

type attr struct{ name, value string }

func lookup(attrs []attr, name string) string {
	for _, a := range attrs {
		if a.name == name {
			return a.value
		}
	}
	return ""
}

// clean strips an end-of-line comment and collapses white space.
func clean(v string) string {
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = v[:i]
	}
	return strings.Join(strings.Fields(v), " ")
}

func validAttrName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*') {
			return false
		}
	}
	return true
}

// ScanObjects splits an RPSL file into object texts: objects are separated by blank
// lines, and lines starting with '#' or '%' are comments. fn is called once per
// object, in file order; an error from fn stops the scan and is returned.
func ScanObjects(r io.Reader, fn func(text string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur strings.Builder
	flush := func() error {
		if cur.Len() == 0 {
			return nil
		}
		s := cur.String()
		cur.Reset()
		return fn(s)
	}
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			t := strings.TrimRight(line, "\r\n")
			switch {
			case strings.TrimSpace(t) == "":
				if ferr := flush(); ferr != nil {
					return ferr
				}
			case t[0] == '#' || t[0] == '%':
			default:
				if cur.Len()+len(t) > MaxObjectBytes {
					return fmt.Errorf("%w: object exceeds %d bytes", ErrObject, MaxObjectBytes)
				}
				cur.WriteString(t)
				cur.WriteByte('\n')
			}
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("mirror: read RPSL: %w", err)
		}
	}
}
