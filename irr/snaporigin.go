package irr

import (
	"cmp"
	"encoding/binary"
	"runtime"
	"slices"
	"sync"

	"github.com/bgpfilter/bgpfilter/routing"
)

// originTables builds the route sections of s's snapshot: per family the origin table
// (ASN, first route, count; 12 bytes an origin, by ASN) and the route keys (8 bytes an
// IPv4 key, 17 an IPv6 one, by prefix within an origin), and the text references of
// every route (12 bytes, IPv4 first). They are most of a snapshot's tables (a million
// routes) and written after the load, which a first run waits for: every entry has a
// fixed size, so the origins are split into ranges that goroutines encode into their
// places in the sections, the same bytes in any split (TestOriginSectionsMatchReference).
func (s *source) originTables() (tabs, routes [2][]byte, refs []byte) {
	type asnList struct {
		a     routing.ASN
		o     *originRoutes
		first int // routes of the family before this origin's
	}
	var lists [2][]asnList
	var n [2]int
	for f := range s.origin {
		l := make([]asnList, 0, len(s.origin[f]))
		for a, o := range s.origin[f] {
			l = append(l, asnList{a: a, o: o})
		}
		slices.SortFunc(l, func(x, y asnList) int { return cmp.Compare(x.a, y.a) })
		for i := range l {
			l[i].first = n[f]
			n[f] += len(l[i].o.keys)
		}
		lists[f] = l
	}
	keySize := [2]int{8, 17}
	refs = make([]byte, refSize*(n[0]+n[1]))
	for f := range 2 {
		tabs[f] = make([]byte, 12*len(lists[f]))
		routes[f] = make([]byte, keySize[f]*n[f])
	}
	encode := func(f, lo, hi int) {
		var tmp []keyRef
		for i := lo; i < hi; i++ {
			l := lists[f][i]
			t := tabs[f][12*i:]
			binary.LittleEndian.PutUint32(t, uint32(l.a))
			binary.LittleEndian.PutUint32(t[4:], uint32(l.first))
			binary.LittleEndian.PutUint32(t[8:], uint32(len(l.o.keys)))
			// In prefix order: lookups are binary searches, readers need not sort. The
			// keys of one origin are distinct, so the order is the same for any sort.
			tmp = tmp[:0]
			for j, k := range l.o.keys {
				tmp = append(tmp, keyRef{k, l.o.refs[j]})
			}
			if !slices.IsSortedFunc(tmp, compareKeyRef) { // often sorted already
				slices.SortFunc(tmp, compareKeyRef)
			}
			kb := routes[f][keySize[f]*l.first:]
			rb := refs[refSize*(f*n[0]+l.first):]
			for j, kr := range tmp {
				putKey(kb[keySize[f]*j:], kr.k)
				putRef(rb[refSize*j:], kr.r)
			}
		}
	}
	var wg sync.WaitGroup
	for f := range 2 {
		parts := 1
		if n[f] >= 1<<14 {
			parts = runtime.GOMAXPROCS(0)
		}
		// Ranges of about equal route counts.
		lo := 0
		for p := 1; p <= parts; p++ {
			hi := lo
			for hi < len(lists[f]) && (p == parts || lists[f][hi].first < n[f]*p/parts) {
				hi++
			}
			wg.Add(1)
			go func(f, lo, hi int) {
				defer wg.Done()
				encode(f, lo, hi)
			}(f, lo, hi)
			lo = hi
		}
	}
	wg.Wait()
	return tabs, routes, refs
}

// keyRef is a route of one origin while its list is sorted for a snapshot.
type keyRef struct {
	k pkey
	r textRef
}

func compareKeyRef(x, y keyRef) int { return comparePKey(x.k, y.k) }

// putKey writes k as appendKey appends it (8 bytes for IPv4, 17 for IPv6).
func putKey(b []byte, k pkey) {
	if k.V6 {
		binary.LittleEndian.PutUint64(b, k.Hi)
		binary.LittleEndian.PutUint64(b[8:], k.Lo)
		b[16] = k.Bits
		return
	}
	binary.LittleEndian.PutUint64(b, pack4(k))
}

// putRef writes t as appendRef appends it.
func putRef(b []byte, t textRef) {
	binary.LittleEndian.PutUint32(b, t.chunk)
	binary.LittleEndian.PutUint32(b[4:], t.off)
	binary.LittleEndian.PutUint32(b[8:], t.n)
}
