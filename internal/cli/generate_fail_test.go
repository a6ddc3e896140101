package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// dieData is a whois dataset of n customers: customer k (1..n) is ck, AS(64496+k)
// with AS-set AS-Ck holding only itself, whose route objects are 198.51.100.(16k)/28
// and, from version 2 on, 203.0.113.(16k)/28 too (so a run against version 2 changes
// every customer's files).
func dieData(n, version int) *whoisfault.Data {
	d := &whoisfault.Data{Sources: []string{"RIPE"}, Members: map[string][]string{}, Recursive: map[string][]string{},
		Routes4: map[uint32][]string{}, Routes6: map[uint32][]string{}}
	for k := 1; k <= n; k++ {
		asn := uint32(64496 + k)
		set := fmt.Sprintf("AS-C%d", k)
		d.Members[set] = []string{fmt.Sprintf("AS%d", asn)}
		d.Recursive[set] = d.Members[set]
		d.Routes4[asn] = []string{fmt.Sprintf("198.51.100.%d/28", 16*k)}
		if version >= 2 {
			d.Routes4[asn] = append(d.Routes4[asn], fmt.Sprintf("203.0.113.%d/28", 16*k))
		}
		d.Routes6[asn] = []string{fmt.Sprintf("2001:db8:%x::/48", k)}
	}
	return d
}

// treeFiles returns every regular file under dir (relative path → content).
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGenerateIRRServerDiesMidRun: the only whois server goes away (stops listening,
// drops its connections) while generate is at the fourth of six customers (one job,
// so the customers are built in config order). The three built before are written
// with the new data; the fourth, whose query was cut, and the two after it (connection
// refused: the breaker gives the server up after three failures, so they fail fast)
// are "unavailable", keep their previous files byte for byte and stay in every export
// policy with their previous filter; the run exits 3, summary.json says all this, and
// no file is lost or left half-written (issue 7, Must show: an IRR server that dies
// mid-run).
func TestGenerateIRRServerDiesMidRun(t *testing.T) {
	const n = 6
	dir, out, customers, die, seen, before := dieMidRunFirstRun(t, n, "bird, frr", "AS-C4")
	if die == "" {
		t.Fatalf("no AS-C4 query seen: %q", seen)
	}

	srv := whoisfault.Start(t, dieData(n, 2), whoisfault.Fault{Kind: whoisfault.Die, Query: die})
	cfg := genCustomersConfig(t, dir, srv.Addr(), "bird, frr", customers...)
	code, _, errs := genRun(t, "--quiet", "--timeout", "2s", "generate", "--config", cfg, "--out", out, "--jobs", "1")
	after := treeFiles(t, out)
	s := readGenSummary(t, []byte(after["summary.json"]))
	if code != ExitUnavailable || s.ExitCode != ExitUnavailable || s.Status != "incomplete" {
		t.Errorf("exit %d, summary %d %q; want 3, incomplete: %s", code, s.ExitCode, s.Status, errs)
	}
	if len(s.Customers) != n {
		t.Fatalf("summary has %d customers, want %d", len(s.Customers), n)
	}
	// Nothing lost, nothing extra (no staged temporary file left behind).
	var names, want []string
	for f := range after {
		names = append(names, f)
	}
	for k := 1; k <= n; k++ {
		for _, f := range []string{"bird.conf", "frr.conf", "state.json"} {
			want = append(want, fmt.Sprintf("c%d/%s", k, f))
		}
	}
	want = append(want, "summary.json", "_export/bird.conf", "_export/frr.conf", "_export/state.json")
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("files after the run: %q, want %q", names, want)
	}
	for k := 1; k <= n; k++ {
		name := fmt.Sprintf("c%d", k)
		c := s.Customers[s.customer(t, name)]
		newPrefix := fmt.Sprintf("203.0.113.%d/28", 16*k)
		if k < 4 {
			if c.Status != "ok" || c.ExitCode != 0 || c.Entries["ipv4"] != 2 || c.Added["ipv4"] != 1 {
				t.Errorf("%s (answered before the server died): %+v; want ok with 2 IPv4 entries, 1 added", name, c)
			}
			if got := after[name+"/frr.conf"]; !strings.Contains(got, newPrefix) {
				t.Errorf("%s/frr.conf lacks the new %s", name, newPrefix)
			}
			continue
		}
		if c.Status != "unavailable" || c.ExitCode != ExitUnavailable || !strings.Contains(c.Error, "IRR source unavailable") {
			t.Errorf("%s (after the server died): %+v; want unavailable", name, c)
		}
		for _, f := range []string{"bird.conf", "frr.conf", "state.json"} {
			p := name + "/" + f
			if after[p] != before[p] {
				t.Errorf("%s changed although %s's data could not be fetched", p, name)
			}
		}
	}
	// The shared export set still announces the unavailable ones' previous prefixes
	// (and not their new ones, which nobody has checked), and the written ones' new
	// prefixes.
	for k := 1; k <= n; k++ {
		old, add := fmt.Sprintf("198.51.100.%d/28", 16*k), fmt.Sprintf("203.0.113.%d/28", 16*k)
		for _, f := range []string{"_export/frr.conf", "_export/bird.conf"} {
			if !strings.Contains(after[f], old) {
				t.Errorf("%s lost c%d's previous %s", f, k, old)
			}
			if strings.Contains(after[f], add) != (k < 4) {
				t.Errorf("%s: c%d's new %s announced: %v, want %v", f, k, add, !(k < 4), k < 4)
			}
		}
	}
	if e := s.Export; e.Status != "ok" || e.ExitCode != 0 || !slices.Equal(e.PreviousFilters, []string{"c4", "c5", "c6"}) || e.Added["ipv4"] != 3 || e.Removed["ipv4"] != 0 {
		t.Errorf("export: %+v; want ok, c4-c6 announced with their previous filters, 3 added", e)
	}
	if q := srv.Queries(); !slices.Contains(q, die) {
		t.Errorf("the server never saw the query it dies on: %q", q)
	}
}

// shrinkRoutes is the RPSL of AS-GENA (member AS64500) with n route6 objects
// 2001:db8:X::/48 of AS64500, and of cust_b's AS64501.
func shrinkRoutes(n int) string {
	var b strings.Builder
	b.WriteString("as-set: AS-GENA\nmembers: AS64500\nsource: GEN\n\naut-num: AS64500\nsource: GEN\n\n")
	for i := range n {
		fmt.Fprintf(&b, "route6: 2001:db8:%x::/48\norigin: AS64500\nsource: GEN\n\n", i+1)
	}
	b.WriteString("route: 198.51.100.0/24\norigin: AS64501\nsource: GEN\n\nroute6: 2001:db8:ffff::/48\norigin: AS64501\nsource: GEN\n\n")
	return b.String()
}

// TestGenerateEmptiedASSetRefused: an AS-SET that gave 500 prefixes and now gives
// none (its member's route objects were deleted) is refused by the shrink guard: exit
// 4, status "refused" naming the shrink, the previous files kept byte for byte, the
// customer still announced by the others' export policies; the other customer is
// built. --force replaces it (issue 7, Must show: an AS-SET that used to give 500
// prefixes and now gives none).
func TestGenerateEmptiedASSetRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	os.WriteFile(db, []byte(shrinkRoutes(500)), 0o644)
	cfg := writeGenConfig(t, dir, db, "GEN", "self: {prefixes: [203.0.113.0/24]}", "AS-GENA")
	out := filepath.Join(dir, "out")
	gen := func(extra ...string) (int, string) {
		code, _, errs := genRun(t, append([]string{"--quiet", "generate", "--config", cfg, "--out", out}, extra...)...)
		return code, errs
	}
	if code, errs := gen(); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	before := treeFiles(t, out)
	if s := readGenSummary(t, []byte(before["summary.json"])); s.Customers[s.customer(t, "cust_a")].Entries["ipv6"] != 500 {
		t.Fatalf("first run: %s", before["summary.json"])
	}

	os.WriteFile(db, []byte(shrinkRoutes(0)), 0o644)
	code, errs := gen()
	after := treeFiles(t, out)
	s := readGenSummary(t, []byte(after["summary.json"]))
	a, b := s.Customers[s.customer(t, "cust_a")], s.Customers[s.customer(t, "cust_b")]
	if code != ExitGuard || s.ExitCode != ExitGuard || s.Status != "incomplete" {
		t.Errorf("exit %d, summary %d %q; want 4, incomplete: %s", code, s.ExitCode, s.Status, errs)
	}
	if a.Status != "refused" || a.ExitCode != ExitGuard || !strings.Contains(a.Error, "ipv6 filter shrank from 500 to 0") || a.Entries["ipv6"] != 0 || a.Removed["ipv6"] != 500 {
		t.Errorf("cust_a: %+v; want refused, 500 → 0 removed", a)
	}
	if b.ExitCode != 0 || b.Status != "unchanged" {
		t.Errorf("cust_b: %+v; want unchanged (its export still has cust_a's previous filter)", b)
	}
	for f, old := range before {
		if f != "summary.json" && after[f] != old {
			t.Errorf("%s changed although the shrink guard refused cust_a's new filter", f)
		}
	}
	if !strings.Contains(after["_export/frr.conf"], "2001:db8:1f4::/48") || s.Export.Status != "unchanged" || !slices.Equal(s.Export.PreviousFilters, []string{"cust_a"}) {
		t.Errorf("the export set lost cust_a's previous prefixes: %+v", s.Export)
	}

	if code, errs = gen("--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errs)
	}
	after = treeFiles(t, out)
	if s = readGenSummary(t, []byte(after["summary.json"])); s.Customers[s.customer(t, "cust_a")].Status != "ok" || strings.Contains(after["cust_a/frr.conf"], "2001:db8:1f4::/48") {
		t.Errorf("--force did not replace the emptied filter: %s", after["summary.json"])
	}
}

// TestGenerateCorruptPreviousFiles: damaged files of the previous run. A damaged
// config file (cut in half, garbage appended) is replaced by the right one (status
// ok, exit 0). A damaged state.json leaves the shrink guard nothing to compare with,
// so the customer is refused (exit 4, the summary names the file, every previous file
// kept) until --force, which writes a good state.json again; the next run is
// unchanged (issue 7, Must show: a corrupt previous output file).
func TestGenerateCorruptPreviousFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	os.WriteFile(db, []byte(genRoutes(10)), 0o644)
	cfg := writeGenConfig(t, dir, db, "GEN", "self: {prefixes: [203.0.113.0/24]}", "AS-GENA")
	out := filepath.Join(dir, "out")
	gen := func(extra ...string) (int, genSummary, map[string]string) {
		code, _, errs := genRun(t, append([]string{"--quiet", "generate", "--config", cfg, "--out", out}, extra...)...)
		files := treeFiles(t, out)
		t.Logf("exit %d: %s", code, errs)
		return code, readGenSummary(t, []byte(files["summary.json"])), files
	}
	if code, _, _ := gen(); code != 0 {
		t.Fatal("first run failed")
	}
	good := treeFiles(t, out)

	conf := filepath.Join(out, "cust_a", "frr.conf")
	os.WriteFile(conf, []byte(good["cust_a/frr.conf"][:len(good["cust_a/frr.conf"])/2]+"\x00garbage{{{\n"), 0o644)
	code, s, files := gen()
	if a := s.Customers[s.customer(t, "cust_a")]; code != 0 || a.Status != "ok" || a.Added["ipv4"] != 0 || a.Removed["ipv4"] != 0 {
		t.Errorf("damaged frr.conf: exit %d, cust_a %+v; want rewritten (ok), nothing added or removed", code, a)
	}
	if files["cust_a/frr.conf"] != good["cust_a/frr.conf"] {
		t.Error("the damaged frr.conf was not replaced by the right one")
	}

	state := filepath.Join(out, "cust_a", "state.json")
	damaged := good["cust_a/state.json"][:len(good["cust_a/state.json"])/3]
	os.WriteFile(state, []byte(damaged), 0o644)
	before := treeFiles(t, out)
	code, s, files = gen()
	a, b := s.Customers[s.customer(t, "cust_a")], s.Customers[s.customer(t, "cust_b")]
	if code != ExitGuard || s.ExitCode != ExitGuard || a.Status != "refused" || !strings.Contains(a.Error, "state.json") || !strings.Contains(a.Error, "damaged") {
		t.Errorf("damaged state.json: exit %d, summary %d, cust_a %+v; want refused (4) naming the damaged state.json", code, s.ExitCode, a)
	}
	if b.ExitCode != 0 || b.Status != "unchanged" {
		t.Errorf("cust_b: %+v; want unchanged (its export still announces cust_a)", b)
	}
	for f, old := range before {
		if f != "summary.json" && files[f] != old {
			t.Errorf("%s changed although cust_a was refused", f)
		}
	}

	if code, s, files = gen("--force"); code != 0 || s.Customers[s.customer(t, "cust_a")].Status != "ok" || files["cust_a/state.json"] != good["cust_a/state.json"] {
		t.Errorf("--force: exit %d, %+v; want state.json written again", code, s.Customers[s.customer(t, "cust_a")])
	}
	if code, s, _ = gen(); code != 0 || s.Customers[s.customer(t, "cust_a")].Status != "unchanged" {
		t.Errorf("run after --force: exit %d, %+v; want unchanged", code, s.Customers[s.customer(t, "cust_a")])
	}
}

// TestGenerateIRRServerDiesMidRunConcurrent: the same death with four customers built
// at a time. The server dies on the first query of the sixth customer, which starts
// only when two others have finished their queries: those are written, the sixth is
// unavailable, and every customer is either written with the new data or keeps its
// previous files byte for byte. The queries queued behind the one that was cut do not
// each log a warning: at most two for the server (its first failure, and giving it
// up), however many customers were waiting (issue 12 item 16).
func TestGenerateIRRServerDiesMidRunConcurrent(t *testing.T) {
	const n = 8
	dir, out, customers, die, _, before := dieMidRunFirstRun(t, n, "frr", "AS-C6")

	srv := whoisfault.Start(t, dieData(n, 2), whoisfault.Fault{Kind: whoisfault.Die, Query: die})
	cfg := genCustomersConfig(t, dir, srv.Addr(), "frr", customers...)
	code, _, errs := genRun(t, "--timeout", "2s", "generate", "--config", cfg, "--out", out, "--jobs", "4")
	after := treeFiles(t, out)
	s := readGenSummary(t, []byte(after["summary.json"]))
	if code != ExitUnavailable || s.ExitCode != ExitUnavailable {
		t.Errorf("exit %d, summary %d; want 3: %s", code, s.ExitCode, errs)
	}
	written := 0
	for k := 1; k <= n; k++ {
		name := fmt.Sprintf("c%d", k)
		c := s.Customers[s.customer(t, name)]
		switch {
		case c.Status == "ok" && c.Entries["ipv4"] == 2 && strings.Contains(after[name+"/frr.conf"], fmt.Sprintf("203.0.113.%d/28", 16*k)):
			written++
		case c.Status == "unavailable" && c.ExitCode == ExitUnavailable:
			for _, f := range []string{"frr.conf", "state.json"} {
				if after[name+"/"+f] != before[name+"/"+f] {
					t.Errorf("%s/%s changed although %s is unavailable", name, f, name)
				}
			}
		default:
			t.Errorf("%s: %+v; want ok with the new data, or unavailable", name, c)
		}
		if k == 6 && c.Status != "unavailable" {
			t.Errorf("c6, whose query the server died on: %+v", c)
		}
	}
	if written < 2 {
		t.Errorf("%d customers written; want at least the two that finished before c6 started", written)
	}
	var warns []string
	for _, l := range strings.Split(errs, "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "IRR server") {
			warns = append(warns, l)
		}
	}
	if len(warns) == 0 || len(warns) > 2 {
		t.Errorf("%d IRR server warnings, want 1 or 2:\n%s", len(warns), strings.Join(warns, "\n"))
	}
	t.Logf("%d of %d customers written before the server died; warnings:\n%s", written, n, strings.Join(warns, "\n"))
}

// dieMidRunFirstRun is the first, healthy run of the server-dies tests: n customers
// (cK, AS 64496+K, AS-CK) built one at a time from dieData(n, 1) for targets. It
// returns the query that first named dieSet (empty when none did), every query the
// server saw, and the output tree the second run must keep or replace.
func dieMidRunFirstRun(t *testing.T, n int, targets, dieSet string) (dir, out string, customers []string, die string, seen []string, before map[string]string) {
	t.Helper()
	for k := 1; k <= n; k++ {
		customers = append(customers, fmt.Sprintf("c%d %d AS-C%d", k, 64496+k, k))
	}
	dir = t.TempDir()
	out = filepath.Join(dir, "out")
	good := whoisfault.Start(t, dieData(n, 1), whoisfault.Fault{})
	cfg := genCustomersConfig(t, dir, good.Addr(), targets, customers...)
	if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out, "--jobs", "1"); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	seen = good.Queries()
	for _, q := range seen {
		if strings.Contains(q, dieSet) {
			die = q
			break
		}
	}
	good.Close()
	return dir, out, customers, die, seen, treeFiles(t, out)
}
