package irr

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/synth"
)

// writeSynth writes the synthetic registry of bgpq4.md §8 (large variant: 50k ASNs,
// 1M IPv4 and 20k IPv6 routes, 500 sub-sets) to a temporary file and returns its path
// and size.
func writeSynth(b *testing.B) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "synth.db")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := synth.Write(w, synth.Params{ASNs: 50000, Routes: 1000000, V6Routes: 20000, SubSets: 500}); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

// BenchmarkLoadSynthetic loads the 50k-ASN / 1M-route synthetic registry (the file
// bench/compare.sh gives `bgpfilter --irr`): parallel (every core) and, for
// comparison, with the serial scanner. MB/s are of RPSL text.
func BenchmarkLoadSynthetic(b *testing.B) {
	path, size := writeSynth(b)
	for _, mode := range []struct {
		name string
		opt  LoadOptions
	}{{"parallel", LoadOptions{}}, {"serial", LoadOptions{serial: true}}} {
		b.Run(mode.name, func(b *testing.B) { benchLoad(b, path, size, mode.opt) })
	}
}

func benchLoad(b *testing.B, path string, size int64, opt LoadOptions) {
	b.SetBytes(size)
	b.ReportAllocs()
	defer reportCPU(b, size, cpuTime())
	for b.Loop() {
		ix, rep, err := Load(context.Background(), []string{path}, opt)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Objects["route"] != 1000000 || rep.Objects["route6"] != 20000 {
			b.Fatalf("loaded %v", rep.Objects)
		}
		_ = ix
	}
}

// BenchmarkSetPrefixesSynthetic is "!a4AS-BIG" on the synthetic registry: expansion of
// 50k ASNs and the sorted union of their 1M prefixes.
func BenchmarkSetPrefixesSynthetic(b *testing.B) {
	path, _ := writeSynth(b)
	ctx := context.Background()
	ix, _, err := Load(ctx, []string{path}, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		pfx, found, err := ix.SetPrefixes(ctx, nil, synth.Root, false)
		if err != nil || !found || len(pfx) != 1000000 {
			b.Fatalf("got %d prefixes, found %v, err %v", len(pfx), found, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/prefix")
}

// BenchmarkOpenSnapshotSynthetic opens the snapshot of the synthetic registry (tables
// only: the texts are read on first use) and answers "!a4AS-BIG".
func BenchmarkOpenSnapshotSynthetic(b *testing.B) {
	ctx := context.Background()
	snap := writeSynthSnapshot(b)
	for b.Loop() {
		got, _, err := Load(ctx, []string{snap}, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pfx, found, err := got.SetPrefixes(ctx, nil, synth.Root, false)
		if err != nil || !found || len(pfx) != 1000000 {
			b.Fatalf("got %d prefixes, found %v, err %v", len(pfx), found, err)
		}
	}
}

// BenchmarkSnapshotSmallQuery opens the memory-mapped snapshot of the 1M-route
// synthetic registry and answers "!a4AS-BIG-1" (2,000 prefixes): what a small list from
// a cached dump costs in the process, apart from its start-up. It reports the blocks of
// the snapshot that were verified (read) per run.
func BenchmarkSnapshotSmallQuery(b *testing.B) {
	ctx := context.Background()
	snap := writeSynthSnapshot(b)
	blocks := 0
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := Load(ctx, []string{snap}, LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pfx, found, err := got.SetPrefixes(ctx, nil, synth.SubSetName(0), false)
		if err != nil || !found || len(pfx) != 2000 {
			b.Fatalf("got %d prefixes, found %v, err %v", len(pfx), found, err)
		}
		blocks = got.snap.touched()
	}
	b.ReportMetric(float64(blocks), "blocks/op")
}

// writeSynthSnapshot loads the synthetic registry and writes its snapshot to a
// temporary file, outside the timed loop of the snapshot benchmarks.
func writeSynthSnapshot(b *testing.B) string {
	b.Helper()
	path, _ := writeSynth(b)
	ix, _, err := Load(context.Background(), []string{path}, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	snap := filepath.Join(b.TempDir(), "synth.snap")
	f, err := os.Create(snap)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := ix.WriteSnapshot(w); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return snap
}

// reportCPU reports MB (of RPSL, size per iteration) per CPU-second since start.
func reportCPU(b *testing.B, size int64, start float64) {
	if cpu := cpuTime() - start; cpu > 0 && start > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
}
