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
