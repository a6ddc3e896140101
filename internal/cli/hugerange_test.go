package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/render"
)

// hugeRangeDB holds a route-set whose range covers 2^97 prefixes (far beyond the 4M
// prefixset.MaxEnumerate), next to an ordinary member.
const hugeRangeDB = "route-set: RS-HUGE\nmp-members: 2001:db8::/32^33-128, 2001:db8:1::/48\nsource: TEST\n"

// TestHugeRangeEveryFormat (issue 12 item 4): for every native --format, a range too
// large to enumerate is either written whole as one range entry in the format's own
// syntax (the filter permits exactly what the route-set says) or, in a format that can
// only list exact prefixes (junos prefix-list), refused with exit 2 and a message naming
// the range and the formats that can carry it, the previous --output untouched and the
// summary saying error. No format may write a narrower filter with exit 0. The table
// must name every format render.Formats() lists, so a new format cannot skip the check.
// Failing first: with AddRange dropping the huge range (the behaviour the issue reports)
// every range row fails (the line is missing); with the junos refusal removed the junos
// row fails (exit 0, file replaced).
func TestHugeRangeEveryFormat(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	if err := os.WriteFile(db, []byte(hugeRangeDB), 0o644); err != nil {
		t.Fatal(err)
	}
	// want is the range entry as each format writes it ("" = the format must refuse).
	// The syntax of each is that of the format's other range entries (render goldens,
	// checked by bird -p, FRR, bgpq4 -J and bgpd -n in the render tests).
	want := map[string]string{
		"junos":              "",
		"junos-route-filter": "2001:db8::/32 prefix-length-range /33-/128;",
		"junos-policy":       "route-filter 2001:db8::/32 prefix-length-range /33-/128;",
		"iosxr":              " 2001:db8::/32 ge 33 le 128,",
		"ios":                "ipv6 prefix-list RS-HUGE permit 2001:db8::/32 ge 33 le 128",
		"eos":                "permit 2001:db8::/32 ge 33 le 128",
		"bird":               "2001:db8::/32{33,128}",
		"frr":                "ipv6 prefix-list RS-HUGE seq 5 permit 2001:db8::/32 ge 33 le 128",
		"openbgpd":           "2001:db8::/32 prefixlen 33 - 128",
		"json":               `{"prefix":"2001:db8::/32","exact":false,"min":33,"max":128,`,
	}
	formats := render.Formats()
	for f := range want {
		if !slices.Contains(formats, f) {
			t.Errorf("table names %q, which is no longer a format", f)
		}
	}
	for _, f := range formats {
		t.Run(f, func(t *testing.T) {
			line, ok := want[f]
			if !ok {
				t.Fatalf("format %q is not in the table: say whether it writes the range or refuses it", f)
			}
			out := filepath.Join(t.TempDir(), "filter")
			sum := out + ".json"
			const previous = "previous filter\n"
			if err := os.WriteFile(out, []byte(previous), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runExpandCLI(t, "--irr", db, "prefix-list", "--format", f, "-6",
				"--output", out, "--summary-json", sum, "RS-HUGE")
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Status  string
				Entries *int
			}
			if b, err := os.ReadFile(sum); err != nil {
				t.Fatalf("no summary: %v", err)
			} else if err := json.Unmarshal(b, &s); err != nil {
				t.Fatalf("summary: %v: %s", err, b)
			}
			if line == "" {
				if code != 2 || string(got) != previous {
					t.Fatalf("exit %d, output now %q: want exit 2 and the previous file", code, got)
				}
				for _, w := range []string{"2001:db8::/32", "cannot carry length ranges", "junos-route-filter"} {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr lacks %q: %s", w, stderr)
					}
				}
				if s.Status != "error" || s.Entries != nil {
					t.Errorf("summary status %q entries %v, want error and null", s.Status, s.Entries)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(string(got), line) || !strings.Contains(string(got), "2001:db8:1::/48") {
				t.Fatalf("the range entry %q (or the /48) is not in the filter:\n%s", line, got)
			}
			if s.Status != "ok" || s.Entries == nil || *s.Entries != 2 {
				t.Errorf("summary status %q entries %v, want ok and 2", s.Status, s.Entries)
			}
		})
	}
}

// TestInvalidMembersReported (issue 12 item 4): an invalid member or range operator is
// never dropped without a word: prefix-list, as-path and generate name the set and the
// member on stderr and in their summary JSON warnings, and so does a route-set ASN
// member whose range operator permits no length of its route objects.
func TestInvalidMembersReported(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	if err := os.WriteFile(db, []byte(`route-set: RS-BAD
members: 192.0.2.0/24, AS64496;AS64497, 198.51.100.0/24^33, 203.0.113.0/24^24-16, AS64498^16
source: TEST

as-set: AS-BAD
members: AS64497, AS1;AS2
source: TEST

route: 203.0.113.0/24
origin: AS64497
source: TEST

route: 198.51.100.0/24
origin: AS64498
source: TEST
`), 0o644); err != nil {
		t.Fatal(err)
	}
	prefixWarn := []string{
		`"AS64496;AS64497" of RS-BAD`,
		"198.51.100.0/24^33 of RS-BAD",
		"203.0.113.0/24^24-16 of RS-BAD",
		"range operator ^16 of AS64498 (via RS-BAD) permits no length of 1 of its IPv4 route prefixes; dropped: 198.51.100.0/24",
	}
	cfg := filepath.Join(dir, "g.yml")
	if err := os.WriteFile(cfg, []byte(`local_as: 64496
router_id: 192.0.2.1
irr: [t.db]
sources: [TEST]
defaults:
  targets: [bird]
  bogons: {asns: false, prefixes: false}
customers:
  - name: cust_bad
    asn: 64497
    as_set: [RS-BAD, AS-BAD]
    max_prefix: {ipv4: 100, ipv6: 20}
    sessions: [{address: 192.0.2.2}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "out")
	tests := []struct {
		name    string
		args    []string
		summary string // where the summary JSON is
		want    []string
	}{
		{"prefix-list", []string{"--irr", db, "prefix-list", "--format", "bird", "--summary-json", filepath.Join(dir, "p.json"), "RS-BAD"},
			filepath.Join(dir, "p.json"), prefixWarn},
		{"as-path", []string{"--irr", db, "as-path", "--format", "bird", "--keep-private", "--summary-json", filepath.Join(dir, "a.json"), "AS-BAD"},
			filepath.Join(dir, "a.json"), []string{`"AS1;AS2" of AS-BAD`}},
		{"generate", []string{"generate", "--config", cfg, "--out", gen},
			filepath.Join(gen, "summary.json"), append(slices.Clone(prefixWarn), `"AS1;AS2" of AS-BAD`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runExpandCLI(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			b, err := os.ReadFile(tc.summary)
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Warnings  []string
				Customers []struct{ Warnings []string }
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			warnings := s.Warnings
			for _, c := range s.Customers {
				warnings = append(warnings, c.Warnings...)
			}
			joined := strings.Join(warnings, "\n")
			for _, w := range tc.want {
				if !strings.Contains(joined, w) {
					t.Errorf("summary warnings lack %q:\n%s", w, joined)
				}
				if !strings.Contains(stderr, strings.ReplaceAll(w, `"`, `\"`)) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
