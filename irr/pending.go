package irr

import "slices"

// Indexing the fast routes of a load in groups. Placing each route in its origin's
// list as it comes costs a lookup in a map of every origin and a read of that
// origin's list, both out of cache when the routes of one origin are spread over the
// file (the synthetic registry cycles through 50,000 origins): that was two fifths
// of a load's CPU, all of it in the serial merge. So the merge puts a fast route's
// text in the arena (in file order, as before) and holds the route back; every
// pendingMax routes, before any other route object is indexed and at the end of the
// file, flushRoutes sorts the held routes by source, family and origin (a stable
// radix sort: file order within an origin) and appends each origin's routes to its
// list at once. The result is the one placing them in file order gives when no held
// route has the prefix and origin of an indexed route or of another held route; when
// one has (a replaced object), the held routes are placed one by one in file order
// instead, exactly as before.

// pendingMax bounds the routes held back (48 bytes each, and the sort's 32); a
// variable for the tests.
var pendingMax = 1 << 18

// pendRoute is a fast route whose text is in the arena at ref.
type pendRoute struct {
	rk  routeKey
	ref textRef
	src uint16 // source.idx
}

// holdRoute adds a fast route of s to the held routes. The caller holds the write
// lock, has called mutable and clears ix.sorted.
func (ix *Index) holdRoute(s *source, rk routeKey, text []byte) {
	ix.pending = append(ix.pending, pendRoute{rk: rk, ref: ix.texts.add(text), src: s.idx})
	if len(ix.pending) >= pendingMax {
		ix.flushRoutes()
	}
}

// flushRoutes indexes the held routes. The caller holds the write lock.
func (ix *Index) flushRoutes() {
	if len(ix.pending) == 0 {
		return
	}
	p := ix.pending
	ix.pending = p[:0]
	srcs := make([]*source, len(ix.srcs))
	for _, s := range ix.srcs {
		srcs[s.idx] = s
	}
	if !ix.appendGroups(p, srcs) {
		for i := range p {
			ix.placeRoute(srcs[p[i].src], p[i].rk, p[i].ref)
		}
	}
	ix.sorted.Store(nil)
}

// groupKey orders held routes by source, family and origin.
func groupKey(r *pendRoute) uint64 {
	return uint64(r.src)<<33 | uint64(kfam(r.rk.p))<<32 | uint64(r.rk.origin)
}

// appendGroups appends the held routes p to their origins' lists, an origin at a
// time, and reports true; or, when one of them has the prefix and origin of an
// indexed route or of an earlier held route, changes nothing and reports false.
func (ix *Index) appendGroups(p []pendRoute, srcs []*source) bool {
	order := radixOrder(p)
	type group struct {
		lo, hi int
		o      *originRoutes // nil: a new origin
	}
	var groups []group
	var seen map[pkey]struct{}
	for lo := 0; lo < len(order); {
		k := groupKey(&p[order[lo]])
		hi := lo + 1
		for hi < len(order) && groupKey(&p[order[hi]]) == k {
			hi++
		}
		first := &p[order[lo]]
		o := srcs[first.src].origin[kfam(first.rk.p)][first.rk.origin]
		// A repeated prefix within the group or one already in the list: decline.
		if hi-lo <= 64 {
			for i := lo; i < hi; i++ {
				pk := p[order[i]].rk.p
				if o != nil && o.find(pk) >= 0 {
					return false
				}
				for j := lo; j < i; j++ {
					if p[order[j]].rk.p == pk {
						return false
					}
				}
			}
		} else {
			if seen == nil {
				seen = make(map[pkey]struct{}, hi-lo)
			}
			clear(seen)
			for i := lo; i < hi; i++ {
				pk := p[order[i]].rk.p
				if _, dup := seen[pk]; dup || o != nil && o.find(pk) >= 0 {
					return false
				}
				seen[pk] = struct{}{}
			}
		}
		groups = append(groups, group{lo, hi, o})
		lo = hi
	}
	for _, g := range groups {
		first := &p[order[g.lo]]
		s, f := srcs[first.src], kfam(first.rk.p)
		o := g.o
		if o == nil {
			o = &originRoutes{}
			s.origin[f][first.rk.origin] = o
		}
		n := g.hi - g.lo
		o.keys = slices.Grow(o.keys, n)
		o.refs = slices.Grow(o.refs, n)
		for _, i := range order[g.lo:g.hi] {
			o.add(p[i].rk.p, p[i].ref)
		}
		s.nroutes[f] += n
	}
	return true
}

// radixOrder returns the indexes of p stably sorted by groupKey: an LSD radix sort,
// 8 bits a pass, that skips the bytes in which all keys agree.
func radixOrder(p []pendRoute) []uint32 {
	type kv struct {
		k uint64
		i uint32
	}
	a := make([]kv, len(p))
	var or, and uint64 = 0, ^uint64(0)
	for i := range p {
		k := groupKey(&p[i])
		a[i] = kv{k, uint32(i)}
		or |= k
		and &= k
	}
	b := make([]kv, len(p))
	for shift := uint(0); shift < 64; shift += 8 {
		if (or^and)>>shift&0xff == 0 {
			continue // every key has the same byte here
		}
		var count [257]int
		for _, e := range a {
			count[e.k>>shift&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, e := range a {
			d := e.k >> shift & 0xff
			b[count[d]] = e
			count[d]++
		}
		a, b = b, a
	}
	out := make([]uint32, len(a))
	for i, e := range a {
		out[i] = e.i
	}
	return out
}
