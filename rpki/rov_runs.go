package rpki

import "github.com/bgpfilter/bgpfilter/routing"

// Covering runs: how a lookup is decided without walking the parent chain.
//
// A route A/L is covered by the nodes of its interval's chain (deepest node, its
// parent, ...) that are no longer than L, and it is valid when one of their VRPs has
// its origin and a maxLength of at least L. Walking that chain is one dependent
// cache miss per node plus one per multi-VRP group; for the VRPs' own prefixes as
// queries the chain is 2-9 nodes deep for 60 % of them. Instead every interval has
// an 8-byte record (ivRec) that answers most lookups alone, and otherwise points to
// a run: every VRP of the chain, deepest first, as (ASN, prefix length, maxLength)
// in consecutive 8-byte entries, scanned in one or two cache lines. Intervals with
// the same deepest node share its run.
//
// The record holds the length of the shortest covering prefix (a shorter route is
// not found), the largest maxLength on the chain (a longer route is invalid), the
// deepest node's first VRP (the usual match of a valid route) and a 16-bit
// signature of the other VRPs' ASNs (an origin whose bit is clear matches none of
// them, so most invalid routes need no run either). The run then holds the chain's
// other VRPs.
//
// A chain's run is copied for each node that is some interval's deepest node, so a
// run is capped at runCap entries: a chain with more VRPs ends its run with a
// continuation entry naming the node where the plain chain walk (Table.walk) takes
// over. That keeps the runs within runCap+1 entries per node whatever the data (a
// /8 with thousands of VRPs over many more-specifics would otherwise be copied into
// every one of them); the real 723k-VRP set has 90 continuations.
const runCap = 48

// ivRec is an interval's record (16 bytes). minBits is 255 when no VRP covers the
// interval. asn, bits and maxLen are the deepest covering node's first VRP; the
// chain's other VRPs are Table's runs[x : x+n], sig their ASN signature (sigBit).
type ivRec struct {
	asn             routing.ASN
	x               uint32
	bits, maxLen    uint8
	minBits, maxMax uint8
	n               uint16
	sig             uint16
}

// uncovered is the record of an interval no VRP covers.
var uncovered = ivRec{minBits: 255}

// sigBit is asn's bit in a record's signature (a multiplicative hash's top 4 bits).
func sigBit(asn routing.ASN) uint16 { return 1 << (uint32(asn) * 0x9e3779b1 >> 28) }

// runEnt is one VRP of a run: the route's origin must equal asn and its length be
// within [bits, maxLen]. A continuation entry (cont) ends a capped run: asn is the
// index of the node where the chain walk continues.
type runEnt struct {
	asn    routing.ASN
	bits   uint8
	maxLen uint8
	cont   bool
}

func (x *flatIndex) buildRuns(ents []entry, runs []runEnt) ([]runEnt, error) {
	x.rec = make([]ivRec, len(x.ivlNode))
	// A node's record and run are built once, for the first interval it is the
	// deepest node of.
	done := make([]bool, len(x.nodes))
	recOf := make([]ivRec, len(x.nodes))
	for i, d := range x.ivlNode {
		if d < 0 {
			x.rec[i] = uncovered
			continue
		}
		if done[d] {
			x.rec[i] = recOf[d]
			continue
		}
		nd := &x.nodes[d]
		first := ents[nd.off]
		r := ivRec{asn: first.asn, bits: nd.bits, maxLen: first.maxLen, minBits: nd.bits}
		for j := d; j >= 0; j = x.nodes[j].parent {
			r.minBits = min(r.minBits, x.nodes[j].bits)
			r.maxMax = max(r.maxMax, x.nodes[j].maxMax)
		}
		if uint64(len(runs)) > 1<<32-1-(runCap+1) {
			return runs, errIndexFull
		}
		off := len(runs)
		rest := ents[nd.off+1 : nd.off+uint32(nd.n)] // the first VRP is inline
		for j := d; j >= 0; {
			if len(runs)-off+len(rest) > runCap {
				runs = append(runs, runEnt{asn: routing.ASN(j), cont: true})
				r.sig = ^uint16(0)
				break
			}
			for _, e := range rest {
				runs = append(runs, runEnt{asn: e.asn, bits: x.nodes[j].bits, maxLen: e.maxLen})
				r.sig |= sigBit(e.asn)
			}
			if j = x.nodes[j].parent; j >= 0 {
				p := &x.nodes[j]
				rest = ents[p.off : p.off+uint32(p.n)]
			}
		}
		r.x, r.n = uint32(off), uint16(len(runs)-off)
		done[d], recOf[d] = true, r
		x.rec[i] = r
	}
	return runs, nil
}

// decideRec returns the state of a route of length l from origin in an interval
// with record r, or ok == false when the run must be scanned (scanRun).
func decideRec(r *ivRec, l uint8, origin routing.ASN) (st routing.ROVState, ok bool) {
	switch {
	case l < r.minBits:
		return routing.NotFound, true
	case origin == 0 || l > r.maxMax:
		return routing.Invalid, true
	case r.asn == origin && r.bits <= l && l <= r.maxLen:
		return routing.Valid, true
	case r.sig&sigBit(origin) == 0:
		return routing.Invalid, true
	}
	return 0, false
}

// scanRun decides a covered route of length l from origin (not 0) from its
// interval's run.
func (t *Table) scanRun(x *flatIndex, r *ivRec, l uint8, origin routing.ASN) routing.ROVState {
	for _, e := range t.runs[r.x : r.x+uint32(r.n)] {
		if e.cont {
			return t.walk(x, &x.nodes[e.asn], l, origin)
		}
		if e.asn == origin && e.bits <= l && l <= e.maxLen {
			return routing.Valid
		}
	}
	return routing.Invalid
}

// lookupRec is State for the route of length l in the interval k of x.
func (t *Table) lookupRec(x *flatIndex, k int, l uint8, origin routing.ASN) routing.ROVState {
	r := &x.rec[k]
	if st, ok := decideRec(r, l, origin); ok {
		return st
	}
	return t.scanRun(x, r, l, origin)
}
