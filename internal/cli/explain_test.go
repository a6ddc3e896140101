package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

func runExplainCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"bgpfilter"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// The expectations follow from examples/irr and examples/rpki by hand: cust_one is
// AS64497 with route 198.51.100.0/24 (ROA 198.51.100.0/24-24 AS64497, ripe) and
// route6 2001:db8:200::/48 (no covering ROA); policy's own tests check the same
// decisions against an independent evaluator.
func TestExplainCommand(t *testing.T) {
	cfg := filepath.Join(peer.RepoRoot(t), "examples", "bgpfilter.yml")
	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("local_as: 64496\ncustomers:\n  - name: a\n    asn: 64500\n    colour: red\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"accept", []string{"explain", "--config", cfg, "cust_one", "198.51.100.0/24", "64497"}, 0,
			[]string{"accept\n", "rule:     accept", "sources: EXAMPLE", `"ROA 198.51.100.0/24-24 AS64497 (ripe)"`}, nil},
		{"path as one argument", []string{"explain", "--config", cfg, "cust_one", "198.51.100.0/24", "64497 3356 64497"}, 0,
			[]string{"reject\n", "rule:     peerlock", "AS3356 at position 2"}, nil},
		{"path as several arguments", []string{"explain", "--config", cfg, "cust_one", "198.51.100.0/24", "64497", "64497", "0"}, 0,
			[]string{"reject\n", "rule:     bogon-asn", "AS0 at position 3", "RFC 7607"}, nil},
		{"ipv6", []string{"explain", "--config", cfg, "cust_one", "2001:db8:200::/48", "64497"}, 0,
			[]string{"accept\n", "cust_one_IN_V6", "rpki:     not-found"}, nil},
		{"rpki invalid at run time", []string{"explain", "--config", cfg, "cust_one", "198.51.100.0/25", "64497"}, 0,
			[]string{"reject\n", "rule:     rpki-invalid"}, nil},
		{"rov given", []string{"explain", "--config", cfg, "--rov", "invalid", "cust_one", "198.51.100.0/24", "64497"}, 0,
			[]string{"reject\n", "rule:     rpki-invalid"}, nil},
		// The export to peer_two is self (AS-EXAMPLE) plus every customer's filter:
		// transit_cust's extra 203.0.113.0/24 is in it, 8.8.8.0/24 is not.
		{"export", []string{"explain", "--config", cfg, "--export", "peer_two", "203.0.113.0/24"}, 0,
			[]string{"accept\n", "peer_two_OUT_V4", "entry:    203.0.113.0/24 exact"}, nil},
		{"export reject", []string{"explain", "--config", cfg, "--export", "peer_two", "8.8.8.0/24", "64496"}, 0,
			[]string{"reject\n", "rule:     prefix", "BGPFILTER_EXPORT_V4"}, nil},
		{"unknown customer", []string{"explain", "--config", cfg, "nobody", "198.51.100.0/24", "64497"}, 1,
			nil, []string{`no customer "nobody"`, "cust_one, transit_cust, peer_two"}},
		{"bad prefix", []string{"explain", "--config", cfg, "cust_one", "198.51.100.1/24", "64497"}, 1, nil, []string{"host bits"}},
		{"bad path", []string{"explain", "--config", cfg, "cust_one", "198.51.100.0/24", "64497 AS-FOO"}, 1, nil, []string{"invalid AS number"}},
		{"missing path", []string{"explain", "--config", cfg, "cust_one", "198.51.100.0/24"}, 1, nil, []string{"CUSTOMER PREFIX AS_PATH"}},
		{"bad rov", []string{"explain", "--config", cfg, "--rov", "unknown", "cust_one", "198.51.100.0/24", "64497"}, 1, nil, []string{"--rov"}},
		{"bad config", []string{"explain", "--config", bad, "a", "198.51.100.0/24", "64500"}, 1, nil, []string{`line 5: customers[0] (a): unknown key "colour"`}},
		{"missing config", []string{"explain", "--config", filepath.Join(t.TempDir(), "none.yml"), "a", "198.51.100.0/24", "64500"}, 1, nil, []string{"no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runExplainCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestExplainJSON(t *testing.T) {
	cfg := filepath.Join(peer.RepoRoot(t), "examples", "bgpfilter.yml")
	code, out, errs := runExplainCLI(t, "explain", "--config", cfg, "--json", "transit_cust", "192.0.2.0/24", "64501")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var x struct {
		Customer, Policy, Prefix, Path, Action, Rule, Reason string
		Evidence                                             struct {
			ROV struct {
				State string
				ROAs  []string
			}
		}
		Steps []struct{ Rule, Outcome string }
	}
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	// 192.0.2.0/24 from AS64501: only ROA 192.0.2.0/24-25 AS64496 covers it.
	if x.Customer != "transit_cust" || x.Policy != "transit_cust_IN_V4" || x.Action != "reject" || x.Rule != "rpki-invalid" ||
		x.Evidence.ROV.State != "invalid" || len(x.Evidence.ROV.ROAs) != 1 || !strings.Contains(x.Evidence.ROV.ROAs[0], "AS64496 (ripe)") {
		t.Errorf("explanation = %+v", x)
	}
	if len(x.Steps) != 4 || x.Steps[3].Rule != "rpki-invalid" || x.Steps[3].Outcome != "matched" {
		t.Errorf("steps = %+v", x.Steps)
	}
}
