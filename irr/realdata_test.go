package irr

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/synth"
	"github.com/bgpfilter/bgpfilter/routing"
)

var (
	ripeOnce sync.Once
	ripeIx   *Index
	ripeRep  [2]*LoadReport
	ripeErr  error
)

// loadRIPE loads the real RIPE as-set dump and the RIPE-NONAUTH route, route6 and
// aut-num dumps once per test binary.
func loadRIPE(t testing.TB) (*Index, [2]*LoadReport) {
	t.Helper()
	sets := peer.SharedData(t, "irr/ripe.db.as-set.gz")
	dir := filepath.Dir(sets)
	ripeOnce.Do(func() {
		ctx := context.Background()
		var rep *LoadReport
		ripeIx, rep, ripeErr = Load(ctx, []string{sets}, LoadOptions{})
		if ripeErr != nil {
			return
		}
		ripeRep[0] = rep
		ripeRep[1], ripeErr = ripeIx.LoadFiles(ctx, []string{
			filepath.Join(dir, "ripe-nonauth.db.route.gz"),
			filepath.Join(dir, "ripe-nonauth.db.route6.gz"),
			filepath.Join(dir, "ripe-nonauth.db.aut-num.gz"),
		}, LoadOptions{})
	})
	if ripeErr != nil {
		t.Fatal(ripeErr)
	}
	return ripeIx, ripeRep
}

func TestRealDumpCounts(t *testing.T) {
	ix, rep := loadRIPE(t)
	if diff := cmp.Diff(map[string]int{"as-set": 25174}, rep[0].Objects); diff != "" || rep[0].Skipped != 0 {
		t.Errorf("as-set dump (-want +got):\n%s skipped %d", diff, rep[0].Skipped)
	}
	want := map[string]int{"route": 52082, "route6": 1356, "aut-num": 2109}
	if diff := cmp.Diff(want, rep[1].Objects); diff != "" || rep[1].Skipped != 0 {
		t.Errorf("RIPE-NONAUTH dumps (-want +got):\n%s skipped %d %v", diff, rep[1].Skipped, rep[1].Malformed)
	}
	ctx := context.Background()
	srcs, _ := ix.Sources(ctx)
	if !cmp.Equal(srcs, []string{"RIPE", "RIPE-NONAUTH"}) {
		t.Errorf("sources = %v", srcs)
	}
	// AS-AS112 expands to AS112 and its four prefixes (the bgpq4 reference outputs).
	e, err := (&Resolver{Q: ix}).Expand(ctx, "AS-AS112")
	if err != nil || !cmp.Equal(e.ASNs, []routing.ASN{112}) {
		t.Fatalf("AS-AS112 = %v, %v", e, err)
	}
	v4, _, _ := ix.SetPrefixes(ctx, nil, "AS-AS112", false)
	v6, _, _ := ix.SetPrefixes(ctx, nil, "AS-AS112", true)
	eq := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	if diff := cmp.Diff(prefixes("192.31.196.0/24", "192.175.48.0/24"), v4, eq); diff != "" {
		t.Errorf("!a4AS-AS112: %s", diff)
	}
	if diff := cmp.Diff(prefixes("2001:4:112::/48", "2620:4f:8000::/48"), v6, eq); diff != "" {
		t.Errorf("!a6AS-AS112: %s", diff)
	}
	// A hierarchical name from the dump is just a key.
	if _, found, _ := ix.Members(ctx, nil, "as8246:as-tpnet", false); !found {
		t.Error("AS8246:AS-TPNET not found")
	}
}

// TestRealDumpResolverMatchesIndex compares the client-side resolver with the
// server-side "!i,1" on every 25th as-set of the real RIPE dump (every 100th under
// -race; loops, unknown members and deep nesting included); BGPFILTER_FULL=1 compares
// all 25,174 (minutes).
func TestRealDumpResolverMatchesIndex(t *testing.T) {
	ix, _ := loadRIPE(t)
	stride, min := 25, 1000
	if raceEnabled {
		stride, min = 100, 250
	}
	if os.Getenv("BGPFILTER_FULL") == "1" {
		stride, min = 1, 25000
	}
	if n := compareAllSets(t, ix, nil, stride); n < min {
		t.Errorf("compared only %d sets", n)
	}
}

func BenchmarkLoadRIPE(b *testing.B) {
	sets := peer.SharedData(b, "irr/ripe.db.as-set.gz")
	paths := []string{sets, filepath.Join(filepath.Dir(sets), "ripe-nonauth.db.route.gz")}
	var size int64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		size += n
	}
	b.SetBytes(size) // uncompressed RPSL bytes
	b.ResetTimer()
	b.ReportAllocs()
	defer reportCPU(b, size, cpuTime())
	for i := 0; i < b.N; i++ {
		if _, _, err := Load(context.Background(), paths, LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpandSynthetic expands AS-BIG of a 50k-ASN / 1M-route synthetic registry
// (bgpq4.md §8, large variant) and fetches the routes of all its ASNs.
func BenchmarkExpandSynthetic(b *testing.B) {
	path := filepath.Join(b.TempDir(), "synth.db")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	p := synth.Params{ASNs: 50000, Routes: 1000000, V6Routes: 20000, SubSets: 500}
	if err := synth.Write(f, p); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ctx := context.Background()
	ix, _, err := Load(ctx, []string{path}, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, err := (&Resolver{Q: ix}).Expand(ctx, synth.Root)
		if err != nil {
			b.Fatal(err)
		}
		routes, err := ix.Routes(ctx, nil, e.ASNs, false)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, r := range routes {
			n += len(r)
		}
		if len(e.ASNs) != 50000 || n != 1000000 {
			b.Fatalf("got %d ASNs, %d routes", len(e.ASNs), n)
		}
	}
}

// TestRealDumpSnapshot writes the real dumps' index as a snapshot, reads it back and
// compares the answers for a sample of sets and origins.
func TestRealDumpSnapshot(t *testing.T) {
	ix, _ := loadRIPE(t)
	var b bytes.Buffer
	if err := ix.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSnapshot(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ix.Stats(), got.Stats()); diff != "" {
		t.Fatalf("Stats differ (-text +snapshot):\n%s", diff)
	}
	ctx := context.Background()
	stride := 20
	if raceEnabled {
		stride = 200
	}
	n := 0
	for _, s := range ix.srcs {
		i := 0
		for name := range s.sets {
			if i++; i%stride != 0 {
				continue
			}
			n++
			for _, rec := range []bool{false, true} {
				m1, f1, _ := ix.Members(ctx, nil, name, rec)
				m2, f2, _ := got.Members(ctx, nil, name, rec)
				if f1 != f2 || !slices.Equal(m1, m2) {
					t.Fatalf("Members(%s, %v) differ", name, rec)
				}
			}
			p1, _, _ := ix.SetPrefixes(ctx, nil, name, false)
			p2, _, _ := got.SetPrefixes(ctx, nil, name, false)
			if !slices.Equal(p1, p2) {
				t.Fatalf("SetPrefixes(%s) differ: %d vs %d prefixes", name, len(p1), len(p2))
			}
			if o1, o2 := ix.Lookup(nil, name), got.Lookup(nil, name); len(o1) != len(o2) || len(o1) > 0 && o1[0].Text() != o2[0].Text() {
				t.Fatalf("Lookup(%s) differs", name)
			}
		}
		for f := range s.origin {
			i := 0
			for a := range s.origin[f] {
				if i++; i%stride != 0 {
					continue
				}
				r1, _ := ix.Routes(ctx, nil, []routing.ASN{a}, f == 1)
				r2, _ := got.Routes(ctx, nil, []routing.ASN{a}, f == 1)
				if !slices.Equal(r1[0], r2[0]) {
					t.Fatalf("Routes(%s) differ", a)
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("compared only %d sets", n)
	}
}
