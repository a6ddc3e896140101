package policy_test

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// setNames lists the as-set keys of an RPSL file.
func setNames(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, ok := strings.CutPrefix(sc.Text(), "as-set:"); ok {
			k = strings.TrimSpace(k)
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// TestNativeEqualsBGPQ4 runs Debian's bgpq4 against bgpfilter's whois server on the
// test registries and compares its IOS prefix-lists, for every as-set and a matrix of
// -A/-R/-r/-m options in both families, with the native prefix-list rendered as ios
// from the same data. The native command differs from bgpq4 only where bgpq4 is buggy:
// an unknown set (we fail) and an empty list (we deny all lengths); those cases are
// checked for the native behaviour instead. The other vendors bgpq4 can print (Junos,
// IOS-XR, EOS, OpenBGPD) are compared in render's TestNativeVendorsEqualBGPQ4.
func TestNativeEqualsBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	root := peer.RepoRoot(t)
	ios, err := render.New("ios", render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := []struct {
		args []string
		opt  policy.Options
	}{
		{nil, policy.Options{Family: 4}},
		{[]string{"-A"}, policy.Options{Family: 4, Aggregate: true}},
		{[]string{"-R", "24"}, policy.Options{Family: 4, MoreSpecifics: 24}},
		{[]string{"-r", "20"}, policy.Options{Family: 4, MinLength: 20}},
		{[]string{"-A", "-r", "17", "-R", "24"}, policy.Options{Family: 4, Aggregate: true, MinLength: 17, MoreSpecifics: 24}},
		{[]string{"-m", "24", "-A"}, policy.Options{Family: 4, MaxLength: 24, Aggregate: true}},
		{[]string{"-6"}, policy.Options{Family: 6}},
		{[]string{"-6", "-A"}, policy.Options{Family: 6, Aggregate: true}},
		{[]string{"-6", "-R", "48", "-A"}, policy.Options{Family: 6, MoreSpecifics: 48, Aggregate: true}},
	}
	compared, nonEmpty := 0, 0
	for _, db := range []string{"testdata/policy.db", root + "/examples/irr/example.db", root + "/irr/testdata/edge.db"} {
		ctx := context.Background()
		ix, _, err := irr.Load(ctx, []string{db}, irr.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr := whoistest.Serve(t, ix, whoisd.Options{})
		for _, set := range setNames(t, db) {
			for _, o := range opts {
				args := append(append([]string{"-l", "NN"}, o.args...), set)
				r := peer.BGPQ4(t, bin, addr, []string{"PATH=/usr/bin:/bin"}, args...)
				if r.Code != 0 {
					t.Fatalf("bgpq4 %q: exit %d %s", args, r.Code, r.Stderr)
				}
				o.opt.Name = "NN"
				f, err := policy.BuildPrefixFilter(ctx, ix, &irr.Resolver{Q: ix}, []string{set}, o.opt)
				if err != nil {
					t.Errorf("%s %q: %v (bgpq4: %q)", set, o.args, err, r.Stdout)
					continue
				}
				got, err := ios.PrefixList(f)
				if err != nil {
					t.Fatal(err)
				}
				compared++
				if strings.Contains(r.Stdout, " is empty") {
					if !f.Empty() || !strings.Contains(string(got), "deny 0.0.0.0/0 le 32") && !strings.Contains(string(got), "deny ::/0 le 128") {
						t.Errorf("%s %q: bgpq4 empty, ours:\n%s", set, o.args, got)
					}
					continue
				}
				nonEmpty++
				if string(got) != r.Stdout {
					t.Errorf("%s %q (%s):\nbgpq4:\n%s\nours:\n%s", set, o.args, db, r.Stdout, got)
				}
			}
		}
	}
	if nonEmpty < 50 {
		t.Fatalf("only %d non-empty comparisons", nonEmpty)
	}
	t.Logf("%d cases compared with bgpq4, %d non-empty", compared, nonEmpty)
}
