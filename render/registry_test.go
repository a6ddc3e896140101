package render

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// registryCases build filters from the example registry (examples/irr/example.db)
// through the resolver and policy, as the prefix-list and as-path commands do.
var registryCases = []struct {
	name    string
	objects []string
	opt     policy.Options
	aspath  bool
	peerAS  routing.ASN
}{
	{name: "example-v4", objects: []string{"AS-EXAMPLE"}, opt: policy.Options{Family: 4}},
	{name: "example-v4-agg", objects: []string{"AS-EXAMPLE", "RS-EXAMPLE"}, opt: policy.Options{Family: 4, Aggregate: true, MoreSpecifics: 24}},
	{name: "example-v6", objects: []string{"AS-EXAMPLE"}, opt: policy.Options{Family: 6}},
	{name: "example-v6-agg", objects: []string{"AS-EXAMPLE"}, opt: policy.Options{Family: 6, Aggregate: true, MoreSpecifics: 48}},
	{name: "example-aspath", objects: []string{"AS-EXAMPLE"}, aspath: true, peerAS: 64496},
}

func TestRegistryGolden(t *testing.T) {
	root := peer.RepoRoot(t)
	ix, _, err := irr.Load(context.Background(), []string{filepath.Join(root, "examples/irr/example.db")}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := &irr.Resolver{Q: ix}
	for _, format := range Formats() {
		r, err := New(format, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range registryCases {
			if tc.aspath && strings.HasPrefix(format, "junos-") {
				continue
			}
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				var out []byte
				if tc.aspath {
					f, err := policy.BuildASPathFilter(context.Background(), res, tc.objects, policy.ASPathOptions{Name: goldenName(format), PeerAS: tc.peerAS})
					if err != nil {
						t.Fatal(err)
					}
					out, err = r.ASPath(f)
					if err != nil {
						t.Fatal(err)
					}
				} else {
					opt := tc.opt
					opt.Name = goldenName(format)
					f, err := policy.BuildPrefixFilter(context.Background(), ix, res, tc.objects, opt)
					if err != nil {
						t.Fatal(err)
					}
					out, err = r.PrefixList(f)
					if format == "junos" && strings.HasSuffix(tc.name, "-agg") {
						if err == nil {
							t.Fatal("junos prefix-list accepted ranges")
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				checkGolden(t, format+"_"+tc.name+".golden", out)
			})
		}
	}
}

// TestFRRSyntaxGoldens: every FRR golden file passes vtysh -C (FRR's own parser).
// The semantic check (entries read back from a running bgpd) is TestFRRLoadsOutput.
func TestFRRSyntaxGoldens(t *testing.T) {
	vtysh := peer.Require(t, "vtysh")
	files, _ := filepath.Glob("testdata/golden/frr_*.golden")
	if len(files) < 12 {
		t.Fatalf("only %d frr golden files", len(files))
	}
	for _, f := range files {
		if out, err := exec.Command(vtysh, "-C", "-f", f).CombinedOutput(); err != nil {
			t.Errorf("vtysh -C %s: %v\n%s", f, err, out)
		}
	}
}

// TestJSONGoldensParse: every JSON output is valid JSON with the documented keys.
func TestJSONGoldensParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/json_*.golden")
	if len(files) < 9 {
		t.Fatalf("only %d json golden files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		key := "entries"
		if strings.Contains(f, "aspath") {
			key = "origins"
		}
		if _, ok := doc[key].([]any); !ok || doc["name"] == nil {
			t.Errorf("%s: no %q list or name", f, key)
		}
	}
}
