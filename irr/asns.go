package irr

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// ASNQuerier is implemented by Queriers that can answer "!i<as-set>,1" as numbers: the
// as-path and as-list generators of the bgpq4 drop-in need the 50k ASNs of a large set
// as ASNs, and Members formats each as a string, sorts the strings and leaves the
// caller to parse them back. The local Index (and snapshots) implement it, and the
// wrappers that pass the call on.
type ASNQuerier interface {
	// SetASNs is Members(ctx, sources, name, true) for an as-set, as ASNs sorted
	// numerically and distinct (the same set of ASNs). ok is false, with no error,
	// when name is not an as-set of the selected sources (unknown, or a route-set):
	// then Members is the answer. The caller owns the slice.
	SetASNs(ctx context.Context, sources []string, name string) (asns []routing.ASN, ok bool, err error)
}

var (
	_ ASNQuerier = (*Index)(nil)
	_ ASNQuerier = (*Failover)(nil)
)

// SetASNs asks q for the recursive ASNs of the as-set name through ASNQuerier; ok is
// false when q does not implement it or name is not an as-set (the caller then asks
// Members).
func SetASNs(ctx context.Context, q Querier, sources []string, name string) ([]routing.ASN, bool, error) {
	if aq, ok := q.(ASNQuerier); ok {
		return aq.SetASNs(ctx, sources, name)
	}
	return nil, false, nil
}

// SetASNs implements ASNQuerier.
func (ix *Index) SetASNs(ctx context.Context, sources []string, name string) ([]routing.ASN, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	srcs := ix.selected(sources)
	var asns []routing.ASN
	set, _ := findSet(srcs, name)
	ok := set != nil && set.class == "as-set"
	if ok {
		asns = ix.expandASNs(srcs, set)
	}
	if err := ix.snapErr(); err != nil {
		return nil, false, err
	}
	return asns, ok, nil
}

// SetASNs implements ASNQuerier: the first healthy server's answer. A server that
// cannot answer it as numbers makes ok false (the caller asks Members, which fails over
// on its own).
func (f *Failover) SetASNs(ctx context.Context, sources []string, name string) (asns []routing.ASN, ok bool, err error) {
	err = f.do(ctx, DescribeMembers(sources, name, true), func(ctx context.Context, q Querier) error {
		asns, ok, err = SetASNs(ctx, q, sources, name)
		return err
	})
	return asns, ok, err
}

// asnOf is routing.ParseASN for the members of a set, on strings and on the bytes of a
// snapshot record alike, without an error value or a string per member: "AS" in any
// case, then asplain digits without a leading zero, at most 2^32-1
// (TestASNOfMatchesParseASN, FuzzASNOf).
func asnOf[T ~string | ~[]byte](m T) (routing.ASN, bool) {
	if len(m) < 3 || m[0]|0x20 != 'a' || m[1]|0x20 != 's' || len(m) > 3 && m[2] == '0' {
		return 0, false
	}
	var n uint64
	for i := 2; i < len(m); i++ {
		c := m[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n = n*10 + uint64(c-'0'); n > 1<<32-1 {
			return 0, false
		}
	}
	return routing.ASN(n), true
}

// setRef is a set found for an expansion: decoded (set), or from a snapshot its record
// (raw) whose members are read in place, so that the 50k ASN members of a large set
// cost no string each.
type setRef struct {
	set         *rpslSet
	lz          *lazySource // the source of raw (for its failures)
	raw         []byte      // the record after name and class: members, mbrs-by-ref
	name, class string
}

// findSetRef is findSet for expansions (see setRef).
func findSetRef(srcs []*source, name string) (setRef, bool) {
	key := strings.ToUpper(name)
	for _, s := range srcs {
		if s.lz == nil {
			if set := s.sets[key]; set != nil {
				return setRef{set: set, name: set.name, class: set.class}, true
			}
			continue
		}
		v := s.lz.find(secSets, key)
		if v == nil {
			continue
		}
		r := &snapReader{b: v}
		ref := setRef{lz: s.lz, name: r.str(), class: r.str(), raw: r.b}
		if r.err != nil || ref.class != "as-set" && ref.class != "route-set" {
			s.lz.f.fail(fmt.Errorf("%w: %s: bad set %s", ErrSnapshot, s.lz.f.name, key))
			return setRef{}, false
		}
		return ref, true
	}
	return setRef{}, false
}

// each calls asn for every member written as an ASN and other for every other member,
// in order, and returns the set's mbrs-by-ref.
func (s setRef) each(asn func(routing.ASN), other func(string)) (mbrsByRef []string) {
	if s.set != nil {
		for _, m := range s.set.members {
			if a, ok := asnOf(m); ok {
				asn(a)
			} else {
				other(m)
			}
		}
		return s.set.mbrsByRef
	}
	r := &snapReader{b: s.raw}
	for n := r.count(1); n > 0 && r.err == nil; n-- {
		var b []byte
		if len(r.b) > 0 && r.b[0] < 0x80 && int(r.b[0]) < len(r.b) {
			// A member under 128 bytes (all of them, in practice): its length is one
			// byte, read without the general decoder.
			b, r.b = r.b[1:1+r.b[0]:1+r.b[0]], r.b[1+r.b[0]:]
		} else {
			b = r.bytes()
		}
		if a, ok := asnOf(b); ok {
			asn(a)
		} else if r.err == nil {
			other(string(b))
		}
	}
	mbrs := r.strs()
	if r.err != nil {
		s.lz.f.fail(fmt.Errorf("%w: %s: bad set %s", ErrSnapshot, s.lz.f.name, s.name))
		return nil
	}
	return mbrs
}

// expandASNs resolves an as-set recursively to its ASNs, sorted and distinct; loops and
// unknown sets are dropped silently (IRRd "!i…,1"). The members are the set's own
// (members and mp-members) and its mbrs-by-ref matches, as directMembers has them.
func (ix *Index) expandASNs(srcs []*source, root *rpslSet) []routing.ASN {
	// A slice sorted at the end beats a map for the 50k ASNs of a large set, and the
	// sorted order walks the origin tables front to back.
	var asns []routing.ASN
	seen := map[string]bool{strings.ToUpper(root.name): true}
	queue := []setRef{{set: root, name: root.name, class: root.class}}
	add := func(a routing.ASN) { asns = append(asns, a) }
	other := func(m string) {
		if !IsSetName(m) || strings.Contains(m, "^") {
			return
		}
		k := strings.ToUpper(m)
		if seen[k] {
			return
		}
		seen[k] = true
		// An as-set holds ASNs and as-sets only (RFC 2622 §5.1).
		if sub, ok := findSetRef(srcs, k); ok && sub.class == "as-set" {
			queue = append(queue, sub)
		}
	}
	for len(queue) > 0 {
		set := queue[0]
		queue = queue[1:]
		refs := set.each(add, other)
		if len(refs) == 0 {
			continue
		}
		key := strings.ToUpper(set.name)
		for _, s := range srcs {
			for a, ref := range s.asMembers(key) {
				if mntMatch(refs, ref.mnts) {
					asns = append(asns, a)
				}
			}
		}
	}
	return sortASNs(asns)
}

// sortASNs sorts and deduplicates asns in place: by radix (8 bits a pass, passes over a
// constant byte skipped) when large, which is several times faster than a comparison
// sort on the 50k ASNs of a large set and needs one scratch slice of the same size.
func sortASNs(asns []routing.ASN) []routing.ASN {
	if len(asns) < 256 {
		slices.Sort(asns)
		return slices.Compact(asns)
	}
	var counts [4][256]int
	for _, a := range asns {
		counts[0][byte(a)]++
		counts[1][byte(a>>8)]++
		counts[2][byte(a>>16)]++
		counts[3][byte(a>>24)]++
	}
	src, dst := asns, make([]routing.ASN, len(asns))
	for p := range counts {
		c := &counts[p]
		shift := uint(8 * p)
		if c[byte(src[0]>>shift)] == len(src) {
			continue // every ASN has the same byte here
		}
		sum := 0
		for i, n := range c {
			c[i], sum = sum, sum+n
		}
		for _, a := range src {
			b := byte(a >> shift)
			dst[c[b]] = a
			c[b]++
		}
		src, dst = dst, src
	}
	return slices.Compact(src)
}
