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
	"github.com/bgpfilter/bgpfilter/pipeline"
)

func runRS(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"bgpfilter", "--quiet", "route-server"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestRouteServerCommand: the example builds, bird -p accepts it (--check), a second
// run changes nothing, and every guard keeps the installed files: a config bird
// refuses (exit 4), a shrink beyond the guard (exit 4), a bad config (exit 1).
func TestRouteServerCommand(t *testing.T) {
	peer.Require(t, "bird")
	conf := filepath.Join(peer.RepoRoot(t), "examples", "route-server.yml")
	out := t.TempDir()
	code, stdout, stderr := runRS(t, "--config", conf, "--out", out, "--check")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "bird.conf: written") {
		t.Errorf("stdout %q", stdout)
	}
	first, err := os.ReadFile(filepath.Join(out, "bird.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.RouteServerSummary
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Status != "ok" || !sum.Checked || sum.Members != 2 || sum.Sessions4 != 2 || sum.Sessions6 != 1 || sum.Entries4 == 0 {
		t.Fatalf("summary %s (%v)", b, err)
	}
	if code, stdout, _ = runRS(t, "--config", conf, "--out", out); code != ExitOK || !strings.Contains(stdout, "bird.conf: unchanged") {
		t.Errorf("second run: exit %d, %q", code, stdout)
	}

	// A template that bird refuses: --check keeps the installed config.
	tdir := t.TempDir()
	os.MkdirAll(filepath.Join(tdir, "bird"), 0o755)
	os.WriteFile(filepath.Join(tdir, "bird", "rs.tmpl"), []byte("router id {{ .RouterID }};\nprotocol bgp broken {\n"), 0o644)
	code, _, stderr = runRS(t, "--config", conf, "--out", out, "--check", "--template-dir", tdir)
	if code != ExitGuard || !strings.Contains(stderr, "bird -p refused") {
		t.Errorf("broken template: exit %d, %s", code, stderr)
	}
	if now, _ := os.ReadFile(filepath.Join(out, "bird.conf")); !bytes.Equal(now, first) {
		t.Error("bird.conf replaced although bird refused the new one")
	}
	b, _ = os.ReadFile(filepath.Join(out, "summary.json"))
	if !strings.Contains(string(b), `"status": "error"`) || !strings.Contains(string(b), `"exit_code": 4`) {
		t.Errorf("summary after a refused check: %s", b)
	}

	// Shrink guard: the previous run had many more entries.
	os.WriteFile(filepath.Join(out, "summary.json"), []byte(`{"status":"ok","prefix_entries_ipv4":1000,"prefix_entries_ipv6":6}`), 0o644)
	code, _, stderr = runRS(t, "--config", conf, "--out", out)
	if code != ExitGuard || !strings.Contains(stderr, "shrank from 1000") {
		t.Errorf("shrink: exit %d, %s", code, stderr)
	}
	if code, _, stderr = runRS(t, "--config", conf, "--out", out, "--shrink-guard", "1"); code != ExitOK {
		t.Errorf("--shrink-guard 1: exit %d, %s", code, stderr)
	}

	// Bad config: usage error, nothing written.
	bad := filepath.Join(t.TempDir(), "rs.yml")
	os.WriteFile(bad, []byte("rs: {asn: 64511, router_id: 192.0.2.250, next_hop: peer}\n"), 0o644)
	empty := t.TempDir()
	if code, _, stderr = runRS(t, "--config", bad, "--out", empty); code != ExitUsage || !strings.Contains(stderr, "unknown next-hop policy") {
		t.Errorf("bad config: exit %d, %s", code, stderr)
	}
	if fs, _ := os.ReadDir(empty); len(fs) != 1 { // summary.json only
		t.Errorf("bad config wrote %v", fs)
	}
}

// TestRouteServerIXF builds from an IX-F export (members with no config entry) and a
// PeeringDB page: members named AS<asn>, max-prefix from the export.
func TestRouteServerIXF(t *testing.T) {
	peer.Require(t, "bird")
	dir := t.TempDir()
	root := peer.RepoRoot(t)
	conf := filepath.Join(dir, "rs.yml")
	os.WriteFile(conf, []byte(`irr: [`+filepath.Join(root, "examples", "irr")+`]
rs: {asn: 64511, router_id: 192.0.2.250}
defaults:
  bogons: {except_asns: [64496-64511, 65536-65551], except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]}
`), 0o644)
	ixf := filepath.Join(dir, "ixf.json")
	os.WriteFile(ixf, []byte(`{"version":"0.6","member_list":[
 {"asnum":64497,"connection_list":[{"ixp_id":0,"vlan_list":[{"vlan_id":0,"ipv4":{"as_macro":"AS64497","max_prefix":12,"address":"192.0.2.12"}}]}]},
 {"asnum":65536,"connection_list":[{"ixp_id":0,"vlan_list":[{"vlan_id":0,"ipv6":{"max_prefix":3,"address":"2001:db8::36"}}]}]}]}`), 0o644)
	pdb := filepath.Join(dir, "net.json")
	os.WriteFile(pdb, []byte(`{"data":[{"asn":65536,"irr_as_set":"AS64496:AS-CUSTOMERS","info_prefixes4":0,"info_prefixes6":9},{"asn":64500,"info_never_via_route_servers":true}]}`), 0o644)
	out := filepath.Join(dir, "out")
	code, _, stderr := runRS(t, "--config", conf, "--out", out, "--ixf", ixf, "--peeringdb", pdb, "--check")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out, "bird.conf"))
	for _, want := range []string{"protocol bgp AS64497_4_1", "neighbor 192.0.2.12 as 64497;", "import limit 12 action disable;",
		"protocol bgp AS65536_6_1", "import limit 3 action disable;", "AS-SET AS64496:AS-CUSTOMERS (from peeringdb)",
		"define AS64497_NEVER_VIA = [ 64500 ];"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("bird.conf lacks %q", want)
		}
	}
}
