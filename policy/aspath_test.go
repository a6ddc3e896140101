package policy

import (
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

func TestParseASPath(t *testing.T) {
	for _, tc := range []struct {
		in, str     string
		n           int
		first, orig routing.ASN
		hasF, hasO  bool
	}{
		{"64500", "64500", 1, 64500, 64500, true, true},
		{"  AS64500 as64501\t64502 ", "64500 64501 64502", 3, 64500, 64502, true, true},
		{"64500 64500 64500 64501", "64500 64500 64500 64501", 4, 64500, 64501, true, true},
		{"64500 {64501,64502}", "64500 {64501,64502}", 2, 64500, 0, true, false},
		{"64500 {64501 64502} 64503", "64500 {64501,64502} 64503", 3, 64500, 64503, true, true},
		{"{64501}64500", "{64501} 64500", 2, 0, 64500, false, true},
		{"4294967295 0", "4294967295 0", 2, 4294967295, 0, true, true},
	} {
		p, err := ParseASPath(tc.in)
		if err != nil {
			t.Errorf("ParseASPath(%q): %v", tc.in, err)
			continue
		}
		f, hf := p.First()
		o, ho := p.Origin()
		if p.String() != tc.str || p.Len() != tc.n || f != tc.first || hf != tc.hasF || o != tc.orig || ho != tc.hasO {
			t.Errorf("ParseASPath(%q) = %q len %d first %v/%v origin %v/%v", tc.in, p, p.Len(), f, hf, o, ho)
		}
	}
	for _, in := range []string{"", "   ", "{}", "64500 {64501", "64500 AS-FOO", "64500 -1", "64500 4294967296", "64500,64501", "{,}"} {
		if p, err := ParseASPath(in); err == nil {
			t.Errorf("ParseASPath(%q) = %v, want an error", in, p)
		}
	}
	if _, err := ParseASPath(strings.Repeat("1 ", maxPathText)); err == nil {
		t.Error("huge path accepted")
	}
}

func FuzzParseASPath(f *testing.F) {
	for _, s := range []string{"64500", "64500 {64501,64502} 64503", "AS1 as2", "{1 2}{3}", "1 {"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseASPath(s)
		if err != nil {
			return
		}
		back, err := ParseASPath(p.String())
		if err != nil || back.String() != p.String() || back.Len() != p.Len() {
			t.Fatalf("%q -> %q -> %q, %v", s, p, back, err)
		}
		for _, seg := range p {
			if len(seg.ASNs) == 0 {
				t.Fatalf("%q: empty segment", s)
			}
		}
	})
}
