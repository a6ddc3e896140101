package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

const rpkiFixture = "../../rpki/testdata/fixture.rpki-client.json"

// runRPKI runs the app in-process; the rpki flags are added when the lead has not
// wired them into the global flags yet.
func runRPKI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := NewApp(&out, &errb)
	have := map[string]bool{}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			have[n] = true
		}
	}
	for _, f := range rpkiFlags() {
		if !have[f.Names()[0]] {
			app.Flags = append(app.Flags, f)
		}
	}
	err := app.RunContext(context.Background(), append([]string{"bgpfilter", "--quiet"}, args...))
	code := ExitOK
	if err != nil {
		code = ExitUsage
		if ec, ok := err.(interface{ ExitCode() int }); ok {
			code = ec.ExitCode()
		}
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

func TestRPKICommand(t *testing.T) {
	fx := []string{"--rpki", rpkiFixture, "--rpki-ignore-expiry"}
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string // exact when set
		contains []string
		stderr   string
	}{
		{name: "valid", args: append(fx, "rpki", "validate", "192.0.2.0/24", "AS64496"),
			stdout: "valid 192.0.2.0/24 AS64496\n  ROA 192.0.2.0/24-24 AS64496 (ripe): matches\n  ROA 192.0.2.0/24-26 AS64497 (arin): origin mismatch\n"},
		{name: "invalid too long", args: append(fx, "rpki", "validate", "198.51.100.0/24", "64496"), code: ExitROVInvalid,
			stdout: "invalid 198.51.100.0/24 AS64496\n  ROA 198.51.100.0/22-23 AS64496 (ripe): prefix longer than maxLength 23\n  ROA 198.51.100.0/24-24 AS64500 (lacnic): origin mismatch\n"},
		{name: "AS0", args: append(fx, "rpki", "validate", "203.0.113.0/24", "64498"), code: ExitROVInvalid,
			stdout: "invalid 203.0.113.0/24 AS64498\n  ROA 203.0.113.0/24-32 AS0 (apnic): AS0 ROA (RFC 6483): never matches\n"},
		{name: "not found", args: append(fx, "rpki", "validate", "2001:db9::/32", "64496"), code: ExitROVNotFound, stdout: "not-found 2001:db9::/32 AS64496\n"},
		{name: "json flag after operands", args: append(fx, "rpki", "validate", "2001:db8:1::/48", "64496", "--format", "json"),
			contains: []string{`"state": "valid"`, `"prefix": "2001:db8::/32"`, `"matches": true`}},
		{name: "bad prefix", args: append(fx, "rpki", "validate", "192.0.2/24", "64496"), code: 1, stderr: "rpki validate"},
		{name: "bad asn", args: append(fx, "rpki", "validate", "192.0.2.0/24", "ASX"), code: 1},
		{name: "no --rpki", args: []string{"rpki", "validate", "192.0.2.0/24", "64496"}, code: 1, stderr: "--rpki"},
		{name: "missing file", args: []string{"--rpki", "/nonexistent/vrps.json", "rpki", "stats"}, code: 3},
		{name: "bad data", args: []string{"--rpki", "rpki_test.go", "rpki", "stats"}, code: 2, stderr: "unrecognised format"},
		{name: "expired VRP and ASPA dropped", args: []string{"--rpki", rpkiFixture, "rpki", "stats"}, contains: []string{"vrps 7\n", "expired-dropped 2\n"}},
		{name: "max age", args: append(fx, "--rpki-max-age", "1h", "rpki", "stats"), code: 2, stderr: "stale"},
		{name: "TA allow-list", args: append(fx, "--rpki-ta", "arin,apnic", "rpki", "stats"),
			contains: []string{"vrps 3\n", "ta apnic 2\n", "ta arin 1\n"}},
		{name: "stats", args: append(fx, "rpki", "stats"),
			contains: []string{"format rpki-client-json\n", "buildtime 2026-01-02T03:04:05Z\n", "vrps 8\n", "vrps-ipv6 2\n", "aspas 3\n", "ta ripe 4\n"}},
		{name: "dump csv", args: append(fx, "rpki", "dump", "--format", "csv"),
			contains: []string{"ASN,IP Prefix,Max Length,Trust Anchor\nAS64496,192.0.2.0/24,24,ripe\nAS64497,192.0.2.0/24,26,arin\n"}},
		{name: "aspa verify upstream invalid", args: append(fx, "rpki", "aspa-verify", "--upstream", "64499", "64496"),
			stdout: "invalid upstream path 64499 64496: hop AS64496 -> AS64499 is Not Provider+\n"},
		{name: "aspa verify upstream valid", args: append(fx, "rpki", "aspa-verify", "64510 64496"),
			stdout: "valid upstream path 64510 64496: every hop is customer-to-provider\n"},
		{name: "aspa verify downstream unknown", args: append(fx, "rpki", "aspa-verify", "--downstream", "64505", "64504", "64510", "64496"),
			contains: []string{"unknown downstream path"}},
		{name: "aspa verify neighbor", args: append(fx, "rpki", "aspa-verify", "--neighbor", "AS64511", "64510", "64496"),
			contains: []string{"invalid upstream", "neighbor AS64511"}},
		{name: "aspa verify both directions", args: append(fx, "rpki", "aspa-verify", "--upstream", "--downstream", "1"), code: 1},
		{name: "aspa bird", args: append(fx, "rpki", "aspa", "--format", "bird", "--name", "at"),
			contains: []string{"aspa table at;\n", "\troute aspa 64496 providers 64510, 64511;\n", "\troute aspa 64497 transit;\n"}},
		{name: "aspa frr cone", args: append(fx, "rpki", "aspa", "--format", "frr", "--name", "CUST", "AS64496", "64497", "64510"),
			contains: []string{"deny _(64497)_64496_", "deny _(64496|64510)_64497_", "permit .*"}},
		{name: "aspa frr needs cone", args: append(fx, "rpki", "aspa", "--format", "frr"), code: 1},
		{name: "aspa bad name", args: append(fx, "rpki", "aspa", "--format", "junos", "--name", "x\"; }", "64496"), code: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runRPKI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if tc.stdout != "" && out != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tc.stdout)
			}
			for _, s := range tc.contains {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, errs)
			}
		})
	}
}

// dump --format json prints the loaded set in rpki-client form; it re-loads to the same
// dump, and on the real set its counts match the file.
func TestRPKIDumpJSON(t *testing.T) {
	code, out, errs := runRPKI(t, "--rpki", rpkiFixture, "--rpki-ignore-expiry", "rpki", "dump", "--format", "json")
	if code != 0 {
		t.Fatal(errs)
	}
	var doc struct {
		Roas []struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength int    `json:"maxLength"`
			TA        string `json:"ta"`
		} `json:"roas"`
		ASPAs []struct {
			Customer  uint32   `json:"customer_asid"`
			Providers []uint32 `json:"providers"`
		} `json:"aspas"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("dump is not JSON: %v\n%s", err, out)
	}
	if len(doc.Roas) != 8 || doc.Roas[0].Prefix != "192.0.2.0/24" || doc.Roas[7].Prefix != "2001:db8:ff00::/40" || len(doc.ASPAs) != 3 {
		t.Errorf("dump = %+v", doc)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "dump.json")
	os.WriteFile(p, []byte(out), 0o644)
	_, out2, errs := runRPKI(t, "--rpki", p, "rpki", "dump")
	if out2 != out {
		t.Errorf("dump of the dump differs: %s\n%s", errs, out2)
	}
}

func TestRPKIRealData(t *testing.T) {
	path := peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz")
	code, out, errs := runRPKI(t, "--rpki", path, "--rpki-ignore-expiry", "rpki", "validate", "1.0.0.0/24", "AS13335")
	if code != 0 || out != "valid 1.0.0.0/24 AS13335\n  ROA 1.0.0.0/24-24 AS13335 (apnic): matches\n" {
		t.Errorf("exit %d: %s%s", code, out, errs)
	}
	code, out, errs = runRPKI(t, "--rpki", path, "--rpki-ignore-expiry", "rpki", "stats")
	for _, want := range []string{"vrps 723521\n", "aspas 100\n", "ta afrinic 26326\n", "ta apnic 153201\n", "ta arin 203995\n", "ta lacnic 39011\n", "ta ripe 300988\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("stats lacks %q (exit %d): %s%s", want, code, out, errs)
		}
	}
}

// --rpki rtr://: the dump of what stayrtr serves equals the dump of the file it serves
// (after the metadata block, which only the file has).
func TestRPKIRTRSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vrps.json")
	// "ta": "rtr" because RTR carries no trust anchor and the client names it so.
	body := `{"roas":[{"prefix":"192.0.2.0/24","maxLength":24,"asn":"AS64500","ta":"rtr"},
{"prefix":"2001:db8::/32","maxLength":48,"asn":64501,"ta":"rtr"}],
"provider_authorizations":{"ipv4":[{"customer_asid":64500,"providers":[64496,64510]}],"ipv6":[{"customer_asid":64500,"providers":[64496,64510]}]}}`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := peer.StartStayRTR(t, file)
	code, viaRTR, errs := runRPKI(t, "--rpki", "rtr://"+addr, "--timeout", "10s", "rpki", "dump")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, viaFile, _ := runRPKI(t, "--rpki", file, "rpki", "dump")
	cut := func(s string) string { return s[strings.Index(s, `"roas"`):] }
	if !strings.Contains(viaFile, `"customer_asid": 64500, "providers": [ 64496, 64510 ]`) || cut(viaRTR) != cut(viaFile) {
		t.Errorf("RTR dump:\n%s\nfile dump:\n%s", viaRTR, viaFile)
	}
	// An unreachable cache is "source unavailable".
	if code, _, _ := runRPKI(t, "--rpki", "rtr://127.0.0.1:"+rpkiItoa(peer.FreePort(t)), "--timeout", "2s", "rpki", "stats"); code != ExitUnavailable {
		t.Errorf("unreachable cache: exit %d", code)
	}
}

func rpkiItoa(n int) string { return strconv.Itoa(n) }

// TestRPKIValidateExitCodes runs rpki validate through Run (as main does) and checks that
// scripts get distinct codes per state, for text and JSON output alike, with the state
// still printed on stdout and nothing on stderr.
func TestRPKIValidateExitCodes(t *testing.T) {
	for _, tc := range []struct {
		prefix, asn, state string
		code               int
	}{
		{"192.0.2.0/24", "AS64496", "valid", ExitOK},
		{"198.51.100.0/24", "AS64496", "invalid", ExitROVInvalid},
		{"2001:db9::/32", "AS64496", "not-found", ExitROVNotFound},
	} {
		for _, format := range []string{"text", "json"} {
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{"bgpfilter", "--rpki", rpkiFixture, "--rpki-ignore-expiry",
				"rpki", "validate", "--format", format, tc.prefix, tc.asn}, &out, &errb)
			if code != tc.code || !strings.Contains(out.String(), tc.state) || errb.Len() != 0 {
				t.Errorf("%s %s %s: exit %d (want %d), stdout %q, stderr %q", format, tc.prefix, tc.asn, code, tc.code, out.String(), errb.String())
			}
		}
	}
}
