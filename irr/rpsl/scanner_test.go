package rpsl

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// scanAll returns the objects and syntax errors of input, failing on other errors.
func scanAll(t testing.TB, input string) ([]*Object, []*SyntaxError) {
	t.Helper()
	sc := NewScanner(strings.NewReader(input), "test.db")
	var objs []*Object
	var errs []*SyntaxError
	for i := 0; i < 100000; i++ {
		o, err := sc.Next()
		if err == io.EOF {
			return objs, errs
		}
		var se *SyntaxError
		if errors.As(err, &se) {
			errs = append(errs, se)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		objs = append(objs, o)
	}
	t.Fatal("scanner does not terminate")
	return nil, nil
}

func TestScannerObjects(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []*Object
	}{
		{
			name:  "basic with comments and server lines",
			input: "% RIPE dump header\n\nAS-Set:  AS-FOO # the set\nMembers: AS1, AS2\nsource:  ripe\n\n\n# comment\nroute: 192.0.2.0/24\norigin: AS1\nsource: RIPE\n",
			want: []*Object{
				{Class: "as-set", Key: "AS-FOO", Line: 3, Attrs: []Attr{
					{Name: "as-set", Value: "AS-FOO", Raw: "AS-FOO # the set", Line: 3},
					{Name: "members", Value: "AS1, AS2", Raw: "AS1, AS2", Line: 4},
					{Name: "source", Value: "ripe", Raw: "ripe", Line: 5},
				}},
				{Class: "route", Key: "192.0.2.0/24", Line: 9, Attrs: []Attr{
					{Name: "route", Value: "192.0.2.0/24", Raw: "192.0.2.0/24", Line: 9},
					{Name: "origin", Value: "AS1", Raw: "AS1", Line: 10},
					{Name: "source", Value: "RIPE", Raw: "RIPE", Line: 11},
				}},
			},
		},
		{
			name:  "continuation lines: space, tab and plus, with comments",
			input: "as-set: AS-BAR\nmembers: AS1, # first\n AS2,\n\tAS3\n+\n+ AS4 # last\nsource: TEST\r\n",
			want: []*Object{
				{Class: "as-set", Key: "AS-BAR", Line: 1, Attrs: []Attr{
					{Name: "as-set", Value: "AS-BAR", Raw: "AS-BAR", Line: 1},
					{Name: "members", Value: "AS1, AS2, AS3 AS4", Raw: "AS1, # first\n AS2,\n\tAS3\n+\n+ AS4 # last", Line: 2},
					{Name: "source", Value: "TEST", Raw: "TEST", Line: 7},
				}},
			},
		},
		{
			name:  "empty value, whitespace-only continuation, whitespace line between objects",
			input: "mntner: FOO-MNT\ndescr:\nsource: TEST\n   \n\n \t\nmntner: BAR-MNT\nsource: TEST",
			want: []*Object{
				{Class: "mntner", Key: "FOO-MNT", Line: 1, Attrs: []Attr{
					{Name: "mntner", Value: "FOO-MNT", Raw: "FOO-MNT", Line: 1},
					{Name: "descr", Value: "", Raw: "", Line: 2},
					{Name: "source", Value: "TEST", Raw: "TEST\n ", Line: 3},
				}},
				{Class: "mntner", Key: "BAR-MNT", Line: 7, Attrs: []Attr{
					{Name: "mntner", Value: "BAR-MNT", Raw: "BAR-MNT", Line: 7},
					{Name: "source", Value: "TEST", Raw: "TEST", Line: 8},
				}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := scanAll(t, tc.input)
			if len(errs) > 0 {
				t.Fatalf("unexpected syntax errors: %v", errs)
			}
			for _, o := range tc.want {
				o.File = "test.db"
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScannerMalformed(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantLine int
		wantMsg  string
		wantKeys []string // objects still parsed
	}{
		{"neither attribute nor continuation", "route: 192.0.2.0/24\nor\nsource: T\n\nmntner: A-MNT\nsource: T\n", 2, "neither", []string{"A-MNT"}},
		{"bad attribute name", "route: 192.0.2.0/24\n$$$-by: X\nsource: T\n\nmntner: A-MNT\n", 2, "invalid attribute name", []string{"A-MNT"}},
		{"legacy artefact", "*xxte: 192.0.2.0/24\nsource: T\n", 1, "invalid attribute name", nil},
		{"continuation first", " AS1\nas-set: AS-X\n\nmntner: B-MNT\n", 1, "continuation line before", []string{"B-MNT"}},
		{"no key", "as-set:\nsource: T\n\nmntner: C-MNT\n", 1, "without a primary key", []string{"C-MNT"}},
		{"key only comment", "as-set: # nothing\nsource: T\n", 1, "without a primary key", nil},
		{"long line", "mntner: D-MNT\ndescr: " + strings.Repeat("x", MaxLineBytes+10) + "\nsource: T\n\nmntner: E-MNT\n", 2, "line longer", []string{"E-MNT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, errs := scanAll(t, tc.input)
			if len(errs) != 1 {
				t.Fatalf("got %d syntax errors (%v), want 1", len(errs), errs)
			}
			if errs[0].Line != tc.wantLine || errs[0].File != "test.db" || !strings.Contains(errs[0].Msg, tc.wantMsg) {
				t.Errorf("error = %v, want test.db:%d: ...%s...", errs[0], tc.wantLine, tc.wantMsg)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			if diff := cmp.Diff(tc.wantKeys, keys, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("surviving objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScannerObjectTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("aut-num: AS1\n")
	for b.Len() <= MaxObjectBytes {
		b.WriteString("import: from AS2 accept ANY\n")
	}
	b.WriteString("source: T\n\nmntner: F-MNT\nsource: T\n")
	objs, errs := scanAll(t, b.String())
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "larger than") || !strings.Contains(errs[0].Msg, "line 1 ") {
		t.Fatalf("errors = %v, want one size error naming line 1", errs)
	}
	if len(objs) != 1 || objs[0].Key != "F-MNT" {
		t.Fatalf("objects after the oversize one = %v", objs)
	}
}

func TestScannerGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, "mntner: G-MNT\nsource: T\n\nmntner: H-MNT\nsource: T\n")
	zw.Close()
	sc := NewScanner(&buf, "x.gz")
	var keys []string
	for {
		o, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if diff := cmp.Diff([]string{"G-MNT", "H-MNT"}, keys); diff != "" {
		t.Error(diff)
	}

	// A truncated gzip stream is a read error, not a syntax error.
	var trunc bytes.Buffer
	zw = gzip.NewWriter(&trunc)
	io.WriteString(zw, strings.Repeat("mntner: I-MNT\nsource: T\n\n", 1000))
	zw.Close()
	sc = NewScanner(bytes.NewReader(trunc.Bytes()[:trunc.Len()/2]), "trunc.gz")
	var err error
	for err == nil {
		_, err = sc.Next()
	}
	var se *SyntaxError
	if err == io.EOF || errors.As(err, &se) {
		t.Fatalf("truncated gzip: err = %v, want a read error", err)
	}
}

func TestObjectAccessors(t *testing.T) {
	objs, _ := scanAll(t, "route6: 2001:db8::/32\nmember-of: RS-A\nMember-Of: RS-B\nsource: ripe-nonauth # x\n")
	o := objs[0]
	if got := o.GetAll("member-of"); !cmp.Equal(got, []string{"RS-A", "RS-B"}) {
		t.Errorf("GetAll = %v", got)
	}
	if o.Get("nope") != "" || o.Get("route6") != "2001:db8::/32" {
		t.Errorf("Get wrong")
	}
	if o.Source() != "RIPE-NONAUTH" {
		t.Errorf("Source = %q", o.Source())
	}
	want := "route6:         2001:db8::/32\nmember-of:      RS-A\nmember-of:      RS-B\nsource:         ripe-nonauth # x\n"
	if o.Text() != want {
		t.Errorf("Text =\n%q\nwant\n%q", o.Text(), want)
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"AS1, AS2,AS3", []string{"AS1", "AS2", "AS3"}},
		{" AS1 AS-FOO ,, ", []string{"AS1", "AS-FOO"}},
		{"", nil},
		{",", nil},
		{"192.0.2.0/24^+,\t2001:db8::/32", []string{"192.0.2.0/24^+", "2001:db8::/32"}},
	}
	for _, tc := range tests {
		if got := SplitList(tc.in); !cmp.Equal(got, tc.want, cmpopts.EquateEmpty()) {
			t.Errorf("SplitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestIRRdSamples parses the irrd syntax samples: the three with line-level syntax
// errors must report file:line, every other one must parse (object-level checks such
// as a missing source are the Index's job).
func TestIRRdSamples(t *testing.T) {
	dir := filepath.Dir(peer.SharedData(t, "irr/irrd-rpsl-samples/sample_as_set.rpsl"))
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 30 {
		t.Fatalf("got %d sample files, want 30", len(files))
	}
	wantErr := map[string]int{
		"sample_line_neither_continuation_nor_attr.rpsl": 4,
		"sample_malformed_attribute_name.rpsl":           3,
		"sample_legacy_irrd_artifact.rpsl":               1,
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := NewScanner(bytes.NewReader(data), f)
		var objs []*Object
		var errs []*SyntaxError
		for {
			o, err := sc.Next()
			if err == io.EOF {
				break
			}
			var se *SyntaxError
			if errors.As(err, &se) {
				errs = append(errs, se)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objs = append(objs, o)
		}
		base := filepath.Base(f)
		if line, ok := wantErr[base]; ok {
			if len(errs) != 1 || errs[0].Line != line || errs[0].File != f {
				t.Errorf("%s: errors %v, want one at line %d", base, errs, line)
			}
			continue
		}
		if len(errs) > 0 || len(objs) == 0 {
			t.Errorf("%s: errors %v, %d objects", base, errs, len(objs))
			continue
		}
		// Round trip: Text parses back to the same object.
		for _, o := range objs {
			checkRoundTrip(t, o)
		}
	}
}

func checkRoundTrip(t testing.TB, o *Object) {
	t.Helper()
	back, errs := scanAll(t, o.Text())
	if len(errs) > 0 || len(back) != 1 {
		t.Fatalf("Text of %s %s does not parse back: %v\n%s", o.Class, o.Key, errs, o.Text())
	}
	opts := cmpopts.IgnoreFields(Attr{}, "Line")
	if diff := cmp.Diff(o.Attrs, back[0].Attrs, opts); diff != "" || back[0].Key != o.Key || back[0].Class != o.Class {
		t.Fatalf("round trip of %s %s (-orig +back):\n%s", o.Class, o.Key, diff)
	}
}

func FuzzScanner(f *testing.F) {
	f.Add("as-set: AS-FOO\nmembers: AS1, AS2\n AS3 # c\n+\nsource: TEST\n\nroute: 192.0.2.0/24\norigin: AS1\n")
	f.Add("% x\n\n\tfoo\nbar\n$$:x\n*xx: y\n")
	f.Add("a:\n+\n \n\nb:#\n")
	f.Add("descr: x\r\n\r\nfoo:bar#baz\n\t# only comment\n")
	f.Fuzz(func(t *testing.T, input string) {
		sc := NewScanner(strings.NewReader(input), "fuzz")
		for i := 0; ; i++ {
			if i > len(input)+1 {
				t.Fatal("more results than input lines")
			}
			o, err := sc.Next()
			if err == io.EOF {
				return
			}
			var se *SyntaxError
			if errors.As(err, &se) {
				continue
			}
			if err != nil {
				// A read error (e.g. a corrupt gzip stream) is final.
				if _, again := sc.Next(); again == nil {
					t.Fatalf("Next after read error %v succeeded", err)
				}
				return
			}
			if o.Class == "" || o.Key == "" || len(o.Attrs) == 0 {
				t.Fatalf("object without class or key: %+v", o)
			}
			checkRoundTrip(t, o)
		}
	})
}

// TestScannerMultiOrigin: a route object with several origin lines (the DN42 schema
// makes origin multiple) keeps every line, in order, continuation lines included.
func TestScannerMultiOrigin(t *testing.T) {
	objs, errs := scanAll(t, "route: 192.0.2.0/24\norigin: AS64496\ndescr: x\norigin:\n  AS64497\n+\norigin: as64498 # comment\nsource: DN42\n")
	if len(errs) != 0 || len(objs) != 1 {
		t.Fatalf("objects %v, errors %v", objs, errs)
	}
	o := objs[0]
	if got, want := o.GetAll("origin"), []string{"AS64496", "AS64497", "as64498"}; o.Count("origin") != 3 || !cmp.Equal(got, want) {
		t.Errorf("origins = %q (count %d), want %q", got, o.Count("origin"), want)
	}
	if o.Get("origin") != "AS64496" {
		t.Errorf("Get returns %q, want the first", o.Get("origin"))
	}
}

// TestChunkScannerMatchesScanner: a chunk scanner cuts lines in place; it must give the
// objects, line numbers and errors of the bufio-based scanner, around the line-length
// limit in particular (lines of MaxLineBytes-1 to MaxLineBytes+2 bytes, with CR, with
// and without a final newline).
func TestChunkScannerMatchesScanner(t *testing.T) {
	var inputs []string
	for _, n := range []int{MaxLineBytes - 8, MaxLineBytes - 7, MaxLineBytes - 6, MaxLineBytes - 5, MaxLineBytes - 4} {
		long := "descr: " + strings.Repeat("x", n) // 7 + n bytes
		for _, end := range []string{"\n", "\r\n", "\r\r\n", ""} {
			inputs = append(inputs,
				"route: 192.0.2.0/24\n"+long+end,
				"route: 192.0.2.0/24\n"+long+end+"origin: AS64496\n\nroute: 198.51.100.0/24\norigin: AS64497"+end,
				long+end+"\nroute: 203.0.113.0/24\r\norigin: AS64498\r\n\r\n")
		}
	}
	inputs = append(inputs, "", "\n", "a: b", "a: b\r", "% c\n# d\n\n\n a: b\nc\n\nx: y\n+ z\n\t w\n")
	for i, in := range inputs {
		want := renderScan(NewScanner(strings.NewReader(in), "f"))
		got := renderScan(NewChunkScanner([]byte(in), "f", 0))
		if want != got {
			t.Errorf("input %d (%d bytes): chunk scanner\n%.300s\nscanner\n%.300s", i, len(in), got, want)
		}
	}
}

// renderScan renders every object and error of s.
func renderScan(s *Scanner) string {
	var b strings.Builder
	for {
		o, err := s.Next()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			fmt.Fprintf(&b, "error %v\n", err)
			var se *SyntaxError
			if !errors.As(err, &se) {
				return b.String()
			}
			continue
		}
		fmt.Fprintf(&b, "%s %q %s:%d\n", o.Class, o.Key, o.File, o.Line)
		for _, a := range o.Attrs {
			fmt.Fprintf(&b, "  %s %q %q %d\n", a.Name, a.Value, a.Raw, a.Line)
		}
	}
}
