package bgpq4

import (
	"slices"
	"strconv"

	"github.com/bgpfilter/bgpfilter/routing"
)

// asnSet is the ASNs of a run (bgpq4's asn tree): a sorted, distinct list, into which
// an as-set's expansion (sorted already, see irr.ASNQuerier) is merged at once, plus
// the single additions and removals since the list was last brought up to date. A map
// of the 50k ASNs of a large set, sorted again for every use, cost more than the rest
// of an as-path run.
type asnSet struct {
	list []uint32            // sorted, distinct
	add  map[uint32]struct{} // added since the last sorted (may be in list)
	gone map[uint32]struct{} // removed since the last sorted (in list)
}

func (s *asnSet) insert(a uint32) {
	if s.add == nil {
		s.add = make(map[uint32]struct{})
	}
	s.add[a] = struct{}{}
	delete(s.gone, a)
}

func (s *asnSet) remove(a uint32) {
	delete(s.add, a)
	if _, ok := slices.BinarySearch(s.list, a); ok {
		if s.gone == nil {
			s.gone = make(map[uint32]struct{})
		}
		s.gone[a] = struct{}{}
	}
}

// merge adds the sorted, distinct asns (and keeps the slice).
func (s *asnSet) merge(asns []uint32) {
	for _, a := range asns {
		delete(s.gone, a)
	}
	if len(s.list) == 0 {
		s.list = asns
		return
	}
	s.list = mergeSorted(s.list, asns)
}

// sorted returns the ASNs in ascending order (the caller must not change the slice).
func (s *asnSet) sorted() []uint32 {
	if len(s.add) == 0 && len(s.gone) == 0 {
		return s.list
	}
	extra := make([]uint32, 0, len(s.add))
	for a := range s.add {
		extra = append(extra, a)
	}
	slices.Sort(extra)
	list := mergeSorted(s.list, extra)
	if len(s.gone) > 0 {
		list = slices.DeleteFunc(list, func(a uint32) bool { _, g := s.gone[a]; return g })
	}
	s.list, s.add, s.gone = list, nil, nil
	return s.list
}

// mergeSorted returns the sorted union of the sorted, distinct a and b.
func mergeSorted(a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// addASNs adds the sorted ASNs of an "!i<as-set>,1" answer with addAS's special-ASN
// filter. bgpq4 reports each refused ASN as it meets it in the server's answer, which
// is sorted as strings: the messages come in that order.
func (r *runner) addASNs(asns []routing.ASN) {
	in := make([]uint32, 0, len(asns))
	var bad []string
	for _, a := range asns {
		if !r.c.special && specialASN(uint32(a)) {
			bad = append(bad, strconv.FormatUint(uint64(a), 10))
			continue
		}
		in = append(in, uint32(a))
	}
	slices.Sort(bad)
	for _, b := range bad {
		r.errorf("Invalid AS number: %s\n", b)
	}
	r.asns.merge(in)
}

// specialASN reports whether bgpq4 1.16 refuses a without -u (4-byte private,
// documentation, private and reserved 2-byte ranges, AS_TRANS).
func specialASN(a uint32) bool {
	return a >= 4200000000 || a >= 64496 && a <= 65551 || a == 23456
}
