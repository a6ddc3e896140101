package prefixset

import (
	"slices"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// EnumerateLimit is the largest range AddRange inserts prefix by prefix; larger ranges
// stay single range entries.
const EnumerateLimit = 1 << 16

// rng is a range entry: every prefix under k with a length in min..max.
type rng struct {
	k        key
	min, max uint8
}

// rangeCount returns how many prefixes p^min-max covers (capped to avoid overflow).
func rangeCount(l, min, max int) int {
	if min < l {
		min = l
	}
	if max < min {
		return 0
	}
	if max-l >= 40 {
		return 1 << 40
	}
	return (1 << (max - l + 1)) - (1 << (min - l))
}

// refineRanges applies Refine(r) to the range entries: the lengths shorter than r now
// extend to r.
func (s *Set) refineRanges(r int) {
	s.refR = r
	for i := range s.ranges {
		g := &s.ranges[i]
		if int(g.min) < r && int(g.max) < r {
			g.max = uint8(r)
		}
	}
}

// refineLowRanges applies RefineLow(l): lengths below l are no longer permitted; a /l
// that Refine left exact (l equal to the refine length) now permits everything up to
// the family maximum, as bgpq4's refineLow does for such a node.
func (s *Set) refineLowRanges(l int) {
	for i := range s.ranges {
		g := &s.ranges[i]
		if int(g.min) > l {
			continue
		}
		if l == s.refR && l <= int(g.max) {
			g.max = uint8(s.afMax)
		}
		g.min = uint8(l)
		if g.max < g.min {
			g.max = g.min
		}
	}
}

// withRanges wraps f so that the range entries, in (address, length) order, are merged
// into a stream of entries in bgpq4 order (a range follows the entries of its own
// prefix); the returned flush emits the ranges after the last entry.
func (s *Set) withRanges(f func(Entry)) (func(Entry), func()) {
	if len(s.ranges) == 0 {
		return f, func() {}
	}
	rs := s.sortedRanges()
	i := 0
	emit := func(g rng) {
		f(Entry{PrefixRange: routing.PrefixRange{Prefix: s.prefixOf(g.k), Min: int(g.min), Max: int(g.max)}, Agg: true})
	}
	wrapped := func(e Entry) {
		k, _ := s.keyOf(e.Prefix)
		for i < len(rs) && pfxkey.Compare(rs[i].k, k) < 0 {
			emit(rs[i])
			i++
		}
		f(e)
	}
	flush := func() {
		for ; i < len(rs); i++ {
			emit(rs[i])
		}
	}
	return wrapped, flush
}

func (s *Set) sortedRanges() []rng {
	rs := slices.Clone(s.ranges)
	slices.SortFunc(rs, func(a, b rng) int {
		if c := pfxkey.Compare(a.k, b.k); c != 0 {
			return c
		}
		if a.min != b.min {
			return int(a.min) - int(b.min)
		}
		return int(a.max) - int(b.max)
	})
	return slices.Compact(rs)
}
