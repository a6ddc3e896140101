package render

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// What the live session tests (live_policy_test.go, live_exabgp_test.go) share: the
// config they write as an operator would, and the router config around the rendered
// files.

// liveDefaults are both live configs' defaults, but for the IPv4 length limit (%d).
const liveDefaults = `defaults:
  prefix_length: {ipv4: [8, %d], ipv6: [16, 48]}
  max_as_path_length: 32
  rpki_policy: drop-invalid
  peerlock: default
  bogons:
    asns: true
    prefixes: true
    except_asns: [64496-64511, 65536-65551]
    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]
  max_prefix: {action: teardown}
customers:
`

// liveSessions writes the config head (local_as ... self) + the shared defaults with
// IPv4 lengths up to maxV4 + customers to DIR/bgpfilter.yml, loads it and builds
// every customer's documents, as generate does.
func liveSessions(t *testing.T, dir, head string, maxV4 int, customers string) (map[string]*policy.SessionDocuments, *rpki.Table) {
	t.Helper()
	y := head + fmt.Sprintf(liveDefaults, maxV4) + customers
	path := filepath.Join(dir, "bgpfilter.yml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return buildSessions(t, cfg)
}

// liveBIRDHead starts a BIRD config: log, router id, the device protocol and the
// shared export file (written to DIR/_export/bird.conf), included before the
// customers' policies as the README says.
func liveBIRDHead(t *testing.T, dir string, docs map[string]*policy.SessionDocuments) string {
	t.Helper()
	return fmt.Sprintf("log \"%s/bird.log\" all;\nrouter id 198.18.0.2;\nprotocol device {}\ninclude %q;\n", dir, liveExportFile(t, dir, "bird", docs))
}

// frrOneRPKI keeps the first rpki block of the customers' FRR files: the block is
// global in FRR and each customer's file carries it.
func frrOneRPKI(text string) string {
	i := strings.Index(text, "rpki\n rpki cache ")
	if i < 0 {
		return text
	}
	block := text[i : i+strings.Index(text[i:], "exit\n")+len("exit\n")]
	return text[:i+len(block)] + strings.ReplaceAll(text[i+len(block):], block, "")
}

// bgpdumpAnnouncements calls fn with the prefix and the AS path text of every
// announcement ("A" line with a valid prefix) of a `bgpdump -m` file under
// ../shared/data/mrt, in file order, until fn returns false: the leaked full-table
// routes of the live and read-back tests.
func bgpdumpAnnouncements(t *testing.T, rel string, fn func(p netip.Prefix, aspath string) bool) {
	t.Helper()
	for _, l := range peer.GunzipLines(t, peer.SharedData(t, rel)) {
		f := strings.Split(l, "|")
		if len(f) < 7 || f[2] != "A" {
			continue
		}
		p, err := netip.ParsePrefix(f[5])
		if err != nil {
			continue
		}
		if !fn(p, f[6]) {
			return
		}
	}
}

// plainPath parses an AS path of plain ASNs (one AS_SEQUENCE); false when a token
// is not a 32-bit ASN (an AS_SET, say).
func plainPath(s string) ([]routing.ASN, bool) {
	var path []routing.ASN
	for _, a := range strings.Fields(s) {
		v, err := strconv.ParseUint(a, 10, 32)
		if err != nil {
			return nil, false
		}
		path = append(path, routing.ASN(v))
	}
	return path, true
}
