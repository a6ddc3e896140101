package irr

import (
	"bytes"

	"github.com/bgpfilter/bgpfilter/irr/rpsl"
)

// The second fast path of a parallel load, for the objects that are not plain routes
// (as-sets, aut-nums, routes with member-of or several origins) but are written in
// stored form all the same (see fastroute.go): the chunk builds the rpsl.Object that
// rpsl.Scanner would return straight from the bytes, without the scanner's per-line
// copies, and the record's text is the input bytes instead of an AppendText
// rendering. Validation is prepareRecord's, the same as for every other object.
// TestStoredObjectMatchesScanner and FuzzFastRoute compare the objects and records.

// storedObject builds the object at the start of data (a non-empty line at an object
// boundary, after line line of the file) when every line of it is an attribute in
// stored form. It returns the object (its attributes in attrs, which the caller
// reuses), the length of its text, the bytes and lines consumed, and ok.
func (c *chunk) storedObject(data []byte, file string, line int, attrs []rpsl.Attr) (o rpsl.Object, text, end, lines int, ok bool) {
	p, size := 0, 0
	spans := c.spans[:0]
	for {
		if p == len(data) {
			text, end = p, p // the input ends the object
			break
		}
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			return o, 0, 0, 0, false // a last line without '\n': not the stored text
		}
		ln := data[p : p+i]
		if len(ln) == 0 {
			text, end, lines = p, p+1, lines+1
			break
		}
		lines++
		if size += len(ln) + 1; len(ln) > rpsl.MaxLineBytes || size > rpsl.MaxObjectBytes {
			return o, 0, 0, 0, false
		}
		colon := bytes.IndexByte(ln, ':')
		if colon < 0 || !plainName(ln[:colon]) || !storedForm(colon, ln[colon+1:]) {
			return o, 0, 0, 0, false
		}
		// Raw is the text after the padding (storedForm: no white space around it);
		// Value is Raw up to a '#', trimmed (nothing to trim on the left).
		r0 := p + colon + 1
		if r0 < p+i {
			r0 += max(15-colon, 0)
		}
		raw := data[r0 : p+i]
		v1 := p + i
		if j := bytes.IndexByte(raw, '#'); j >= 0 {
			v1 = r0 + len(bytes.TrimSpace(raw[:j]))
		}
		spans = append(spans, attrSpan{start: p, colon: colon, v1: v1, r0: r0, r1: p + i})
		p += i + 1
	}
	c.spans = spans
	// One string for every value of the object, as the scanner allocates.
	all := string(data[:text])
	if cap(attrs) < len(spans) {
		attrs = make([]rpsl.Attr, len(spans))
	}
	attrs = attrs[:len(spans)]
	for i, s := range spans {
		attrs[i] = rpsl.Attr{Name: c.name(data[s.start : s.start+s.colon]), Value: all[s.r0:s.v1], Raw: all[s.r0:s.r1], Line: line + 1 + i}
	}
	o = rpsl.Object{Class: attrs[0].Name, Key: attrs[0].Value, Attrs: attrs, File: file, Line: line + 1}
	if o.Key == "" {
		return o, 0, 0, 0, false // the scanner's error
	}
	return o, text, end, lines, true
}

// attrSpan locates an attribute of a stored-form object, relative to the object's
// start: its line starts at start, its name has colon bytes, its value is [r0, v1)
// and its raw text [r0, r1).
type attrSpan struct {
	start, colon, v1, r0, r1 int
}

// name interns an attribute name of the chunk (lower case: stored form).
func (c *chunk) name(b []byte) string {
	if s, ok := c.names[string(b)]; ok {
		return s
	}
	if c.names == nil {
		c.names = make(map[string]string)
	}
	s := string(b)
	if len(c.names) < 1024 {
		c.names[s] = s
	}
	return s
}
