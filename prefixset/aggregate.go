package prefixset

import (
	"math"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Linear-time -A on the sorted, deduplicated keys of a plain set.
//
// bgpq4 defines -A on its radix tree: sx_radix_node_aggregate visits the nodes in
// post-order, and the merge rules at a node read and change only the node, its two
// children and the children's first "sons". The sorted keys arrive in the tree's
// pre-order, so one pass with a stack holding the path from the root to the last key
// builds the tree's shape on the fly: a node is complete (its subtree fully seen) when
// the first key outside it arrives, and its merge rules run at that moment on the
// summaries its children left behind. No node array is built; only the entries that
// can still be printed are kept:
//
//   - one small state per input key (aggregate range, glue flag once a parent merged it
//     away, and the head of the chain of extra entries printed after it), and
//   - an "extra" entry for every glue node that became an aggregate and for every son.
//
// Output order is bgpq4's pre-order walk. An extra entry is linked into the chain of
// the key printed just before it: a glue node that became an aggregate is printed
// right before its subtree, i.e. right after the key preceding its leftmost key (its
// "hook"); a son right after its node. Ancestors complete after their descendants and
// sons after the glue nodes below the same node, and both are pushed at the front of
// the chain, which is exactly the order the walk wants. The tree code (tree.go) stays
// for -R/-r and for -AA, and TestAggregateLinearMatchesTree checks the two agree.

const (
	fGlue = 1 << iota
	fAgg
)

// Element references: a key index i >= 0; refHead is "before the first key"; extra
// entry j (1-based) is -1-j; refNone is an unstored glue node.
const (
	refHead = int32(-1)
	refNone = int32(math.MinInt32)
)

func extraRef(j int32) int32 { return -1 - j }

type keyState struct {
	flags, aLow, aHi uint8
	after            int32 // first extra entry printed after this key (0: none)
}

type extraEntry struct {
	src                    int32 // key index whose address, masked to bits, is this entry's
	bits, flags, aLow, aHi uint8
	next                   int32 // next extra entry in the chain (0: none); free list link
	prev                   int32 // the element it follows (a reference, see refHead)
}

// aggregated is a plain set after -A: the set's sorted keys plus the states above.
type aggregated struct {
	keys  []keyState
	extra []extraEntry // extra[0] unused
	head  int32        // chain before the first key
	free  int32        // extra entries a parent merged away, for reuse
	live  int          // printable entries
}

// keySrc gives key i of a sorted plain set (one of the two slices is set).
type keySrc struct {
	k4 []uint64
	k6 []key
}

func (s keySrc) at(i int) key {
	if s.k6 != nil {
		return s.k6[i]
	}
	return pfxkey.Unpack4(s.k4[i])
}

// sum is what a completed node leaves for its parent's merge rules (kept small: the
// pass copies one per node).
type sum struct {
	ok, glue, agg bool
	bits          uint8
	aLow, aHi     uint8
	sonLo, sonHi  uint8
	ref           int32 // the node's element (refNone: unstored glue node)
	son           int32 // first son (extra index, 0: none)
}

// frame is a node on the path from the root to the last key. Its subtree's entries
// start right after key leaf-1 (refHead for the first key), where a glue node that
// becomes an aggregate is linked.
type frame struct {
	k    key
	glue bool
	leaf int32 // key index of the subtree's first key (the node itself if real)
	l, r sum
}

// aggregateSorted runs -A over the n sorted, distinct keys of src.
func aggregateSorted(src keySrc, n int) *aggregated {
	a := &aggregated{keys: make([]keyState, n), extra: make([]extraEntry, 1, 64), live: n}
	stack := make([]frame, 0, 130)
	var last sum
	var lastK key
	var lastLeaf int32
	for i := 0; i < n; i++ {
		k := src.at(i)
		last.ok = false
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if within(top.k, k) {
				break
			}
			if last.ok {
				attach(top, &last, lastK)
			}
			a.complete(top, &last)
			lastK, lastLeaf = top.k, top.leaf
			stack = stack[:len(stack)-1]
		}
		if last.ok {
			eb := commonLen(lastK, k)
			if len(stack) > 0 && eb == int(stack[len(stack)-1].k.Bits) {
				stack[len(stack)-1].l = last
			} else {
				f := push(&stack)
				f.k = key{Hi: k.Hi, Lo: k.Lo, Bits: uint8(eb), V6: k.V6}.Masked()
				f.glue, f.leaf, f.l, f.r.ok = true, lastLeaf, last, false
			}
		}
		f := push(&stack)
		f.k, f.glue, f.leaf, f.l.ok, f.r.ok = k, false, int32(i), false, false
	}
	last.ok = false
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if last.ok {
			attach(top, &last, lastK)
		}
		a.complete(top, &last)
		lastK = top.k
		stack = stack[:len(stack)-1]
	}
	return a
}

// push adds a frame to the stack and returns it; only the fields its caller sets are
// valid (complete reads a child's summary only when its ok is set). Assigning the
// fields in place instead of appending a frame value saves a 64-byte copy per node,
// which was the pass's largest cost.
func push(stack *[]frame) *frame {
	s := *stack
	if len(s) == cap(s) {
		s = append(s, frame{})
	} else {
		s = s[:len(s)+1]
	}
	*stack = s
	return &s[len(s)-1]
}

// within reports whether k lies inside the (masked) prefix p: no shorter than p and
// equal to it in p's bits (commonLen(p, k) == p.Bits, without the call).
func within(p, k key) bool {
	if p.Bits > k.Bits {
		return false
	}
	if p.Bits <= 64 {
		return (p.Hi^k.Hi)&^(^uint64(0)>>p.Bits) == 0
	}
	return p.Hi == k.Hi && (p.Lo^k.Lo)&^(^uint64(0)>>(p.Bits-64)) == 0
}

// attach makes the completed node c (key ck) a child of f, on the side its next bit
// says.
func attach(f *frame, c *sum, ck key) {
	if bitAt(ck, int(f.k.Bits)) {
		f.r = *c
	} else {
		f.l = *c
	}
}

// complete runs the merge rules at f (bgpq4's sx_radix_node_aggregate, the same cases
// in the same order as tree.aggregate) and writes f's summary for its parent to out.
func (a *aggregated) complete(f *frame, out *sum) {
	*out = sum{ok: true, glue: f.glue, bits: f.k.Bits, ref: refNone}
	ni := out
	if !f.glue {
		ni.ref = f.leaf
	}
	if !f.l.ok || !f.r.ok {
		return
	}
	nl, nr := &f.l, &f.r
	plen := ni.bits
	halves := nr.bits == plen+1 && nl.bits == plen+1
	var sons [2][2]uint8 // up to two sons (the second is the first one's son)
	nsons := 0
	switch {
	case !nr.agg && !nl.agg && !nr.glue && !nl.glue && nr.bits == nl.bits:
		if nr.bits == plen+1 {
			ni.agg = true
			a.markGlue(nr.ref)
			a.markGlue(nl.ref)
			ni.aHi = nr.bits
			if ni.glue {
				ni.glue = false
				ni.aLow = nr.bits
			} else {
				ni.aLow = plen
			}
		}
		if nr.son != 0 && nl.son != 0 && nr.sonHi == nl.sonHi && nr.sonLo == nl.sonLo && halves {
			a.markGlue(extraRef(nr.son))
			a.markGlue(extraRef(nl.son))
			sons[0] = [2]uint8{nr.sonLo, nr.sonHi}
			nsons = 1
		}
	case nr.agg && nl.agg && nr.aHi == nl.aHi && nr.aLow == nl.aLow:
		if !halves {
			break
		}
		a.markGlue(nr.ref)
		a.markGlue(nl.ref)
		switch {
		case ni.glue:
			ni.agg, ni.glue = true, false
			ni.aHi, ni.aLow = nr.aHi, nr.aLow
		case nr.bits == nr.aLow:
			ni.agg = true
			ni.aHi, ni.aLow = nr.aHi, plen
		default:
			sons[0] = [2]uint8{nr.aLow, nr.aHi}
			nsons = 1
			if nr.son != 0 && nl.son != 0 && nr.sonHi == nl.sonHi && nr.sonLo == nl.sonLo {
				a.markGlue(extraRef(nr.son))
				a.markGlue(extraRef(nl.son))
				sons[1] = [2]uint8{nr.sonLo, nr.sonHi}
				nsons = 2
			}
		}
	case nl.son != 0 && nr.agg && nr.aHi == nl.sonHi && nr.aLow == nl.sonLo:
		if halves {
			nsons = a.mergeAggWithSon(ni, nr, nl.son, &sons)
		}
	case nr.son != 0 && nl.agg && nl.aHi == nr.sonHi && nl.aLow == nr.sonLo:
		if halves {
			nsons = a.mergeAggWithSon(ni, nl, nr.son, &sons)
		}
	}
	switch {
	case f.glue && !ni.glue:
		e := a.newExtra(f.leaf, plen, ni.aLow, ni.aHi)
		a.insertAfter(f.leaf-1, e)
		ni.ref = extraRef(e)
	case !f.glue && ni.agg:
		ks := &a.keys[f.leaf]
		ks.flags |= fAgg
		ks.aLow, ks.aHi = ni.aLow, ni.aHi
	}
	prev := ni.ref
	for j := 0; j < nsons; j++ {
		e := a.newExtra(f.leaf, plen, sons[j][0], sons[j][1])
		a.insertAfter(prev, e)
		prev = extraRef(e)
		if j == 0 {
			ni.son, ni.sonLo, ni.sonHi = e, sons[j][0], sons[j][1]
		}
	}
	return
}

// mergeAggWithSon is tree.mergeAggWithSon: child agg and the other child's son carry
// the same range; a glue node becomes that aggregate, a real node gains a son with it.
func (a *aggregated) mergeAggWithSon(ni, agg *sum, son int32, sons *[2][2]uint8) int {
	lo, hi := agg.aLow, agg.aHi
	a.markGlue(agg.ref)
	a.markGlue(extraRef(son))
	if ni.glue {
		ni.agg, ni.glue = true, false
		ni.aHi, ni.aLow = hi, lo
		return 0
	}
	sons[0] = [2]uint8{lo, hi}
	return 1
}

func (a *aggregated) newExtra(src int32, bits, lo, hi uint8) int32 {
	a.live++
	x := extraEntry{src: src, bits: bits, flags: fAgg, aLow: lo, aHi: hi}
	if e := a.free; e != 0 {
		a.free = a.extra[e].next
		a.extra[e] = x
		return e
	}
	a.extra = append(a.extra, x)
	return int32(len(a.extra) - 1)
}

// markGlue makes an element unprintable (a parent merged it away). A merged extra
// entry is unlinked and reused; nothing refers to it any more.
func (a *aggregated) markGlue(ref int32) {
	switch {
	case ref >= 0:
		if a.keys[ref].flags&fGlue == 0 {
			a.keys[ref].flags |= fGlue
			a.live--
		}
	case ref < refHead && ref != refNone:
		e := -1 - ref
		x := &a.extra[e]
		*a.nextOf(x.prev) = x.next
		if x.next != 0 {
			a.extra[x.next].prev = x.prev
		}
		x.next = a.free
		a.free = e
		a.live--
	}
}

// nextOf returns the link that follows the element ref.
func (a *aggregated) nextOf(ref int32) *int32 {
	switch {
	case ref == refHead:
		return &a.head
	case ref >= 0:
		return &a.keys[ref].after
	default:
		return &a.extra[-1-ref].next
	}
}

// insertAfter links extra entry e right after the element ref.
func (a *aggregated) insertAfter(ref, e int32) {
	p := a.nextOf(ref)
	x := &a.extra[e]
	x.next, x.prev = *p, ref
	if *p != 0 {
		a.extra[*p].prev = extraRef(e)
	}
	*p = e
}

// each calls f for every printable entry in bgpq4 order.
func (a *aggregated) each(src keySrc, f func(Entry)) {
	chain := func(e int32) {
		for ; e != 0; e = a.extra[e].next {
			x := &a.extra[e]
			k := src.at(int(x.src))
			k.Bits = x.bits
			f(aggEntry(k.Masked(), x.aLow, x.aHi))
		}
	}
	chain(a.head)
	for i := range a.keys {
		ks := &a.keys[i]
		if ks.flags&fGlue == 0 {
			k := src.at(i)
			if ks.flags&fAgg == 0 {
				n := int(k.Bits)
				f(Entry{PrefixRange: routing.PrefixRange{Prefix: k.Prefix(), Min: n, Max: n}})
			} else {
				f(aggEntry(k, ks.aLow, ks.aHi))
			}
		}
		if ks.after != 0 {
			chain(ks.after)
		}
	}
}

func aggEntry(k key, aLow, aHi uint8) Entry {
	n := int(k.Bits)
	lo := int(aLow)
	if lo < n {
		lo = n
	}
	return Entry{PrefixRange: routing.PrefixRange{Prefix: k.Prefix(), Min: lo, Max: int(aHi)}, Agg: true}
}

// len counts the printable entries.
func (a *aggregated) len() int { return a.live }
