package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// genSummary is DIR/summary.json as a pipeline reads it.
type genSummary struct {
	Status    string `json:"status"`
	ExitCode  int    `json:"exit_code"`
	Error     string `json:"error"`
	DryRun    bool   `json:"dry_run"`
	Customers []struct {
		Name     string         `json:"name"`
		Status   string         `json:"status"`
		ExitCode int            `json:"exit_code"`
		Entries  map[string]int `json:"entries"`
		Added    map[string]int `json:"added"`
		Removed  map[string]int `json:"removed"`
		Sources  []string       `json:"sources"`
		Error    string         `json:"error"`
	} `json:"customers"`
	RPKI *struct {
		AgeSeconds *int64 `json:"age_seconds"`
	} `json:"rpki"`
	Export struct {
		Status          string         `json:"status"`
		ExitCode        int            `json:"exit_code"`
		Files           []string       `json:"files"`
		Entries         map[string]int `json:"entries"`
		Added           map[string]int `json:"added"`
		Removed         map[string]int `json:"removed"`
		PreviousFilters []string       `json:"previous_filters"`
		Warnings        []string       `json:"warnings"`
		Error           string         `json:"error"`
	} `json:"export"`
}

func (s genSummary) customer(t *testing.T, name string) int {
	t.Helper()
	for i, c := range s.Customers {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("summary has no customer %s: %+v", name, s)
	return -1
}

// genRun runs the app without a global --irr (the config names the data).
func genRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"bgpfilter"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func readGenSummary(t *testing.T, b []byte) genSummary {
	t.Helper()
	var s genSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	return s
}

// genRoutes is the RPSL of customer AS64500's AS-SET with n /24 route objects
// (192.0.2.0/24 split into /28s), and of AS64501 with one route object.
func genRoutes(n int) string {
	var b strings.Builder
	b.WriteString("as-set: AS-GENA\nmembers: AS64500\nsource: GEN\n\n")
	for i := range n {
		fmt.Fprintf(&b, "route: 192.0.2.%d/28\norigin: AS64500\nsource: GEN\n\n", i*16)
	}
	b.WriteString("route: 198.51.100.0/24\norigin: AS64501\nsource: GEN\n\nroute6: 2001:db8:1::/48\norigin: AS64501\nsource: GEN\n\n")
	return b.String()
}

const genConfig = `local_as: 64496
router_id: 192.0.2.1
irr: [%s]
sources: [%s]
%s
defaults:
  targets: [bird, frr]
  prefix_length: {ipv4: [8, 28], ipv6: [16, 48]}
  bogons:
    except_asns: [64496-64511, 65536-65551]
    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]
  shrink_guard: 20%%
customers:
  - name: cust_b
    asn: 64501
  - name: cust_a
    asn: 64500
    as_set: [%s]
`

func writeGenConfig(t *testing.T, dir, irr, sources, self, asSet string) string {
	t.Helper()
	p := filepath.Join(dir, "bgpfilter.yml")
	if err := os.WriteFile(p, []byte(fmt.Sprintf(genConfig, irr, sources, self, asSet)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGenerate: a first run writes every customer × target and the summary; a second
// run is unchanged; a filter that lost more than the shrink guard's share is refused
// (exit 4, previous files kept) until --force; --dry-run writes nothing and prints the
// diff and the summary; --diff's output turns the old file into the new one with GNU
// patch (issue 7 item 4).
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	os.WriteFile(db, []byte(genRoutes(10)), 0o644)
	cfg := writeGenConfig(t, dir, db, "GEN", "self: {prefixes: [203.0.113.0/24]}", "AS-GENA")
	out := filepath.Join(dir, "out")
	gen := func(extra ...string) (int, string, string) {
		return genRun(t, append([]string{"--quiet", "generate", "--config", cfg, "--out", out}, extra...)...)
	}
	code, _, errs := gen("--jobs", "2")
	if code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	sb, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	s := readGenSummary(t, sb)
	a := s.Customers[s.customer(t, "cust_a")]
	if s.Status != "ok" || a.Status != "ok" || a.Entries["ipv4"] != 10 || a.Added["ipv4"] != 10 || len(a.Sources) != 1 || a.Sources[0] != "GEN" {
		t.Errorf("first summary: %s", sb)
	}
	for _, f := range []string{"cust_a/bird.conf", "cust_a/frr.conf", "cust_b/bird.conf", "cust_b/frr.conf"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !strings.Contains(string(b), "IN_V4") || !strings.Contains(string(b), "BGPFILTER_EXPORT_V4") {
			t.Errorf("%s: %v %.200q", f, err, b)
		}
		// The export set is in the shared file only: no customer's file holds another
		// customer's prefixes or the own ones.
		for _, p := range []string{"203.0.113.0/24", map[byte]string{'a': "198.51.100.0/24", 'b': "192.0.2.144/28"}[f[5]]} {
			if strings.Contains(string(b), p) {
				t.Errorf("%s holds %s of the export set", f, p)
			}
		}
	}
	// The shared export set: self (203.0.113.0/24), cust_a's 10 and cust_b's one IPv4
	// prefix, cust_b's IPv6 prefix, once per target.
	if e := s.Export; e.Status != "ok" || e.ExitCode != 0 || e.Entries["ipv4"] != 12 || e.Added["ipv4"] != 12 || e.Entries["ipv6"] != 1 || len(e.Files) != 2 {
		t.Errorf("first run, export: %+v", e)
	}
	for _, f := range []string{"bird.conf", "frr.conf"} {
		b, _ := os.ReadFile(filepath.Join(out, "_export", f))
		for _, p := range []string{"BGPFILTER_EXPORT_V4", "BGPFILTER_EXPORT_V6", "203.0.113.0/24", "198.51.100.0/24", "192.0.2.144/28", "2001:db8:1::/48"} {
			if !strings.Contains(string(b), p) {
				t.Errorf("_export/%s lacks %s", f, p)
			}
		}
	}
	sharedBefore, _ := os.ReadFile(filepath.Join(out, "_export", "frr.conf"))
	before, _ := os.ReadFile(filepath.Join(out, "cust_a", "frr.conf"))

	if code, _, errs = gen(); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errs)
	}
	sb, _ = os.ReadFile(filepath.Join(out, "summary.json"))
	if s = readGenSummary(t, sb); s.Customers[s.customer(t, "cust_a")].Status != "unchanged" || s.Export.Status != "unchanged" {
		t.Errorf("second run: %s", sb)
	}

	// 10 → 7 entries: 30% lost, more than 20%.
	os.WriteFile(db, []byte(genRoutes(7)), 0o644)
	code, _, errs = gen()
	sb, _ = os.ReadFile(filepath.Join(out, "summary.json"))
	s = readGenSummary(t, sb)
	a = s.Customers[s.customer(t, "cust_a")]
	if code != ExitGuard || s.Status != "incomplete" || s.ExitCode != ExitGuard || a.Status != "refused" || !strings.Contains(a.Error, "shrank from 10 to 7") {
		t.Errorf("shrink: exit %d %s\n%s", code, errs, sb)
	}
	// cust_b's export policy keeps announcing cust_a's kept (previous) filter: its
	// files are unchanged.
	if b := s.Customers[s.customer(t, "cust_b")]; b.ExitCode != 0 || b.Status != "unchanged" {
		t.Errorf("shrink of cust_a: cust_b %+v; want unchanged", b)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "cust_a", "frr.conf")); string(after) != string(before) {
		t.Error("refused filter was replaced")
	}
	if after, _ := os.ReadFile(filepath.Join(out, "_export", "frr.conf")); s.Export.Status != "unchanged" || string(after) != string(sharedBefore) {
		t.Errorf("shrink of cust_a: the export set changed (%+v); want cust_a's previous filter announced", s.Export)
	}

	// --dry-run --diff --force: the diff and summary on stdout, nothing written.
	code, stdout, errs := gen("--dry-run", "--diff", "--force")
	if code != 0 || !strings.Contains(stdout, "+++ b/cust_a/frr.conf") || !strings.Contains(stdout, `"dry_run": true`) {
		t.Fatalf("dry run: exit %d %s\n%s", code, errs, stdout)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "cust_a", "frr.conf")); string(after) != string(before) {
		t.Error("--dry-run wrote")
	}
	i := strings.Index(stdout, "--- a/cust_a/frr.conf")
	j := strings.Index(stdout[i:], "\n{")
	if i < 0 || j < 0 {
		t.Fatalf("no frr diff in %q", stdout)
	}
	patchText := stdout[i : i+j+1]
	if k := strings.Index(patchText[4:], "\n--- "); k >= 0 { // only the frr file's diff
		patchText = patchText[:k+5]
	}

	code, _, errs = gen("--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, errs)
	}
	after, _ := os.ReadFile(filepath.Join(out, "cust_a", "frr.conf"))
	sb, _ = os.ReadFile(filepath.Join(out, "summary.json"))
	s = readGenSummary(t, sb)
	if a = s.Customers[s.customer(t, "cust_a")]; a.Status != "ok" || a.Entries["ipv4"] != 7 || a.Removed["ipv4"] != 3 || a.Added["ipv4"] != 0 {
		t.Errorf("--force summary: %s", sb)
	}
	// 12 → 9 export entries is 25%: over the guard too, replaced by --force.
	if e := s.Export; e.Status != "ok" || e.Entries["ipv4"] != 9 || e.Removed["ipv4"] != 3 || len(e.Warnings) == 0 || !strings.Contains(e.Warnings[len(e.Warnings)-1], "--force") {
		t.Errorf("--force, export: %+v", e)
	}
	patch := peer.Require(t, "patch")
	old := filepath.Join(dir, "old.conf")
	os.WriteFile(old, before, 0o644)
	pf := filepath.Join(dir, "p.diff")
	os.WriteFile(pf, []byte(patchText), 0o644)
	res := filepath.Join(dir, "patched.conf")
	if msg, err := exec.Command(patch, "--fuzz=0", "-o", res, old, pf).CombinedOutput(); err != nil {
		t.Fatalf("patch: %v %s\n%s", err, msg, patchText)
	}
	if got, _ := os.ReadFile(res); string(got) != string(after) {
		t.Errorf("the --diff output does not turn the old file into the new one:\n%s", patchText)
	}
}

// TestGenerateUnavailableCustomer: a customer whose IRR query fails keeps its
// previous files and does not block the others; the run exits 3 and the summary
// names it (issue 7 item 4).
func TestGenerateUnavailableCustomer(t *testing.T) {
	data := remoteData()
	good := whoisfault.Start(t, data, whoisfault.Fault{})
	dir := t.TempDir()
	cfg := writeGenConfig(t, dir, "whois://"+good.Addr(), "RIPE", "", "AS-SUB")
	out := filepath.Join(dir, "out")
	code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	keep, _ := os.ReadFile(filepath.Join(out, "cust_a", "bird.conf"))
	query := firstQuery(t, good, "AS-SUB")
	good.Close()
	// The same data, but the AS-SUB expansion gets an F reply.
	data.Routes4[64501] = []string{"198.51.100.0/24", "198.51.100.128/25"}
	bad := whoisfault.Start(t, data, whoisfault.Fault{Kind: whoisfault.FReply, Query: query})
	cfg = writeGenConfig(t, dir, "whois://"+bad.Addr(), "RIPE", "", "AS-SUB")
	// One job: the customers are built in config order, cust_b first.
	code, _, errs = genRun(t, "--quiet", "--timeout", "2s", "generate", "--config", cfg, "--out", out, "--jobs", "1")
	sb, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	s := readGenSummary(t, sb)
	a, b := s.Customers[s.customer(t, "cust_a")], s.Customers[s.customer(t, "cust_b")]
	if code != ExitUnavailable || s.ExitCode != ExitUnavailable || a.Status != "unavailable" || b.Status != "ok" || b.Entries["ipv4"] != 2 {
		t.Errorf("exit %d %s\n%s", code, errs, sb)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "cust_a", "bird.conf")); string(got) != string(keep) {
		t.Error("the unavailable customer's file was replaced")
	}
	// The shared export set still announces cust_a's previous filter (AS-SUB's
	// 203.0.113.0/24), not a cone without it, and cust_b's new prefix.
	got, _ := os.ReadFile(filepath.Join(out, "_export", "frr.conf"))
	if !strings.Contains(string(got), "203.0.113.0/24") || !strings.Contains(string(got), "198.51.100.128/25") {
		t.Errorf("the export set lost the unavailable cust_a's prefixes or lacks cust_b's new one:\n%s", got)
	}
	if e := s.Export; e.Status != "ok" || e.ExitCode != 0 || len(e.PreviousFilters) != 1 || e.PreviousFilters[0] != "cust_a" {
		t.Errorf("export: %+v; want ok, cust_a announced with its previous filter", e)
	}
}

// TestGenerateBadConfig: an unknown key is a usage error (exit 1) naming it, and the
// summary says so.
func TestGenerateBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	os.WriteFile(cfg, []byte("local_as: 64496\nrouter_id: 192.0.2.1\nnosuchkey: 1\ncustomers: []\n"), 0o644)
	out := filepath.Join(dir, "out")
	code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out)
	sb, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := readGenSummary(t, sb)
	if code != ExitUsage || !strings.Contains(errs, "nosuchkey") || s.Status != "error" || s.ExitCode != ExitUsage || !strings.Contains(s.Error, "nosuchkey") {
		t.Errorf("exit %d %s\n%s", code, errs, sb)
	}
}

// TestGenerateSharesQueries: customers that share an AS-SET and origins ask the whois
// server once for them (issue 7 item 4: expanded once and shared).
func TestGenerateSharesQueries(t *testing.T) {
	srv := whoisfault.Start(t, remoteData(), whoisfault.Fault{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	var b strings.Builder
	fmt.Fprintf(&b, "local_as: 64496\nrouter_id: 192.0.2.1\nirr: [whois://%s]\nsources: [RIPE]\ndefaults:\n  targets: [frr]\n"+
		"  bogons:\n    except_asns: [64496-64511, 65536-65551]\n    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]\ncustomers:\n", srv.Addr())
	for i := range 4 {
		fmt.Fprintf(&b, "  - name: c%d\n    asn: %d\n    as_set: [AS-SUB]\n", i, 64497+i)
	}
	os.WriteFile(cfg, []byte(b.String()), 0o644)
	code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", filepath.Join(dir, "out"), "--jobs", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	counts := map[string]int{}
	for _, q := range srv.Queries() {
		counts[q]++
	}
	for q, n := range counts {
		if strings.Contains(q, "AS-SUB") && n != 1 {
			t.Errorf("%q asked %d times for 4 customers sharing AS-SUB; want once", q, n)
		}
	}
	if len(counts) == 0 {
		t.Fatal("no queries seen")
	}
}

// TestGenerateProgress: on a terminal generate draws a progress bar; into a file it
// writes one log line per customer and no carriage returns.
func TestGenerateProgress(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	os.WriteFile(db, []byte(genRoutes(3)), 0o644)
	cfg := writeGenConfig(t, dir, db, "GEN", "", "AS-GENA")
	args := []string{"bgpfilter", "generate", "--config", cfg, "--out", filepath.Join(dir, "out")}
	m, s := openPTY(t)
	defer m.Close()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(m); got <- b }()
	var stdout bytes.Buffer
	code := Run(context.Background(), args, &stdout, s)
	s.Close()
	tty := string(<-got)
	if code != 0 || !strings.Contains(tty, "\rgenerate: [") || !strings.Contains(tty, "2/2 customers") {
		t.Errorf("terminal: exit %d, %q", code, tty)
	}
	f, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code := Run(context.Background(), args, &stdout, f); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, _ := os.ReadFile(f.Name())
	if strings.Contains(string(b), "\r") || strings.Count(string(b), "msg=generate") != 2 {
		t.Errorf("file: %q; want two log lines", b)
	}
}

// genCustomersConfig writes a config for the whois server at addr with the customers
// given as "name asn [AS-SET]" and self prefixes (no query needed for the exports).
func genCustomersConfig(t *testing.T, dir, addr string, targets string, customers ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "local_as: 64496\nrouter_id: 192.0.2.1\nirr: [whois://%s]\nsources: [RIPE]\nself: {prefixes: [192.0.2.0/24]}\n"+
		"defaults:\n  targets: [%s]\n  prefix_length: {ipv4: [8, 28], ipv6: [16, 48]}\n  shrink_guard: 20%%\n"+
		"  bogons:\n    except_asns: [64496-64511, 65536-65551]\n    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]\ncustomers:\n", addr, targets)
	for _, c := range customers {
		f := strings.Fields(c)
		fmt.Fprintf(&b, "  - name: %s\n    asn: %s\n", f[0], f[1])
		if len(f) > 2 {
			fmt.Fprintf(&b, "    as_set: [%s]\n", f[2])
		}
	}
	p := filepath.Join(dir, "bgpfilter.yml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGenerateOneTimeoutOnlyFailsItsCustomer: with a single whois server, one query
// that times out (the server stalls on the first customer's AS-SET) makes that
// customer unavailable, and only it: the customers built after it ask the server
// again and are written (issue 7 item 4; irr.Failover's breaker). Exit 3.
func TestGenerateOneTimeoutOnlyFailsItsCustomer(t *testing.T) {
	customers := []string{"cust_a 64498 AS-SUB", "c1 64496", "c2 64497", "c3 65536"}
	good := whoisfault.Start(t, remoteData(), whoisfault.Fault{})
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cfg := genCustomersConfig(t, dir, good.Addr(), "frr", customers...)
	if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out, "--jobs", "1"); code != 0 {
		t.Fatalf("healthy run: exit %d: %s", code, errs)
	}
	var stall string
	for _, q := range good.Queries() {
		if strings.Contains(q, "AS-SUB") {
			stall = q
			break
		}
	}
	good.Close()
	if stall == "" {
		t.Fatalf("no AS-SUB query seen: %q", good.Queries())
	}
	srv := whoisfault.Start(t, remoteData(), whoisfault.Fault{Kind: whoisfault.Stall, Query: stall})
	cfg = genCustomersConfig(t, dir, srv.Addr(), "frr", customers...)
	code, _, errs := genRun(t, "--quiet", "--timeout", "500ms", "generate", "--config", cfg, "--out", out, "--jobs", "1")
	sb, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	s := readGenSummary(t, sb)
	if code != ExitUnavailable || s.ExitCode != ExitUnavailable || s.Status != "incomplete" {
		t.Errorf("exit %d (summary %d %s), want 3: %s", code, s.ExitCode, s.Status, errs)
	}
	if a := s.Customers[s.customer(t, "cust_a")]; a.Status != "unavailable" || !strings.Contains(a.Error, "timeout") {
		t.Errorf("cust_a: %+v; want unavailable by the timeout", a)
	}
	for _, name := range []string{"c1", "c2", "c3"} {
		if c := s.Customers[s.customer(t, name)]; c.ExitCode != 0 || c.Status != "unchanged" {
			t.Errorf("%s after cust_a's one timed-out query: %+v; want built (unchanged)", name, c)
		}
	}
}
