package bgpq4

import (
	"bufio"
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/synth"
	"github.com/bgpfilter/bgpfilter/irr"
)

var (
	synthOnce sync.Once
	synthIx   *irr.Index
	synthErr  error
)

const synthRoutes = 1_000_000

// loadSynth builds the 50k-ASN / 1M-route registry of bgpq4.md §8 once per process.
func loadSynth(b *testing.B) *irr.Index {
	b.Helper()
	synthOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bgpq4-synth")
		if err != nil {
			synthErr = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "synth.db")
		f, err := os.Create(path)
		if err != nil {
			synthErr = err
			return
		}
		w := bufio.NewWriter(f)
		if err = synth.Write(w, synth.Params{ASNs: 50_000, Routes: synthRoutes, SubSets: 500}); err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			synthErr = err
			return
		}
		synthIx, _, synthErr = irr.Load(context.Background(), []string{path}, irr.LoadOptions{})
	})
	if synthErr != nil {
		b.Fatal(synthErr)
	}
	return synthIx
}

// cpuTime returns the process's user+system CPU time; on a shared machine it is a
// steadier measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchRun(b *testing.B, args ...string) {
	ix := loadSynth(b)
	b.ResetTimer()
	var cpu time.Duration
	for b.Loop() {
		c0 := cpuTime()
		if code := Run(context.Background(), args, nil, ix, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/synthRoutes, "ns/prefix")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/synthRoutes, "cpu-ns/prefix")
}

// BenchmarkBGPQ4Synthetic is `bgpq4 AS-BIG` (the !a path: one SetPrefixes call, 1M
// prefixes into the set, IOS printer) on a loaded index.
func BenchmarkBGPQ4Synthetic(b *testing.B) { benchRun(b, synth.Root) }

// BenchmarkBGPQ4SyntheticRecursive is `bgpq4 -L 10 AS-BIG`: client-side recursion
// (501 Members calls) and one Routes batch for 50k ASNs.
func BenchmarkBGPQ4SyntheticRecursive(b *testing.B) { benchRun(b, "-L", "10", synth.Root) }

// BenchmarkBGPQ4SyntheticAggregate is `bgpq4 -A AS-BIG`.
func BenchmarkBGPQ4SyntheticAggregate(b *testing.B) { benchRun(b, "-A", synth.Root) }

// staticQuerier answers "!a" with a fixed prefix list, so a benchmark measures only the
// engine and the printer.
type staticQuerier struct {
	emptyQuerier
	pfx []netip.Prefix
}

func (s staticQuerier) SetPrefixes(context.Context, []string, string, bool) ([]netip.Prefix, bool, error) {
	return s.pfx, true, nil
}

// BenchmarkBGPQ4EngineOnly is `bgpq4 AS-BIG` with 1M /24s handed over by a Querier
// that does no work: set insertion, ordering and the IOS printer only.
func BenchmarkBGPQ4EngineOnly(b *testing.B) {
	pfx := make([]netip.Prefix, synthRoutes)
	for i := range pfx {
		pfx[i] = synth.Route4(i)
	}
	q := staticQuerier{pfx: pfx}
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if code := Run(context.Background(), []string{"AS-BIG"}, nil, q, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/synthRoutes, "ns/prefix")
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N)/synthRoutes, "cpu-ns/prefix")
}
