package routeserver

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// buildExample builds the route server of a config file on its own IRR and RPKI data.
func buildExample(t *testing.T, path string, edit func(*config.File)) *Config {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	ix, _, err := irr.Load(ctx, cfg.IRR, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := Inputs{Policy: policy.Inputs{Querier: ix, Resolver: &irr.Resolver{Q: ix, Sources: cfg.Sources}}}
	if cfg.RPKI != "" {
		tb, err := rpki.LoadFile(ctx, cfg.RPKI, rpki.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in.RPKI, in.Policy.Validator, in.Policy.ROAs = tb, tb, tb
	}
	c, err := Build(ctx, cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// birdParse writes conf and has the real bird parse it (bird -p -c).
func birdParse(t *testing.T, conf []byte) {
	t.Helper()
	bird := peer.Require(t, "bird")
	path := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bird, "-p", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("bird -p: %v\n%s\n--- config:\n%s", err, out, conf)
	}
}

func TestExampleParsesInBIRD(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.File)
	}{
		{"tag", nil},
		{"reject", func(c *config.File) { c.RS.RejectPolicy = config.RejectPolicyReject }},
		{"blackhole-rtr-multihop", func(c *config.File) {
			c.RS.BlackholeNextHop4, c.RS.BlackholeNextHop6 = netip.MustParseAddr("192.0.2.66"), netip.MustParseAddr("2001:db8::66")
			c.RTRCache, c.RS.ROV = netip.MustParseAddrPort("127.0.0.1:8282"), config.ROVRTR
			c.RS.Session = config.RSSession{LocalAddress4: netip.MustParseAddr("192.0.2.250"), LocalAddress6: netip.MustParseAddr("2001:db8::250"), Port: 1179, Multihop: 2}
		}},
		{"32bit-rs-same-as-never-via", func(c *config.File) {
			c.RS.ASN, c.RS.NextHop, c.RS.ROV = 4200000001, config.NextHopSameAS, config.ROVOff
			c.RS.NeverViaRS = []routing.ASN{64501, 64496}
		}},
		{"next-hop-off-rules-off", func(c *config.File) {
			c.RS.NextHop = config.NextHopOff
			for i := range c.Members {
				for r := range c.Members[i].Knobs.Rules {
					c.Members[i].Knobs.Rules[r] = false
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := buildExample(t, "../examples/route-server.yml", tc.edit)
			out, err := render.RouteServer("bird", render.Options{}, c)
			if err != nil {
				t.Fatal(err)
			}
			birdParse(t, out)
		})
	}
}

// TestASPARenderedForBIRD216: ASPA verification is rendered only for BIRD >= 2.16 (the
// installed 2.0.12 cannot parse it, so the text is checked here and by nothing else;
// the README says so), and skipped with a warning otherwise.
func TestASPARenderedForBIRD216(t *testing.T) {
	old := buildExample(t, "../examples/route-server.yml", func(c *config.File) { c.RS.ASPA = true })
	if old.ASPA || !strings.Contains(strings.Join(old.Warnings, "\n"), "ASPA verification skipped") {
		t.Errorf("BIRD 2.0.12: ASPA %v, warnings %q", old.ASPA, old.Warnings)
	}
	b, err := render.RouteServer("bird", render.Options{}, old)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "aspa_check") {
		t.Error("aspa_check rendered for BIRD 2.0.12")
	}
	birdParse(t, b)
	c := buildExample(t, "../examples/route-server.yml", func(c *config.File) { c.RS.ASPA, c.RS.BIRDVersion = true, "2.16" })
	if !c.ASPA || len(c.ASPAs) == 0 {
		t.Fatalf("ASPA %v, %d ASPAs", c.ASPA, len(c.ASPAs))
	}
	b, err = render.RouteServer("bird", render.Options{}, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aspa table RS_ASPA;", "route aspa ", "if aspa_check(RS_ASPA, bgp_path, true) = ASPA_INVALID then"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("BIRD 2.16 config lacks %q", want)
		}
	}
}

// TestFRRConfigLoads renders frr.conf for each variant and loads it into a real FRR
// bgpd (8.4; with the rpki module for rs.rov rtr): vtysh -C -f must accept every line
// (bgpd itself skips unknown lines silently) and the members' route-maps must be in the
// running daemon.
func TestFRRConfigLoads(t *testing.T) {
	bgpd := peer.FRRBgpd(t)
	vtysh := peer.Require(t, "vtysh")
	for _, tc := range []struct {
		name string
		edit func(*config.File)
	}{
		{"tag", nil},
		{"reject-blackhole-rtr", func(c *config.File) {
			c.RS.RejectPolicy = config.RejectPolicyReject
			c.RS.BlackholeNextHop4, c.RS.BlackholeNextHop6 = netip.MustParseAddr("192.0.2.66"), netip.MustParseAddr("2001:db8::66")
			c.RTRCache, c.RS.ROV = netip.MustParseAddrPort("127.0.0.1:8282"), config.ROVRTR
			c.RS.Session = config.RSSession{LocalAddress4: netip.MustParseAddr("127.0.0.1"), Multihop: 2, Passive: true}
			c.RS.NeverViaRS = []routing.ASN{64502}
		}},
		{"32bit-rs", func(c *config.File) { c.RS.ASN = 4200000001 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := buildExample(t, "../examples/route-server.yml", tc.edit)
			conf, err := render.RouteServer("frr", render.Options{}, c)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			log := filepath.Join(dir, "bgpd.log")
			path := filepath.Join(dir, "frr.conf")
			os.WriteFile(path, append([]byte("log file "+log+" informational\n"), conf...), 0o644)
			args := []string{"-S", "-Z", "-f", path, "-i", filepath.Join(dir, "bgpd.pid"), "--vty_socket", dir,
				"-A", "127.0.0.1", "-P", "0", "-p", strconv.Itoa(peer.FreePort(t)), "-l", "127.0.0.1"}
			if c.ROV == config.ROVRTR {
				args = append(args, "-M", "rpki")
			}
			d := peer.Start(t, bgpd, args...)
			vty := func(cmd string) string {
				out, _ := exec.Command(vtysh, "--vty_socket", dir, "-d", "bgpd", "-c", cmd).CombinedOutput()
				return string(out)
			}
			peer.Eventually(t, "bgpd up", 20*time.Second, func() bool { return strings.Contains(vty("show version"), "FRRouting") }, d)
			for _, m := range c.Members {
				for _, f := range []*Family{m.V4, m.V6} {
					for _, rm := range []string{f.Import.Name, f.Export} {
						if out := vty("show route-map " + rm); !strings.Contains(out, "sequence 200") && !strings.Contains(out, "sequence 100") {
							t.Errorf("route-map %s not loaded:\n%s", rm, out)
						}
					}
				}
			}
			// bgpd -f skips an unknown line silently; vtysh -C -f refuses it (rc 2).
			if out, err := exec.Command(vtysh, "-C", "-f", path).CombinedOutput(); err != nil {
				t.Errorf("vtysh -C -f: %v\n%s", err, out)
			}
		})
	}
}
