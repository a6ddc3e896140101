package rpki

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/routing"
)

// group is what the index stores per VRP prefix. The VRPs of the prefix live in
// Table.ents[off:off+n], sorted by ASN; bits is the prefix length (so ROV can
// rebuild a covering VRP's prefix from the route's address), maxMax the largest
// maxLength among them (a longer route matches none of them) and asn the first
// entry's ASN, so a prefix with a single VRP is decided without touching ents. It
// is pointer-free, so the GC never scans the index.
type group struct {
	off    uint32
	asn    routing.ASN
	n      uint16
	bits   uint8
	maxMax uint8
}

func groupEqual(a, b group) bool { return a == b }

// maxGroup is the most VRPs one group holds; a prefix with more VRPs gets several
// groups (index nodes with the same prefix).
const maxGroup = 1<<16 - 1

// entry is one VRP of a group, without its prefix.
type entry struct {
	asn    routing.ASN
	ta     uint16
	maxLen uint8
}

// The VRP prefixes of one family live in a flat array of records sorted by address,
// then length (one record per group), each linked to its nearest covering record.
// The VRPs covering a route are then the route's predecessor in that order (the last
// record not after it) and that record's chain of covering records: the deepest
// record covering the route is always on the predecessor's chain, because every
// record between the two in address order lies inside it. A directory over the top
// address bits (/20 buckets for IPv4; /24 buckets of 2000::/4 for IPv6, with one
// bucket below and one above it) narrows the binary search to a few records, and a
// bucket of more than subMin records has a sub-directory on the next 8 bits. Each
// directory entry also holds the shortest VRP overlapping its bucket: a route
// shorter than that is not found without touching the records.
//
// A random lookup thus reads one directory entry and one or two cache lines of
// records, where a kentik/patricia trie walk made ~10 dependent loads through node
// arrays and tag maps of ~100 MiB (BENCHMARKS.md).
const (
	dirBits4 = 20
	dirBits6 = 20 // /24 buckets: bits 4..23 inside 2000::/4
	subBits  = 8
	subMin   = 16
	noVRP    = 255
)

// rnode is one VRP prefix: its address (IPv4 in the top 32 bits of hi) and length,
// its group of VRPs (group) and its nearest covering record.
type rnode struct {
	hi, lo uint64
	asn    routing.ASN // the group's first ASN
	parent int32       // nearest covering record, -1 none
	off    uint32      // the group's VRPs: Table.ents[off:off+n]
	n      uint16
	bits   uint8
	maxMax uint8
}

func (r *rnode) group() group {
	return group{off: r.off, asn: r.asn, n: r.n, bits: r.bits, maxMax: r.maxMax}
}

// flatIndex holds the VRP prefixes of one family.
type flatIndex struct {
	v6    bool
	nodes []rnode
	keys4 []uint64 // IPv4: address<<32 | length of every record, for a dense search
	// dir[b]: bits 0-31 the first record of bucket b, 32-39 the shortest VRP
	// overlapping the bucket (noVRP: none), 40-63 its sub-directory number + 1 (0:
	// none); dir[len-1] holds len(nodes).
	dir []uint64
	sub []uint32 // sub-directories of 1<<subBits + 1 record offsets
}

func newFlatIndex(v6 bool) *flatIndex { return &flatIndex{v6: v6} }

func (x *flatIndex) buckets() int {
	if x.v6 {
		return 1<<dirBits6 + 2
	}
	return 1 << dirBits4
}

// bucket returns the directory bucket of an address (hi: its top 64 bits).
func (x *flatIndex) bucket(hi uint64) int {
	if !x.v6 {
		return int(hi >> (64 - dirBits4))
	}
	switch top := hi >> 60; {
	case top < 2:
		return 0
	case top > 2:
		return 1<<dirBits6 + 1
	}
	return 1 + int(hi>>(60-dirBits6)&(1<<dirBits6-1))
}

// subDigit returns the sub-directory slot of an address inside its bucket.
func (x *flatIndex) subDigit(hi uint64) int {
	if !x.v6 {
		return int(hi >> (64 - dirBits4 - subBits) & (1<<subBits - 1))
	}
	return int(hi >> (60 - dirBits6 - subBits) & (1<<subBits - 1))
}

// add appends the group of the prefix hi/lo. Groups must come in prefix order;
// finish builds the directory.
func (x *flatIndex) add(hi, lo uint64, g group) {
	x.nodes = append(x.nodes, rnode{hi: hi, lo: lo, asn: g.asn, parent: -1, off: g.off, n: g.n, bits: g.bits, maxMax: g.maxMax})
}

// errIndexFull is returned when one family has more VRP prefixes than the
// directory's 32-bit offsets hold.
var errIndexFull = errors.New("rpki: more than 2^31 VRP prefixes in one address family")

// finish links every record to its nearest covering record and builds the directory.
func (x *flatIndex) finish() error {
	if len(x.nodes) >= 1<<31 {
		return errIndexFull
	}
	var stack []int32
	for i := range x.nodes {
		r := &x.nodes[i]
		for len(stack) > 0 && !x.covers(int(stack[len(stack)-1]), r.hi, r.lo, r.bits) {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			r.parent = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
	nb := x.buckets()
	x.dir = make([]uint64, nb+1)
	minLen := make([]uint8, nb)
	for i := range minLen {
		minLen[i] = noVRP
	}
	j := 0
	for b := 0; b < nb; b++ {
		x.dir[b] = uint64(j)
		for j < len(x.nodes) && x.bucket(x.nodes[j].hi) == b {
			j++
		}
	}
	x.dir[nb] = uint64(len(x.nodes))
	if !x.v6 {
		x.keys4 = make([]uint64, len(x.nodes))
		for i := range x.nodes {
			x.keys4[i] = x.nodes[i].hi | uint64(x.nodes[i].bits)
		}
	}
	for i := range x.nodes {
		r := &x.nodes[i]
		first, last := x.bucket(r.hi), x.bucket(r.hi|lastHi(r.bits))
		for b := first; b <= last; b++ {
			minLen[b] = min(minLen[b], r.bits)
		}
	}
	for b := 0; b < nb; b++ {
		x.dir[b] |= uint64(minLen[b]) << 32
		s, e := int(uint32(x.dir[b])), int(uint32(x.dir[b+1]))
		if e-s <= subMin || x.v6 && (b == 0 || b == nb-1) {
			continue // the outer IPv6 buckets are not split by the next bits
		}
		x.dir[b] |= uint64(len(x.sub)/(1<<subBits+1)+1) << 40
		k := s
		for c := 0; c <= 1<<subBits; c++ {
			for k < e && x.subDigit(x.nodes[k].hi) < c {
				k++
			}
			x.sub = append(x.sub, uint32(k))
		}
	}
	return nil
}

// lastHi returns the host bits of a prefix of length bits within the top 64 bits.
func lastHi(bits uint8) uint64 {
	if bits >= 64 {
		return 0
	}
	return ^uint64(0) >> bits
}

// covers reports whether record i's prefix equals or covers the prefix hi/lo/bits.
func (x *flatIndex) covers(i int, hi, lo uint64, bits uint8) bool {
	r := &x.nodes[i]
	nb := r.bits
	if nb > bits {
		return false
	}
	d := hi ^ r.hi
	if nb <= 64 {
		return nb == 0 || d>>(64-nb) == 0
	}
	return d == 0 && (lo^r.lo)>>(128-nb) == 0
}

// deepest returns the deepest record covering the prefix hi/lo/bits, -1 if none;
// its chain of parents are the other covering records.
func (x *flatIndex) deepest(hi, lo uint64, bits uint8) int {
	if len(x.nodes) == 0 {
		return -1
	}
	b := x.bucket(hi)
	d := x.dir[b]
	if bits < uint8(d>>32) {
		return -1 // no VRP overlapping this bucket is short enough
	}
	s, e := uint32(d), uint32(x.dir[b+1])
	if sn := d >> 40; sn != 0 {
		c := (uint32(sn)-1)*(1<<subBits+1) + uint32(x.subDigit(hi))
		s, e = x.sub[c], x.sub[c+1]
	}
	// the first record after the query in [s, e); the one before it is the
	// predecessor
	if !x.v6 {
		q := hi | uint64(bits)
		for s < e {
			m := (s + e) / 2
			if x.keys4[m] > q {
				e = m
			} else {
				s = m + 1
			}
		}
	}
	for s < e {
		m := (s + e) / 2
		r := &x.nodes[m]
		if r.hi > hi || r.hi == hi && (r.lo > lo || r.lo == lo && r.bits > bits) {
			e = m
		} else {
			s = m + 1
		}
	}
	i := int(s) - 1
	for i >= 0 && !x.covers(i, hi, lo, bits) {
		i = int(x.nodes[i].parent)
	}
	return i
}

// find appends the groups covering the prefix, deepest first.
func (x *flatIndex) find(buf []group, hi, lo uint64, bits uint8) []group {
	for i := x.deepest(hi, lo, bits); i >= 0; i = int(x.nodes[i].parent) {
		buf = append(buf, x.nodes[i].group())
	}
	return buf
}

// prefix returns record i's prefix.
func (x *flatIndex) prefix(i int) netip.Prefix {
	r := &x.nodes[i]
	if !x.v6 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(r.hi>>32))
		return netip.PrefixFrom(netip.AddrFrom4(a), int(r.bits))
	}
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], r.hi)
	binary.BigEndian.PutUint64(a[8:], r.lo)
	return netip.PrefixFrom(netip.AddrFrom16(a), int(r.bits))
}

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
		if t.groupMatches(g, bits, origin) {
			return routing.Valid
		}
	}
	return routing.Invalid
}

// groupMatches reports whether a VRP of g matches the route.
func (t *Table) groupMatches(g group, bits int, origin routing.ASN) bool {
	if bits > int(g.maxMax) {
		return false
	}
	if g.n == 1 {
		return g.asn == origin // the only VRP's maxLength is maxMax
	}
	for _, e := range t.entries(g) {
		if e.asn > origin {
			break // entries are sorted by ASN
		}
		if matches(e, bits, origin) {
			return true
		}
	}
	return false
}

// state is State without the group buffer: it walks the covering chain directly.
func (t *Table) state(q *query, origin routing.ASN) routing.ROVState {
	if !q.valid {
		return routing.NotFound
	}
	x := t.ix6
	if q.is4 {
		x = t.ix4
	}
	i := x.deepest(q.hi, q.lo, q.len)
	if i < 0 {
		return routing.NotFound
	}
	if origin == 0 {
		return routing.Invalid
	}
	for ; i >= 0; i = int(x.nodes[i].parent) {
		r := &x.nodes[i]
		if r.n == 1 {
			if r.asn == origin && q.len <= r.maxMax {
				return routing.Valid
			}
			continue
		}
		if t.groupMatches(r.group(), int(q.len), origin) {
			return routing.Valid
		}
	}
	return routing.Invalid
}

// Route is a route to validate: its prefix and origin AS (0 when the origin cannot
// be determined, e.g. an AS_SET, which never matches).
type Route struct {
	Prefix netip.Prefix
	Origin routing.ASN
}

// ValidateSorted appends the RFC 6811 state of every route to out and returns it
// (state i belongs to routes[i]). It gives the same answers as State in any order,
// but is fastest on routes sorted by prefix (netip.Prefix.Compare order, as VRPs
// returns them): a run of routes with the same prefix and several origins walks the
// trie once, and neighbouring prefixes find their trie nodes in the CPU cache. It
// does not allocate beyond growing out.
func (t *Table) ValidateSorted(routes []Route, out []routing.ROVState) []routing.ROVState {
	out = growStates(out, len(routes))
	var (
		buf     [32]group
		gs      []group
		raw     netip.Prefix // the caller's previous prefix
		q       query        // and its prepared form
		started bool
	)
	for _, r := range routes {
		if !started || r.Prefix != raw {
			nq := prepare(r.Prefix)
			if !started || nq.p != q.p || nq.valid != q.valid {
				gs = t.groups(buf[:0], &nq)
			}
			raw, q, started = r.Prefix, nq, true
		}
		out = append(out, t.decide(gs, q.bits(), r.Origin))
	}
	return out
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
