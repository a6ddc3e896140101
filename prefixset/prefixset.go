// Package prefixset holds a set of IP prefixes of one address family with bgpq4's
// semantics: the output order of bgpq4's radix tree (ascending address, shorter prefix
// first, an aggregate's "son" right after its node), -m (drop longer prefixes at
// insertion), -R (refine), -r (refine low) and -A (lossless buddy aggregation).
//
// Plain sets (no Refine, RefineLow or Aggregate) are collected into a slice, sorted and
// deduplicated, which is what a million-prefix prefix-list needs. The radix tree is only
// built when an operation needs it, and it is built from the sorted input.
package prefixset

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Entry is one line of a prefix filter: Prefix permitted with lengths Min..Max.
// Min == Max == Prefix.Bits() means an exact match.
type Entry struct {
	routing.PrefixRange
	// Agg is true for range entries (bgpq4's aggregate nodes). It only adds
	// information when Min == Max == Prefix.Bits(), which `-r N -R N` on a /N
	// produces and bgpq4 prints in range form ("le N").
	Agg bool
}

// Exact reports whether the entry matches its prefix only.
func (e Entry) Exact() bool {
	return !e.Agg && e.Min == e.Prefix.Bits() && e.Max == e.Prefix.Bits()
}

// MaxEnumerate bounds how many prefixes AddRangeBGPQ4 enumerates for one range (bgpq4
// itself enumerates 2002::/16^16-48 into 2^33 nodes and hangs, bgp/bgpq4#66).
const MaxEnumerate = 1 << 22

// ErrTooLarge is returned when a range would enumerate more than MaxEnumerate prefixes.
var ErrTooLarge = errors.New("prefixset: prefix range too large to enumerate")

// key is a prefix as a 128-bit big-endian value (IPv4 in the top 32 bits of Hi) plus
// its length and family; host bits are always zero. All keys of a Set have its family.
type key = pfxkey.Key

// Set is a prefix set of one family. The zero value is not usable; call New.
type Set struct {
	v6     bool
	maxLen int // family maximum unless MaxLen lowered it
	afMax  int
	items  []key    // plain mode, IPv6: unsorted until needed
	items4 []uint64 // plain mode, IPv4: address<<8 | length
	sorted bool
	t      *tree       // tree mode once an operation needed it
	ag     *aggregated // plain mode after Aggregate (the linear-time -A); items stay
	ranges []rng       // AddRange ranges too large to enumerate (native semantics)
	refR   int         // last Refine value, for ranges
}

// New returns an empty set for IPv6 (v6) or IPv4.
func New(v6 bool) *Set {
	m := 32
	if v6 {
		m = 128
	}
	return &Set{v6: v6, maxLen: m, afMax: m, sorted: true}
}

// V6 reports the set's family.
func (s *Set) V6() bool { return s.v6 }

// MaxLen makes later insertions drop prefixes longer than m (bgpq4 -m). Values outside
// 1..family maximum are ignored.
func (s *Set) MaxLen(m int) {
	if m >= 1 && m <= s.afMax {
		s.maxLen = m
	}
}

func (s *Set) keyOf(p netip.Prefix) (key, bool) {
	if !p.IsValid() {
		return key{}, false
	}
	a := p.Addr()
	if s.v6 {
		if !a.Is6() {
			return key{}, false
		}
		return pfxkey.From16(a.As16(), p.Bits()).Masked(), true
	}
	if !a.Is4() {
		return key{}, false
	}
	return pfxkey.From4(a.As4(), p.Bits()).Masked(), true
}

func (s *Set) prefixOf(k key) netip.Prefix { return k.Prefix() }

// keySrc returns the keys of a sorted plain set.
func (s *Set) keySrc() keySrc {
	if s.v6 {
		return keySrc{k6: s.items}
	}
	return keySrc{k4: s.items4}
}

// Add inserts p (host bits are masked, as bgpq4 does). A prefix of the other family, or
// one longer than MaxLen, is ignored; Add reports whether p was taken.
func (s *Set) Add(p netip.Prefix) bool {
	k, ok := s.keyOf(p)
	if !ok || int(k.Bits) > s.maxLen {
		return false
	}
	s.addKey(k)
	return true
}

// AddList inserts the prefixes of l (sorted, distinct, masked keys of the set's
// family, as a pfxkey.List guarantees); those longer than MaxLen are dropped, a list of
// the other family is ignored. The set takes ownership of l's slices: the first list
// added to an empty plain set becomes its storage as it is, so a million-prefix answer
// is neither copied nor sorted again.
func (s *Set) AddList(l pfxkey.List) {
	if l.V6 != s.v6 || l.Len() == 0 {
		return
	}
	if s.t != nil || s.ag != nil {
		for i := 0; i < l.Len(); i++ {
			k := listKey(l, i)
			if int(k.Bits) <= s.maxLen {
				s.addKey(k)
			}
		}
		return
	}
	if s.v6 {
		ks := l.K6
		if s.maxLen < s.afMax {
			ks = slices.DeleteFunc(ks, func(k key) bool { return int(k.Bits) > s.maxLen })
		}
		if len(ks) == 0 {
			return
		}
		if len(s.items) == 0 {
			s.items = ks
			return
		}
		if s.sorted && pfxkey.Compare(s.items[len(s.items)-1], ks[0]) >= 0 {
			s.sorted = false
		}
		s.items = append(s.items, ks...)
		return
	}
	ps := l.P4
	if s.maxLen < s.afMax {
		ps = slices.DeleteFunc(ps, func(v uint64) bool { return int(uint8(v)) > s.maxLen })
	}
	if len(ps) == 0 {
		return
	}
	if len(s.items4) == 0 {
		s.items4 = ps
		return
	}
	if s.sorted && s.items4[len(s.items4)-1] >= ps[0] {
		s.sorted = false
	}
	s.items4 = append(s.items4, ps...)
}

func listKey(l pfxkey.List, i int) key {
	if l.V6 {
		return l.K6[i]
	}
	return pfxkey.Unpack4(l.P4[i])
}

func (s *Set) addKey(k key) {
	if s.ag != nil {
		s.ensureTree()
	}
	if s.t != nil {
		s.t.insert(k)
		return
	}
	if !s.v6 {
		v := pfxkey.Pack4(k)
		if s.sorted && len(s.items4) > 0 && s.items4[len(s.items4)-1] >= v {
			s.sorted = false
		}
		s.items4 = append(s.items4, v)
		return
	}
	if s.sorted && len(s.items) > 0 && pfxkey.Compare(s.items[len(s.items)-1], k) >= 0 {
		s.sorted = false
	}
	s.items = append(s.items, k)
}

// AddRange inserts every prefix covered by p with a length in min..max, clipped to
// MaxLen (RPSL's p^min-max with correct semantics: p^n is AddRange(p, n, n)). It fails
// when min < p.Bits(), max < min or max exceeds the family maximum. A range of up to
// EnumerateLimit prefixes is inserted prefix by prefix, like bgpq4 does, so Aggregate
// folds it with its neighbours; a larger one is kept as a single range entry (bgpq4
// would try to enumerate it and hang, bgp/bgpq4#66), which Refine and RefineLow widen
// as they would its prefixes and Aggregate leaves as it is.
func (s *Set) AddRange(p netip.Prefix, min, max int) error {
	k, ok := s.keyOf(p)
	if !ok {
		return fmt.Errorf("prefixset: %s: wrong address family", p)
	}
	if min < int(k.Bits) || max < min || max > s.afMax {
		return fmt.Errorf("prefixset: invalid range %s^%d-%d", p, min, max)
	}
	if max > s.maxLen {
		max = s.maxLen
	}
	if max < min {
		return nil
	}
	if rangeCount(int(k.Bits), min, max) > EnumerateLimit {
		s.ranges = append(s.ranges, rng{k: k, min: uint8(min), max: uint8(max)})
		return nil
	}
	return s.enumerate(k, min, max)
}

// AddRangeBGPQ4 inserts a range exactly as bgpq4's sx_radix_tree_insert_specifics does:
// every covered prefix with length min..max, where max has already been clipped by the
// caller (bgpq4 passes max 0 for "p^n", so that range inserts nothing: bgp/bgpq4#135).
func (s *Set) AddRangeBGPQ4(p netip.Prefix, min, max int) error {
	k, ok := s.keyOf(p)
	if !ok {
		return fmt.Errorf("prefixset: %s: wrong address family", p)
	}
	if max > s.afMax {
		max = s.afMax
	}
	// insert_specifics inserts p itself whenever len >= min, even when max < len.
	if max < int(k.Bits) {
		max = int(k.Bits)
	}
	return s.enumerate(k, min, max)
}

func (s *Set) enumerate(k key, min, max int) error {
	l := int(k.Bits)
	if max < l || max < min {
		return nil
	}
	lo := min
	if lo < l {
		lo = l
	}
	// count = sum_{n=lo}^{max} 2^(n-l)
	if max-l >= 22 {
		return fmt.Errorf("%w: %s^%d-%d", ErrTooLarge, s.prefixOf(k), min, max)
	}
	total := (1 << (max - l + 1)) - (1 << (lo - l))
	if total > MaxEnumerate {
		return fmt.Errorf("%w: %s^%d-%d", ErrTooLarge, s.prefixOf(k), min, max)
	}
	for n := lo; n <= max; n++ {
		cnt := uint64(1) << (n - l)
		for i := uint64(0); i < cnt; i++ {
			s.addKey(child(k, n, i))
		}
	}
	return nil
}

// child returns the i-th prefix of length n under k.
func child(k key, n int, i uint64) key {
	c := key{Hi: k.Hi, Lo: k.Lo, Bits: uint8(n), V6: k.V6}
	if n == int(k.Bits) {
		return c
	}
	// i occupies bits k.Bits .. n-1 (0-based from the top).
	shift := 128 - n // position of the lowest bit of i
	if shift >= 64 {
		c.Hi |= i << (shift - 64)
	} else {
		c.Lo |= i << shift
		if shift > 0 {
			c.Hi |= i >> (64 - shift)
		}
	}
	return c
}

func (s *Set) sortItems() {
	if !s.sorted {
		if s.v6 {
			pfxkey.Sort(s.items)
		} else {
			pfxkey.SortPacked(s.items4)
		}
		s.sorted = true
	}
	s.items = slices.Compact(s.items)
	s.items4 = slices.Compact(s.items4)
}

// Len returns the number of entries Entries would return.
func (s *Set) Len() int {
	if s.ag != nil {
		return s.ag.len() + len(s.sortedRanges())
	}
	if s.t == nil {
		s.sortItems()
		return len(s.items) + len(s.items4) + len(s.sortedRanges())
	}
	n := len(s.sortedRanges())
	s.t.walk(func(int32) { n++ })
	return n
}

// Empty reports whether the set holds no prefix at all.
func (s *Set) Empty() bool {
	if len(s.ranges) > 0 {
		return false
	}
	if s.t == nil {
		return len(s.items) == 0 && len(s.items4) == 0
	}
	return s.t.root == 0
}

// ensureTree switches the set to tree mode. A set aggregated in plain mode gets the
// tree bgpq4 would have after the same -A, so later operations see the same state.
func (s *Set) ensureTree() *tree {
	if s.t == nil {
		aggregated := s.ag != nil
		s.ag = nil
		s.sortItems()
		s.t = newTree(len(s.items) + len(s.items4))
		if s.v6 {
			s.t.buildSorted(s.items)
		} else {
			keys := make([]key, len(s.items4))
			for i, v := range s.items4 {
				keys[i] = pfxkey.Unpack4(v)
			}
			s.t.buildSorted(keys)
		}
		s.items, s.items4 = nil, nil
		if aggregated && s.t.root != 0 {
			s.t.aggregate(s.t.root, nil)
		}
	}
	return s.t
}

// Refine applies bgpq4 -R r: every prefix shorter than r becomes "le r" and hides the
// prefixes it now covers; prefixes of length >= r stay exact.
func (s *Set) Refine(r int) {
	if r < 1 || r > s.afMax {
		return
	}
	s.refineRanges(r)
	t := s.ensureTree()
	if t.root != 0 {
		t.refine(t.root, uint8(r))
	}
}

// RefineLow applies bgpq4 -r l (after Refine; without a Refine call bgpq4 refines to the
// family maximum first, which the caller does). Prefixes of length <= l get lower bound
// l, and the exact match of a shorter prefix is no longer permitted.
func (s *Set) RefineLow(l int) {
	if l < 1 || l > s.afMax {
		return
	}
	s.refineLowRanges(l)
	t := s.ensureTree()
	if t.root != 0 {
		t.refineLow(t.root, uint8(l), uint8(s.afMax))
	}
}

// Aggregate applies bgpq4 -A: a lossless merge of sibling prefixes and ranges. A plain
// set (no Refine or RefineLow before) is aggregated in one pass over its sorted keys
// (aggregate.go); otherwise on the radix tree.
func (s *Set) Aggregate() {
	if s.t == nil && s.ag == nil {
		s.sortItems()
		s.ag = aggregateSorted(s.keySrc(), len(s.items)+len(s.items4))
		return
	}
	t := s.ensureTree()
	if t.root != 0 {
		t.aggregate(t.root, nil)
	}
}

// AggregateTrace is Aggregate writing bgpq4's "-AA" debug lines to w (bgpq4 prints them
// on stdout before the list): for every node in post-order its state, then its right
// and left child and their sons.
func (s *Set) AggregateTrace(w io.Writer) {
	t := s.ensureTree()
	if t.root == 0 {
		return
	}
	var b []byte
	state := func(n *node, aggWord string) {
		if n.glue {
			b = append(b, "Glue "...)
		}
		if n.agg {
			b = append(b, aggWord...)
		}
		b = strconv.AppendUint(b, uint64(n.aLow), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(n.aHi), 10)
		b = append(b, '\n')
	}
	pfx := func(n *node) {
		b = AppendAddr(b, s.prefixOf(n.k).Addr())
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(n.k.Bits), 10)
		b = append(b, ' ')
	}
	t.aggregate(t.root, func(i int32) {
		b = b[:0]
		n := &t.nodes[i]
		b = append(b, "Aggregating on node: "...)
		pfx(n)
		state(n, "Aggregate ")
		if n.right != 0 {
			r := &t.nodes[n.right]
			b = append(b, "R-Tree: "...)
			pfx(r)
			state(r, " Aggregate ")
			if r.son != 0 {
				b = append(b, "R-Son: "...)
				pfx(&t.nodes[r.son])
				state(&t.nodes[r.son], "Aggregate ")
			}
		}
		if n.left != 0 {
			l := &t.nodes[n.left]
			b = append(b, "L-Tree: "...)
			pfx(l)
			state(l, "Aggregate ")
			if l.son != 0 {
				b = append(b, "L-Son: "...)
				pfx(&t.nodes[l.son])
				state(&t.nodes[l.son], "Aggregate ")
			}
		}
		_, _ = w.Write(b)
	})
}

// Each calls f for every entry in bgpq4 order without building a slice.
func (s *Set) Each(f func(Entry)) {
	f, flush := s.withRanges(f)
	defer flush()
	if s.ag != nil {
		s.ag.each(s.keySrc(), f)
		return
	}
	if s.t == nil {
		s.sortItems()
		for _, k := range s.items {
			n := int(k.Bits)
			f(Entry{PrefixRange: routing.PrefixRange{Prefix: s.prefixOf(k), Min: n, Max: n}})
		}
		for _, v := range s.items4 {
			n := int(uint8(v))
			a := uint32(v >> 8)
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), n)
			f(Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: n, Max: n}})
		}
		return
	}
	t := s.t
	t.walk(func(i int32) {
		nd := &t.nodes[i]
		f(s.entryOf(nd))
	})
}

func (s *Set) entryOf(nd *node) Entry {
	p := s.prefixOf(nd.k)
	n := int(nd.k.Bits)
	if !nd.agg {
		return Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: n, Max: n}}
	}
	lo := int(nd.aLow)
	if lo < n {
		lo = n
	}
	return Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: lo, Max: int(nd.aHi)}, Agg: true}
}

// Entries returns the entries in bgpq4 order: ascending address, shorter prefix first,
// an aggregate's son entry right after its node.
func (s *Set) Entries() []Entry {
	out := make([]Entry, 0, s.Len())
	s.Each(func(e Entry) { out = append(out, e) })
	return out
}

// commonLen returns the number of leading bits a and b share, capped at the shorter
// length (bgpq4's sx_prefix_eqbits).
func commonLen(a, b key) int {
	m := int(a.Bits)
	if int(b.Bits) < m {
		m = int(b.Bits)
	}
	var d int
	if x := a.Hi ^ b.Hi; x != 0 {
		d = bits.LeadingZeros64(x)
	} else if x := a.Lo ^ b.Lo; x != 0 {
		d = 64 + bits.LeadingZeros64(x)
	} else {
		d = 128
	}
	if d < m {
		return d
	}
	return m
}

// bitAt reports bit n (0-based from the top) of k.
func bitAt(k key, n int) bool {
	if n < 64 {
		return k.Hi>>(63-n)&1 == 1
	}
	if n < 128 {
		return k.Lo>>(127-n)&1 == 1
	}
	return false
}

// AppendAddr appends a as glibc inet_ntop formats it (bgpq4 prints addresses that
// way): IPv4-compatible and IPv4-mapped IPv6 addresses end in a dotted quad, which Go
// prints differently for the former.
func AppendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		for i, x := range v {
			if i > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendUint(b, uint64(x), 10)
		}
		return b
	}
	v := a.As16()
	var w [8]uint16
	for i := range w {
		w[i] = uint16(v[2*i])<<8 | uint16(v[2*i+1])
	}
	// longest run of zero words (length >= 2), first one wins
	bestBase, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestBase, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || bestLen == 5 && w[5] == 0xffff) {
			b = AppendAddr(b, netip.AddrFrom4([4]byte{v[12], v[13], v[14], v[15]}))
			break
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}
