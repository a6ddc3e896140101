package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExpandReportsWhatItIgnores: invalid members (issue 12 item 4), a loop between
// two sibling sets (item 11) and set names with terminal escape sequences (item 11)
// are reported in expand --json, warned on stderr and escaped in --tree.
func TestExpandReportsWhatItIgnores(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	if err := os.WriteFile(db, []byte(`as-set: AS-ROOT
members: AS-A, AS-B, AS-`+"\x1b[31m"+`EVIL
source: TEST

as-set: AS-A
members: AS64496, AS-B
source: TEST

as-set: AS-B
members: AS64497, AS-A
source: TEST

route-set: RS-BAD
members: 192.0.2.0/24, AS64496;AS64497, 198.51.100.0/24^33, 203.0.113.0/24^24-16
source: TEST
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runExpandCLI(t, "--irr", db, "expand", "--json", "AS-ROOT", "RS-BAD")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Loops   [][]string `json:"loops"`
		Invalid []struct {
			Set, Member, Reason string
		} `json:"invalid"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Loops) != 1 || strings.Join(got.Loops[0], " > ") != "AS-ROOT > AS-A > AS-B > AS-A" {
		t.Errorf("loops = %q, want the AS-A/AS-B loop", got.Loops)
	}
	var members []string
	for _, b := range got.Invalid {
		if b.Set != "RS-BAD" || b.Reason == "" {
			t.Errorf("invalid member %+v", b)
		}
		members = append(members, b.Member)
	}
	slices.Sort(members)
	if want := []string{"198.51.100.0/24^33", "203.0.113.0/24^24-16", "AS64496;AS64497"}; !slices.Equal(members, want) {
		t.Errorf("invalid members = %q, want %q", members, want)
	}
	for _, want := range []string{"invalid member ignored", "AS64496;AS64497", "198.51.100.0/24^33", "203.0.113.0/24^24-16", "AS-ROOT > AS-A > AS-B > AS-A"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "\x1b") {
		t.Errorf("stderr carries an escape character: %q", stderr)
	}

	code, out, stderr = runExpandCLI(t, "--irr", db, "expand", "--tree", "AS-ROOT")
	if code != 0 {
		t.Fatalf("tree: exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `"AS-\x1b[31MEVIL" (not found)`) {
		t.Errorf("tree does not escape the set name:\n%q", out)
	}

	// The native commands carry the same warnings (policy.Expanded.Warnings).
	code, _, stderr = runExpandCLI(t, "--irr", db, "prefix-list", "--format", "bird", "RS-BAD")
	if code != 0 || !strings.Contains(stderr, "invalid member") || !strings.Contains(stderr, "AS64496;AS64497") {
		t.Errorf("prefix-list RS-BAD: exit %d, stderr lacks the invalid members:\n%s", code, stderr)
	}
}

// TestHugeRangeNative: a route-set range that would enumerate more than 4M prefixes
// (2001:db8::/32^33-128 covers 2^97) is never dropped by the native commands: it is
// one range entry, the whole filter. (The bgpq4 command refuses it with bgpq4's
// ERROR line instead of hanging, README "Deliberate differences".)
func TestHugeRangeNative(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	if err := os.WriteFile(db, []byte("route-set: RS-HUGE\nmp-members: 2001:db8::/32^33-128, 2001:db8:1::/48\nsource: TEST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runExpandCLI(t, "--irr", db, "prefix-list", "--format", "bird", "-6", "RS-HUGE")
	if code != 0 || !strings.Contains(out, "2001:db8::/32{33,128}") {
		t.Fatalf("prefix-list RS-HUGE: exit %d, the range is not in the filter:\n%s%s", code, out, stderr)
	}
	code, out, stderr = runExpandCLI(t, "--irr", db, "bgpq4", "-6", "RS-HUGE")
	if code != 0 || !strings.Contains(stderr, "too large") || !strings.Contains(out, "2001:db8:1::/48") {
		t.Fatalf("bgpq4 -6 RS-HUGE: exit %d:\n%s%s", code, out, stderr)
	}
}
