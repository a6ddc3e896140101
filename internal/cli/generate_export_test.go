package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// exportFiles are the shared export files of a run with targets bird and frr.
var exportFiles = []string{"_export/bird.conf", "_export/frr.conf", "_export/state.json"}

// firstQuery returns the first query srv saw that names what.
func firstQuery(t *testing.T, srv *whoisfault.Server, what string) string {
	t.Helper()
	for _, q := range srv.Queries() {
		if strings.Contains(q, what) {
			return q
		}
	}
	t.Fatalf("no %s query seen: %q", what, srv.Queries())
	return ""
}

// TestGenerateExportKeptWhenPreviousUnknown: a customer whose data cannot be fetched
// and whose previous state.json is damaged too has prefixes nobody knows any more.
// Rather than stop announcing them upstream, the run keeps the previous shared export
// files byte for byte (status "kept", exit 3, the summary names the customer); the
// other customer's new files are written (they name the shared sets, which the kept
// files define). The next complete run writes the export set again.
func TestGenerateExportKeptWhenPreviousUnknown(t *testing.T) {
	data := remoteData()
	good := whoisfault.Start(t, data, whoisfault.Fault{})
	dir := t.TempDir()
	cfg := writeGenConfig(t, dir, "whois://"+good.Addr(), "RIPE", "", "AS-SUB")
	out := filepath.Join(dir, "out")
	if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	query := firstQuery(t, good, "AS-SUB")
	good.Close()
	os.WriteFile(filepath.Join(out, "cust_a", "state.json"), []byte(`{"entries": {"ipv4": [`), 0o644)
	before := treeFiles(t, out)

	data.Routes4[64501] = []string{"198.51.100.0/24", "198.51.100.128/25"}
	bad := whoisfault.Start(t, data, whoisfault.Fault{Kind: whoisfault.FReply, Query: query})
	cfg = writeGenConfig(t, dir, "whois://"+bad.Addr(), "RIPE", "", "AS-SUB")
	code, _, errs := genRun(t, "--quiet", "--timeout", "2s", "generate", "--config", cfg, "--out", out, "--jobs", "1")
	after := treeFiles(t, out)
	s := readGenSummary(t, []byte(after["summary.json"]))
	a, b := s.Customers[s.customer(t, "cust_a")], s.Customers[s.customer(t, "cust_b")]
	if code != ExitUnavailable || s.ExitCode != ExitUnavailable || a.Status != "unavailable" || b.Status != "ok" {
		t.Errorf("exit %d, summary %d, cust_a %q, cust_b %q; want 3, unavailable, ok: %s", code, s.ExitCode, a.Status, b.Status, errs)
	}
	if e := s.Export; e.Status != "kept" || e.ExitCode != ExitUnavailable || !strings.Contains(e.Error, "cust_a") || !strings.Contains(e.Error, "previous shared export files are kept") {
		t.Errorf("export: %+v; want kept (3) naming cust_a", e)
	}
	for _, f := range exportFiles {
		if after[f] != before[f] || before[f] == "" {
			t.Errorf("%s changed (or was missing) although cust_a's previous filter is unknown", f)
		}
	}
	if !strings.Contains(after["_export/frr.conf"], "203.0.113.0/24") {
		t.Error("the kept export set lost cust_a's 203.0.113.0/24")
	}
	if !strings.Contains(after["cust_b/frr.conf"], "198.51.100.128/25") || !strings.Contains(after["cust_b/frr.conf"], "BGPFILTER_EXPORT_V4") {
		t.Error("cust_b was not written with its new filter")
	}
	bad.Close()

	// The data is back: the export set is written again, with cust_b's new prefix.
	healthy := whoisfault.Start(t, data, whoisfault.Fault{})
	cfg = writeGenConfig(t, dir, "whois://"+healthy.Addr(), "RIPE", "", "AS-SUB")
	if code, _, errs = genRun(t, "--quiet", "generate", "--config", cfg, "--out", out, "--force"); code != 0 {
		t.Fatalf("healthy run: exit %d: %s", code, errs)
	}
	after = treeFiles(t, out)
	s = readGenSummary(t, []byte(after["summary.json"]))
	if s.Export.Status != "ok" || !strings.Contains(after["_export/frr.conf"], "198.51.100.128/25") || !strings.Contains(after["_export/frr.conf"], "203.0.113.0/24") {
		t.Errorf("healthy run, export: %+v", s.Export)
	}
}

// TestGenerateExportShrinkGuard: a customer removed from the config takes its
// prefixes out of the export set; when that is more than the shrink guard allows the
// new set is refused (exit 4, the previous export files kept byte for byte, the
// summary says why), the remaining customer is built; --dry-run --diff --force shows
// the export file's diff and writes nothing; --force replaces it.
func TestGenerateExportShrinkGuard(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	os.WriteFile(db, []byte(genRoutes(10)), 0o644)
	cfg := writeGenConfig(t, dir, db, "GEN", "self: {prefixes: [203.0.113.0/24]}", "AS-GENA")
	out := filepath.Join(dir, "out")
	if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	before := treeFiles(t, out)
	b, _ := os.ReadFile(cfg)
	without := strings.Replace(string(b), "  - name: cust_a\n    asn: 64500\n    as_set: [AS-GENA]\n", "", 1)
	if without == string(b) {
		t.Fatal("cust_a not found in the config")
	}
	os.WriteFile(cfg, []byte(without), 0o644)

	code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out)
	after := treeFiles(t, out)
	s := readGenSummary(t, []byte(after["summary.json"]))
	if code != ExitGuard || s.ExitCode != ExitGuard || s.Status != "incomplete" || len(s.Customers) != 1 || s.Customers[0].Status != "unchanged" {
		t.Errorf("exit %d, summary %d %q %+v; want 4, incomplete, cust_b unchanged: %s", code, s.ExitCode, s.Status, s.Customers, errs)
	}
	if e := s.Export; e.Status != "refused" || e.ExitCode != ExitGuard || !strings.Contains(e.Error, "ipv4 export set shrank from 12 to 2") || e.Removed["ipv4"] != 10 {
		t.Errorf("export: %+v; want refused, 12 → 2", e)
	}
	for _, f := range exportFiles {
		if after[f] != before[f] {
			t.Errorf("%s changed although the shrink guard refused the export set", f)
		}
	}

	code, stdout, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out, "--dry-run", "--diff", "--force")
	if code != 0 || !strings.Contains(stdout, "+++ b/_export/frr.conf") || !strings.Contains(stdout, "-ip prefix-list BGPFILTER_EXPORT_V4 seq 5 permit 192.0.2.0/28") {
		t.Errorf("--dry-run --diff --force: exit %d: %s\n%s", code, errs, stdout)
	}
	if now := treeFiles(t, out); now["_export/frr.conf"] != before["_export/frr.conf"] {
		t.Error("--dry-run wrote the export file")
	}

	if code, _, errs = genRun(t, "--quiet", "generate", "--config", cfg, "--out", out, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errs)
	}
	after = treeFiles(t, out)
	s = readGenSummary(t, []byte(after["summary.json"]))
	if e := s.Export; e.Status != "ok" || e.Entries["ipv4"] != 2 || strings.Contains(after["_export/frr.conf"], "192.0.2.0/28") {
		t.Errorf("--force, export: %+v", e)
	}
}

// TestGenerateSelfUnavailable: the own prefixes (self: an AS-SET on the whois
// server) cannot be fetched. On a first run there is no shared export file the
// customers' export policies could name, so every customer fails (exit 3, nothing
// written but the summary). After a healthy run, the same failure keeps the previous
// export files (status "unavailable", exit 3) and the customers' import filters are
// still updated: an outage of the own AS-SET does not hold them back.
func TestGenerateSelfUnavailable(t *testing.T) {
	data := remoteData()
	probe := whoisfault.Start(t, data, whoisfault.Fault{})
	dir := t.TempDir()
	cfg := writeGenConfig(t, dir, "whois://"+probe.Addr(), "RIPE", "self: {as_set: [AS-CUST]}", "AS-SUB")
	scratch := filepath.Join(dir, "scratch")
	if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", scratch); code != 0 {
		t.Fatalf("probe run: exit %d: %s", code, errs)
	}
	query := firstQuery(t, probe, "AS-CUST")
	probe.Close()
	out := filepath.Join(dir, "out")
	run := func(d *whoisfault.Data, f whoisfault.Fault) (int, genSummary, map[string]string) {
		srv := whoisfault.Start(t, d, f)
		defer srv.Close()
		cfg := writeGenConfig(t, dir, "whois://"+srv.Addr(), "RIPE", "self: {as_set: [AS-CUST]}", "AS-SUB")
		code, _, errs := genRun(t, "--quiet", "--timeout", "2s", "generate", "--config", cfg, "--out", out, "--jobs", "1")
		t.Logf("exit %d: %s", code, errs)
		files := treeFiles(t, out)
		return code, readGenSummary(t, []byte(files["summary.json"])), files
	}

	fail := whoisfault.Fault{Kind: whoisfault.FReply, Query: query}
	code, s, files := run(data, fail)
	if code != ExitUnavailable || s.Export.Status != "unavailable" || !strings.Contains(s.Export.Error, "self") {
		t.Errorf("first run: exit %d, export %+v; want 3, unavailable", code, s.Export)
	}
	for _, c := range s.Customers {
		if c.ExitCode != ExitUnavailable || !strings.Contains(c.Error, "_export/") {
			t.Errorf("first run, %s: %+v; want unavailable for want of the shared export file", c.Name, c)
		}
	}
	if len(files) != 1 {
		t.Errorf("first run wrote %d files, want only summary.json", len(files))
	}

	if code, s, _ = run(data, whoisfault.Fault{}); code != 0 || s.Export.Status != "ok" {
		t.Fatalf("healthy run: exit %d, export %+v", code, s.Export)
	}
	before := treeFiles(t, out)
	data.Routes4[64501] = []string{"198.51.100.0/24", "198.51.100.128/25"}
	code, s, files = run(data, fail)
	if code != ExitUnavailable || s.Export.Status != "unavailable" || s.Export.ExitCode != ExitUnavailable {
		t.Errorf("self unavailable: exit %d, export %+v; want 3, unavailable", code, s.Export)
	}
	for _, f := range exportFiles {
		if files[f] != before[f] {
			t.Errorf("%s changed although the own prefixes could not be fetched", f)
		}
	}
	if b := s.Customers[s.customer(t, "cust_b")]; b.Status != "ok" || !strings.Contains(files["cust_b/frr.conf"], "198.51.100.128/25") {
		t.Errorf("cust_b: %+v; want written with its new filter", b)
	}
}
