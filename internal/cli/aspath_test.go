package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// specialDB is an as-set with one origin of every class bgpq4 1.16 drops without -p
// (bgpq_expander_add_as, /work/shared/reference/bgpq4.md §1.1): AS_TRANS, 16-bit
// documentation and private, 65535, 32-bit documentation, 32-bit private and
// 4294967295; and the neighbours of those ranges that bgpq4 keeps: AS65552 (IANA
// reserved, not special to bgpq4) and AS4199999999. AS0 and AS23456 are dropped by the
// policy package already, with their own warning, --keep-private or not. The cone AS-NOROUTES has members but no
// route objects, so its prefix-list is empty.
const specialDB = `as-set: AS-SPECIAL
members: AS0, AS23456, AS64496, AS64512, AS65534, AS65535, AS65551, AS65552, AS4199999999, AS4200000000, AS4294967295
source: TEST

as-set: AS-NOROUTES
members: AS64497
source: TEST
`

func runWithDB(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "special.db")
	if err := os.WriteFile(path, []byte(db), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"bgpfilter", "--irr", path}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestASPathDropsSpecialOrigins: by default as-path keeps only the origins bgpq4 keeps
// and says how many it dropped; --keep-private keeps them all, silently (issue 12 item 13).
func TestASPathDropsSpecialOrigins(t *testing.T) {
	code, out, errs := runWithDB(t, specialDB, "as-path", "--format", "bird", "AS-SPECIAL")
	if code != 0 || out != "define AS_SPECIAL = [\n    65552, 4199999999\n];\n" {
		t.Errorf("default: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "dropped 7 private or reserved origin ASNs") || !strings.Contains(errs, "AS4294967295") {
		t.Errorf("default: no drop warning with the count:\n%s", errs)
	}
	code, out, errs = runWithDB(t, specialDB, "as-path", "--format", "bird", "AS-SPECIAL", "--keep-private")
	want := "define AS_SPECIAL = [\n    64496, 64512, 65534, 65535, 65551, 65552, 4199999999, 4200000000,\n    4294967295\n];\n"
	if code != 0 || out != want || strings.Contains(errs, "private or reserved") {
		t.Errorf("--keep-private: exit %d\n%q\nwant %q\n%s", code, out, want, errs)
	}
}

// TestEmptyFilterWarnsOrFails: an empty native filter is written with a warning; with
// --fail-on-empty the run exits 2 and the previous --output stays (issue 12 item 13).
func TestEmptyFilterWarnsOrFails(t *testing.T) {
	for _, args := range [][]string{
		{"prefix-list", "--format", "frr", "AS-NOROUTES"},
		{"as-path", "--format", "frr", "AS-NOROUTES"}, // AS64497 is dropped as reserved: nothing left
	} {
		code, out, errs := runWithDB(t, specialDB, args...)
		if code != 0 || out == "" || !strings.Contains(errs, "is empty: it denies everything") {
			t.Errorf("%q: exit %d, stdout %q, stderr %s", args, code, out, errs)
		}
		path := filepath.Join(t.TempDir(), "out.conf")
		if err := os.WriteFile(path, []byte("previous\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs = runWithDB(t, specialDB, append(args, "--fail-on-empty", "--output", path)...)
		if b, _ := os.ReadFile(path); code != ExitData || out != "" || string(b) != "previous\n" || !strings.Contains(errs, "--fail-on-empty") {
			t.Errorf("%q --fail-on-empty: exit %d, stdout %q, file %q, stderr %s", args, code, out, b, errs)
		}
	}
	// Not empty: --fail-on-empty changes nothing.
	code, out, errs := runWithDB(t, specialDB, "as-path", "--format", "bird", "--fail-on-empty", "AS-SPECIAL")
	if code != 0 || out == "" || strings.Contains(errs, "is empty") {
		t.Errorf("non-empty with --fail-on-empty: exit %d\n%s%s", code, out, errs)
	}
}

// TestASPathSpecialOriginsMatchBGPQ4: the origins as-path keeps by default are the ones
// the real bgpq4 keeps (its as-set output -t -b, against the same data served by our
// whois server), except the documented differences: AS0 is dropped here and kept by
// bgpq4; AS23456 is dropped here and by bgpq4 1.11+, but kept by Debian's 1.9.
func TestASPathSpecialOriginsMatchBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	path := filepath.Join(t.TempDir(), "special.db")
	if err := os.WriteFile(path, []byte(specialDB), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _ := serveFile(t, path)
	r := peer.BGPQ4(t, bin, addr, []string{"PATH=/usr/bin:/bin"}, "-b", "-t", "-l", "X", "AS-SPECIAL")
	if r.Code != 0 {
		t.Fatalf("bgpq4: exit %d %s", r.Code, r.Stderr)
	}
	var want []string
	for _, f := range asnList.FindAllString(r.Stdout, -1) {
		if f != "0" && f != "23456" {
			want = append(want, f)
		}
	}
	code, out, errs := runWithDB(t, specialDB, "as-path", "--format", "bird", "--name", "X", "AS-SPECIAL")
	got := asnList.FindAllString(out, -1)
	if code != 0 || len(want) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("origins %q, bgpq4 %q (exit %d)\nbgpq4: %s\nours: %s%s", got, want, code, r.Stdout, out, errs)
	}
}

var asnList = regexp.MustCompile(`\b[0-9]+\b`)
