package render

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// randomEntries returns n entries of family with every length shape: exact, "le"
// only, "ge" and "le", "ge" = "le" (one length), and prefixes of every length.
func randomEntries(rng *rand.Rand, family, n int) []policy.Entry {
	afMax := 32
	if family == 6 {
		afMax = 128
	}
	es := make([]policy.Entry, 0, n)
	for range n {
		var a netip.Addr
		if family == 4 {
			a = netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		} else {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			a = netip.AddrFrom16(b)
		}
		bits := rng.IntN(afMax + 1)
		p := netip.PrefixFrom(a, bits).Masked()
		lo, hi := bits, bits
		switch rng.IntN(4) {
		case 1: // le only
			if bits < afMax {
				hi = bits + 1 + rng.IntN(afMax-bits)
			}
		case 2: // ge and le
			if bits+1 < afMax {
				lo = bits + 1 + rng.IntN(afMax-bits-1)
				hi = lo + rng.IntN(afMax-lo+1)
			}
		case 3: // one length, longer than the prefix
			if bits < afMax {
				lo = bits + 1 + rng.IntN(afMax-bits)
				hi = lo
			}
		}
		es = append(es, policy.Entry{PrefixRange: routing.PrefixRange{Prefix: p, Min: lo, Max: hi}})
	}
	return es
}

// entryTemplates are the list templates that print their entries with `entries`,
// per vendor, as generate renders them (policy.tmpl).
var entryTemplates = map[string][]string{
	"junos": {"junos-rfl"},
	"iosxr": {"iosxr-pset"},
	"bird":  {"bird-pset"},
	"frr":   {"frr-pl"},
}

// TestEntriesCompiledMatchTemplate is the differential test of entries.go: every
// list template of every policy vendor, on random lists of both families (every
// length shape, lists of 0, 1, 2 and many entries), renders the same bytes with the
// compiled entry programs as with text/template for every entry. It also checks
// that the built-in entry templates are compiled (not silently left to the slow
// path): a change that makes one uncompilable fails here.
func TestEntriesCompiledMatchTemplate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, vendor := range PolicyVendors {
		fast, slow := compiledAndPlain(t, vendor)
		for _, tmpl := range entryTemplates[vendor] {
			for _, family := range []int{4, 6} {
				for _, n := range []int{0, 1, 2, 3, 50, 400} {
					es := randomEntries(rng, family, n)
					pd := newPrefixData(&policy.PrefixFilter{Name: fmt.Sprintf("C%d_PFX_V%d", n, family), Family: family, Entries: es})
					got, err := fast.exec(tmpl, pd)
					if err != nil {
						t.Fatalf("%s %s: %v", vendor, tmpl, err)
					}
					want, err := slow.exec(tmpl, pd)
					if err != nil {
						t.Fatalf("%s %s (text/template): %v", vendor, tmpl, err)
					}
					if string(got) != string(want) {
						t.Fatalf("%s %s, IPv%d, %d entries: compiled output differs:\n%s", vendor, tmpl, family, n, entryDiff(string(want), string(got)))
					}
					if n > 0 && !strings.Contains(string(got), es[0].Prefix.String()) {
						t.Fatalf("%s %s: the first entry %s is missing", vendor, tmpl, es[0].Prefix)
					}
				}
			}
		}
		if len(fast.entryComps) == 0 {
			t.Fatalf("%s: no entry template was used", vendor)
		}
		for name, c := range fast.entryComps {
			if !c.checked || c.global == "" {
				t.Errorf("%s: the built-in entry template %s is not compiled (checked %v)", vendor, name, c.checked)
			}
			for _, family := range []int{4, 6} {
				for i, e := range randomEntries(rng, family, 200) {
					v := EntryView{Line: makeLines([]policy.Entry{e})[0], Index: i % 3, First: i%3 == 0, Last: i%5 == 0, Name: "N", V6: family == 6}
					if c.program(shapeOf(&v), &v) == nil {
						t.Fatalf("%s: %s falls back to text/template for %+v", vendor, name, v)
					}
				}
			}
		}
	}
}

func entryDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-80)
	return fmt.Sprintf("text/template: %q\ncompiled:      %q", want[lo:min(len(want), i+80)], got[lo:min(len(got), i+80)])
}

// TestEntriesFallback overrides an entry template with ones the compiler must not
// compile, or whose compiled program the sentinel check must refuse; the output must
// still be exactly text/template's.
func TestEntriesFallback(t *testing.T) {
	cases := []struct {
		name, body string
		checked    bool // the parse-tree check accepts it (the sentinels must refuse it)
	}{
		{"value-condition", `{{ if gt .Max 24 }}long{{ else }}short{{ end }} {{ .Prefix }}`, false},
		{"printf", `{{ printf "%03d" .Min }} {{ .Prefix }}`, false},
		{"min-constant", `{{ min .Max 24 }} {{ .Prefix }}`, false},
		{"upper", `{{ .Prefix | upper }}`, false},
		{"range", `{{ range $x := list 1 2 }}{{ $x }}{{ end }}`, false},
		{"arith", `{{ .Prefix }} {{ add1 .Max }}`, true},
		{"adjacent-digits", `{{ .Prefix }} {{ .Min }}{{ .Max }}`, true},
		{"index-squared", `{{ mul .Index .Index }}`, true},
		{"ok", `{{ .Prefix }}/{{ .Min }}-{{ .Max }}#{{ seqno .Index 7 }}`, true},
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "junos"), 0o755); err != nil {
				t.Fatal(err)
			}
			body := `{{- define "junos-rfl-entry" }}` + "\n  " + tc.body + `;{{ end -}}`
			if err := os.WriteFile(filepath.Join(dir, "junos", "entries.tmpl"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			fast, err := New("junos", Options{TemplateDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			slow, err := New("junos", Options{TemplateDir: dir, noCompile: true})
			if err != nil {
				t.Fatal(err)
			}
			pd := newPrefixData(&policy.PrefixFilter{Name: "L", Family: 4, Entries: randomEntries(rng, 4, 300)})
			got, err := fast.exec("junos-rfl", pd)
			if err != nil {
				t.Fatal(err)
			}
			want, err := slow.exec("junos-rfl", pd)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("compiled output differs:\n%s", entryDiff(string(want), string(got)))
			}
			c := fast.entryComps["junos-rfl-entry"]
			if c == nil || c.checked != tc.checked {
				t.Fatalf("checked = %v, want %v", c != nil && c.checked, tc.checked)
			}
			if c.global != "" {
				t.Fatal("an overridden template uses the process-wide program cache")
			}
			// (mul .Index .Index is 0 for every first entry: that shape may compile.)
			compiled := 0
			for s, p := range c.progs {
				if first := int(s)>>2&1 == 1; p != nil && !first {
					compiled++
				}
			}
			switch {
			case tc.name == "ok" && compiled == 0:
				t.Fatal("a compilable template was not compiled")
			case tc.checked && tc.name != "ok" && compiled > 0:
				t.Fatalf("%d shapes compiled; the sentinel check should refuse them all", compiled)
			}
		})
	}
}

// asnEntryTemplates are the ASN-list entry templates (asnEntries) per vendor.
var asnEntryTemplates = map[string][]string{
	"iosxr": {"iosxr-origin-entry"},
	"bird":  {"bird-asn-entry"},
}

// TestASNEntriesCompiledMatchTemplate: the ASN-list entry templates print the same
// bytes compiled as through text/template, for lists of 0, 1, 2 and many ASNs
// (0 and 4294967295 among them), and are compiled.
func TestASNEntriesCompiledMatchTemplate(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 17))
	for vendor, names := range asnEntryTemplates {
		fast, slow := compiledAndPlain(t, vendor)
		for _, name := range names {
			for _, n := range []int{0, 1, 2, 3, 100} {
				asns := make([]uint32, n)
				for i := range asns {
					asns[i] = rng.Uint32()
				}
				if n > 2 {
					asns[0], asns[1] = 0, 4294967295
				}
				got, err := fast.asnEntries(name, asns, "C_ORIGINS")
				if err != nil {
					t.Fatal(err)
				}
				want, err := slow.asnEntries(name, asns, "C_ORIGINS")
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("%s %s, %d ASNs: compiled output differs:\n%s", vendor, name, n, entryDiff(want, got))
				}
				if n > 0 && !strings.Contains(got, fmt.Sprint(asns[n-1])) {
					t.Fatalf("%s %s: the last ASN %d is missing:\n%s", vendor, name, asns[n-1], got)
				}
			}
			c := fast.entryComps["asn\x00"+name]
			if c == nil || !c.checked || c.global == "" {
				t.Fatalf("%s: %s is not compiled", vendor, name)
			}
			for i := range 4 {
				v := asnCarrier(rng.Uint32(), i, 4, "L")
				if c.program(shapeOf(&v), &v) == nil {
					t.Fatalf("%s: %s falls back to text/template for entry %d of 4", vendor, name, i)
				}
			}
		}
	}
}

func TestNumJoin(t *testing.T) {
	for _, tc := range []struct {
		ns   []uint32
		want string
	}{{nil, ""}, {[]uint32{64496}, "64496"}, {[]uint32{0, 64496, 4294967295}, "0|64496|4294967295"}} {
		if got := numJoin("|", tc.ns); got != tc.want {
			t.Errorf("numJoin(%v) = %q, want %q", tc.ns, got, tc.want)
		}
	}
}

// compiledAndPlain returns two renderers of vendor: one with the compiled entry
// programs, one that prints every entry through text/template (the reference).
func compiledAndPlain(t *testing.T, vendor string) (fast, slow *Renderer) {
	t.Helper()
	fast, err := New(vendor, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if slow, err = New(vendor, Options{noCompile: true}); err != nil {
		t.Fatal(err)
	}
	return fast, slow
}
