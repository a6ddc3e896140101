package rpki

import (
	"encoding/binary"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/routing"
)

// query is a route prefix prepared for a lookup: masked, IPv4-mapped IPv6 unmapped,
// as a 128-bit address (IPv4 in the top 32 bits of hi) and length.
type query struct {
	p      netip.Prefix
	hi, lo uint64
	len    uint8
	is4    bool
	valid  bool
}

// prepare normalises p.
func prepare(p netip.Prefix) query {
	if !p.IsValid() {
		return query{p: p}
	}
	if a := p.Addr(); a.Is4In6() {
		// ::ffff:192.0.2.0/120 is the IPv4 route 192.0.2.0/24.
		if p.Bits() < 96 {
			return query{p: p}
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	q := query{p: p, valid: true, len: uint8(p.Bits())}
	if p.Addr().Is4() {
		a := p.Addr().As4()
		q.is4 = true
		q.hi = uint64(binary.BigEndian.Uint32(a[:])) << 32
		return q
	}
	a := p.Addr().As16()
	q.hi, q.lo = binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	return q
}

// groups appends the groups of every VRP prefix that covers the query, deepest
// prefix first.
func (t *Table) groups(buf []group, q *query) []group {
	switch {
	case !q.valid:
		return buf
	case q.is4:
		return t.ix4.find(buf, q.hi, 0, q.len)
	default:
		return t.ix6.find(buf, q.hi, q.lo, q.len)
	}
}

// entries returns the VRPs of g.
func (t *Table) entries(g group) []entry {
	return t.ents[g.off : g.off+uint32(g.n)]
}

// matches reports whether e matches a route of length bits from origin (RFC 6811
// §2: same ASN, route not longer than maxLength). AS0 VRPs (RFC 6483 §4) never
// match because origin 0 is rejected by the callers.
func matches(e entry, bits int, origin routing.ASN) bool {
	return e.asn == origin && bits <= int(e.maxLen)
}

// decide returns the RFC 6811 state from the covering groups (deepest first, as
// groups returns them), stopping at the first matching VRP: the route's own prefix or
// its closest covering ROA is the usual match.
func (t *Table) decide(gs []group, bits int, origin routing.ASN) routing.ROVState {
	if len(gs) == 0 {
		return routing.NotFound
	}
	if origin == 0 {
		return routing.Invalid
	}
	for _, g := range gs {
		if bits <= int(g.maxMax) && t.entsMatch(g.off, g.n, g.asn, uint8(bits), origin) {
			return routing.Valid
		}
	}
	return routing.Invalid
}

// entsMatch reports whether a VRP of the group ents[off:off+n] (first ASN asn)
// matches a route of length bits (not longer than the group's maxMax) from origin.
func (t *Table) entsMatch(off uint32, n uint16, asn routing.ASN, bits uint8, origin routing.ASN) bool {
	if n == 1 {
		return asn == origin // the only VRP's maxLength is maxMax
	}
	if asn > origin {
		return false // entries are sorted by ASN
	}
	for _, e := range t.ents[off : off+uint32(n)] {
		if e.asn > origin {
			break
		}
		if e.asn == origin && bits <= e.maxLen {
			return true
		}
	}
	return false
}

// walk decides a route of length l from origin, starting at node r (where a capped
// run continues, rov_runs.go): up the parent chain to the first node no longer than
// the route, then up to the first node with a matching VRP.
func (t *Table) walk(x *flatIndex, r *vnode, l uint8, origin routing.ASN) routing.ROVState {
	if r.n == 0 {
		return routing.NotFound
	}
	for r.bits > l {
		if r.parent < 0 {
			return routing.NotFound
		}
		r = &x.nodes[r.parent]
	}
	if origin == 0 {
		return routing.Invalid
	}
	for {
		if l <= r.maxMax && t.entsMatch(r.off, r.n, r.asn, l, origin) {
			return routing.Valid
		}
		if r.parent < 0 {
			return routing.Invalid
		}
		r = &x.nodes[r.parent]
	}
}

// state4 is State for the IPv4 route a/l (a need not be masked: a node no longer
// than l that holds a holds the whole route).
func (t *Table) state4(a uint32, l uint8, origin routing.ASN) routing.ROVState {
	x := t.ix4
	return t.lookupRec(x, x.interval4(a), l, origin)
}

// state is State for a prepared query.
func (t *Table) state(q *query, origin routing.ASN) routing.ROVState {
	switch {
	case !q.valid:
		return routing.NotFound
	case q.is4:
		return t.state4(uint32(q.hi>>32), q.len, origin)
	}
	x := t.ix6
	return t.lookupRec(x, x.interval6(q.hi, q.lo), q.len, origin)
}

// Route is a route to validate: its prefix and origin AS (0 when the origin cannot
// be determined, e.g. an AS_SET, which never matches).
type Route struct {
	Prefix netip.Prefix
	Origin routing.ASN
}

// ValidateSorted appends the RFC 6811 state of every route to out and returns it
// (state i belongs to routes[i]). It is States under its older name: the batched
// lookups are fast in any order, and sorted routes (netip.Prefix.Compare order, as
// VRPs returns them) find their records in the CPU cache.
func (t *Table) ValidateSorted(routes []Route, out []routing.ROVState) []routing.ROVState {
	return t.States(routes, out)
}

// bits is the route length decide needs (an IPv4-mapped route counts with its IPv4
// length).
func (q *query) bits() int { return int(q.len) }

func growStates(s []routing.ROVState, n int) []routing.ROVState {
	if cap(s)-len(s) >= n {
		return s
	}
	g := make([]routing.ROVState, len(s), len(s)+n)
	copy(g, s)
	return g
}
