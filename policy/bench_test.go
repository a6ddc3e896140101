package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
)

// BenchmarkBuild100k builds the prefix filter of an as-set with 1000 origins and 100k
// route objects for 100k distinct /24s (10.0.0.0-11.134.159.0), with provenance, with
// and without aggregation; ns/prefix is per route object.
func BenchmarkBuild100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("as-set: AS-BIG\nmembers: ")
	for a := 0; a < 1000; a++ {
		if a > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "AS%d", 4200000000+a)
	}
	sb.WriteString("\nsource: BENCH\n\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "route: %d.%d.%d.0/24\norigin: AS%d\nsource: BENCH\n\n", 10+i>>16, i>>8&255, i&255, 4200000000+i%1000)
	}
	path := filepath.Join(b.TempDir(), "big.db")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	ix, _, err := irr.Load(context.Background(), []string{path}, irr.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, agg := range []bool{false, true} {
		b.Run(fmt.Sprintf("aggregate=%v", agg), func(b *testing.B) {
			var n int
			for b.Loop() {
				f, err := BuildPrefixFilter(context.Background(), ix, &irr.Resolver{Q: ix}, []string{"AS-BIG"}, Options{Family: 4, Aggregate: agg})
				if err != nil {
					b.Fatal(err)
				}
				n = len(f.Entries)
			}
			b.ReportMetric(float64(n), "entries")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100000, "ns/prefix")
		})
	}
}
