package rpki

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/bgpfilter/bgpfilter/routing"
)

// group is one VRP prefix's VRPs as the cold paths (ROV, Covering, VRPs) see them:
// Table.ents[off:off+n], sorted by ASN; bits is the prefix length (so ROV can
// rebuild a covering VRP's prefix from the route's address), maxMax the largest
// maxLength among them (a longer route matches none of them) and asn the first
// entry's ASN, so a prefix with a single VRP is decided without touching ents.
type group struct {
	off    uint32
	asn    routing.ASN
	n      uint16
	bits   uint8
	maxMax uint8
}

// maxGroup is the most VRPs one group holds; a prefix with more VRPs gets several
// groups (index nodes with the same prefix).
const maxGroup = 1<<16 - 1

// entry is one VRP of a group, without its prefix.
type entry struct {
	asn    routing.ASN
	ta     uint16
	maxLen uint8
}

// How the index answers a lookup in a few independent cache misses.
//
// The VRP prefixes of one family cut the address space into elementary intervals:
// ranges of addresses covered by the same VRP prefixes. Every covering prefix of an
// interval is on the parent chain of its deepest covering prefix (a vnode), and the
// prefixes covering a route A/L are the nodes of that chain no longer than L (a
// node of length <= L that holds A holds all of A/L). A lookup is: the directory
// (rov_dir.go: a /16 root, child nodes where the interval starts are dense), a
// branch-free binary search over at most a few dozen interval starts (16-bit keys
// for IPv4), and one 16-byte interval record that decides most routes alone; the
// others read the chain's VRPs from one consecutive run (rov_runs.go) instead of
// walking the chain.
//
// The hot arrays for the real 723k-VRP set are ~10 MiB for IPv4 (a kentik/patricia
// trie walk read ~10 dependent cache lines of ~100 MiB; the first flat index 40 MiB).
// Everything is pointer-free: the GC never scans the index.
const (
	dirBits4 = 16 // /16 buckets
	dirBits6 = 16 // /20 buckets: bits 4..19 inside 2000::/4
)

// vnode is one VRP prefix: its VRPs (Table.ents[off:off+n], asn the first one's
// ASN, maxMax the largest maxLength), its length and its nearest covering node
// (parent, -1 for none). An interval record with n == 0 is covered by no VRP.
type vnode struct {
	asn    routing.ASN
	parent int32
	off    uint32
	n      uint16
	bits   uint8
	maxMax uint8
}

func (r *vnode) group() group {
	return group{off: r.off, asn: r.asn, n: r.n, bits: r.bits, maxMax: r.maxMax}
}

// flatIndex holds the VRP prefixes of one family.
type flatIndex struct {
	v6    bool
	nodes []vnode  // in prefix order (address, then length)
	hi    []uint64 // node addresses: IPv4 in the top 32 bits of hi
	lo    []uint64 // IPv6 only

	// Interval i starts at key i (k4: the low 16 bits of an IPv4 start, its top 16
	// bits are the root bucket; k6: an IPv6 start) and ends before key i+1. The
	// directory (rov_dir.go) gives the window of keys an address is among.
	dir     []dirEnt // the root: buckets()+1 entries
	sub     []dirEnt // child nodes
	k4      []uint16
	k6      []point
	rec     []ivRec // each interval's record (rov_runs.go)
	ivlNode []int32 // each interval's deepest covering node, -1 none (cold paths)
}

func newFlatIndex(v6 bool) *flatIndex { return &flatIndex{v6: v6} }

func (x *flatIndex) buckets() int {
	if x.v6 {
		return 1<<dirBits6 + 2
	}
	return 1 << dirBits4
}

// bucket returns the directory bucket of an address (hi: its top 64 bits). The
// mapping is monotonic in the address.
func (x *flatIndex) bucket(hi uint64) int {
	if !x.v6 {
		return int(hi >> (64 - dirBits4))
	}
	return bucket6(hi)
}

func bucket6(hi uint64) int {
	switch top := hi >> 60; {
	case top < 2:
		return 0
	case top > 2:
		return 1<<dirBits6 + 1
	}
	return 1 + int(hi>>(60-dirBits6)&(1<<dirBits6-1))
}

// add appends the group of the prefix hi/lo. Groups must come in prefix order;
// finish builds the intervals and the directory.
func (x *flatIndex) add(hi, lo uint64, g group) {
	x.nodes = append(x.nodes, vnode{asn: g.asn, parent: -1, off: g.off, n: g.n, bits: g.bits, maxMax: g.maxMax})
	x.hi = append(x.hi, hi)
	if x.v6 {
		x.lo = append(x.lo, lo)
	}
}

func (x *flatIndex) addr(i int) (hi, lo uint64) {
	if x.v6 {
		return x.hi[i], x.lo[i]
	}
	return x.hi[i], 0
}

// errIndexFull is returned when one family has more VRP prefixes than the
// intervals' 32-bit offsets hold.
var errIndexFull = errors.New("rpki: more than 2^30 VRP prefixes in one address family")

// point is an address as hi/lo (IPv4 in the top 32 bits of hi).
type point struct{ hi, lo uint64 }

func (a point) less(b point) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func comparePoints(a, b point) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// last returns the last address of node i.
func (x *flatIndex) last(i int) point {
	hi, lo := x.addr(i)
	bits := x.nodes[i].bits
	if !x.v6 {
		return point{hi | uint64(uint32(0xffffffff)>>bits)<<32, 0}
	}
	return point{hi | lastHi(bits), lo | lastLo(bits)}
}

// next returns the first address after node i, false when the node reaches the end
// of the address space.
func (x *flatIndex) next(i int) (point, bool) {
	l := x.last(i)
	if !x.v6 {
		if l.hi == 0xffffffff<<32 {
			return point{}, false
		}
		return point{l.hi + 1<<32, 0}, true
	}
	if l.hi == ^uint64(0) && l.lo == ^uint64(0) {
		return point{}, false
	}
	if l.lo == ^uint64(0) {
		return point{l.hi + 1, 0}, true
	}
	return point{l.hi, l.lo + 1}, true
}

// lastHi returns the host bits of a prefix of length bits within the top 64 bits.
func lastHi(bits uint8) uint64 {
	if bits >= 64 {
		return 0
	}
	return ^uint64(0) >> bits
}

// lastLo returns the host bits of a prefix of length bits within the low 64 bits.
func lastLo(bits uint8) uint64 {
	if bits <= 64 {
		return ^uint64(0)
	}
	return ^uint64(0) >> (bits - 64)
}

// finish links every node to its nearest covering node, cuts the address space into
// intervals and builds the directory.
func (x *flatIndex) finish() error {
	if len(x.nodes) >= 1<<30 {
		return errIndexFull
	}
	var stack []int32
	for i := range x.nodes {
		hi, lo := x.addr(i)
		for len(stack) > 0 && !x.covers(int(stack[len(stack)-1]), hi, lo, x.nodes[i].bits) {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			x.nodes[i].parent = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
	// Every interval starts at address 0, a node's first address or the first
	// address after a node.
	pts := make([]point, 0, 2*len(x.nodes)+1)
	pts = append(pts, point{})
	for i := range x.nodes {
		hi, lo := x.addr(i)
		pts = append(pts, point{hi, lo})
		if p, ok := x.next(i); ok {
			pts = append(pts, p)
		}
	}
	slices.SortFunc(pts, comparePoints)
	pts = slices.Compact(pts)
	// Sweep: stack holds the nodes covering the current point, deepest on top.
	stack = stack[:0]
	j := 0
	x.ivlNode = make([]int32, 0, len(pts))
	starts := make([]point, 0, len(pts))
	for _, p := range pts {
		for j < len(x.nodes) {
			hi, lo := x.addr(j)
			if p.less(point{hi, lo}) {
				break
			}
			for len(stack) > 0 && !x.covers(int(stack[len(stack)-1]), hi, lo, x.nodes[j].bits) {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, int32(j))
			j++
		}
		for len(stack) > 0 && x.last(int(stack[len(stack)-1])).less(p) {
			stack = stack[:len(stack)-1]
		}
		d := int32(-1)
		if len(stack) > 0 {
			d = stack[len(stack)-1]
		}
		if n := len(x.ivlNode); n > 0 && x.ivlNode[n-1] == d {
			continue // same covering nodes as the interval before
		}
		x.ivlNode = append(x.ivlNode, d)
		starts = append(starts, p)
	}
	if x.v6 {
		x.k6 = slices.Clip(starts)
	} else {
		x.k4 = make([]uint16, len(starts))
		for i, p := range starts {
			x.k4[i] = uint16(p.hi >> 32)
		}
	}
	x.buildDir(starts)
	return nil
}

// covers reports whether node i's prefix equals or covers the prefix hi/lo/bits.
func (x *flatIndex) covers(i int, hi, lo uint64, bits uint8) bool {
	nb := x.nodes[i].bits
	if nb > bits {
		return false
	}
	rhi, rlo := x.addr(i)
	d := hi ^ rhi
	if nb <= 64 {
		return nb == 0 || d>>(64-nb) == 0
	}
	return d == 0 && (lo^rlo)>>(128-nb) == 0
}

// interval4 returns the interval of the IPv4 address a: the last interval start
// not after a, found by a binary search inside a's /16 bucket. Unlike the
// batched steps (States, le16) it branches on the keys: for one lookup at a time
// the branch predictor's guess issues the next step's load early, which measured
// 10-20 % faster than the branch-free step (BENCHMARKS.md, RPKI).
//
// It searches the whole /16 bucket (at most a few hundred keys) and ignores the
// directory's child nodes, whose loads depend on each other: for one lookup at a
// time the speculated search steps overlap better (BENCHMARKS.md, RPKI).
func (x *flatIndex) interval4(a uint32) int {
	b := a >> (32 - dirBits4)
	k := int(x.dir[b].start) - 1
	n := int(x.dir[b+1].start) - k
	keys := x.k4[k : k+n]
	v := uint16(a)
	base := 0
	// keys[0] starts before the window (or is address 0) and is never compared.
	for n > 1 {
		h := n >> 1
		if keys[base+h] <= v {
			base += h
		}
		n -= h
	}
	return k + base
}

// le16 is 1 if a <= b, else 0, without a branch: in States a binary search step
// that branches on a loaded key mispredicts half the time, and a mispredict
// discards the other lookups' loads in flight.
func le16(a, b uint16) int {
	return int((uint32(a) - uint32(b) - 1) >> 31)
}

// lePoint is 1 if a <= b, else 0, without a branch (the borrow of b - a).
func lePoint(a, b point) int {
	_, borrow := bits.Sub64(b.lo, a.lo, 0)
	_, borrow = bits.Sub64(b.hi, a.hi, borrow)
	return int(1 - borrow)
}

// interval6 returns the interval of the IPv6 address hi/lo.
func (x *flatIndex) interval6(hi, lo uint64) int {
	k, n := x.window(hi)
	keys := x.k6[k : k+n]
	v := point{hi, lo}
	base := 0
	for n > 1 {
		h := n >> 1
		if m := keys[base+h]; m.hi < v.hi || m.hi == v.hi && m.lo <= v.lo {
			base += h
		}
		n -= h
	}
	return k + base
}

// interval returns the interval of the address hi/lo.
func (x *flatIndex) interval(hi, lo uint64) int {
	if !x.v6 {
		return x.interval4(uint32(hi >> 32))
	}
	return x.interval6(hi, lo)
}

// deepest returns the deepest node covering the prefix hi/lo/bits, -1 if none; its
// chain of parents are the other covering nodes.
func (x *flatIndex) deepest(hi, lo uint64, bits uint8) int {
	i := int(x.ivlNode[x.interval(hi, lo)])
	for i >= 0 && x.nodes[i].bits > bits {
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

// prefix returns node i's prefix.
func (x *flatIndex) prefix(i int) netip.Prefix {
	hi, lo := x.addr(i)
	bits := int(x.nodes[i].bits)
	if !x.v6 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(hi>>32))
		return netip.PrefixFrom(netip.AddrFrom4(a), bits)
	}
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], hi)
	binary.BigEndian.PutUint64(a[8:], lo)
	return netip.PrefixFrom(netip.AddrFrom16(a), bits)
}
