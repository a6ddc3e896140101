package policy_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
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
// checked for the native behaviour instead.
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
		ctx, cancel := context.WithCancel(context.Background())
		ix, _, err := irr.Load(ctx, []string{db}, irr.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := whoisd.New(ix, whoisd.Options{})
		done := make(chan struct{})
		go func() { srv.Serve(ctx, ln); close(done) }()
		addr := ln.Addr().String()
		for _, set := range setNames(t, db) {
			for _, o := range opts {
				args := append([]string{"-h", addr, "-l", "NN"}, o.args...)
				cmd := exec.Command(bin, append(args, set)...)
				cmd.Env = []string{"PATH=/usr/bin:/bin"}
				var want, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &want, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("bgpq4 %q: %v %s", cmd.Args, err, stderr.String())
				}
				o.opt.Name = "NN"
				f, err := policy.BuildPrefixFilter(ctx, ix, &irr.Resolver{Q: ix}, []string{set}, o.opt)
				if err != nil {
					t.Errorf("%s %q: %v (bgpq4: %q)", set, o.args, err, want.String())
					continue
				}
				got, err := ios.PrefixList(f)
				if err != nil {
					t.Fatal(err)
				}
				compared++
				if strings.Contains(want.String(), " is empty") {
					if !f.Empty() || !strings.Contains(string(got), "deny 0.0.0.0/0 le 32") && !strings.Contains(string(got), "deny ::/0 le 128") {
						t.Errorf("%s %q: bgpq4 empty, ours:\n%s", set, o.args, got)
					}
					continue
				}
				nonEmpty++
				if string(got) != want.String() {
					t.Errorf("%s %q (%s):\nbgpq4:\n%s\nours:\n%s", set, o.args, db, want.String(), got)
				}
			}
		}
		cancel()
		<-done
	}
	if nonEmpty < 50 {
		t.Fatalf("only %d non-empty comparisons", nonEmpty)
	}
	t.Logf("%d cases compared with bgpq4, %d non-empty", compared, nonEmpty)
}
