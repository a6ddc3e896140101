package policy

import (
	"fmt"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// SegmentType is the type of an AS path segment (RFC 4271 §4.3, the same codes).
type SegmentType uint8

// Segment types.
const (
	ASSet      SegmentType = 1 // unordered set of ASNs (aggregation, RFC 6472 deprecates it)
	ASSequence SegmentType = 2 // ordered ASNs, left-most most recently prepended
)

// PathSegment is one segment of an AS path.
type PathSegment struct {
	Type SegmentType   `json:"type"`
	ASNs []routing.ASN `json:"asns"`
}

// ASPath is an AS path as the router sees it on the session, left-most (the neighbour)
// first. See RuleName for how each rule reads it.
type ASPath []PathSegment

// Sequence returns the path of one AS_SEQUENCE segment holding asns (left-most first).
func Sequence(asns ...routing.ASN) ASPath {
	if len(asns) == 0 {
		return nil
	}
	return ASPath{{Type: ASSequence, ASNs: asns}}
}

// maxPathText bounds ParseASPath's input: a path longer than a BGP message could
// carry is not a route.
const maxPathText = 64 << 10

// ParseASPath parses a path as people and looking glasses write it: ASNs separated by
// spaces, left-most first, asplain with or without "AS" ("64500 AS64501"), an AS_SET in
// braces ("{64502,64503}" or "{64502 64503}"). The path must hold at least one ASN and
// every AS_SET at least one.
func ParseASPath(s string) (ASPath, error) {
	if len(s) > maxPathText {
		return nil, fmt.Errorf("AS path: %d bytes is longer than any BGP message", len(s))
	}
	var p ASPath
	rest := s
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] == '{' {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("AS path %q: unclosed AS_SET", s)
			}
			var set []routing.ASN
			for _, f := range strings.FieldsFunc(rest[1:end], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				a, err := routing.ParseASNumber(f)
				if err != nil {
					return nil, fmt.Errorf("AS path %q: %w", s, err)
				}
				set = append(set, a)
			}
			if len(set) == 0 {
				return nil, fmt.Errorf("AS path %q: empty AS_SET", s)
			}
			p = append(p, PathSegment{Type: ASSet, ASNs: set})
			rest = rest[end+1:]
			continue
		}
		end := strings.IndexAny(rest, " \t{")
		if end < 0 {
			end = len(rest)
		}
		a, err := routing.ParseASNumber(rest[:end])
		if err != nil {
			return nil, fmt.Errorf("AS path %q: %w", s, err)
		}
		if n := len(p); n > 0 && p[n-1].Type == ASSequence {
			p[n-1].ASNs = append(p[n-1].ASNs, a)
		} else {
			p = append(p, PathSegment{Type: ASSequence, ASNs: []routing.ASN{a}})
		}
		rest = rest[end:]
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("AS path %q: no ASN (an eBGP route always has one)", s)
	}
	return p, nil
}

// String renders the path as ParseASPath reads it: "64500 64501 {64502,64503}".
func (p ASPath) String() string {
	var b strings.Builder
	for i, seg := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		if seg.Type == ASSet {
			b.WriteByte('{')
		}
		for j, a := range seg.ASNs {
			if j > 0 {
				if seg.Type == ASSet {
					b.WriteByte(',')
				} else {
					b.WriteByte(' ')
				}
			}
			fmt.Fprint(&b, uint32(a))
		}
		if seg.Type == ASSet {
			b.WriteByte('}')
		}
	}
	return b.String()
}

// Len is the path length the as-path-length rule compares: every ASN of an
// AS_SEQUENCE (prepends included) plus one per AS_SET (RFC 4271 §9.1.2.2).
func (p ASPath) Len() int {
	n := 0
	for _, seg := range p {
		if seg.Type == ASSet {
			n++
		} else {
			n += len(seg.ASNs)
		}
	}
	return n
}

// First returns the left-most ASN; ok is false when the path is empty or starts with
// an AS_SET.
func (p ASPath) First() (routing.ASN, bool) {
	if len(p) == 0 || p[0].Type != ASSequence || len(p[0].ASNs) == 0 {
		return 0, false
	}
	return p[0].ASNs[0], true
}

// Origin returns the right-most ASN, the route's origin; ok is false when the path is
// empty or ends in an AS_SET (RFC 6811 then has no origin: origin AS "NONE").
func (p ASPath) Origin() (routing.ASN, bool) {
	if len(p) == 0 {
		return 0, false
	}
	last := p[len(p)-1]
	if last.Type != ASSequence || len(last.ASNs) == 0 {
		return 0, false
	}
	return last.ASNs[len(last.ASNs)-1], true
}

// ASNs returns every ASN of the path in order, AS_SET members included.
func (p ASPath) ASNs() []routing.ASN {
	var out []routing.ASN
	for _, seg := range p {
		out = append(out, seg.ASNs...)
	}
	return out
}
