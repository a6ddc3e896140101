package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchRegistry writes a synthetic registry of documentation resources only: 32 ASNs
// (64496-64511, 65536-65551) with their aut-nums, the three IPv4 documentation /24s
// in /28s and 2,048 /48s of 2001:db8::/32, origins spread over the ASNs, and one
// AS-SET per customer (every tenth nests the next four, so cones range from one to
// five ASNs). It returns the config of customers customers × 4 targets: 40 % the ASN
// alone, 60 % an AS-SET.
func benchRegistry(tb testing.TB, dir string, customers int) string {
	tb.Helper()
	var asns []int
	for a := 64496; a <= 64511; a++ {
		asns = append(asns, a)
	}
	for a := 65536; a <= 65551; a++ {
		asns = append(asns, a)
	}
	var db strings.Builder
	for _, a := range asns {
		fmt.Fprintf(&db, "aut-num: AS%d\nas-name: BENCH-%d\nsource: BENCH\n\n", a, a)
	}
	k := 0
	for _, net := range []string{"192.0.2", "198.51.100", "203.0.113"} {
		for i := 0; i < 256; i += 16 {
			fmt.Fprintf(&db, "route: %s.%d/28\norigin: AS%d\nsource: BENCH\n\n", net, i, asns[k%len(asns)])
			k++
		}
	}
	for i := range 2048 {
		fmt.Fprintf(&db, "route6: 2001:db8:%x::/48\norigin: AS%d\nsource: BENCH\n\n", i, asns[i%len(asns)])
	}
	for i := range customers {
		members := []string{fmt.Sprintf("AS%d", asns[i%len(asns)])}
		if i%10 == 0 {
			for n := i + 1; n < min(i+5, customers); n++ {
				members = append(members, fmt.Sprintf("AS-BENCH-%d", n))
			}
		}
		fmt.Fprintf(&db, "as-set: AS-BENCH-%d\nmembers: %s\nsource: BENCH\n\n", i, strings.Join(members, ", "))
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.db"), []byte(db.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString(`local_as: 64496
router_id: 192.0.2.1
irr: [bench.db]
sources: [BENCH]
defaults:
  targets: [junos, iosxr, bird, frr]
  prefix_length: {ipv4: [8, 28], ipv6: [16, 48]}
  shrink_guard: 100%
  bogons:
    except_asns: [64496-64511, 65536-65551]
    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]
customers:
`)
	for i := range customers {
		if i%5 < 2 {
			fmt.Fprintf(&cfg, "  - {name: c%04d, asn: %d}\n", i, asns[i%len(asns)])
		} else {
			fmt.Fprintf(&cfg, "  - {name: c%04d, asn: %d, as_set: [AS-BENCH-%d]}\n", i, asns[i%len(asns)], i)
		}
	}
	path := filepath.Join(dir, "bench.yml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkGenerate is a whole generate run (the snapshot cache warm, as on every
// night but the first) of 200 customers × 4 targets into an empty directory: build,
// export sets, rendering, staged writes, summary. bench/generate.sh measures the same
// on 1,000 real RIPE customers against bgpq4.
//
//	go test -run '^$' -bench Generate -benchtime 5x ./pipeline/
func BenchmarkGenerate(b *testing.B) {
	const customers = 200
	dir := b.TempDir()
	cfgPath := benchRegistry(b, dir, customers)
	cache := filepath.Join(dir, "cache")
	run := func(out string) {
		cfg, err := LoadConfig(cfgPath)
		if err != nil {
			b.Fatal(err)
		}
		j := &GenerateJob{Config: cfg, Out: out, IRR: IRRSpec{SnapshotCacheDir: cache}}
		if err := j.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	run(filepath.Join(dir, "warm-up")) // fills the snapshot cache
	var sum GenerateSummary
	b.ResetTimer()
	for i := range b.N {
		out := filepath.Join(dir, fmt.Sprint("out", i))
		run(out)
		b.StopTimer()
		raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(raw, &sum); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(out)
		b.StartTimer()
	}
	b.StopTimer()
	ok := 0
	for _, c := range sum.Customers {
		if c.Status == "ok" && len(c.Files) == 4 && c.Entries["ipv6"] > 0 {
			ok++
		}
	}
	if ok != customers {
		b.Fatalf("%d of %d customers ok with 4 files and IPv6 entries (summary status %s)", ok, customers, sum.Status)
	}
	b.ReportMetric(float64(customers*b.N)/b.Elapsed().Seconds(), "customers/s")
}
