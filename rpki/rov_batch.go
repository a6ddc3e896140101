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

// slot is one lookup of a batch in progress: its interval search window [k, k+n)
// and the address (IPv4: a; IPv6: hi/lo).
type slot struct {
	k, n   int32
	a      uint32
	hi, lo uint64
	i      int32 // index in the batch
}

// States appends the RFC 6811 state of every route to out and returns it (state i
// belongs to routes[i]), the same answers as State. It is the fast path for many
// routes in any order: lookups are interleaved in batches so that their cache misses
// overlap (BENCHMARKS.md, ROV). It does not allocate beyond growing out.
func (t *Table) States(routes []Route, out []routing.ROVState) []routing.ROVState {
	out = growStates(out, len(routes))
	var (
		s4, s6 [batchSize]slot
		rec    [batchSize]vnode
		st     [batchSize]routing.ROVState
		ln     [batchSize]uint8
		fam    [batchSize]uint8
		ents   [batchSize]bool
		act    = make([]int32, 0, batchSize)
	)
	x4, x6 := t.ix4, t.ix6
	for len(routes) > 0 {
		rs := routes[:min(batchSize, len(routes))]
		routes = routes[len(rs):]
		n4, n6 := 0, 0
		max4, max6 := int32(1), int32(1)
		for j := range rs {
			p := rs[j].Prefix
			a, l := p.Addr(), p.Bits()
			switch {
			case a.Is4() && l >= 0:
				a4 := a.As4()
				v := binary.BigEndian.Uint32(a4[:])
				b := v >> (32 - dirBits4)
				k := int32(x4.dir[b]) - 1
				n := int32(x4.dir[b+1]) - k
				s4[n4] = slot{k: k, n: n, a: v, i: int32(j)}
				max4 = max(max4, n)
				n4++
			case a.Is6() && !a.Is4In6() && l >= 0:
				a16 := a.As16()
				hi, lo := binary.BigEndian.Uint64(a16[:8]), binary.BigEndian.Uint64(a16[8:])
				b := bucket6(hi)
				k := int32(x6.dir[b]) - 1
				n := int32(x6.dir[b+1]) - k
				s6[n6] = slot{k: k, n: n, hi: hi, lo: lo, i: int32(j)}
				max6 = max(max6, n)
				n6++
			default: // invalid, IPv4-mapped
				rec[j] = vnode{parent: -1}
				st[j] = t.State(p, rs[j].Origin)
			}
			ln[j] = uint8(max(l, 0))
		}
		// The binary searches, one step for every route at a time. A window of
		// n == 1 stays put (h == 0), so every route runs the same number of steps.
		k4 := x4.k4
		for range bits.Len32(uint32(max4 - 1)) {
			for j := range s4[:n4] {
				sl := &s4[j]
				h := sl.n >> 1
				if m := sl.k + h; k4[m] <= uint16(sl.a) {
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
		for j := range s4[:n4] {
			rec[s4[j].i] = x4.ivl[s4[j].k]
		}
		for j := range s6[:n6] {
			rec[s6[j].i] = x6.ivl[s6[j].k]
		}
		// The walks up the covering chains, one step for every route at a time.
		act = act[:0]
		for j := range s4[:n4] {
			act = append(act, s4[j].i)
			fam[s4[j].i] = 0
		}
		for j := range s6[:n6] {
			act = append(act, s6[j].i)
			fam[s6[j].i] = 1
		}
		for len(act) > 0 {
			w := 0
			for _, i := range act {
				x := x4
				if fam[i] != 0 {
					x = x6
				}
				r, l, origin := &rec[i], ln[i], rs[i].Origin
				switch {
				case r.n == 0:
					st[i] = routing.NotFound
					continue
				case r.bits > l:
					if r.parent < 0 {
						st[i] = routing.NotFound
						continue
					}
				case origin == 0:
					st[i] = routing.Invalid
					continue
				case l <= r.maxMax && (r.n == 1 || r.asn <= origin) && !ents[i]:
					if r.n == 1 {
						if r.asn == origin {
							st[i] = routing.Valid
							continue
						}
						break
					}
					// Load the group's first VRP now, check it in the next round
					// (with the other routes' loads in flight).
					if t.ents[r.off].asn <= origin { // always: it is r.asn
						ents[i] = true
						act[w] = i
						w++
						continue
					}
				case ents[i]:
					ents[i] = false
					if t.entsMatch(r.off, r.n, r.asn, l, origin) {
						st[i] = routing.Valid
						continue
					}
				}
				if r.parent < 0 {
					st[i] = routing.Invalid
					continue
				}
				rec[i] = x.nodes[r.parent]
				act[w] = i
				w++
			}
			act = act[:w]
		}
		out = append(out, st[:len(rs)]...)
	}
	return out
}
