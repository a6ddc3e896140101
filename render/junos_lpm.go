package render

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/bgpfilter/bgpfilter/policy"
)

// Longest-match lines. A prefix set means "a route is accepted when some entry
// contains it" (policy.Evaluate, BIRD, FRR and IOS-XR prefix sets). A Junos route
// list (the route-filter lines of a term, or a route-filter-list) does not: it looks
// up the longest listed prefix that contains the route, tries only that prefix's
// match types (the lines of one prefix in order) and never falls back to a shorter
// prefix ("How Route Lists Are Evaluated" and "Common Configuration Problem with the
// Longest-Match Lookup", Junos Policy Framework Configuration Guide). Lossless
// aggregation (prefixset) can emit a covering range next to a more-specific entry
// whose lengths miss the cover's, e.g. 198.51.100.0/24 lengths 24-25 and
// 198.51.100.128/25 length 27: the set holds 198.51.100.128/25, a Junos list of the
// same two lines rejects it. longestMatch repairs that in the model's terms: under
// every shadowed prefix it lists the lengths the prefix and all its covering entries
// accept there, so the longest match of any route carries what the set means. The
// same shape comes without aggregation wherever sets are merged (an export set holds
// every customer's filter: one customer's 203.0.113.0/24 upto /26 next to another's
// 203.0.113.0/25 exact). The added lines change nothing for a router configured with
// `walkup` ("Walkup for Route Filters Overview"), which also tries the shorter prefixes.
//
// The `junos` format (prefix-list) needs no repair: it lists exact prefixes only, and
// Junos prefix lists do the same longest-match lookup ("How Prefix Lists Are
// Evaluated", Policy Framework guide 10.4), but with one qualifier for the whole list:
// `from prefix-list` (exact) and `prefix-list-filter NAME exact|orlonger` accept
// exactly what "some listed prefix matches" accepts. Only `prefix-list-filter NAME
// longer`, which bgpfilter never writes, rejects a listed prefix that a shorter
// listed one covers. The bgpq4 command keeps bgpq4's bytes: bgpq4 -A -Jz/-JE print
// shadowed pairs unrepaired (TestBGPQ4LongestMatchShape).

// lenRun is a run of prefix lengths lo..hi.
type lenRun struct{ lo, hi int }

// lpmGroup is one distinct prefix of a list, with the lengths its own entries accept
// and, once walked, the lengths accepted under it by it and its covers (eff).
type lpmGroup struct {
	prefix netip.Prefix
	first  int   // index of its first entry in the list
	rest   []int // the indexes of its other entries, if any
	own    []lenRun
	eff    []lenRun
}

// longestMatch is the template function `longestMatch DATA`: DATA itself when no
// entry is shadowed (the common case: one scan, no copy), otherwise a copy whose
// Entries list, under each shadowed prefix, the merged runs of lengths the prefix and
// its covers accept there (one line per run, which is the fewest a route list can do
// with one match type per line), in the place of that prefix's own lines.
// Unshadowed lines keep their order and text. Templates for a longest-match lookup
// (Junos route-filter, route-filter-list) render its Entries; vendor text stays in
// the template. Prefixes are the model's, so masked.
func longestMatch(d *PrefixData) (*PrefixData, error) {
	if d == nil {
		return nil, fmt.Errorf("longestMatch: no prefix set")
	}
	if d.Filter == nil || len(d.Filter.Entries) != len(d.Entries) {
		return nil, fmt.Errorf("longestMatch %s: the lines are not the set's entries", d.Name)
	}
	es := d.Filter.Entries
	shadowed := lpmGroups(es)
	if len(shadowed) == 0 {
		return d, nil
	}
	// at[i]: 0 keep entry i's line, k > 0 print shadowed[k-1]'s runs, -1 drop.
	at := make([]int32, len(es))
	extra := 0
	for k, g := range shadowed {
		at[g.first] = int32(k + 1)
		extra += len(g.eff)
		for _, i := range g.rest {
			at[i] = -1
		}
	}
	out := make([]Line, 0, len(d.Entries)+extra)
	for i, a := range at {
		switch {
		case a == 0:
			out = append(out, d.Entries[i])
		case a > 0:
			g := shadowed[a-1]
			for _, r := range g.eff {
				out = append(out, lenLine(d.Entries[i].Prefix, g.prefix.Bits(), r))
			}
		}
	}
	c := *d
	c.Entries = out
	return &c, nil
}

func lenLine(prefix string, bits int, r lenRun) Line {
	return Line{Prefix: prefix, Bits: bits, Min: r.lo, Max: r.hi,
		Exact: r.lo == bits && r.hi == bits, HasGE: r.lo > bits, HasLE: r.hi > bits}
}

// lpmGroups returns the shadowed prefixes of es (none for most lists). It walks the
// distinct prefixes in address order, shorter first, with a stack of the covers of
// the current one; a prefix inherits its innermost cover's eff clipped to its own
// length, so chains of covers accumulate.
func lpmGroups(es []policy.Entry) []lpmGroup {
	cmp := func(a, b int) int {
		pa, pb := es[a].Prefix, es[b].Prefix
		if c := pa.Addr().Compare(pb.Addr()); c != 0 {
			return c
		}
		return pa.Bits() - pb.Bits()
	}
	sorted := true
	for i := 1; i < len(es) && sorted; i++ {
		sorted = cmp(i-1, i) <= 0
	}
	var order []int
	if !sorted {
		order = make([]int, len(es))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, cmp)
	}
	idx := func(k int) int {
		if order == nil {
			return k
		}
		return order[k]
	}
	var stack []lpmGroup
	var shadowed []lpmGroup
	runs := make([]lenRun, len(es)) // the own runs of single-entry groups
	for k := 0; k < len(es); {
		i := idx(k)
		g := lpmGroup{prefix: es[i].Prefix, first: i}
		runs[k] = lenRun{es[i].Min, es[i].Max}
		g.own = runs[k : k+1 : k+1]
		for k++; k < len(es) && es[idx(k)].Prefix == g.prefix; k++ {
			j := idx(k)
			if j < g.first {
				g.first, j = j, g.first
			}
			g.rest = append(g.rest, j)
			g.own = addRun(g.own, lenRun{es[j].Min, es[j].Max})
		}
		bits := g.prefix.Bits()
		for len(stack) > 0 {
			top := stack[len(stack)-1].prefix
			if top.Bits() < bits && top.Contains(g.prefix.Addr()) {
				break
			}
			stack = stack[:len(stack)-1]
		}
		g.eff = g.own
		shadow := false
		if len(stack) > 0 {
			for _, r := range stack[len(stack)-1].eff {
				if r.hi < bits {
					continue
				}
				r.lo = max(r.lo, bits)
				if !shadow && covered(g.own, r) {
					continue
				}
				shadow = true
				g.eff = addRun(g.eff, r)
			}
		}
		if shadow {
			shadowed = append(shadowed, g)
		}
		if g.eff[len(g.eff)-1].hi > bits {
			stack = append(stack, g) // only lengths beyond its own can reach under other prefixes
		}
	}
	return shadowed
}

// covered reports whether r lies within the sorted, merged runs rs.
func covered(rs []lenRun, r lenRun) bool {
	for _, x := range rs {
		if x.lo <= r.lo && r.hi <= x.hi {
			return true
		}
	}
	return false
}

// addRun returns the sorted, disjoint, non-adjacent runs rs with r merged in, in a
// new slice (rs is never modified: groups share their runs).
func addRun(rs []lenRun, r lenRun) []lenRun {
	out := make([]lenRun, 0, len(rs)+1)
	placed := false
	for _, x := range rs {
		switch {
		case x.hi+1 < r.lo:
			out = append(out, x)
		case r.hi+1 < x.lo:
			if !placed {
				out = append(out, r)
				placed = true
			}
			out = append(out, x)
		default:
			r = lenRun{min(r.lo, x.lo), max(r.hi, x.hi)}
		}
	}
	if !placed {
		out = append(out, r)
	}
	return out
}
