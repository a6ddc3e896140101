package bgpq4

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// TestDefaultRouteAgainstBGPQ4: the default routes (0.0.0.0/0, ::/0) next to
// ordinary prefixes, in every prefix format, must print as the installed bgpq4
// prints them from the same data served by whoisd. The Cisco extended ACL (-E) is
// the case that differed: bgpq4 shifts a 32-bit mask by 32 for /0, which x86 does
// modulo 32, so it prints "host 0.0.0.0 host 255.255.255.255" (bgpq4 1.16's
// bgpq4_print_ceacl has the same code as 1.9's).
func TestDefaultRouteAgainstBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	db := filepath.Join(t.TempDir(), "default.db")
	if err := os.WriteFile(db, []byte(`route: 0.0.0.0/0
origin: AS64496
source: TEST

route: 192.0.2.0/24
origin: AS64496
source: TEST

route: 192.0.2.0/25
origin: AS64496
source: TEST

route6: ::/0
origin: AS64496
source: TEST

route6: 2001:db8::/32
origin: AS64496
source: TEST

as-set: AS-DEFAULT
members: AS64496
source: TEST
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := irr.Load(context.Background(), []string{db}, irr.LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := whoistest.Serve(t, ix, whoisd.Options{})
	for _, args := range [][]string{
		{"-E", "AS-DEFAULT"}, {"-E", "-A", "AS-DEFAULT"}, {"-E", "-R", "8", "AS-DEFAULT"}, {"-E", "-r", "0", "-R", "24", "AS-DEFAULT"},
		{"AS-DEFAULT"}, {"-A", "AS-DEFAULT"}, {"-R", "1", "AS-DEFAULT"}, {"-6", "AS-DEFAULT"},
		{"-J", "AS-DEFAULT"}, {"-J", "-E", "AS-DEFAULT"}, {"-Jz", "-A", "AS-DEFAULT"}, {"-X", "AS-DEFAULT"},
		{"-b", "AS-DEFAULT"}, {"-B", "AS-DEFAULT"}, {"-B", "-E", "AS-DEFAULT"}, {"-e", "AS-DEFAULT"},
		{"-F", "%n/%l\n", "AS-DEFAULT"}, {"-j", "AS-DEFAULT"}, {"-N", "AS-DEFAULT"}, {"-n", "AS-DEFAULT"},
		{"-K", "AS-DEFAULT"}, {"-U", "AS-DEFAULT"}, {"-u", "AS-DEFAULT"}, {"-6", "-J", "-E", "AS-DEFAULT"},
	} {
		compareWithBGPQ4(t, bin, addr, ix, args, nil)
	}
}
