package rpki

import (
	"encoding/binary"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/kentik/patricia"
	"github.com/kentik/patricia/generics_tree"
)

// group is the one tag stored per trie node. The VRPs of the node's prefix live in
// Table.ents[off:off+n], sorted by ASN; bits is the prefix length (so ROV can
// rebuild a covering VRP's prefix from the route's address), maxMax the largest
// maxLength among them (a longer route matches none of them) and asn the first
// entry's ASN, so a prefix with a single VRP is decided without touching ents. It
// is pointer-free, so the GC never scans the tries' tag maps (reference go.md §1.1),
// and one tag per node means FindTags makes one map probe per covering prefix, not
// one per VRP.
type group struct {
	off    uint32
	asn    routing.ASN
	n      uint16
	bits   uint8
	maxMax uint8
}

func groupEqual(a, b group) bool { return a == b }

// maxGroup is the most VRPs one group holds; a prefix with more VRPs gets several
// groups (tags) on its node.
const maxGroup = 1<<16 - 1

// entry is one VRP of a group, without its prefix.
type entry struct {
	asn    routing.ASN
	ta     uint16
	maxLen uint8
}

// minLenIndex holds, per /16 of the address space (the top 16 bits of an IPv4 or
// IPv6 address), the shortest prefix length of any VRP that overlaps it (noVRP if
// none). A VRP covering route p overlaps p's /16 and is not longer than p, so
// p.Bits() < minLen[p's /16] proves p not found without walking the trie.
type minLenIndex [1 << 16]uint8

const noVRP = 255

func (m *minLenIndex) init() {
	for i := range m {
		m[i] = noVRP
	}
}

// add records a VRP of length bits whose address starts with top16.
func (m *minLenIndex) add(top16 uint16, bits uint8) {
	if bits >= 16 {
		m[top16] = min(m[top16], bits)
		return
	}
	span := 1 << (16 - bits)
	start := int(top16) &^ (span - 1)
	for i := start; i < start+span; i++ {
		m[i] = min(m[i], bits)
	}
}

// The tries are sharded: a VRP of at least shardBits4 (IPv4) or shardBits6 (IPv6)
// bits lives in the small trie of its /16 (IPv4) or /24 (IPv6), shorter VRPs in
// one "short" trie per family. A lookup walks the short trie only when the /16
// index shows a short VRP there, and the shard trie only for routes of at least the
// shard length. Every lookup is still a kentik/patricia FindTags walk, but a
// shard's nodes and tag map are a few cache lines instead of a walk through one
// 60 MiB node array plus a probe of a 700k-entry map per covering VRP, which made
// even sorted lookups cache-miss bound (reference go.md §1.1).
const (
	shardBits4 = 16
	shardBits6 = 24
)

// shardGroups is how many prefixes a shard trie collects before the next /16
// (/24) starts a new one: neighbouring sparse /16s share a trie, which keeps the
// number of tries and tag maps (and their memory) down.
const shardGroups = 64

// index4 holds the IPv4 VRPs.
type index4 struct {
	short  *generics_tree.TreeV4[group]
	shards [1 << shardBits4]*generics_tree.TreeV4[group] // by /16; nil = no VRP
	tries  []*generics_tree.TreeV4[group]                // every shard trie once
	fill   int                                           // prefixes in the last trie
	min    minLenIndex
}

// index6 holds the IPv6 VRPs.
type index6 struct {
	short  *generics_tree.TreeV6[group]
	shards map[uint32]*generics_tree.TreeV6[group] // by /24
	tries  []*generics_tree.TreeV6[group]
	fill   int
	min    minLenIndex
}

func newIndex4() *index4 {
	x := &index4{short: generics_tree.NewTreeV4[group]()}
	x.min.init()
	return x
}

func newIndex6() *index6 {
	x := &index6{short: generics_tree.NewTreeV6[group](), shards: map[uint32]*generics_tree.TreeV6[group]{}}
	x.min.init()
	return x
}

// add inserts the group of the IPv4 prefix k. Groups must come in prefix order.
func (x *index4) add(k patricia.IPv4Address, g group) {
	x.min.add(uint16(k.Address>>16), g.bits)
	if g.bits < shardBits4 {
		x.short.Add(k, g, groupEqual)
		return
	}
	i := k.Address >> (32 - shardBits4)
	tr := x.shards[i]
	if tr == nil {
		if len(x.tries) == 0 || x.fill >= shardGroups {
			x.tries = append(x.tries, generics_tree.NewTreeV4[group]())
			x.fill = 0
		}
		tr = x.tries[len(x.tries)-1]
		x.shards[i] = tr
	}
	tr.Add(k, g, groupEqual)
	x.fill++
}

// add inserts the group of the IPv6 prefix k. Groups must come in prefix order.
func (x *index6) add(k patricia.IPv6Address, g group) {
	x.min.add(uint16(k.Left>>48), g.bits)
	if g.bits < shardBits6 {
		x.short.Add(k, g, groupEqual)
		return
	}
	i := uint32(k.Left >> (64 - shardBits6))
	tr := x.shards[i]
	if tr == nil {
		if len(x.tries) == 0 || x.fill >= shardGroups {
			x.tries = append(x.tries, generics_tree.NewTreeV6[group]())
			x.fill = 0
		}
		tr = x.tries[len(x.tries)-1]
		x.shards[i] = tr
	}
	tr.Add(k, g, groupEqual)
	x.fill++
}

// find appends the groups covering k, shortest prefix first.
func (x *index4) find(buf []group, k patricia.IPv4Address) []group {
	m := x.min[k.Address>>16]
	if k.Length < uint(m) {
		return buf // nothing overlapping this /16 is short enough
	}
	if m < shardBits4 {
		buf = x.short.FindTagsAppend(buf, k)
	}
	if k.Length >= shardBits4 {
		if tr := x.shards[k.Address>>(32-shardBits4)]; tr != nil {
			buf = tr.FindTagsAppend(buf, k)
		}
	}
	return buf
}

// find appends the groups covering k, shortest prefix first.
func (x *index6) find(buf []group, k patricia.IPv6Address) []group {
	m := x.min[k.Left>>48]
	if k.Length < uint(m) {
		return buf
	}
	if m < shardBits6 {
		buf = x.short.FindTagsAppend(buf, k)
	}
	if k.Length >= shardBits6 {
		if tr := x.shards[uint32(k.Left>>(64-shardBits6))]; tr != nil {
			buf = tr.FindTagsAppend(buf, k)
		}
	}
	return buf
}

// query is a route prefix prepared for a lookup: masked, IPv4-mapped IPv6 unmapped,
// with its trie key.
type query struct {
	p     netip.Prefix
	k4    patricia.IPv4Address
	k6    patricia.IPv6Address
	is4   bool
	valid bool
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
	q := query{p: p, valid: true}
	bits := uint(p.Bits())
	if p.Addr().Is4() {
		a := p.Addr().As4()
		q.is4 = true
		q.k4 = patricia.NewIPv4Address(binary.BigEndian.Uint32(a[:]), bits)
		return q
	}
	a := p.Addr().As16()
	q.k6 = patricia.IPv6Address{Left: binary.BigEndian.Uint64(a[:8]), Right: binary.BigEndian.Uint64(a[8:]), Length: bits}
	return q
}

// groups appends the groups of every VRP prefix that covers the query, shortest
// prefix first.
func (t *Table) groups(buf []group, q *query) []group {
	switch {
	case !q.valid:
		return buf
	case q.is4:
		return t.ix4.find(buf, q.k4)
	default:
		return t.ix6.find(buf, q.k6)
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

// decide returns the RFC 6811 state from the covering groups, stopping at the
// first matching VRP. Groups are checked deepest first: the route's own prefix or
// its closest covering ROA is the usual match.
func (t *Table) decide(gs []group, bits int, origin routing.ASN) routing.ROVState {
	if len(gs) == 0 {
		return routing.NotFound
	}
	if origin == 0 {
		return routing.Invalid
	}
	for i := len(gs) - 1; i >= 0; i-- {
		g := gs[i]
		if bits > int(g.maxMax) {
			continue
		}
		if g.n == 1 {
			if g.asn == origin {
				return routing.Valid // the only VRP's maxLength is maxMax
			}
			continue
		}
		for _, e := range t.entries(g) {
			if e.asn > origin {
				break // entries are sorted by ASN
			}
			if matches(e, bits, origin) {
				return routing.Valid
			}
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
func (q *query) bits() int {
	if q.is4 {
		return int(q.k4.Length)
	}
	return int(q.k6.Length)
}

func growStates(s []routing.ROVState, n int) []routing.ROVState {
	if cap(s)-len(s) >= n {
		return s
	}
	g := make([]routing.ROVState, len(s), len(s)+n)
	copy(g, s)
	return g
}
