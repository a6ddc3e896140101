package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMergeWarnings: each distinct message once, first-occurrence order, the
// customer's document names folded into brackets; other "word: " prefixes (a rule
// name, another customer's document) are part of the message.
func TestMergeWarnings(t *testing.T) {
	in := []string{
		"dropped RPKI-invalid 192.0.2.0/24 origin AS64501",
		"acme_IN_V4: as-set: junos has no documented match",
		"acme_IN_V4: dropped RPKI-invalid 192.0.2.0/24 origin AS64501",
		"acme_IN_V6: as-set: junos has no documented match",
		"acme_IN_V4: as-set: junos has no documented match",
		"acme_IN_V6: max-prefix 5 is a session setting",
		"as-set: iosxr has no documented match",
		"other_IN_V4: empty IPv4 prefix filter",
		"acme_IN_V6: max-prefix 5 is a session setting",
		"acme bad: not a document name",
		"acme_IN_V6: ",
		"dropped RPKI-invalid 192.0.2.0/24 origin AS64501",
	}
	want := []string{
		"dropped RPKI-invalid 192.0.2.0/24 origin AS64501 [acme_IN_V4]",
		"as-set: junos has no documented match [acme_IN_V4, acme_IN_V6]",
		"max-prefix 5 is a session setting [acme_IN_V6]",
		"as-set: iosxr has no documented match",
		"other_IN_V4: empty IPv4 prefix filter",
		"acme bad: not a document name",
		"acme_IN_V6: ",
	}
	if got := mergeWarnings("acme", in); !slices.Equal(got, want) {
		t.Errorf("mergeWarnings:\n got %q\nwant %q", got, want)
	}
	// Without a customer only exact repeats go.
	if got := mergeWarnings("", []string{"b", "a", "b", "x_IN_V4: a"}); !slices.Equal(got, []string{"b", "a", "x_IN_V4: a"}) {
		t.Errorf("mergeWarnings without customer: %q", got)
	}
	if got := mergeWarnings("", nil); got == nil || len(got) != 0 {
		t.Errorf("mergeWarnings(nil) = %#v, want an empty list (JSON [])", got)
	}
}

// TestGenerateSummaryWarningsOnce runs generate on the example config (four targets,
// two families, RPKI-invalid objects, an empty filter, max-prefix without sessions):
// before the merge every document warning appeared once per target plus once
// without a name. Now no customer lists a message twice, and the empty filter of
// peer_two is one warning naming its policy.
func TestGenerateSummaryWarningsOnce(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "examples", "bgpfilter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	j := &GenerateJob{Config: cfg, Out: out, IRR: IRRSpec{SnapshotCacheDir: t.TempDir()}}
	if err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum GenerateSummary
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range sum.Customers {
		seen := map[string]bool{}
		for _, w := range c.Warnings {
			msg := w
			if i := strings.LastIndex(w, " ["); i >= 0 && strings.HasSuffix(w, "]") {
				msg = w[:i]
			}
			if strings.HasPrefix(msg, c.Name+"_") {
				t.Errorf("%s: warning still carries a document name: %q", c.Name, w)
			}
			if seen[msg] {
				t.Errorf("%s: warning listed twice: %q", c.Name, msg)
			}
			seen[msg] = true
		}
		if c.Name == "peer_two" {
			checked++
			n := 0
			for _, w := range c.Warnings {
				if strings.Contains(w, "empty IPv4 prefix filter") {
					n++
					if !strings.HasSuffix(w, " [peer_two_IN_V4]") {
						t.Errorf("empty-filter warning does not name its policy: %q", w)
					}
				}
			}
			if n != 1 {
				t.Errorf("peer_two: %d empty IPv4 filter warnings, want 1: %q", n, c.Warnings)
			}
		}
	}
	if checked != 1 {
		t.Fatalf("example config has no customer peer_two (%d customers)", len(sum.Customers))
	}
}
