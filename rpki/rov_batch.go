package rpki

import (
	"encoding/binary"
	"math/bits"

	"github.com/bgpfilter/bgpfilter/routing"
)

// batchSize is how many lookups States interleaves. A random lookup is a chain of
// dependent loads (directory, keys, interval record) that each may miss the caches;
// running the same step for many routes in one loop lets the CPU keep one miss per
// route in flight instead of one in total. 32 covers the out-of-order window of
// current x86 and arm64 cores; more adds no parallelism.
const batchSize = 32

// slot is one lookup of a batch in progress: its directory entry e and the end of
// its range, then its interval search window [k, k+n), the address (IPv4 in the
// top 32 bits of hi) and its index in the batch.
type slot struct {
	e      dirEnt
	end    uint32
	k, n   int32
	hi, lo uint64
	i      int32
}

// pending is a route of the batch whose interval record points to a run.
type pending struct {
	r *ivRec
	i int32
}

// States appends the RFC 6811 state of every route to out and returns it (state i
// belongs to routes[i]), the same answers as State. It is the fast path for many
// routes in any order: lookups are interleaved in batches so that their cache misses
// overlap (BENCHMARKS.md, ROV). It does not allocate beyond growing out.
func (t *Table) States(routes []Route, out []routing.ROVState) []routing.ROVState {
	out = growStates(out, len(routes))
	var (
		s4, s6 [batchSize]slot
		pend   [batchSize]pending
		st     [batchSize]routing.ROVState
		ln     [batchSize]uint8
	)
	x4, x6 := t.ix4, t.ix6
	for len(routes) > 0 {
		rs := routes[:min(batchSize, len(routes))]
		routes = routes[len(rs):]
		n4, n6 := 0, 0
		for j := range rs {
			p := rs[j].Prefix
			a, l := p.Addr(), p.Bits()
			switch {
			case a.Is4() && l >= 0:
				a4 := a.As4()
				hi := uint64(binary.BigEndian.Uint32(a4[:])) << 32
				b := hi >> rootShift
				s4[n4] = slot{e: x4.dir[b], end: x4.dir[b+1].start, hi: hi, i: int32(j)}
				n4++
			case a.Is6() && !a.Is4In6() && l >= 0:
				a16 := a.As16()
				hi, lo := binary.BigEndian.Uint64(a16[:8]), binary.BigEndian.Uint64(a16[8:])
				b := bucket6(hi)
				s6[n6] = slot{e: x6.dir[b], end: x6.dir[b+1].start, hi: hi, lo: lo, i: int32(j)}
				n6++
			default: // invalid, IPv4-mapped
				st[j] = t.State(p, rs[j].Origin)
			}
			ln[j] = uint8(max(l, 0))
		}
		max4 := descend(x4, s4[:n4])
		max6 := descend(x6, s6[:n6])
		// The binary searches, one step for every route at a time. A window of
		// n == 1 stays put (h == 0), so every route runs the same number of steps.
		k4 := x4.k4
		for range bits.Len32(uint32(max4 - 1)) {
			for j := range s4[:n4] {
				sl := &s4[j]
				h := sl.n >> 1
				if m := sl.k + h; k4[m] <= uint16(sl.hi>>32) {
					sl.k = m
				}
				sl.n -= h
			}
		}
		kh, kl := x6.kh, x6.kl
		for range bits.Len32(uint32(max6 - 1)) {
			for j := range s6[:n6] {
				sl := &s6[j]
				h := sl.n >> 1
				if m := sl.k + h; kh[m] < sl.hi || kh[m] == sl.hi && kl[m] <= sl.lo {
					sl.k = m
				}
				sl.n -= h
			}
		}
		// The interval records: most decide the route alone; the others scan
		// their run (one or two cache lines) after every record has been loaded.
		np := 0
		for j := range s4[:n4] {
			sl := &s4[j]
			r := &x4.rec[sl.k]
			if v, ok := decideRec(r, ln[sl.i], rs[sl.i].Origin); ok {
				st[sl.i] = v
				continue
			}
			pend[np] = pending{r: r, i: sl.i}
			np++
		}
		p4 := np
		for j := range s6[:n6] {
			sl := &s6[j]
			r := &x6.rec[sl.k]
			if v, ok := decideRec(r, ln[sl.i], rs[sl.i].Origin); ok {
				st[sl.i] = v
				continue
			}
			pend[np] = pending{r: r, i: sl.i}
			np++
		}
		for j, p := range pend[:np] {
			x := x4
			if j >= p4 {
				x = x6
			}
			st[p.i] = t.scanRun(x, p.r, ln[p.i], rs[p.i].Origin)
		}
		out = append(out, st[:len(rs)]...)
	}
	return out
}

// descend walks every slot down x's directory, one level for every slot at a time,
// sets its search window and returns the largest window.
func descend(x *flatIndex, ss []slot) int32 {
	cb := x.childBits()
	mask := uint32(1)<<cb - 1
	for sh := uint(rootShift); ; {
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
