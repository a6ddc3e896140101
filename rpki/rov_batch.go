package rpki

import (
	"encoding/binary"
	"math/bits"

	"github.com/bgpfilter/bgpfilter/routing"
)

// batchSize is how many lookups of one family States interleaves. A random lookup
// is a chain of dependent loads (directory, keys, interval record, run) that each
// may miss the caches; running the same step for many routes in one loop lets the
// CPU keep one miss per route in flight instead of one in total. 32 covers the
// out-of-order window and the miss buffers of current x86 and arm64 cores.
const batchSize = 32

// slot is one lookup of a batch in progress: the address (IPv4 in the top 32 bits
// of hi), the route's length and origin and its index in the routes, then its
// directory entry e and the end of its range, then its interval search window
// [k, k+n).
type slot struct {
	hi, lo uint64
	e      dirEnt
	end    uint32
	k, n   int32
	origin routing.ASN
	l      uint8
	i      int
}

// batch is the lookups of one family waiting to run together.
type batch struct {
	x    *flatIndex
	n    int
	ss   [batchSize]slot
	recs [batchSize]ivRec
	pend [batchSize]int32 // the slots whose run is scanned
}

// States appends the RFC 6811 state of every route to out and returns it (state i
// belongs to routes[i]), the same answers as State. It is the fast path for many
// routes in any order: the routes of each family are gathered into batches whose
// lookups run step by step together, so that their cache misses overlap
// (BENCHMARKS.md, RPKI). A batch holds one family only: a mixed batch would run
// the other family's steps with a few lookups each, one miss at a time. It does
// not allocate beyond growing out.
func (t *Table) States(routes []Route, out []routing.ROVState) []routing.ROVState {
	out = growStates(out, len(routes))
	base := len(out)
	out = out[:base+len(routes)]
	res := out[base:]
	var b4, b6 batch
	b4.x, b6.x = t.ix4, t.ix6
	for i := range routes {
		r := &routes[i]
		a, l := r.Prefix.Addr(), r.Prefix.Bits()
		switch {
		case a.Is4() && l >= 0:
			a4 := a.As4()
			b4.ss[b4.n] = slot{hi: uint64(binary.BigEndian.Uint32(a4[:])) << 32, origin: r.Origin, l: uint8(l), i: i}
			if b4.n++; b4.n == batchSize {
				t.runBatch(&b4, res)
			}
		case a.Is6() && !a.Is4In6() && l >= 0:
			a16 := a.As16()
			b6.ss[b6.n] = slot{hi: binary.BigEndian.Uint64(a16[:8]), lo: binary.BigEndian.Uint64(a16[8:]), origin: r.Origin, l: uint8(l), i: i}
			if b6.n++; b6.n == batchSize {
				t.runBatch(&b6, res)
			}
		default: // invalid, IPv4-mapped
			res[i] = t.State(r.Prefix, r.Origin)
		}
	}
	t.runBatch(&b4, res)
	t.runBatch(&b6, res)
	return out
}

// runBatch decides the lookups of b into res and empties b.
func (t *Table) runBatch(b *batch, res []routing.ROVState) {
	x, ss := b.x, b.ss[:b.n]
	b.n = 0
	if len(ss) == 0 {
		return
	}
	for j := range ss {
		sl := &ss[j]
		k := x.bucket(sl.hi)
		sl.e, sl.end = x.dir[k], x.dir[k+1].start
	}
	maxN := descend(x, ss)
	// The binary searches, one step for every route at a time. A window of n == 1
	// stays put (h == 0), so every route runs the same number of steps; a step
	// does not branch on the key it loads.
	if !x.v6 {
		k4 := x.k4
		for range bits.Len32(uint32(maxN - 1)) {
			for j := range ss {
				sl := &ss[j]
				h := sl.n >> 1
				sl.k += h * int32(le16(k4[sl.k+h], uint16(sl.hi>>32)))
				sl.n -= h
			}
		}
	} else {
		k6 := x.k6
		for range bits.Len32(uint32(maxN - 1)) {
			for j := range ss {
				sl := &ss[j]
				h := sl.n >> 1
				sl.k += h * int32(lePoint(k6[sl.k+h], point{sl.hi, sl.lo}))
				sl.n -= h
			}
		}
	}
	// Every record is loaded before any is looked at, so that no branch on a
	// loaded record stands between the loads. Most records decide the route; the
	// others scan their run (one or two cache lines) afterwards.
	recs := b.recs[:len(ss)]
	for j := range ss {
		recs[j] = x.rec[ss[j].k]
	}
	np := 0
	for j := range ss {
		sl := &ss[j]
		if v, ok := decideRec(&recs[j], sl.l, sl.origin); ok {
			res[sl.i] = v
			continue
		}
		b.pend[np] = int32(j)
		np++
	}
	for _, j := range b.pend[:np] {
		sl := &ss[j]
		res[sl.i] = t.scanRun(x, &recs[j], sl.l, sl.origin)
	}
}

// descend walks every slot down x's directory, one level for every slot at a time,
// sets its search window and returns the largest window.
func descend(x *flatIndex, ss []slot) int32 {
	cb := x.childBits()
	mask := uint32(1)<<cb - 1
	for sh := x.rootShift(); ; {
		sh -= cb
		more := false
		for j := range ss {
			sl := &ss[j]
			if sl.e.child == 0 {
				continue
			}
			c := sl.e.child + uint32(sl.hi>>sh)&mask
			sl.e, sl.end = x.sub[c], x.sub[c+1].start
			more = more || sl.e.child != 0
		}
		if !more {
			break
		}
	}
	maxN := int32(1)
	for j := range ss {
		sl := &ss[j]
		sl.k = int32(sl.e.start) - 1
		sl.n = int32(sl.end) - sl.k
		maxN = max(maxN, sl.n)
	}
	return maxN
}
