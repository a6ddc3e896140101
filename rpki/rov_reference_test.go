package rpki

import (
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
)

// refVRP and refTable are a second RFC 6811 implementation written straight from the
// RFC (§2: a VRP covers a route when its prefix equals or is shorter than the route's
// and matches the route's leading bits; the route is valid when a covering VRP has the
// route's origin, not AS0, and a maxLength not below the route's length; invalid when
// covered otherwise; not found when nothing covers it). It shares no code with the
// package: its VRPs are read from the rpki-client JSON with encoding/json, and it
// looks up every possible covering prefix (lengths 0..route length) in a map.
type refVRP struct {
	asn    uint32
	maxLen int
}

type refTable map[netip.Prefix][]refVRP

func (r refTable) state(p netip.Prefix, origin uint32) routing.ROVState {
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return routing.NotFound
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	covered := false
	for l := 0; l <= p.Bits(); l++ {
		c, err := p.Addr().Prefix(l)
		if err != nil {
			panic(err)
		}
		for _, v := range r[c] {
			covered = true
			if origin != 0 && v.asn == origin && p.Bits() <= v.maxLen {
				return routing.Valid
			}
		}
	}
	if covered {
		return routing.Invalid
	}
	return routing.NotFound
}

// readRefJSON reads the "roas" of an rpki-client JSON file, dropping those expired
// at now (the Options{Now} the table was loaded with).
func readRefJSON(t testing.TB, path string, now int64) refTable {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ROAs []struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength int    `json:"maxLength"`
			Expires   int64  `json:"expires"`
		} `json:"roas"`
	}
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	r := refTable{}
	for _, v := range doc.ROAs {
		if v.Expires != 0 && v.Expires < now {
			continue
		}
		p := netip.MustParsePrefix(v.Prefix)
		r[p] = append(r[p], refVRP{asn: v.ASN, maxLen: v.MaxLength})
	}
	return r
}

// TestStateMatchesReference compares Table.State and Table.States (the interval
// index, single and batched) with the reference on the real 723k-VRP set: 200k real
// announcements of RouteViews pfx2as (IPv4 and IPv6, a random sample in random
// order), random routes around the VRPs' own prefixes (one bit shorter, equal,
// longer, random host parts and lengths), random addresses of any length, and 200k
// random routes of realistic lengths with the VRPs' origins (both families).
func TestStateMatchesReference(t *testing.T) {
	tb := loadReal(t)
	ref := readRefJSON(t, peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz"), buildTime2025.Unix())
	n := 0
	for _, vs := range ref {
		n += len(vs)
	}
	// the file's metadata.uniquevrps; the reference keeps duplicates from several
	// TAs, so it may count more
	if n < 723521 {
		t.Fatalf("reference read %d VRPs", n)
	}
	var (
		count   [3]int
		count6  [3]int
		bad     int
		checked []Route
		wants   []routing.ROVState
	)
	check := func(p netip.Prefix, origin uint32) {
		want := ref.state(p, origin)
		count[want]++
		if p.Addr().Is6() && !p.Addr().Is4In6() {
			count6[want]++
		}
		if got := tb.State(p, routing.ASN(origin)); got != want {
			if bad++; bad <= 10 {
				t.Errorf("State(%s, AS%d) = %s, reference %s", p, origin, got, want)
			}
		}
		checked = append(checked, Route{p, routing.ASN(origin)})
		wants = append(wants, want)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	ann := shuffled(announcedRoutes(t))
	ann = ann[:200000] // a random fifth: the reference costs ~30 map probes per route
	if testing.Short() {
		ann = ann[:50000]
	}
	for _, r := range ann {
		check(r.Prefix, uint32(r.Origin))
	}
	for p, vs := range ref {
		if rng.IntN(8) != 0 {
			continue
		}
		origins := []uint32{0, vs[0].asn, vs[0].asn + 1, rng.Uint32N(400000)}
		for _, d := range []int{-1, 0, 1, 2 + rng.IntN(8)} {
			l := min(max(p.Bits()+d, 0), p.Addr().BitLen())
			a := p.Addr().AsSlice()
			for i := range a {
				if 8*i >= p.Bits() {
					a[i] = byte(rng.Uint32())
				}
			}
			addr, _ := netip.AddrFromSlice(a)
			q, _ := addr.Prefix(l)
			check(q, origins[rng.IntN(len(origins))])
		}
	}
	for range 200000 {
		var a netip.Addr
		if rng.IntN(4) == 0 {
			var b [16]byte
			b[0], b[1] = 0x20|byte(rng.IntN(16)), byte(rng.Uint32())
			for i := 2; i < 16; i++ {
				b[i] = byte(rng.Uint32())
			}
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		}
		q, _ := a.Prefix(rng.IntN(a.BitLen() + 1))
		check(q, rng.Uint32N(400000))
	}
	// Random routes of realistic lengths with origins taken from the VRPs, so that
	// every state occurs in both families (randomRoutes: 20 % IPv6, half of it in
	// the dense 2a00::/12).
	nr := 200000
	if testing.Short() {
		nr = 50000
	}
	for _, r := range randomRoutes(tb, nr) {
		check(r.Prefix, uint32(r.Origin))
	}
	// The batched lookups, on every route above in the same (random) order.
	for i, got := range tb.States(checked, nil) {
		if got != wants[i] {
			if bad++; bad <= 20 {
				t.Errorf("States: %s AS%d = %s, reference %s", checked[i].Prefix, checked[i].Origin, got, wants[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d lookups differ from the reference", bad, 2*len(checked))
	}
	t.Logf("IPv6: %d not found, %d valid, %d invalid", count6[routing.NotFound], count6[routing.Valid], count6[routing.Invalid])
	if count6[routing.Valid] < 1000 || count6[routing.Invalid] < 1000 || count6[routing.NotFound] < 1000 {
		t.Errorf("too few IPv6 routes in some state: %v", count6)
	}
	t.Logf("%d not found, %d valid, %d invalid routes agree with the reference", count[routing.NotFound], count[routing.Valid], count[routing.Invalid])
	if count[routing.Valid] < 10000 || count[routing.Invalid] < 10000 || count[routing.NotFound] < 10000 {
		t.Errorf("too few routes in some state: %v", count)
	}
}

// TestStateDirectoryEdges builds tables whose VRPs crowd one directory bucket (more
// than subMin records, so the bucket has a sub-directory), straddle bucket and
// sub-bucket boundaries, and fill the outer IPv6 buckets (below and above 2000::/4),
// and compares State with the reference on random routes around them.
func TestStateDirectoryEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	bases := []netip.Prefix{
		netip.MustParsePrefix("198.51.96.0/20"), netip.MustParsePrefix("203.0.112.0/20"), // sub-directory, bucket edge
		netip.MustParsePrefix("192.0.0.0/16"), netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("2001:db8:ff00::/40"), netip.MustParsePrefix("3fff::/20"), // last IPv6 bucket
		netip.MustParsePrefix("100::/64"), // RFC 6666, the first IPv6 bucket
	}
	random := func(base netip.Prefix, l int) netip.Prefix {
		a := base.Addr().AsSlice()
		for i := range a {
			switch left := base.Bits() - 8*i; {
			case left >= 8:
			case left > 0:
				m := byte(0xff << (8 - left))
				a[i] = a[i]&m | byte(rng.Uint32())&^m
			default:
				a[i] = byte(rng.Uint32())
			}
		}
		addr, _ := netip.AddrFromSlice(a)
		p, _ := addr.Prefix(min(l, addr.BitLen()))
		return p
	}
	for c := 0; c < 20; c++ {
		b := NewBuilder(Options{})
		ref := refTable{}
		for range 50 + rng.IntN(400) {
			base := bases[rng.IntN(len(bases))]
			p := random(base, base.Bits()-2+rng.IntN(20))
			ml := p.Bits() + rng.IntN(3)
			asn := uint32(64496 + rng.IntN(4))
			if ml > p.Addr().BitLen() {
				ml = p.Bits()
			}
			if err := b.AddVRP(VRP{Prefix: p, MaxLength: uint8(ml), ASN: routing.ASN(asn), TA: "test"}); err != nil {
				t.Fatal(err)
			}
			ref[p] = append(ref[p], refVRP{asn: asn, maxLen: ml})
		}
		tb, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		var count [3]int
		for range 5000 {
			base := bases[rng.IntN(len(bases))]
			p := random(base, base.Bits()-4+rng.IntN(30))
			origin := uint32(64496 + rng.IntN(5))
			want := ref.state(p, origin)
			count[want]++
			if got := tb.State(p, routing.ASN(origin)); got != want {
				t.Fatalf("table %d: State(%s, AS%d) = %s, reference %s", c, p, origin, got, want)
			}
		}
		if count[0] == 0 || count[1] == 0 || count[2] == 0 {
			t.Fatalf("table %d: states %v", c, count)
		}
	}
}
