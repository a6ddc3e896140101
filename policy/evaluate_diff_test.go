package policy_test

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// refEvaluate is a second, plain implementation of the rule semantics documented on
// policy.RuleName, written from that text only: it reads the document's raw data (no
// Match/Contains/Len/First/Origin methods), tests containment with the standard
// library's net.IPNet, and computes RFC 6811 itself from the VRP list. It returns the
// action and deciding rule.
func refEvaluate(doc *policy.Document, prefix netip.Prefix, path policy.ASPath, vrps []rpki.VRP) (policy.Action, policy.RuleName) {
	_, ipnet, _ := net.ParseCIDR(prefix.Masked().String())
	bits, _ := ipnet.Mask.Size()
	contains := func(p netip.Prefix, lo, hi int) bool { // is the route inside p with a length in [lo, hi]?
		_, n, _ := net.ParseCIDR(p.String())
		pb, _ := n.Mask.Size()
		return n.Contains(ipnet.IP) && bits >= pb && bits >= lo && bits <= hi && len(n.IP) == len(ipnet.IP)
	}
	var all []uint32
	length, sets := 0, 0
	for _, seg := range path {
		for _, a := range seg.ASNs {
			all = append(all, uint32(a))
		}
		if seg.Type == policy.ASSet {
			length++
			sets++
		} else {
			length += len(seg.ASNs)
		}
	}
	first, hasFirst := uint32(0), path[0].Type == policy.ASSequence
	if hasFirst {
		first = uint32(path[0].ASNs[0])
	}
	lastSeg := path[len(path)-1]
	origin, hasOrigin := uint32(0), lastSeg.Type == policy.ASSequence
	if hasOrigin {
		origin = uint32(lastSeg.ASNs[len(lastSeg.ASNs)-1])
	}
	inRanges := func(rs []policy.ASNRange, a uint32) bool {
		for _, r := range rs {
			if uint32(r.From) <= a && a <= uint32(r.To) {
				return true
			}
		}
		return false
	}
	// RFC 6811 §2.
	rov := routing.NotFound
	for _, v := range vrps {
		if !contains(v.Prefix, 0, 128) {
			continue
		}
		if rov == routing.NotFound {
			rov = routing.Invalid
		}
		if hasOrigin && uint32(v.ASN) == origin && bits <= int(v.MaxLength) {
			rov = routing.Valid
			break
		}
	}
	enabled := func(n policy.RuleName) bool {
		for _, r := range doc.Rules {
			if r.Name == n {
				return r.Enabled
			}
		}
		return false
	}
	type check struct {
		name   policy.RuleName
		reject func() bool
	}
	checks := []check{
		{policy.RuleBogonASN, func() bool {
			for _, a := range all {
				if inRanges(doc.BogonASNs.Ranges, a) {
					return true
				}
			}
			return false
		}},
		{policy.RuleBogonPrefix, func() bool {
			for _, b := range doc.BogonPrefixes.Entries {
				if contains(b.Prefix, b.Min, b.Max) {
					return true
				}
			}
			return false
		}},
		{policy.RulePrefixLength, func() bool { return bits < doc.PrefixLength.Min || bits > doc.PrefixLength.Max }},
		{policy.RuleRPKIInvalid, func() bool { return doc.Session.RTRCache.IsValid() && rov == routing.Invalid }},
		{policy.RulePeerlock, func() bool {
			for _, a := range all {
				if inRanges(doc.Peerlock.Ranges, a) {
					return true
				}
			}
			return false
		}},
		{policy.RuleASPathLength, func() bool { return length > doc.MaxPathLength }},
		{policy.RuleASSet, func() bool { return sets > 0 }},
		{policy.RuleFirstAS, func() bool { return !hasFirst || first != uint32(doc.Session.NeighborASN) }},
		{policy.RuleOrigin, func() bool {
			return !hasOrigin || !slices.ContainsFunc(doc.Origins.ASNs, func(a routing.ASN) bool { return uint32(a) == origin })
		}},
		{policy.RulePrefix, func() bool {
			for _, e := range doc.Prefixes.Entries {
				if !contains(e.Prefix, e.Min, e.Max) {
					continue
				}
				if !doc.Session.OriginBinding || len(e.Origins) == 0 {
					return false
				}
				for _, o := range e.Origins {
					if hasOrigin && uint32(o) == origin {
						return false
					}
				}
			}
			return true
		}},
	}
	for _, r := range doc.Rules {
		if r.Name == policy.RuleAccept {
			return policy.Accept, policy.RuleAccept
		}
		for _, c := range checks {
			if c.name == r.Name && enabled(c.name) && c.reject() {
				return policy.Reject, c.name
			}
		}
	}
	return policy.Reject, policy.RuleAccept
}

// routeGen draws announcements that hit every rule: prefixes near the filter's
// entries, bogons and elsewhere; paths from the neighbour, the cone, bogon and
// peerlock ASNs and strangers, with prepends and AS_SETs anywhere.
type routeGen struct {
	r    *rand.Rand
	doc  *policy.Document
	asns []routing.ASN // neighbour and cone: most hops
	bad  []routing.ASN // bogons, peerlock, strangers
}

func newRouteGen(seed uint64, doc *policy.Document) *routeGen {
	g := &routeGen{r: rand.New(rand.NewPCG(seed, 7)), doc: doc}
	g.asns = append(g.asns, doc.Session.NeighborASN, doc.Session.NeighborASN, doc.Session.NeighborASN)
	g.asns = append(g.asns, doc.Origins.ASNs...)
	g.bad = append(g.bad, 0, 23456, 64512, 65535, 65551, 131071, 4200000000, 4294967295, // bogons
		3356, 1299, 2914, 174, 7018, // peerlock
		13335, 15169, 64496, 64497, 64498, 64500, 64501, 65536, 65537, 65538)
	return g
}

func (g *routeGen) prefix() netip.Prefix {
	v6 := g.doc.Family == 6
	var base netip.Prefix
	switch k := g.r.IntN(10); {
	case k < 4 && len(g.doc.Prefixes.Entries) > 0:
		base = g.doc.Prefixes.Entries[g.r.IntN(len(g.doc.Prefixes.Entries))].Prefix
	case k < 6 && len(g.doc.BogonPrefixes.Entries) > 0:
		base = g.doc.BogonPrefixes.Entries[g.r.IntN(len(g.doc.BogonPrefixes.Entries))].Prefix
	case k < 8:
		pool := []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "8.8.8.0/24", "1.0.0.0/8"}
		if v6 {
			pool = []string{"2001:db8::/32", "2001:db8:100::/40", "2001:db8:1000::/36", "2a00::/12", "2001:4860::/32"}
		}
		base = netip.MustParsePrefix(pool[g.r.IntN(len(pool))])
	default:
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		if v6 {
			base = netip.PrefixFrom(netip.AddrFrom16([16]byte(b)), 32)
		} else {
			base = netip.PrefixFrom(netip.AddrFrom4([4]byte(b[:4])), 16)
		}
	}
	maxBits := 32
	if v6 {
		maxBits = 128
	}
	n := base.Bits() + g.r.IntN(9) - 2
	n = max(0, min(n, maxBits))
	// Random host bits below the base length, then mask to n.
	a := base.Addr().AsSlice()
	for i := base.Bits(); i < len(a)*8; i++ {
		if g.r.IntN(2) == 1 {
			a[i/8] |= 0x80 >> (i % 8)
		}
	}
	addr, _ := netip.AddrFromSlice(a)
	p, _ := addr.Prefix(n)
	if n < base.Bits() {
		p, _ = base.Addr().Prefix(n)
	}
	return p
}

func (g *routeGen) path() policy.ASPath {
	n := 1 + g.r.IntN(6)
	if g.r.IntN(10) == 0 {
		n = 28 + g.r.IntN(10)
	}
	pick := func() routing.ASN {
		if g.r.IntN(8) == 0 {
			return g.bad[g.r.IntN(len(g.bad))]
		}
		return g.asns[g.r.IntN(len(g.asns))]
	}
	var p policy.ASPath
	var seq []routing.ASN
	flush := func() {
		if len(seq) > 0 {
			p = append(p, policy.PathSegment{Type: policy.ASSequence, ASNs: seq})
			seq = nil
		}
	}
	for i := 0; i < n; i++ {
		if g.r.IntN(25) == 0 {
			flush()
			set := []routing.ASN{pick()}
			for g.r.IntN(2) == 0 {
				set = append(set, pick())
			}
			p = append(p, policy.PathSegment{Type: policy.ASSet, ASNs: set})
			continue
		}
		var a routing.ASN
		switch {
		case i == 0 && g.r.IntN(4) != 0:
			a = g.doc.Session.NeighborASN
		case len(seq) > 0 && g.r.IntN(4) == 0:
			a = seq[len(seq)-1] // prepend
		case i == n-1 && g.r.IntN(3) != 0 && len(g.doc.Origins.ASNs) > 0:
			a = g.doc.Origins.ASNs[g.r.IntN(len(g.doc.Origins.ASNs))]
		default:
			a = pick()
		}
		seq = append(seq, a)
	}
	flush()
	return p
}

// TestEvaluateDifferential runs Evaluate and refEvaluate on random announcements
// against every example document and variants of it (rules switched off at random,
// origin binding on, no RTR cache) and requires the same action and rule.
func TestEvaluateDifferential(t *testing.T) {
	b := buildExample(t, nil)
	vrps := b.table.VRPs()
	n := 1500
	if testing.Short() {
		n = 500
	}
	seed := uint64(1)
	counts := map[policy.RuleName]int{}
	for _, name := range []string{"cust_one", "transit_cust", "peer_two"} {
		for _, base := range []*policy.Document{b.docs[name].Import4, b.docs[name].Import6} {
			for variant := 0; variant < 4; variant++ {
				doc := *base
				doc.Rules = slices.Clone(base.Rules)
				g := newRouteGen(seed, &doc)
				seed++
				switch variant {
				case 1:
					doc.Session.OriginBinding = !doc.Session.OriginBinding
				case 2:
					doc.Session.RTRCache = netip.AddrPort{}
				case 3:
					for i := range doc.Rules {
						if doc.Rules[i].Name.Switchable() && g.r.IntN(3) == 0 {
							doc.Rules[i].Enabled = false
						}
					}
				}
				for i := 0; i < n; i++ {
					a := policy.Announcement{Prefix: g.prefix(), Path: g.path()}.WithROV(b.table)
					got, err := policy.Evaluate(&doc, a)
					if err != nil {
						t.Fatalf("%s variant %d: %s [%s]: %v", doc.Name, variant, a.Prefix, a.Path, err)
					}
					wantAction, wantRule := refEvaluate(&doc, a.Prefix, a.Path, vrps)
					if got.Action != wantAction || got.Rule != wantRule {
						t.Fatalf("%s variant %d: %s [%s] rov %s: Evaluate = %s by %s (%s), reference = %s by %s",
							doc.Name, variant, a.Prefix, a.Path, a.ROV.State, got.Action, got.Rule, got.Reason, wantAction, wantRule)
					}
					counts[got.Rule]++
				}
			}
		}
	}
	// The generator must reach every per-route rule, or the comparison proves little.
	for _, r := range policy.ImportRules() {
		if r != policy.RuleMaxPrefix && counts[r] == 0 {
			t.Errorf("no announcement was decided by %s (counts %v)", r, counts)
		}
	}
	t.Logf("decisions by rule: %v", counts)
}
