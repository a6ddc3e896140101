package irr

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadText(t *testing.T, text string) *Index {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.db")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := Load(context.Background(), []string{p}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestExpandReportsInvalidMembers: members that contribute nothing because they are
// malformed (RFC 2622: "AS1;AS2" is no member, "/8^33" exceeds the family, "^24-16"
// has n > m, an operator that leaves no lengths after composition, a route-set in an
// as-set) are reported with the set that holds them and the path, not dropped
// without a word; the valid members still expand.
func TestExpandReportsInvalidMembers(t *testing.T) {
	ix := loadText(t, `route-set: RS-BAD
members: 192.0.2.0/24, AS64496;AS64497, 198.51.100.0/24^33, AS64498^24-16, 203.0.113.0/24^24-16
source: TEST

route-set: RS-OUTER
members: RS-INNER^16
source: TEST

route-set: RS-INNER
members: 198.51.100.0/24
source: TEST

as-set: AS-BAD
members: AS64499, RS-BAD, 192.0.2.0/24
source: TEST
`)
	r := &Resolver{Q: ix}
	e, err := r.Expand(context.Background(), "RS-BAD", "RS-OUTER", "AS-BAD")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range e.Invalid {
		got = append(got, b.Set+" "+b.Member+" ("+strings.Join(b.Path, " > ")+"): "+b.Reason)
	}
	slices.Sort(got)
	want := []string{
		"AS-BAD 192.0.2.0/24 (AS-BAD): an as-set holds ASNs and as-sets only",
		"AS-BAD RS-BAD (AS-BAD): an as-set holds ASNs and as-sets only",
		"RS-BAD 198.51.100.0/24^33 (RS-BAD): invalid prefix range: lengths out of range",
		"RS-BAD 203.0.113.0/24^24-16 (RS-BAD): invalid prefix range: invalid range operator \"^24-16\"",
		"RS-BAD AS64496;AS64497 (RS-BAD): not an ASN, set name, prefix or ANY",
		"RS-BAD AS64498^24-16 (RS-BAD): invalid range operator \"^24-16\"",
		"RS-INNER 198.51.100.0/24 (RS-OUTER > RS-INNER): the operator ^16 of the enclosing member leaves no lengths",
	}
	if !slices.Equal(got, want) {
		t.Errorf("invalid members:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(e.ASNs) != 1 || e.ASNs[0] != 64499 || len(e.Prefixes) != 1 || e.Prefixes[0].String() != "192.0.2.0/24" {
		t.Errorf("valid members: ASNs %v, prefixes %v; want [AS64499], [192.0.2.0/24]", e.ASNs, e.Prefixes)
	}
}

// TestExpandReportsSiblingLoop: AS-ROOT holds AS-A and AS-B, which hold each other.
// Breadth-first expansion reaches both from the root and never sees either on its
// own path, but the loop AS-A > AS-B > AS-A exists and must be reported.
func TestExpandReportsSiblingLoop(t *testing.T) {
	ix := loadText(t, `as-set: AS-ROOT
members: AS-A, AS-B
source: TEST

as-set: AS-A
members: AS64496, AS-B
source: TEST

as-set: AS-B
members: AS64497, AS-A
source: TEST
`)
	e, err := (&Resolver{Q: ix}).Expand(context.Background(), "AS-ROOT")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range e.Loops {
		got = append(got, strings.Join(l, " > "))
	}
	if !slices.Equal(got, []string{"AS-ROOT > AS-A > AS-B > AS-A"}) {
		t.Errorf("loops = %q, want the AS-A/AS-B loop", got)
	}
	if len(e.ASNs) != 2 {
		t.Errorf("ASNs = %v", e.ASNs)
	}
}

// TestSetNameValidation: set names follow RFC 2622 §5: components separated by ':',
// each an ASN or a name of letters, digits, '_' and '-' starting with a letter and
// ending with a letter or digit, and at least one component with the class's prefix
// (AS- for an as-set, RS- for a route-set). Other names are refused with the object.
func TestSetNameValidation(t *testing.T) {
	for _, tc := range []struct {
		class, name string
		ok          bool
	}{
		{"as-set", "AS-FOO", true},
		{"as-set", "AS-FOO_BAR-1", true},
		{"as-set", "AS64496:AS-CUSTOMERS", true},
		{"as-set", "AS64496:AS-CUSTOMERS:AS64497", true},
		{"as-set", "AS-A:AS-B", true},
		{"route-set", "RS-FOO", true},
		{"route-set", "AS64496:RS-FOO", true},
		{"as-set", "AS-\x1b[31mRED", false},
		{"as-set", "AS-FOO\x07", false},
		{"as-set", "AS-FOO.BAR", false},
		{"as-set", "AS-FOO-", false},
		{"as-set", "AS-", false},
		{"as-set", "RS-FOO", false},
		{"route-set", "AS-FOO", false},
		{"as-set", "AS64496", false},
		{"as-set", "AS64496::AS-FOO", false},
		{"as-set", "AS-FOO:", false},
		{"as-set", "AS-FOO;AS-BAR", false},
		{"as-set", "AS-FÖÖ", false},
		{"as-set", "AS-FOO BAR", false},
	} {
		text := tc.class + ": " + tc.name + "\nmembers: AS64496\nsource: TEST\n"
		p := filepath.Join(t.TempDir(), "t.db")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(context.Background(), []string{p}, LoadOptions{Strict: true})
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: err = %v, want ok = %v", tc.class, tc.name, err, tc.ok)
		}
	}
}
