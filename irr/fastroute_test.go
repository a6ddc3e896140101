package irr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/synth"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
)

// fastVsSlow parses data as one chunk of a parallel load and checks every object
// against the reference, rpsl.Scanner and prepareInto over the same bytes: the same
// objects in the same order, and for each route the fast path took, the class,
// source, prefix, origin and stored text the reference gives it. It returns how many
// objects the fast path took.
func fastVsSlow(t testing.TB, data []byte, defSource string) int {
	t.Helper()
	c := &chunk{data: data}
	c.parse("f", defSource, make(bufPool, 1))
	var ref []*record
	// A chunk scanner, like the load's (no gzip detection: the load inflates first),
	// which reads as a Scanner does (rpsl's TestChunkScannerMatchesScanner).
	sc := rpsl.NewChunkScanner(data, "f", 0)
	for {
		o, err := sc.Next()
		if err == io.EOF {
			break
		}
		var se *rpsl.SyntaxError
		if errors.As(err, &se) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if r, err := prepare(o, defSource); err == nil {
			noteMultiOrigin(r, o)
			ref = append(ref, r)
		}
	}
	if len(ref) != len(c.ents) {
		t.Fatalf("%d objects, the reference has %d:\n%.400q", len(c.ents), len(ref), data)
	}
	fast := 0
	for i, e := range c.ents {
		want := ref[i]
		if e.rec >= 0 {
			if got, want := recordString(&c.recs[e.rec]), recordString(want); got != want {
				t.Fatalf("object %d: record\n%s\nwant\n%s", i, got, want)
			}
			continue
		}
		fast++
		class := "route"
		if e.rk.p.V6 {
			class = "route6"
		}
		text := data[e.off : e.off+e.n]
		if class != want.class || c.srcs[e.src] != want.source || want.route == nil || e.rk != *want.route ||
			len(want.extra) > 0 || len(want.memberOf) > 0 || !bytes.Equal(text, want.text) {
			t.Fatalf("object %d: fast route %s %s %v %q, want %s %s %v (extra %v, member-of %v) %q",
				i, class, c.srcs[e.src], e.rk, text, want.class, want.source, want.route, want.extra, want.memberOf, want.text)
		}
	}
	return fast
}

// fastCases are route objects at the edges of the fast path's form: each is taken
// or declined, and either way must read as the reference reads it.
var fastCases = []string{
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         test\n",
	"route:          192.0.2.0/24\norigin:         AS64496\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TE ST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST # c\n",
	"route:          192.0.2.0/24 # comment\norigin:         AS64496 # c\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         as64496\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS064496\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS4294967295\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS4294967296\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS0\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS00\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         64496\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:\nsource:         TEST\n",
	"route:          192.0.2.0/24\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\norigin:         AS64497\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nmember-of:      RS-X\nmnt-by:         M\nsource:         TEST\n",
	"route:          192.0.2.1/24\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.02.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/024\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/33\norigin:         AS64496\nsource:         TEST\n",
	"route:          0.0.0.0/0\norigin:         AS64496\nsource:         TEST\n",
	"route:          198.51.100.7/32\norigin:         AS64496\nsource:         TEST\n",
	"route:          2001:db8::/32\norigin:         AS64496\nsource:         TEST\n",
	"route6:         2001:db8::/32\norigin:         AS64496\nsource:         TEST\n",
	"route6:         2001:DB8::/32\norigin:         AS64496\nsource:         TEST\n",
	"route6:         192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route6:         ::ffff:192.0.2.0/120\norigin:         AS64496\nsource:         TEST\n",
	"route:\norigin:         AS64496\nsource:         TEST\n",
	"route:          # only a comment\norigin:         AS64496\nsource:         TEST\n",
	"Route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/24\nOrigin:         AS64496\nsource:         TEST\n",
	"route:         192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:           192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:\t\t192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/24 \norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/24\r\norigin:         AS64496\r\nsource:         TEST\r\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST",
	"route:          192.0.2.0/24\norigin:         AS64496\n+               more\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\n% comment\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nlast-modified-x:v\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nabcdefghijklmno:v\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nabcdefghijklmn: v\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nabcdefghijklmno: v\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\ndescr:\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\ndescr:          \nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\ndescr:          x\u00a0\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\ndescr:          \u00a0x\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\ndescr           x\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\n1descr:         x\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n \n",
	"route6:         2001:db8::/48\norigin:         AS64496\nsource:         \u00e9\n",
	"routes:         192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n",
	"route:          192.0.2.0/24\norigin:         AS64496\nsource:         TEST\n" + strings.Repeat("remarks:        x\n", 3),
}

// TestFastRouteMatchesSlow: objects at the edges of the fast path's form, alone, in a
// row and with a default source, read as rpsl.Scanner and prepareInto read them; the
// plain ones are taken by the fast path.
func TestFastRouteMatchesSlow(t *testing.T) {
	for _, in := range fastCases {
		for _, def := range []string{"", "dflt"} {
			fastVsSlow(t, []byte(in), def)
			fastVsSlow(t, []byte(in+"\n"+in+"\n\n\n"+in), def)
		}
	}
	all := strings.Join(fastCases, "\n")
	if n := fastVsSlow(t, []byte(all), ""); n < 15 {
		t.Errorf("the fast path took %d of the plain objects", n)
	}
	for _, p := range []string{"testdata/edge.db", multiDB} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fastVsSlow(t, b, "")
	}
}

// TestFastRouteTakesSynthetic: every route object of the synthetic registry (the form
// bgpq4.md §8 and the IRRd dumps use) takes the fast path.
func TestFastRouteTakesSynthetic(t *testing.T) {
	var b bytes.Buffer
	if err := synth.Write(&b, synth.Params{ASNs: 50, Routes: 1000, V6Routes: 200, SubSets: 5}); err != nil {
		t.Fatal(err)
	}
	if n := fastVsSlow(t, b.Bytes(), ""); n != 1200 {
		t.Errorf("the fast path took %d of 1200 routes", n)
	}
}

// FuzzFastRoute: on any input, the objects of a chunk and the routes the fast path
// takes read as the reference reads them.
func FuzzFastRoute(f *testing.F) {
	for _, in := range fastCases {
		f.Add([]byte(in), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, def bool) {
		d := ""
		if def {
			d = "Dflt"
		}
		fastVsSlow(t, data, d)
	})
}

// FuzzParseFast: what parseV4Fast and parseASNFast accept, parseRPSLPrefix (masked,
// IPv4) and parseRPSLASN accept with the same value.
func FuzzParseFast(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "0.0.0.0/0", "255.255.255.255/32", "1.2.3.4/31", "01.2.3.0/24", "1.2.3.0/08", "1.2.3.0/+8", "AS0", "as4294967295", "AS4294967296", "AS01", "aS12345678901"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, ok := parseV4Fast([]byte(s)); ok {
			p, err := parseRPSLPrefix(s)
			if err != nil || !p.Addr().Is4() || p.Masked() != p || toKey(p) != k {
				t.Fatalf("parseV4Fast(%q) = %v; parseRPSLPrefix: %v, %v", s, k, p, err)
			}
		}
		if a, ok := parseASNFast([]byte(s)); ok {
			b, err := parseRPSLASN(s)
			if err != nil || a != b {
				t.Fatalf("parseASNFast(%q) = %v; parseRPSLASN: %v, %v", s, a, b, err)
			}
		}
	})
}

// TestParseFast: the fast parsers take the plain forms (so that the fast path is
// used) and decline what only the general parsers decide.
func TestParseFast(t *testing.T) {
	for _, s := range []string{"192.0.2.0/24", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/8"} {
		if _, ok := parseV4Fast([]byte(s)); !ok {
			t.Errorf("parseV4Fast(%q) declined", s)
		}
	}
	for _, s := range []string{"192.0.02.0/24", "192.0.2.0/024", "192.0.2.1/24", "1.2.3.0/33", "1.2.3/24", "1.2.3.0", "1.2.3.0/", "::/0", "1.2.3.0/24 "} {
		if k, ok := parseV4Fast([]byte(s)); ok {
			t.Errorf("parseV4Fast(%q) = %v", s, k)
		}
	}
	for _, s := range []string{"AS0", "as64496", "AS4294967295"} {
		if _, ok := parseASNFast([]byte(s)); !ok {
			t.Errorf("parseASNFast(%q) declined", s)
		}
	}
	for _, s := range []string{"AS", "AS00", "AS064496", "AS4294967296", "64496", "AS1.2", "AS-1"} {
		if a, ok := parseASNFast([]byte(s)); ok {
			t.Errorf("parseASNFast(%q) = %v", s, a)
		}
	}
}

// recordString renders every field of r, for comparisons.
func recordString(r *record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %q %q asn=%v autnum=%v member-of=%q mnt-by=%q extra=%v", r.source, r.class, r.key, r.text, r.asn, r.isAutNum, r.memberOf, r.mnts, r.extra)
	if r.route != nil {
		fmt.Fprintf(&b, " route=%v", *r.route)
	}
	if r.set != nil {
		fmt.Fprintf(&b, " set=%q %s %q %q", r.set.name, r.set.class, r.set.members, r.set.mbrsByRef)
	}
	if r.multi != nil {
		fmt.Fprintf(&b, " multi=%v", *r.multi)
	}
	return b.String()
}

// TestStoredObjectMatchesScanner: storedObject builds the rpsl.Object the scanner
// reads, field by field, from every object in stored form of the fixtures and the
// first part of the RIPE as-set dump (and declines the others).
func TestStoredObjectMatchesScanner(t *testing.T) {
	inputs := [][]byte{[]byte(strings.Join(fastCases, "\n"))}
	for _, p := range []string{"testdata/edge.db", multiDB} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	lines := peer.GunzipLines(t, peer.SharedData(t, "irr/ripe.db.as-set.gz"))
	inputs = append(inputs, []byte(strings.Join(lines[:min(len(lines), 60000)], "\n")+"\n"))
	taken := 0
	for _, in := range inputs {
		taken += storedVsScanner(t, in)
	}
	if taken < 1300 { // the RIPE part has 1,358 as-sets
		t.Errorf("storedObject took %d objects", taken)
	}
}

// storedVsScanner checks storedObject at every object start of data against the
// scanner and returns how many objects it took.
func storedVsScanner(t *testing.T, data []byte) int {
	t.Helper()
	c := &chunk{}
	sc := rpsl.NewChunkScanner(nil, "f", 0)
	pos, line, taken := 0, 0, 0
	for pos < len(data) {
		if data[pos] == '\n' {
			pos, line = pos+1, line+1
			continue
		}
		o, n, end, lines, ok := c.storedObject(data[pos:], "f", line, nil)
		sc.Reset(data[pos:], line)
		want, err := sc.Next()
		rest, l := sc.Rest()
		if ok {
			taken++
			if err != nil {
				t.Fatalf("line %d: storedObject took an object the scanner refuses: %v", line+1, err)
			}
			if got, w := objectString(&o), objectString(want); got != w {
				t.Fatalf("line %d: storedObject\n%s\nscanner\n%s", line+1, got, w)
			}
			if end != len(data)-pos-len(rest) || line+lines != l || !bytes.Equal(data[pos:pos+n], want.AppendText(nil)) {
				t.Fatalf("line %d: consumed %d bytes, %d lines, text %q; the scanner %d, %d, %q", line+1, end, lines, data[pos:pos+n], len(data)-pos-len(rest), l-line, want.AppendText(nil))
			}
		}
		if err == io.EOF {
			break
		}
		pos, line = len(data)-len(rest), l
	}
	return taken
}

// objectString renders every field of o.
func objectString(o *rpsl.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %s:%d\n", o.Class, o.Key, o.File, o.Line)
	for _, a := range o.Attrs {
		fmt.Fprintf(&b, "  %q %q %q %d\n", a.Name, a.Value, a.Raw, a.Line)
	}
	return b.String()
}
