package rpki

import (
	"bufio"
	"compress/gzip"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
)

// vrpRoutes are the VRPs' own prefixes with their ASN (valid) or ASN+1 (invalid,
// unless another VRP matches), in table order.
func vrpRoutes(tb *Table) []Route {
	vrps := tb.VRPs()
	rs := make([]Route, len(vrps))
	for i, v := range vrps {
		rs[i] = Route{v.Prefix, v.ASN + routing.ASN(i&1)}
	}
	return rs
}

var (
	annOnce sync.Once
	annRS   []Route
	annErr  error
)

// announcedRoutes reads the real RouteViews pfx2as tables (IPv4 + IPv6, Feb 2020):
// "prefix<TAB>length<TAB>origin" with MOAS as "a_b" (one route per origin) and AS
// sets as "a,b" (origin 0: RFC 6811 never matches it). Against the 2025 VRPs they
// give a realistic mix of valid, invalid and not-found routes, sorted by prefix.
func announcedRoutes(t testing.TB) []Route {
	t.Helper()
	p4 := peer.SharedData(t, "announcements/routeviews-pfx2as-ipv4.2020.pfx2as.gz")
	p6 := peer.SharedData(t, "announcements/routeviews-pfx2as-ipv6.2020.pfx2as.gz")
	annOnce.Do(func() {
		for _, p := range []string{p4, p6} {
			if annRS, annErr = readPfx2as(annRS, p); annErr != nil {
				return
			}
		}
		slices.SortFunc(annRS, func(a, b Route) int {
			if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
				return c
			}
			if c := a.Prefix.Bits() - b.Prefix.Bits(); c != 0 {
				return c
			}
			return int(int64(a.Origin) - int64(b.Origin))
		})
	})
	if annErr != nil {
		t.Fatal(annErr)
	}
	return annRS
}

func readPfx2as(rs []Route, path string) ([]Route, error) {
	f, err := os.Open(path)
	if err != nil {
		return rs, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return rs, err
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 3 {
			continue
		}
		a, err1 := netip.ParseAddr(fs[0])
		n, err2 := strconv.Atoi(fs[1])
		if err1 != nil || err2 != nil {
			continue
		}
		p, err := a.Prefix(n)
		if err != nil {
			continue
		}
		if strings.Contains(fs[2], ",") {
			rs = append(rs, Route{p, 0})
			continue
		}
		for _, o := range strings.Split(fs[2], "_") {
			if asn, err := strconv.ParseUint(o, 10, 32); err == nil {
				rs = append(rs, Route{p, routing.ASN(asn)})
			}
		}
	}
	return rs, sc.Err()
}

func shuffled(rs []Route) []Route {
	s := slices.Clone(rs)
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// randomRoutes are n random routes with origins taken from the table's VRPs (so
// all three states occur): 80 % IPv4 of length 8-32 (most 16-24), 20 % IPv6 in
// 2000::/3 of length 19-64 (most 29-48), random host parts, fixed seed.
func randomRoutes(tb *Table, n int) []Route {
	vrps := tb.VRPs()
	rng := rand.New(rand.NewPCG(5, 6))
	rs := make([]Route, 0, n)
	for range n {
		origin := vrps[rng.IntN(len(vrps))].ASN
		var p netip.Prefix
		if rng.IntN(5) != 0 {
			a := netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
			l := 16 + rng.IntN(9)
			if rng.IntN(8) == 0 {
				l = 8 + rng.IntN(25)
			}
			p, _ = a.Prefix(l)
		} else {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			b[0] = 0x20 | b[0]&0x1f
			if rng.IntN(2) == 0 {
				b[0], b[1] = 0x2a, byte(rng.IntN(16)) // RIPE's 2a00::/12, the densest part
			}
			l := 29 + rng.IntN(20)
			if rng.IntN(8) == 0 {
				l = 19 + rng.IntN(46)
			}
			p, _ = netip.AddrFrom16(b).Prefix(l)
		}
		rs = append(rs, Route{p, origin})
	}
	return rs
}

// reportROV reports per-lookup figures for n lookups in the elapsed wall time and
// cpu of process CPU time, and the machine's load average at the end (the machine
// is shared: a random-order lookup is cache-miss bound, and other processes evict
// the index from the shared last-level cache).
func reportROV(b *testing.B, n int, cpu time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/lookup")
	b.ReportMetric(float64(n)/cpu.Seconds(), "lookups/cpu-s")
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			if l, err := strconv.ParseFloat(f[0], 64); err == nil {
				b.ReportMetric(l, "loadavg")
			}
		}
	}
}

// BenchmarkROV is the issue 8 item 4 measurement: route origin validation on the
// real 723k-VRP set in random order, one op per lookup, the table loaded before the
// timer. Query sets: "routes" (the 941k real RouteViews announcements, IPv4 and
// IPv6, shuffled with a fixed seed), "vrps" (the VRPs' own prefixes, shuffled) and
// "random" (1M random routes, randomRoutes). "State" looks each route up on its
// own; "States" passes the same routes in batches of 1024 to Table.States, which
// interleaves the lookups so that their cache misses overlap.
//
//	go test ./rpki -run '^$' -bench '^BenchmarkROV$' -cpu 1 -benchtime 3000000x -count 3
func BenchmarkROV(b *testing.B) {
	tb := loadReal(b)
	sets := []struct {
		name string
		rs   []Route
	}{{"routes", shuffled(announcedRoutes(b))}, {"vrps", shuffled(vrpRoutes(tb))}, {"random", randomRoutes(tb, 1<<20)}}
	for _, set := range sets {
		rs := set.rs
		b.Run(set.name+"/State", func(b *testing.B) {
			var n [3]int
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				r := &rs[i]
				n[tb.State(r.Prefix, r.Origin)]++
				if i++; i == len(rs) {
					i = 0
				}
			}
			reportROV(b, b.N, cpuTime()-c0)
		})
		b.Run(set.name+"/States", func(b *testing.B) {
			const chunk = 1024
			out := make([]routing.ROVState, 0, chunk)
			i := 0
			b.ResetTimer()
			c0 := cpuTime()
			for left := b.N; left > 0; left -= chunk {
				if i+chunk > len(rs) {
					i = 0
				}
				out = tb.States(rs[i:i+min(chunk, left)], out[:0])
				i += chunk
			}
			reportROV(b, b.N, cpuTime()-c0)
		})
	}
}

// BenchmarkROVState measures Table.State per route on the real 723k-VRP set, for
// two query sets ("vrps": the VRPs' own prefixes; "routes": real announcements) in
// sorted and in random order (fixed seed). lookups/s is per wall second,
// lookups/cpu-s per second of the process's CPU time (steadier on a shared machine).
//
//	go test -run '^$' -bench 'ROVState|ValidateSorted' -benchtime=1000000x ./rpki/
func BenchmarkROVState(b *testing.B) {
	tb := loadReal(b)
	sets := []struct {
		name string
		rs   []Route
	}{{"vrps", vrpRoutes(tb)}, {"routes", announcedRoutes(b)}}
	for _, set := range sets {
		for _, order := range []struct {
			name string
			rs   []Route
		}{{"sorted", set.rs}, {"random", shuffled(set.rs)}} {
			b.Run(set.name+"/"+order.name, func(b *testing.B) {
				rs := order.rs
				var n [3]int
				i := 0
				c0 := cpuTime()
				for b.Loop() {
					r := rs[i]
					n[tb.State(r.Prefix, r.Origin)]++
					if i++; i == len(rs) {
						i = 0
					}
				}
				cpu := cpuTime() - c0
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/lookup")
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "lookups/cpu-s")
			})
		}
	}
}

// BenchmarkValidateSorted measures the batch API on sorted chunks of 1024 routes;
// ns/op is per chunk, ns/lookup and lookups/s per route.
func BenchmarkValidateSorted(b *testing.B) {
	tb := loadReal(b)
	const chunk = 1024
	for _, set := range []struct {
		name string
		rs   []Route
	}{{"vrps", vrpRoutes(tb)}, {"routes", announcedRoutes(b)}} {
		b.Run(set.name, func(b *testing.B) {
			rs := set.rs
			out := make([]routing.ROVState, 0, chunk)
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				if i+chunk > len(rs) {
					i = 0
				}
				out = tb.ValidateSorted(rs[i:i+chunk], out[:0])
				i += chunk
			}
			n := float64(b.N) * chunk
			b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/lookup")
			b.ReportMetric(n/b.Elapsed().Seconds(), "lookups/s")
			b.ReportMetric(float64(cpuTime()-c0)/n, "cpu-ns/lookup")
		})
	}
}
