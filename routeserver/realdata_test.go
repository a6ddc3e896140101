package routeserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// TestRealIXPBuilds builds the route servers of BCIX and GR-IX from their real IX-F
// member exports with the RIPE IRR data and the 723k-VRP set (static ROA table), and
// has bird -p parse each result. Every member and address of the export must be in the
// config; AS-SETs the RIPE data lacks fall back to the member's ASN with a warning.
func TestRealIXPBuilds(t *testing.T) {
	if testing.Short() {
		peer.Missing(t, "real-data route-server build skipped with -short")
	}
	ctx := context.Background()
	irrFiles := []string{peer.SharedData(t, "irr/ripe.db.as-set.gz"), peer.SharedData(t, "irr/ripe-nonauth.db.route.gz"),
		peer.SharedData(t, "irr/ripe-nonauth.db.route6.gz"), peer.SharedData(t, "irr/ripe-nonauth.db.aut-num.gz")}
	ix, _, err := irr.Load(ctx, irrFiles, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := rpki.LoadFile(ctx, peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz"), rpki.Options{IgnoreExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	in := Inputs{RPKI: tb, Policy: policy.Inputs{Querier: ix, Resolver: &irr.Resolver{Q: ix}, Validator: tb, ROAs: tb}}
	for _, ixp := range []string{"bcix.json", "gr-ix.json"} {
		t.Run(ixp, func(t *testing.T) {
			ms, err := LoadIXF(peer.SharedData(t, "peeringdb/ixf-member-export/"+ixp))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "rs.yml")
			os.WriteFile(path, []byte("rs: {asn: 64511, router_id: 198.18.0.1}\n"), 0o644)
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			AddIXFMembers(cfg, ms)
			start := time.Now()
			c, err := Build(ctx, cfg, in)
			if err != nil {
				t.Fatal(err)
			}
			conf, err := render.RouteServer("bird", render.Options{}, c)
			if err != nil {
				t.Fatal(err)
			}
			built := time.Since(start)
			addrs, sessions := 0, 0
			for _, m := range ms {
				addrs += len(m.Addresses)
			}
			for _, m := range c.Members {
				sessions += len(m.V4.Sessions) + len(m.V6.Sessions)
			}
			if len(c.Members) != len(ms) || sessions != addrs {
				t.Errorf("%d members / %d sessions, the export has %d / %d", len(c.Members), sessions, len(ms), addrs)
			}
			if len(c.ROA4) < 500000 {
				t.Errorf("static ROA table of %d IPv4 VRPs", len(c.ROA4))
			}
			start = time.Now()
			birdParse(t, conf)
			t.Log(fmt.Sprintf("%s: %d members, %d sessions, %.1f MB config, built in %s, bird -p in %s",
				ixp, len(c.Members), sessions, float64(len(conf))/1e6, built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond)))
		})
	}
}
