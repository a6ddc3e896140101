package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// jobsData is a whois dataset of n customers: customer k (1..n) is jk, AS(64496+k),
// with AS-set AS-Jk of AS(64496+k) and AS(65536+k), each with a route and a route6.
// owner maps every query naming a customer's set or origins to k.
func jobsData(n int) (*whoisfault.Data, func(q string) int) {
	d := &whoisfault.Data{Sources: []string{"RIPE"}, Members: map[string][]string{}, Recursive: map[string][]string{},
		Routes4: map[uint32][]string{}, Routes6: map[uint32][]string{}}
	owners := map[string]int{}
	for k := 1; k <= n; k++ {
		a, b := uint32(64496+k), uint32(65536+k)
		set := fmt.Sprintf("AS-J%d", k)
		d.Members[set] = []string{fmt.Sprintf("AS%d", a), fmt.Sprintf("AS%d", b)}
		d.Recursive[set] = d.Members[set]
		d.Routes4[a] = []string{fmt.Sprintf("198.51.100.%d/28", 16*k)}
		d.Routes4[b] = []string{fmt.Sprintf("203.0.113.%d/28", 16*k)}
		d.Routes6[a] = []string{fmt.Sprintf("2001:db8:%x::/48", k)}
		d.Routes6[b] = []string{fmt.Sprintf("2001:db8:%x::/48", 0x100+k)}
		owners[set] = k
		owners[strconv.Itoa(int(a))], owners[strconv.Itoa(int(b))] = k, k
	}
	owner := func(q string) int {
		switch {
		case strings.HasPrefix(q, "!i"):
			return owners[strings.TrimSuffix(strings.ToUpper(q[2:]), ",1")]
		case strings.HasPrefix(q, "!gas"), strings.HasPrefix(q, "!6as"):
			return owners[q[4:]]
		case strings.HasPrefix(q, "!a4"), strings.HasPrefix(q, "!a6"):
			return owners[strings.ToUpper(q[3:])]
		}
		return 0
	}
	return d, owner
}

// maxOverlap is the most customers "in progress" at once in a query log: customer
// k is in progress from its first query to its last. The server answers one query at
// a time, so this is a lower bound of the customers being built at the same time
// (each one's build spans at least its queries), and one that rises above 1 only when
// the builds interleave.
func maxOverlap(queries []string, owner func(string) int) (max, seen int) {
	first, last := map[int]int{}, map[int]int{}
	for i, q := range queries {
		if k := owner(q); k > 0 {
			if _, ok := first[k]; !ok {
				first[k] = i
			}
			last[k] = i
		}
	}
	for i := range queries {
		n := 0
		for k, f := range first {
			if f <= i && i <= last[k] {
				n++
			}
		}
		max = maxInt(max, n)
	}
	return max, len(first)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// normalSummary is summary.json without what differs between two runs of the same
// data by design: the time, the directory (config and output files) and the server.
func normalSummary(t *testing.T, b, dir, server string) string {
	t.Helper()
	var m map[string]any
	b = strings.ReplaceAll(strings.ReplaceAll(b, dir, "DIR"), server, "SERVER")
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	delete(m, "generated_at")
	n, _ := json.MarshalIndent(m, "", "  ")
	return string(n)
}

// TestGenerateJobsCapsConcurrency: --jobs N bounds the customers built at the same
// time. A whois server that takes 15 ms per reply records every query of 12
// customers; from that log the most customers in progress at once is at most N (1, 3,
// 8), and above 1 for N > 1 (the builds really run in parallel). The output tree is
// byte for byte the same whatever N (summary.json up to its time and directory)
// (issue 7 item 4: a bounded worker count, --jobs).
func TestGenerateJobsCapsConcurrency(t *testing.T) {
	const n = 12
	var customers []string
	for k := 1; k <= n; k++ {
		customers = append(customers, fmt.Sprintf("j%d %d AS-J%d", k, 64496+k, k))
	}
	trees := map[int]map[string]string{}
	for _, jobs := range []int{1, 3, 8} {
		d, owner := jobsData(n)
		d.Delay = 15 * time.Millisecond
		srv := whoisfault.Start(t, d, whoisfault.Fault{})
		dir := t.TempDir()
		out := filepath.Join(dir, "out")
		cfg := genCustomersConfig(t, dir, srv.Addr(), "bird, frr", customers...)
		code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out, "--jobs", strconv.Itoa(jobs))
		if code != 0 {
			t.Fatalf("--jobs %d: exit %d: %s", jobs, code, errs)
		}
		srv.Close()
		got, seen := maxOverlap(srv.Queries(), owner)
		t.Logf("--jobs %d: at most %d of %d customers in progress at once (%d queries)", jobs, got, seen, len(srv.Queries()))
		if seen != n {
			t.Fatalf("--jobs %d: queries of %d customers seen, want %d: %q", jobs, seen, n, srv.Queries())
		}
		if got > jobs {
			t.Errorf("--jobs %d: %d customers in progress at once", jobs, got)
		}
		if jobs > 1 && got < 2 {
			t.Errorf("--jobs %d: the customers were built one after the other", jobs)
		}
		files := treeFiles(t, out)
		files["summary.json"] = normalSummary(t, files["summary.json"], dir, srv.Addr())
		trees[jobs] = files
	}
	for _, jobs := range []int{3, 8} {
		if len(trees[jobs]) != len(trees[1]) {
			t.Errorf("--jobs %d wrote %d files, --jobs 1 %d", jobs, len(trees[jobs]), len(trees[1]))
		}
		for f, want := range trees[1] {
			if trees[jobs][f] != want {
				t.Errorf("%s differs between --jobs 1 and --jobs %d:\n%s\n---\n%s", f, jobs, want, trees[jobs][f])
			}
		}
	}
}
