package rpki

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// deepTable builds a table that exercises every part of the lookup (rov_dir.go,
// rov_runs.go), in both families: covering chains from /0 to the full length with
// several VRPs per level (AS0 among them, maxLength at the prefix length, one
// above, and the family's full length), a mid-chain prefix with more than runCap
// VRPs (its more-specifics' runs end in a continuation), dense regions that split
// the directory several levels deep, and an IPv6 /64 crowded with longer prefixes
// (the directory stops splitting at /64: a search window longer than leafMax6).
func deepTable(t *testing.T) (*Table, []VRP) {
	t.Helper()
	rng := rand.New(rand.NewPCG(31, 32))
	var vrps []VRP
	add := func(p netip.Prefix, maxLen int, asn routing.ASN) {
		p = p.Masked()
		vrps = append(vrps, VRP{Prefix: p, MaxLength: uint8(min(maxLen, p.Addr().BitLen())), ASN: asn, TA: "test"})
	}
	pool := []routing.ASN{0, 64496, 64497, 64498, 64499, 64500, 64501, 65536, 4200000000}
	chain := func(a netip.Addr, lens []int) {
		for _, l := range lens {
			p, _ := a.Prefix(l)
			for range 1 + rng.IntN(3) {
				ml := l
				switch rng.IntN(3) {
				case 1:
					ml = l + 1
				case 2:
					ml = a.BitLen()
				}
				add(p, ml, pool[rng.IntN(len(pool))])
			}
		}
	}
	chain(netip.MustParseAddr("198.51.100.77"), []int{0, 8, 12, 16, 20, 23, 24, 28, 31, 32})
	chain(netip.MustParseAddr("203.0.113.255"), []int{9, 17, 24, 25, 32})
	chain(netip.MustParseAddr("2001:db8:1234:5678:9abc:def0:1234:5678"), []int{0, 3, 4, 16, 20, 32, 48, 63, 64, 65, 96, 127, 128})
	chain(netip.MustParseAddr("3fff:ffff::1"), []int{16, 20, 32, 128})
	// More than runCap VRPs on a mid-chain prefix, with more-specifics below it.
	for i := range runCap + 5 {
		add(netip.MustParsePrefix("198.18.0.0/15"), 15+i%10, 64496+routing.ASN(i))
		add(netip.MustParsePrefix("2001:db8:8000::/33"), 33+i%20, 64496+routing.ASN(i))
	}
	chain(netip.MustParseAddr("198.19.200.1"), []int{17, 24, 32})
	chain(netip.MustParseAddr("2001:db8:8000:1::1"), []int{40, 48, 64})
	// Dense regions: /24s in a /16 and /28s in a /24; /48s in a /32 and prefixes
	// longer than /64 inside one /64.
	for range 700 {
		a := netip.AddrFrom4([4]byte{192, 0, byte(rng.IntN(256)), byte(rng.IntN(256))})
		l := 22 + rng.IntN(3)
		if rng.IntN(4) == 0 {
			a = netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(256))})
			l = 26 + rng.IntN(7)
		}
		p, _ := a.Prefix(l)
		add(p, l+rng.IntN(3), pool[1+rng.IntN(len(pool)-1)])
	}
	for range 1500 {
		var b [16]byte
		copy(b[:], netip.MustParseAddr("2001:db8:4000::").AsSlice())
		b[4], b[5] = byte(rng.IntN(256)), byte(rng.IntN(256))
		l := 44 + rng.IntN(6)
		if rng.IntN(5) == 0 {
			for i := 8; i < 16; i++ {
				b[i] = byte(rng.Uint32())
			}
			b[4], b[5] = 0, 7
			l = 65 + rng.IntN(64)
		}
		p, _ := netip.AddrFrom16(b).Prefix(l)
		add(p, l+rng.IntN(2), pool[1+rng.IntN(len(pool)-1)])
	}
	b := NewBuilder(Options{})
	for _, v := range vrps {
		if err := b.AddVRP(v); err != nil {
			t.Fatal(err)
		}
	}
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return tb, tb.VRPs()
}

// dirDepth is how many child nodes the directory descends for the address hi, and
// the size of its search window.
func dirDepth(x *flatIndex, hi uint64) (depth, window int) {
	e := x.dir[x.bucket(hi)]
	sh, cb := x.rootShift(), x.childBits()
	for e.child != 0 {
		sh -= cb
		e = x.sub[e.child+uint32(hi>>sh)&(1<<cb-1)]
		depth++
	}
	_, window = x.window(hi)
	return depth, window
}

// TestROVDeepChainsAndDirectory compares State, States, ROV and Covering with the
// oracle on deepTable for routes at and around every VRP's boundaries (lengths 0,
// bits-1..bits+1, maxLength, maxLength+1, the full length; first, last and
// next-after addresses; origins of the chain, AS0, unknown ASNs), and checks that
// these routes reach every path of the lookup: a record alone, the ASN signature,
// a run scan, a continuation, a directory several levels deep and an unsplit
// window longer than leafMax6.
func TestROVDeepChainsAndDirectory(t *testing.T) {
	tb, vrps := deepTable(t)
	o := newOracle(vrps)
	cont := 0
	for _, e := range tb.runs {
		if e.cont {
			cont++
		}
	}
	if cont == 0 {
		t.Fatal("no run ends in a continuation: the >runCap prefix did not reach its more-specifics")
	}
	rng := rand.New(rand.NewPCG(33, 34))
	origins := []routing.ASN{0, 64496, 64497, 64498, 64500, 64501, 64496 + runCap + 4, 65536, 4200000000, 4294967295}
	var rs []Route
	seen := map[Route]bool{}
	push := func(a netip.Addr, l int) {
		l = min(max(l, 0), a.BitLen())
		p, _ := a.Prefix(l)
		for range 2 {
			r := Route{p, origins[rng.IntN(len(origins))]}
			if !seen[r] {
				seen[r] = true
				rs = append(rs, r)
			}
		}
	}
	for _, v := range vrps {
		first := v.Prefix.Addr()
		last := lastAddr(v.Prefix)
		addrs := []netip.Addr{first, last}
		if n := last.Next(); n.IsValid() && n.Is4() == first.Is4() {
			addrs = append(addrs, n)
		}
		if p := first.Prev(); p.IsValid() && p.Is4() == first.Is4() {
			addrs = append(addrs, p)
		}
		for _, a := range addrs {
			for _, l := range []int{0, v.Prefix.Bits() - 1, v.Prefix.Bits(), v.Prefix.Bits() + 1, int(v.MaxLength), int(v.MaxLength) + 1, a.BitLen()} {
				push(a, l)
			}
		}
		push(first, v.Prefix.Bits())
		rs = append(rs, Route{v.Prefix, v.ASN}, Route{v.Prefix, v.ASN + 1})
	}
	// The family's extremes.
	for _, a := range []string{"0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1fff:ffff::", "4000::"} {
		ad := netip.MustParseAddr(a)
		for _, l := range []int{0, 1, 8, 16, 32, 64, 128} {
			push(ad, l)
		}
	}
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	checkAgainstOracle(t, tb, o, rs)
	// States in odd-sized slices (batch boundaries fall anywhere).
	want := make([]routing.ROVState, len(rs))
	for i, r := range rs {
		want[i], _ = o.rov(r.Prefix, r.Origin)
	}
	for i := 0; i < len(rs); {
		n := min(1+rng.IntN(100), len(rs)-i)
		for j, st := range tb.States(rs[i:i+n], nil) {
			if st != want[i+j] {
				t.Fatalf("States: %s AS%d = %s, oracle %s", rs[i+j].Prefix, rs[i+j].Origin, st, want[i+j])
			}
		}
		i += n
	}
	// Which paths the routes took.
	var byRec, bySig, byRun, deep4, deep6, wide6 int
	for _, r := range rs {
		q := prepare(r.Prefix)
		if !q.valid {
			continue
		}
		x := tb.ix4
		if !q.is4 {
			x = tb.ix6
		}
		d, w := dirDepth(x, q.hi)
		switch {
		case q.is4 && d >= 2:
			deep4++
		case !q.is4 && d >= 3:
			deep6++
		}
		if !q.is4 && w > leafMax6+1 {
			wide6++
		}
		rec := &x.rec[x.interval(q.hi, q.lo)]
		st, ok := decideRec(rec, q.len, r.Origin)
		switch {
		case !ok:
			byRun++
		case st == routing.Invalid && r.Origin != 0 && q.len >= rec.minBits && q.len <= rec.maxMax && rec.sig&sigBit(r.Origin) == 0:
			bySig++
		default:
			byRec++
		}
	}
	t.Logf("%d routes: %d decided by the record, %d by the ASN signature, %d by a run; directory depth >= 2: %d IPv4, >= 3: %d IPv6; %d IPv6 windows over leafMax6",
		len(rs), byRec, bySig, byRun, deep4, deep6, wide6)
	if byRec < 100 || bySig < 100 || byRun < 100 || deep4 < 100 || deep6 < 100 || wide6 < 10 {
		t.Error("some lookup path is barely exercised")
	}
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	for i := range a {
		if left := p.Bits() - 8*i; left < 8 {
			a[i] |= byte(0xff) >> max(left, 0)
		}
	}
	ad, _ := netip.AddrFromSlice(a)
	return ad
}

// Every VRP set the directory and the runs are built from answers like the oracle:
// random small tables of nested prefixes in both families (fuzzed by seed).
func FuzzROVRuns(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 99))
		b := NewBuilder(Options{})
		bases := []netip.Addr{netip.MustParseAddr("192.0.2.128"), netip.MustParseAddr("2001:db8::8000:0:0:1")}
		var vrps []VRP
		for range 1 + rng.IntN(200) {
			a := bases[rng.IntN(2)].AsSlice()
			for i := len(a) - 1 - rng.IntN(len(a)); i < len(a); i++ {
				a[i] ^= byte(rng.Uint32())
			}
			ad, _ := netip.AddrFromSlice(a)
			p, _ := ad.Prefix(rng.IntN(ad.BitLen() + 1))
			v := VRP{Prefix: p, MaxLength: uint8(min(p.Bits()+rng.IntN(4), ad.BitLen())), ASN: routing.ASN(rng.IntN(6)), TA: "t"}
			if err := b.AddVRP(v); err != nil {
				t.Fatal(err)
			}
			vrps = append(vrps, v)
		}
		tb, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		o := newOracle(tb.VRPs())
		var rs []Route
		for _, v := range vrps {
			for range 4 {
				a := v.Prefix.Addr().AsSlice()
				a[len(a)-1-rng.IntN(len(a))] ^= byte(rng.Uint32())
				ad, _ := netip.AddrFromSlice(a)
				p, _ := ad.Prefix(rng.IntN(ad.BitLen() + 1))
				rs = append(rs, Route{p, routing.ASN(rng.IntN(7))})
			}
		}
		for i, st := range tb.States(rs, nil) {
			if ws, _ := o.rov(rs[i].Prefix, rs[i].Origin); st != ws || tb.State(rs[i].Prefix, rs[i].Origin) != ws {
				t.Fatalf("%s AS%d: States %s, State %s, oracle %s", rs[i].Prefix, rs[i].Origin, st, tb.State(rs[i].Prefix, rs[i].Origin), ws)
			}
		}
	})
}
