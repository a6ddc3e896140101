package audit

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/flow"
)

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

var testCustomers = []Customer{
	{Name: "alpha", Prefixes: pfx("192.0.2.0/24", "2001:db8:100::/48"),
		Interfaces: []Interface{{Exporter: netip.MustParseAddr("127.0.0.1"), IfIndex: 10}}},
	// a /22 and a /26 inside another customer's /24 block, and an IPv6 /56
	{Name: "beta", Prefixes: pfx("198.51.100.0/22", "203.0.113.64/26", "2001:db8:200:100::/56"),
		Interfaces: []Interface{{Exporter: netip.MustParseAddr("127.0.0.1"), IfIndex: 11}, {Exporter: netip.MustParseAddr("127.0.0.2")}}},
	{Name: "gamma", Prefixes: pfx("203.0.113.0/26"),
		Interfaces: []Interface{{Exporter: netip.MustParseAddr("127.0.0.1"), IfIndex: 12}}},
}

const beta = 1

func TestPermitted(t *testing.T) {
	m := NewMatcher(testCustomers)
	for _, tc := range []struct {
		cust uint32
		src  string
		want bool
	}{
		{0, "192.0.2.1", true},
		{0, "192.0.3.1", false},
		{0, "198.51.100.1", false}, // beta's
		{1, "198.51.103.255", true},
		{1, "198.51.104.0", false},
		{1, "203.0.113.64", true}, // the /26 inside a /24 block (mixed)
		{1, "203.0.113.127", true},
		{1, "203.0.113.128", false},
		{1, "203.0.113.1", false}, // gamma's /26 in the same block
		{2, "203.0.113.1", true},
		{2, "203.0.113.65", false},
		{0, "2001:db8:100:ffff::1", true},
		{0, "2001:db8:101::1", false},
		{1, "2001:db8:200:1ff::1", true},
		{1, "2001:db8:200:200::1", false}, // same /48, outside the /56
		{1, "::ffff:198.51.100.1", false}, // callers unmap; a mapped address is not IPv4
	} {
		if got := m.Permitted(tc.cust, netip.MustParseAddr(tc.src)); got != tc.want {
			t.Errorf("Permitted(%s, %s) = %v, want %v", testCustomers[tc.cust].Name, tc.src, got, tc.want)
		}
		// twice: the second answer comes from the block cache
		if got := m.Permitted(tc.cust, netip.MustParseAddr(tc.src)); got != tc.want {
			t.Errorf("cached Permitted(%s, %s) = %v, want %v", testCustomers[tc.cust].Name, tc.src, got, tc.want)
		}
	}
}

// TestPermittedAgainstScan checks the trie and its block cache against a plain scan of
// the customers' prefixes (prefix.Contains), on random prefixes and random sources near
// them.
func TestPermittedAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cs []Customer
	for i := 0; i < 50; i++ {
		c := Customer{Name: string(rune('a'+i%26)) + string(rune('a'+i/26))}
		for j := 0; j < 1+rng.IntN(6); j++ {
			if rng.IntN(3) == 0 {
				var b [16]byte
				b[0], b[1], b[2], b[3], b[4], b[5], b[6] = 0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))
				c.Prefixes = append(c.Prefixes, netip.PrefixFrom(netip.AddrFrom16(b), 32+rng.IntN(33)).Masked())
			} else {
				a := netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(8)), byte(rng.IntN(256))})
				c.Prefixes = append(c.Prefixes, netip.PrefixFrom(a, 16+rng.IntN(17)).Masked())
			}
		}
		cs = append(cs, c)
	}
	m := NewMatcher(cs)
	for i := 0; i < 200000; i++ {
		ci := rng.IntN(len(cs))
		var a netip.Addr
		if rng.IntN(3) == 0 {
			var b [16]byte
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[15] = 0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{198, 51, byte(rng.IntN(8)), byte(rng.IntN(256))})
		}
		want := false
		for _, p := range cs[ci].Prefixes {
			if p.Contains(a) {
				want = true
			}
		}
		if got := m.Permitted(uint32(ci), a); got != want {
			t.Fatalf("Permitted(%v, %s) = %v, scan says %v", cs[ci].Prefixes, a, got, want)
		}
	}
}

func TestMappingConflicts(t *testing.T) {
	e := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name string
		cs   []Customer
	}{
		{"same ifindex", []Customer{{Name: "a", Interfaces: []Interface{{e, 5}}}, {Name: "b", Interfaces: []Interface{{e, 5}}}}},
		{"every interface twice", []Customer{{Name: "a", Interfaces: []Interface{{e, 0}}}, {Name: "b", Interfaces: []Interface{{e, 0}}}}},
		{"no exporter", []Customer{{Name: "a", Interfaces: []Interface{{netip.Addr{}, 5}}}}},
		{"duplicate name", []Customer{{Name: "a"}, {Name: "a"}}},
	} {
		if _, err := NewCollector(tc.cs, Limits{}, flow.Limits{}, time.Now()); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestClassifyCountsAndOffenders(t *testing.T) {
	c, err := NewCollector(testCustomers, Limits{MaxOffenders: 3, TopOffenders: 2}, flow.Limits{}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	e1, e2 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	rec := func(e netip.Addr, in uint32, src string, pk, by uint64, rate uint32) flow.Record {
		return flow.Record{Exporter: e, InIf: in, Src: netip.MustParseAddr(src), Packets: pk, Bytes: by, SamplingRate: rate}
	}
	c.mu.Lock()
	c.classify([]flow.Record{
		rec(e1, 10, "192.0.2.7", 1, 100, 0),     // alpha ok
		rec(e1, 10, "203.0.113.9", 2, 200, 10),  // alpha spoofed x10
		rec(e1, 10, "203.0.113.200", 1, 60, 10), // same /24
		rec(e1, 11, "198.51.101.1", 5, 500, 0),  // beta ok
		rec(e2, 99, "198.51.101.1", 5, 500, 0),  // beta via every interface of e2
		rec(e2, 99, "2001:db8:9::1", 1, 80, 0),  // beta spoofed v6
		rec(e1, 12, "100.64.0.1", 1, 40, 0),     // gamma spoofed
		rec(e1, 12, "10.0.0.1", 1, 40, 0),       // gamma spoofed, over the offender cap
		rec(e1, 13, "192.0.2.1", 1, 40, 0),      // unmapped interface
	})
	c.mu.Unlock()
	r := c.Report(time.Unix(60, 0))
	byName := map[string]CustomerReport{}
	for _, cr := range r.Customers {
		byName[cr.Name] = cr
	}
	want := map[string]Counters{
		"alpha": {Flows: 3, Packets: 1 + 20 + 10, Bytes: 100 + 2000 + 600, SpoofedFlows: 2, SpoofedPackets: 30, SpoofedBytes: 2600},
		"beta":  {Flows: 3, Packets: 11, Bytes: 1080, SpoofedFlows: 1, SpoofedPackets: 1, SpoofedBytes: 80},
		"gamma": {Flows: 2, Packets: 2, Bytes: 80, SpoofedFlows: 2, SpoofedPackets: 2, SpoofedBytes: 80},
	}
	for n, w := range want {
		if byName[n].Counters != w {
			t.Errorf("%s: %+v, want %+v", n, byName[n].Counters, w)
		}
	}
	if got := byName["alpha"].TopOffenders; len(got) != 1 || got[0] != (Offender{"203.0.113.0/24", 2, 30, 2600}) {
		t.Errorf("alpha offenders %+v", got)
	}
	if got := byName["beta"].TopOffenders; len(got) != 1 || got[0].Prefix != "2001:db8:9::/48" {
		t.Errorf("beta offenders %+v", got)
	}
	if r.UnmappedFlows != 1 || r.OffendersDropped != 1 {
		t.Errorf("unmapped %d, offenders dropped %d", r.UnmappedFlows, r.OffendersDropped)
	}
	// the next interval starts empty; totals keep counting
	r2 := c.Report(time.Unix(120, 0))
	for _, cr := range r2.Customers {
		if cr.Counters != (Counters{}) || len(cr.TopOffenders) != 0 {
			t.Errorf("second interval %s: %+v", cr.Name, cr)
		}
	}
	if tot := c.Totals(); tot.Customers["alpha"] != want["alpha"] {
		t.Errorf("totals %+v", tot.Customers["alpha"])
	}
}
