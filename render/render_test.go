package render

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

var update = flag.Bool("update", false, "rewrite the golden files (check them against the real peers afterwards)")

// goldenName gives the list name used for a format in the golden files.
func goldenName(format string) string {
	if format == "bird" {
		return "AS_EXAMPLE"
	}
	return "AS-EXAMPLE"
}

func withName(pf *policy.PrefixFilter, name string) *policy.PrefixFilter { pf.Name = name; return pf }

// prefixCases are the prefix-list golden cases; wantErr names the formats that must
// refuse the case.
var prefixCases = []struct {
	name    string
	filter  func() *policy.PrefixFilter
	wantErr map[string]error
}{
	{"v4", fixture4, map[string]error{"junos": ErrUnsupported}},
	{"v4exact", fixture4Exact, nil},
	{"v6", fixture6, map[string]error{"junos": ErrUnsupported}},
	{"empty4", func() *policy.PrefixFilter { return &policy.PrefixFilter{Name: "x", Family: 4} }, nil},
	{"empty6", func() *policy.PrefixFilter { return &policy.PrefixFilter{Name: "x", Family: 6} }, nil},
}

var asPathCases = []struct {
	name   string
	filter func() *policy.ASPathFilter
}{
	{"aspath", func() *policy.ASPathFilter { return fixtureAS(0) }},
	{"aspath-peer-member", func() *policy.ASPathFilter { return fixtureAS(64496) }},
	{"aspath-peer-other", func() *policy.ASPathFilter { return fixtureAS(64510) }},
	{"aspath-empty", func() *policy.ASPathFilter { return &policy.ASPathFilter{Name: "x"} }},
}

func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", file)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", file, d)
	}
}

func TestGolden(t *testing.T) {
	for _, format := range Formats() {
		r, err := New(format, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range prefixCases {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				got, err := r.PrefixList(withName(tc.filter(), goldenName(format)))
				if want := tc.wantErr[format]; want != nil {
					if !errors.Is(err, want) {
						t.Fatalf("err = %v, want %v", err, want)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, format+"_"+tc.name+".golden", got)
			})
		}
		if strings.HasPrefix(format, "junos-") {
			continue // the as-path output of every junos flavour is junos/as-path.tmpl
		}
		for _, tc := range asPathCases {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				f := tc.filter()
				f.Name = goldenName(format)
				got, err := r.ASPath(f)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, format+"_"+tc.name+".golden", got)
			})
		}
	}
}

// TestDeterministic renders the same filter twice from two renderers.
func TestDeterministic(t *testing.T) {
	for _, format := range Formats() {
		a, _ := New(format, Options{})
		b, _ := New(format, Options{})
		x, err1 := a.PrefixList(withName(fixture4Exact(), goldenName(format)))
		y, err2 := b.PrefixList(withName(fixture4Exact(), goldenName(format)))
		if err1 != nil || err2 != nil || string(x) != string(y) {
			t.Errorf("%s: not deterministic (%v, %v)", format, err1, err2)
		}
	}
}

// hostileNames must be refused for every vendor: each would break out of a name
// position in at least one config language.
var hostileNames = []string{
	"x; } then accept;", "x\nip prefix-list y permit 0.0.0.0/0 le 32", "a\"b", "a'b", "a b",
	"x];define y=[0.0.0.0/0{0,32}", "x{", "x}", "x#", "x!", "x/*", "x\\", "x\r", "x\t", "",
	"x,", "x|y", "x`", "x$", "x(", "\x00", "é", strings.Repeat("A", 256),
}

func TestHostileNamesRefused(t *testing.T) {
	for _, format := range Formats() {
		r, err := New(format, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range hostileNames {
			if err := ValidateName(format, name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("%s: ValidateName(%q) = %v, want ErrInvalidName", format, name, err)
			}
			out, err := r.PrefixList(withName(fixture4Exact(), name))
			if !errors.Is(err, ErrInvalidName) || out != nil {
				t.Errorf("%s: PrefixList(name %q) = %q, %v; want nothing and ErrInvalidName", format, name, out, err)
			}
			af := fixtureAS(0)
			af.Name = name
			if out, err := r.ASPath(af); !errors.Is(err, ErrInvalidName) || out != nil {
				t.Errorf("%s: ASPath(name %q) = %q, %v; want nothing and ErrInvalidName", format, name, out, err)
			}
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		format  string
		objects []string
		want    string
		valid   bool
	}{
		{"junos", []string{"AS-EXAMPLE"}, "AS-EXAMPLE", true},
		{"ios", []string{"AS64496:AS-CUST"}, "AS64496_AS-CUST", true},
		{"bird", []string{"AS-EXAMPLE"}, "AS_EXAMPLE", true},
		{"bird", []string{"RIPE::AS-FOO", "AS64496"}, "AS_FOO_AS64496", true},
		{"iosxr", []string{"AS64496"}, "AS64496", true},
		{"openbgpd", []string{"AS-A.B"}, "AS-A_B", true},
		{"json", []string{"AS1:AS-X"}, "AS1:AS-X", true},
		{"frr", []string{"AS-X; }"}, "AS-X; }", false},
		{"bird", []string{"64496"}, "L_64496", true},
	}
	for _, tc := range tests {
		got := DefaultName(tc.format, tc.objects)
		if got != tc.want {
			t.Errorf("DefaultName(%s, %q) = %q, want %q", tc.format, tc.objects, got, tc.want)
		}
		if err := ValidateName(tc.format, got); (err == nil) != tc.valid {
			t.Errorf("ValidateName(%s, %q) = %v, want valid=%v", tc.format, got, err, tc.valid)
		}
	}
	// BIRD keywords are case-sensitive: "filter" is refused, "FILTER" is a fine symbol
	// (both checked with bird -p in TestBirdReservedWords).
	if ValidateName("bird", "filter") == nil || ValidateName("bird", "FILTER") != nil {
		t.Error("bird keyword check")
	}
}

func TestTemplateOverrides(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "ios"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Redefine only the "range" block: the rest of the built-in template stays.
	if err := os.WriteFile(filepath.Join(dir, "ios", "x.tmpl"), []byte(`{{ define "range" }}{{ .Prefix }} RANGE{{ end }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New("ios", Options{TemplateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.PrefixList(withName(fixture4(), "N"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ip prefix-list N permit 192.0.2.0/24 RANGE\n"; !strings.Contains(string(out), want) || !strings.HasPrefix(string(out), "no ip prefix-list N\n") {
		t.Errorf("override dir: got %q", out)
	}

	file := filepath.Join(dir, "one.tmpl")
	if err := os.WriteFile(file, []byte(`{{ .Name }}:{{ len .Entries }}{{ "\n" }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = New("frr", Options{TemplateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := r.PrefixList(withName(fixture4(), "N")); err != nil || string(out) != "N:4\n" {
		t.Errorf("template file: %q, %v", out, err)
	}

	// Errors: a missing dir, a broken template, a template that fails at run time
	// (nothing is returned, so nothing can be written).
	if _, err := New("ios", Options{TemplateDir: filepath.Join(dir, "nope")}); err == nil {
		t.Error("missing template dir accepted")
	}
	bad := filepath.Join(dir, "bad.tmpl")
	os.WriteFile(bad, []byte(`{{ .Name `), 0o644)
	if _, err := New("ios", Options{TemplateFile: bad}); err == nil {
		t.Error("broken template accepted")
	}
	failing := filepath.Join(dir, "fail.tmpl")
	os.WriteFile(failing, []byte(`partial output {{ fail "stop" }}`), 0o644)
	r, err = New("ios", Options{TemplateFile: failing})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := r.PrefixList(withName(fixture4(), "N")); err == nil || out != nil {
		t.Errorf("failing template: %q, %v", out, err)
	}
	// Removed sprig functions are not available to user templates.
	for _, fn := range []string{"env", "now", "randAlphaNum", "genPrivateKey", "shuffle"} {
		f := filepath.Join(dir, fn+".tmpl")
		os.WriteFile(f, []byte(`{{ `+fn+` }}`), 0o644)
		if _, err := New("ios", Options{TemplateFile: f}); err == nil {
			t.Errorf("function %s available to templates", fn)
		}
	}
	if _, err := New("nope", Options{}); err == nil {
		t.Error("unknown format accepted")
	}
}

func FuzzValidateName(f *testing.F) {
	for _, n := range append(hostileNames, "AS-EXAMPLE", "AS_EXAMPLE", "filter") {
		f.Add(n)
	}
	r, err := New("junos-policy", Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, format := range Formats() {
			if ValidateName(format, name) != nil {
				continue
			}
			// An accepted name never carries a character that can end a token.
			if strings.ContainsAny(name, " \t\r\n;{}[]\"'#!/\\,|()$`") {
				t.Fatalf("%s accepted %q", format, name)
			}
		}
		out, err := r.PrefixList(withName(fixture4(), name))
		if err != nil {
			return
		}
		if n := strings.Count(string(out), "\n"); n != 15 {
			t.Fatalf("name %q changed the line count to %d:\n%s", name, n, out)
		}
	})
}

// BenchmarkRenderJunos100k renders a route-filter-list of 100k entries for 100k
// distinct /24s (10.0.0.0-11.134.159.0).
func BenchmarkRenderJunos100k(b *testing.B) {
	pf := &policy.PrefixFilter{Name: "AS-BIG", Family: 4, Entries: make([]policy.Entry, 100000)}
	base := netip.MustParseAddr("10.0.0.0").As4()
	for i := range pf.Entries {
		a := base
		a[0], a[1], a[2] = 10+byte(i>>16), byte(i>>8), byte(i)
		p := netip.PrefixFrom(netip.AddrFrom4(a), 24)
		pf.Entries[i] = policy.Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: 24, Max: 24 + i%3}}
	}
	r, err := New("junos-route-filter", Options{})
	if err != nil {
		b.Fatal(err)
	}
	var n int
	for b.Loop() {
		out, err := r.PrefixList(pf)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/op")
}
