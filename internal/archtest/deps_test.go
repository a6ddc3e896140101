package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// modulePackages lists the module's packages and their direct module imports with
// `go list -json ./...` (non-test imports: tests may import anything).
func modulePackages(t *testing.T) []Package {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = peer.RepoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		pk := Package{Path: rel}
		for _, imp := range p.Imports {
			if r, ok := relative(imp); ok {
				pk.Imports = append(pk.Imports, r)
			}
		}
		pkgs = append(pkgs, pk)
	}
	return pkgs
}

func relative(path string) (string, bool) {
	if path == Module {
		return ".", true
	}
	return strings.CutPrefix(path, Module+"/")
}

// TestDependenciesPointOneWay checks the module's import graph against the rules.
func TestDependenciesPointOneWay(t *testing.T) {
	pkgs := modulePackages(t)
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the module has more", len(pkgs))
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.Path] = true
	}
	for _, must := range []string{"internal/cli", "pipeline", "render", "policy", "irr", "rpki"} {
		if !seen[must] {
			t.Errorf("go list did not list %s", must)
		}
	}
	for _, v := range Check(pkgs) {
		t.Error(v)
	}
}

// TestCheckFindsViolations runs the checker on a fake graph with one violation of
// each kind (and allowed edges, which must stay silent).
func TestCheckFindsViolations(t *testing.T) {
	pkgs := []Package{
		{Path: "internal/cli", Imports: []string{"pipeline", "render", "routing"}}, // allowed
		{Path: "pipeline", Imports: []string{"report", "render", "irr", "rpki"}},   // allowed
		{Path: "whoisd", Imports: []string{"whois", "irr"}},                        // allowed: data on data
		{Path: "rpki/rtr", Imports: []string{"rpki", "routing"}},                   // allowed
		{Path: "internal/peer", Imports: []string{"whoisd"}},                       // allowed: test helper
		{Path: "bench/x", Imports: []string{"internal/synth", "irr"}},              // allowed: tool
		{Path: "render", Imports: []string{"pipeline"}},                            // upwards
		{Path: "irr", Imports: []string{"policy"}},                                 // data → policy
		{Path: "rpki", Imports: []string{"irr/rpsl"}},                              // rpki → irr
		{Path: "policy", Imports: []string{"policy/sub", "internal/whoistest"}},    // test helper
		{Path: "policy/sub", Imports: []string{"render"}},                          // upwards from a subpackage
		{Path: "report", Imports: []string{"internal/cli"}},                        // feature → cli
		{Path: "newpkg"}, // unclassified
		{Path: "render/x", Imports: []string{"render"}}, // allowed: its own layer
		{Path: "mrt", Imports: []string{"pipeline"}},    // data → pipeline
	}
	got := Check(pkgs)
	want := []string{
		"irr (data) imports policy (policy)",
		"newpkg: not classified",
		"mrt (data) imports pipeline (pipeline)",
		"policy/sub (policy) imports render (render)",
		"policy (policy) imports test helper internal/whoistest",
		"render (render) imports pipeline (pipeline)",
		"report (feature) imports internal/cli (cli)",
		"rpki imports irr/rpsl: rpki and irr do not import each other",
	}
	if len(got) != len(want) {
		t.Errorf("Check found %d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("Check missed %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
}
