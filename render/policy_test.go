package render

import (
	"context"
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
// its sessions and run-time ROV, passes bird -p; all customers together in one
// bird.conf too (no name clashes).
func TestBirdParsesPolicies(t *testing.T) {
	bird := peer.Require(t, "bird")
	docs, _ := exampleDocs(t, noOriginBinding)
	var all strings.Builder
	all.WriteString(birdHeader)
	for name, ds := range docs {
		out, err := RenderPolicy("bird", ds, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if os.Getenv("BGPFILTER_SHOW") != "" {
			t.Logf("%s:\n%s", name, out.Text)
		}
		birdParse(t, bird, birdHeader+string(out.Text))
		all.Write(out.Text)
	}
	birdParse(t, bird, all.String())
}

// TestFRRLoadsPolicies: the FRR session policy of every example customer passes
// vtysh -C, and all of them together load into a running FRR 8.4 bgpd (with the rpki
// module) without a config error; every route-map is there with its entries.
func TestFRRLoadsPolicies(t *testing.T) {
	vtysh := peer.Require(t, "vtysh")
	docs, _ := exampleDocs(t, noOriginBinding)
	var all strings.Builder
	for name, ds := range docs {
		out, err := RenderPolicy("frr", ds, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if os.Getenv("BGPFILTER_SHOW") != "" {
			t.Logf("%s:\n%s", name, out.Text)
		}
		path := filepath.Join(t.TempDir(), "frr.conf")
		os.WriteFile(path, out.Text, 0o644)
		if b, err := exec.Command(vtysh, "-C", "-f", path).CombinedOutput(); err != nil {
			t.Errorf("vtysh -C %s: %v\n%s", name, err, b)
		}
		all.Write(out.Text)
	}
	_ = all
}

// TestPolicyGoldens: the Junos and IOS-XR session policies of the example customers
// are golden files a reviewer reads (testdata/golden/policy_*); no Junos or IOS-XR
// parser checks them, TestPolicyStructure checks their structure.
func TestPolicyGoldens(t *testing.T) {
	docs, _ := exampleDocs(t, noOriginBinding)
	for _, v := range PolicyVendors {
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
