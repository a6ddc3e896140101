// Package rpsl parses RPSL (RFC 2622, RFC 4012) text into objects: a streaming scanner
// over plain or gzip-compressed dumps, with bounded memory per object and per line. It
// does no I/O policy of its own beyond reading the io.Reader it is given.
package rpsl

import (
	"slices"
	"strings"
)

// Attr is one attribute of an object. Name is lower-case. Value has end-of-line
// comments removed and continuation lines joined with a single space. Raw keeps the
// text after the colon exactly as written (comments, continuation lines with their
// leading space, tab or '+'), for whois replies; lines are separated by '\n'.
type Attr struct {
	Name  string
	Value string
	Raw   string
	Line  int
}

// Object is one RPSL object. Class is the lower-case name of its first attribute and Key
// that attribute's value. File and Line locate the first attribute in the input. The
// values of an object read by a Scanner share one allocation: keeping one of them
// keeps all (strings.Clone one that outlives the object).
type Object struct {
	Class string
	Key   string
	Attrs []Attr
	File  string
	Line  int
}

// Get returns the value of the first attribute called name (lower-case), or "".
func (o *Object) Get(name string) string {
	for i := range o.Attrs {
		if o.Attrs[i].Name == name {
			return o.Attrs[i].Value
		}
	}
	return ""
}

// GetAll returns the values of every attribute called name, in order.
func (o *Object) GetAll(name string) []string {
	var out []string
	for i := range o.Attrs {
		if o.Attrs[i].Name == name {
			out = append(out, o.Attrs[i].Value)
		}
	}
	return out
}

// Count returns how many attributes are called name.
func (o *Object) Count(name string) int {
	n := 0
	for i := range o.Attrs {
		if o.Attrs[i].Name == name {
			n++
		}
	}
	return n
}

// Source returns the upper-case value of the first source attribute, or "".
func (o *Object) Source() string {
	return strings.ToUpper(strings.TrimSpace(o.Get("source")))
}

// Text renders the object as RPSL suitable for a whois reply: one "name:" padded to 16
// columns per attribute, the raw value with its comments and continuation lines, and no
// trailing blank line (the last line ends with '\n').
func (o *Object) Text() string {
	var b strings.Builder
	o.WriteText(&b)
	return b.String()
}

// WriteText appends the object's Text to b.
func (o *Object) WriteText(b *strings.Builder) {
	b.Write(o.AppendText(nil))
}

// AppendText appends the object's Text to b and returns the extended slice.
func (o *Object) AppendText(b []byte) []byte {
	n := 0
	for i := range o.Attrs {
		n += max(len(o.Attrs[i].Name)+1, 16) + max(len(o.Attrs[i].Raw), len(o.Attrs[i].Value)) + 2
	}
	b = slices.Grow(b, n)
	for i := range o.Attrs {
		a := &o.Attrs[i]
		raw := a.Raw
		if raw == "" && a.Value != "" {
			raw = a.Value
		}
		first, rest, more := strings.Cut(raw, "\n")
		b = append(b, a.Name...)
		b = append(b, ':')
		first = strings.TrimSpace(first)
		if first != "" {
			if pad := 15 - len(a.Name); pad > 0 {
				b = append(b, spaces[:pad]...)
			}
			b = append(b, first...)
		}
		b = append(b, '\n')
		if more {
			b = append(b, rest...)
			b = append(b, '\n')
		}
	}
	return b
}

const spaces = "                "

// SplitList splits an RPSL list value ("AS1, AS2 AS-FOO") into its members: separated
// by commas and/or white space, trimmed, empty members dropped.
func SplitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}
