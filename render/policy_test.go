package render

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// exampleDocs builds every customer's documents (import and export, both families)
// from examples/bgpfilter.yml, its registry and VRPs, the way generate does. edit may
// change the config first.
func exampleDocs(t testing.TB, edit func(*config.File)) (map[string][]*policy.Document, *config.File) {
	t.Helper()
	cfg, err := config.Load(filepath.Join(peer.RepoRoot(t), "examples/bgpfilter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	out := map[string][]*policy.Document{}
	sessions, _ := buildSessions(t, cfg)
	for name, d := range sessions {
		out[name] = []*policy.Document{d.Import4, d.Import6, d.Export4, d.Export6}
	}
	return out, cfg
}

// noOriginBinding switches origin_binding off: these tests and goldens show the
// policies without it (binding_test.go has the origin-binding ones).
func noOriginBinding(cfg *config.File) {
	for i := range cfg.Customers {
		cfg.Customers[i].Knobs.OriginBinding = false
	}
}

// TestBirdParsesPolicies: the BIRD session policy of every example customer, with
// its sessions and run-time ROV, passes bird -p with the shared export file included
// before it, as the README tells operators to load them; all customers together in
// one bird.conf too (no name clashes). Without the shared file bird -p refuses a
// customer's file: its export filters name the shared sets.
func TestBirdParsesPolicies(t *testing.T) {
	bird := peer.Require(t, "bird")
	docs, _ := exampleDocs(t, noOriginBinding)
	dir := t.TempDir()
	shared := filepath.Join(dir, "_export", "bird.conf")
	os.MkdirAll(filepath.Dir(shared), 0o755)
	if err := os.WriteFile(shared, []byte(exportText(t, "bird", docs)), 0o644); err != nil {
		t.Fatal(err)
	}
	include := func(path string) string { return fmt.Sprintf("include %q;\n", path) }
	all := birdHeader + include(shared)
	for name, ds := range docs {
		out, err := RenderPolicy("bird", ds, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if os.Getenv("BGPFILTER_SHOW") != "" {
			t.Logf("%s:\n%s", name, out.Text)
		}
		path := filepath.Join(dir, name, "bird.conf")
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, out.Text, 0o644); err != nil {
			t.Fatal(err)
		}
		birdParse(t, bird, birdHeader+include(shared)+include(path))
		alone := filepath.Join(dir, name+"-alone.conf")
		os.WriteFile(alone, []byte(birdHeader+include(path)), 0o644)
		// BIRD names the line, not the symbol: it must be the line that matches the
		// shared set.
		b, err := exec.Command(bird, "-p", "-c", alone).CombinedOutput()
		var line int
		fmt.Sscanf(strings.TrimPrefix(string(b), "bird: "+path+":"), "%d", &line)
		lines := strings.Split(string(out.Text), "\n")
		if err == nil || !strings.Contains(string(b), "CF_SYM_UNDEFINED") || line < 1 || line > len(lines) || !strings.Contains(lines[line-1], policy.ExportSetName(4)) {
			t.Errorf("%s: bird -p without the shared export file: %v %s (want an undefined symbol on the line naming %s)", name, err, b, policy.ExportSetName(4))
		}
		all += include(path)
	}
	birdParse(t, bird, all)
}

// TestFRRLoadsPolicies: the FRR session policy of every example customer, after the
// shared export file, passes vtysh -C.
func TestFRRLoadsPolicies(t *testing.T) {
	vtysh := peer.Require(t, "vtysh")
	docs, _ := exampleDocs(t, noOriginBinding)
	shared := exportText(t, "frr", docs)
	for name, ds := range docs {
		out, err := RenderPolicy("frr", ds, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if os.Getenv("BGPFILTER_SHOW") != "" {
			t.Logf("%s:\n%s", name, out.Text)
		}
		path := filepath.Join(t.TempDir(), "frr.conf")
		os.WriteFile(path, []byte(shared+string(out.Text)), 0o644)
		if b, err := exec.Command(vtysh, "-C", "-f", path).CombinedOutput(); err != nil {
			t.Errorf("vtysh -C %s: %v\n%s", name, err, b)
		}
	}
}

// TestPolicyGoldens: the session policies of the example customers and the shared
// export file are golden files a reviewer reads (testdata/golden/policy_*; made with
// go test ./render -run TestPolicyGoldens -update); no Junos or IOS-XR parser checks
// them, TestPolicyStructure checks their structure (BIRD's and FRR's are checked by
// bird -p and vtysh -C above).
func TestPolicyGoldens(t *testing.T) {
	docs, _ := exampleDocs(t, noOriginBinding)
	for _, v := range PolicyVendors {
		checkGolden(t, "policy_"+v+"_export.golden", []byte(exportText(t, v, docs)))
		for _, name := range []string{"cust_one", "transit_cust", "peer_two"} {
			out, err := RenderPolicy(v, docs[name], Options{})
			if err != nil {
				t.Fatalf("%s %s: %v", v, name, err)
			}
			checkGolden(t, "policy_"+v+"_"+name+".golden", out.Text)
		}
	}
}

// buildSessions builds every customer's import and export documents from cfg's
// registry and VRPs, the way generate does, and returns them with the VRP table; the
// render tests and the live test share it.
func buildSessions(t testing.TB, cfg *config.File) (map[string]*policy.SessionDocuments, *rpki.Table) {
	t.Helper()
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, cfg.IRR, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := rpki.LoadFile(ctx, cfg.RPKI, rpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := policy.Inputs{Querier: ix, Resolver: &irr.Resolver{Q: ix, Sources: cfg.Sources}, Validator: table, ROAs: table}
	sessions := map[string]*policy.SessionDocuments{}
	var imp4, imp6 []*policy.Document
	for i := range cfg.Customers {
		c := &cfg.Customers[i]
		d, err := policy.BuildSession(ctx, in, cfg.CustomerSpec(c))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		sessions[c.Name] = d
		imp4, imp6 = append(imp4, d.Import4), append(imp6, d.Import6)
	}
	own4, _, err := policy.OwnPrefixes(ctx, in, "SELF_V4", 4, cfg.Self.ASSets, cfg.Self.Prefixes, cfg.Defaults.RPKIPolicy)
	if err != nil {
		t.Fatal(err)
	}
	own6, _, err := policy.OwnPrefixes(ctx, in, "SELF_V6", 6, cfg.Self.ASSets, cfg.Self.Prefixes, cfg.Defaults.RPKIPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sessions {
		d.Export4 = policy.ExportDocument(d.Import4, own4, imp4)
		d.Export6 = policy.ExportDocument(d.Import6, own6, imp6)
	}
	return sessions, table
}
