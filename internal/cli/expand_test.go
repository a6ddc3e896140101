package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// runExpandCLI runs the app in-process through Run (exit code and message mapping).
func runExpandCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"bgpfilter"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExpandCommand(t *testing.T) {
	root := peer.RepoRoot(t)
	example := filepath.Join(root, "examples", "irr")
	edge := filepath.Join(root, "irr", "testdata", "edge.db")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantStderr []string
	}{
		{name: "as-set with hierarchical and mbrs-by-ref members",
			args:    []string{"--irr", example, "expand", "AS-EXAMPLE"},
			wantOut: "AS64496\nAS64497\nAS64498\nAS64499\nAS64500\nAS64501\nAS65536\nAS65537\nAS65538\n"},
		{name: "tree",
			args: []string{"--irr", example, "expand", "--tree", "AS-EXAMPLE"},
			wantOut: "AS-EXAMPLE\n  AS-EXAMPLE-TRANSIT\n    AS64501\n    AS65538\n  AS64496\n  AS64496:AS-CUSTOMERS\n" +
				"    AS-EXAMPLE-DOWNSTREAM\n      AS64499\n      AS64500\n      AS65537\n    AS64497\n    AS64498\n    AS65536\n"},
		{name: "route-set prints ASNs then prefix ranges",
			args:    []string{"--irr", example, "expand", "RS-EXAMPLE"},
			wantOut: "AS64497\n192.0.2.0/24^25-26\n198.51.100.0/24^+\n2001:db8:f000::/36^48\n"},
		{name: "loop and unknown members warned with their path",
			args:       []string{"--irr", edge, "expand", "AS-LOOPA", "AS-UNKNOWNS"},
			wantOut:    "AS64496\nAS64497\nAS64498\n",
			wantStderr: []string{"set=AS-DOES-NOT-EXIST path=AS-UNKNOWNS", "AS-LOOPA > AS-LOOPB > AS-LOOPA"}},
		{name: "tree marks loops and missing sets",
			args:    []string{"--irr", edge, "expand", "--tree", "AS-LOOPA", "AS-UNKNOWNS"},
			wantOut: "AS-LOOPA\n  AS-LOOPB\n    AS-LOOPA (loop)\n    AS64497\n  AS64496\nAS-UNKNOWNS\n  AS-DOES-NOT-EXIST (not found)\n  AS64496:AS-NOPE (not found)\n  AS64498\n"},
		{name: "quiet hides warnings",
			args:    []string{"--quiet", "--irr", edge, "expand", "AS-UNKNOWNS"},
			wantOut: "AS64498\n"},
		{name: "--sources order decides the same-named set",
			args:    []string{"--irr", edge, "--sources", "ALT,EDGE", "expand", "AS-DUP"},
			wantOut: "AS64510\n"},
		{name: "SOURCE:: root",
			args:    []string{"--irr", edge, "expand", "ALT::AS-DUP"},
			wantOut: "AS64510\n"},
		{name: "unknown root exits 2", args: []string{"--irr", edge, "expand", "AS-NOPE"}, wantCode: ExitData,
			wantStderr: []string{"AS-NOPE", "not found"}},
		{name: "depth limit exits 2", args: []string{"--irr", edge, "expand", "--max-depth", "2", "AS-L1"}, wantCode: ExitData,
			wantStderr: []string{"nesting deeper than 2"}},
		{name: "unknown --sources exits 2", args: []string{"--irr", edge, "--sources", "NOPE", "expand", "AS-DUP"}, wantCode: ExitData,
			wantStderr: []string{"NOPE"}},
		{name: "no object is a usage error", args: []string{"--irr", edge, "expand"}, wantCode: ExitUsage},
		{name: "missing file exits 3", args: []string{"--irr", filepath.Join(t.TempDir(), "nope.db"), "expand", "AS-X"}, wantCode: ExitUnavailable},
		{name: "files and whois cannot be mixed", args: []string{"--irr", edge, "--irr", "whois://127.0.0.1:1", "expand", "AS-X"}, wantCode: ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runExpandCLI(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, errOut)
			}
			if tc.wantCode == 0 {
				if diff := cmp.Diff(tc.wantOut, out); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			} else if out != "" {
				t.Errorf("stdout on error: %q", out)
			}
			for _, s := range tc.wantStderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if strings.Contains(tc.name, "quiet") && errOut != "" {
				t.Errorf("stderr with --quiet: %s", errOut)
			}
		})
	}
}

func TestExpandJSON(t *testing.T) {
	edge := filepath.Join(peer.RepoRoot(t), "irr", "testdata", "edge.db")
	code, out, errOut := runExpandCLI(t, "--irr", edge, "expand", "--json", "AS-UNKNOWNS", "AS-LOOPA", "RS-WRONGFAM")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		ASNs     []uint32            `json:"asns"`
		Prefixes []string            `json:"prefixes"`
		Paths    map[string][]string `json:"paths"`
		Missing  []struct {
			Name string   `json:"name"`
			Path []string `json:"path"`
		} `json:"missing"`
		Loops [][]string `json:"loops"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if !cmp.Equal(got.ASNs, []uint32{64496, 64497, 64498}) ||
		!cmp.Equal(got.Prefixes, []string{"192.0.2.128/26", "198.51.100.0/26", "2001:db8:5::/48"}) ||
		!cmp.Equal(got.Paths["AS64497"], []string{"AS-LOOPA", "AS-LOOPB"}) ||
		len(got.Missing) != 2 || got.Missing[0].Name != "AS-DOES-NOT-EXIST" ||
		!cmp.Equal(got.Loops, [][]string{{"AS-LOOPA", "AS-LOOPB", "AS-LOOPA"}}) {
		t.Errorf("unexpected JSON: %+v", got)
	}
}

func TestOpenIRRStrict(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, []byte("as-set: AS-OK\nmembers: AS64496\nsource: T\n\nas-set: AS-NOSRC\nmembers: AS64497\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runExpandCLI(t, "--irr", bad, "expand", "AS-OK")
	if code != 0 || out != "AS64496\n" || !strings.Contains(errOut, "count=1") {
		t.Errorf("lenient: exit %d out %q stderr %q", code, out, errOut)
	}
	code, _, errOut = runExpandCLI(t, "--strict", "--irr", bad, "expand", "AS-OK")
	if code != ExitData || !strings.Contains(errOut, "bad.db:5:") {
		t.Errorf("strict: exit %d stderr %q", code, errOut)
	}
}
