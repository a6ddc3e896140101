package pfxkey

import (
	"net/netip"
	"slices"
)

// List is the prefixes of one IRR answer ("!a4", "!g", ...) as sorted, distinct keys
// of one family, host bits cleared. It is how large answers travel from where they are
// read (a whois reply, a snapshot's route sections) to the prefix set: 8 bytes per
// IPv4 prefix without pointers, already in the set's order, so nothing converts them
// to netip values, re-sorts them or makes the garbage collector scan them.
type List struct {
	V6 bool
	P4 []uint64 // IPv4: Pack4 values, ascending, distinct
	K6 []Key    // IPv6: ascending by Compare, distinct
}

// Len returns the number of prefixes.
func (l List) Len() int {
	if l.V6 {
		return len(l.K6)
	}
	return len(l.P4)
}

// Prefixes returns the prefixes in order.
func (l List) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, l.Len())
	if l.V6 {
		for i, k := range l.K6 {
			out[i] = k.Prefix()
		}
		return out
	}
	for i, v := range l.P4 {
		out[i] = Unpack4(v).Prefix()
	}
	return out
}

// ListOf returns the prefixes of family v6 in ps as a List (masked, sorted, distinct);
// prefixes of the other family and invalid ones are left out.
func ListOf(ps []netip.Prefix, v6 bool) List {
	l := List{V6: v6}
	if v6 {
		l.K6 = make([]Key, 0, len(ps))
		for _, p := range ps {
			if p.IsValid() && p.Addr().Is6() {
				l.K6 = append(l.K6, From16(p.Addr().As16(), p.Bits()).Masked())
			}
		}
		return l.Normalize()
	}
	l.P4 = make([]uint64, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() && p.Addr().Is4() {
			l.P4 = append(l.P4, Pack4(From4(p.Addr().As4(), p.Bits()).Masked()))
		}
	}
	return l.Normalize()
}

// Normalize sorts and deduplicates the keys in place when they are not ascending and
// distinct already (one pass when they are), and returns the list.
func (l List) Normalize() List {
	if l.V6 {
		if !slices.IsSortedFunc(l.K6, Compare) {
			Sort(l.K6)
		}
		l.K6 = slices.Compact(l.K6)
		return l
	}
	if !slices.IsSorted(l.P4) {
		SortPacked(l.P4)
	}
	l.P4 = slices.Compact(l.P4)
	return l
}
