package peer

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// confTemplates are the configurations of the daemons the tests start (vendor text
// stays out of Go code, as everywhere in the repository).
//
//go:embed conf/*.tmpl
var confFS embed.FS

var confTemplates = template.Must(template.ParseFS(confFS, "conf/*.tmpl"))

// Eventually polls ok every 100 ms until it holds. It fails the test when timeout
// passes or as soon as one of daemons has exited, with each daemon's output and log
// file in the message.
func Eventually(t testing.TB, what string, timeout time.Duration, ok func() bool, daemons ...*Daemon) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		exited := slices.ContainsFunc(daemons, (*Daemon).Exited)
		if exited || time.Now().After(deadline) {
			var diag strings.Builder
			for _, d := range daemons {
				fmt.Fprintf(&diag, "\n%s (exited %v): %s", filepath.Base(d.Name), d.Exited(), d.Output())
				if d.LogFile != "" {
					log, _ := os.ReadFile(d.LogFile)
					fmt.Fprintf(&diag, "\n%s:\n%s", d.LogFile, log)
				}
			}
			t.Fatalf("timeout waiting for %s%s", what, diag.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// requireLoopback fails the test unless every address is on 127.0.0.0/8 or ::1:
// the daemons the tests start must not reach or be reached from the network.
func requireLoopback(t testing.TB, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err != nil || !ip.IsLoopback() {
			t.Fatalf("peer: %q is not a loopback address", a)
		}
	}
}

// GoBGPConfig is the loopback BGP speaker StartGoBGP configures: gobgpd listens on
// Local:Port and waits (passive) for the single neighbour Neighbor (AS NeighborAS).
type GoBGPConfig struct {
	AS         uint32
	RouterID   string
	Local      string // 127.0.0.0/8 address gobgpd binds to
	Port       int    // BGP port (from FreePort)
	Neighbor   string // the router under test, on 127.0.0.0/8
	NeighborAS uint32
	// NextHop, when set, adds an export policy that sets this next hop on every route.
	NextHop string
	// More are further neighbours (on 127.0.0.0/8) configured like Neighbor, so one
	// gobgpd can feed the same routes to several routers under test.
	More []GoBGPNeighbor
}

// GoBGPNeighbor is one more passive neighbour of a GoBGPConfig.
type GoBGPNeighbor struct {
	Address string
	AS      uint32
}

// GoBGP is a gobgpd a test started, with its gRPC API port for the gobgp CLI.
type GoBGP struct {
	*Daemon
	CLI string // path of the gobgp CLI
	API int    // gRPC API port on 127.0.0.1
}

// StartGoBGP writes c as dir/gobgpd.toml, starts gobgpd on it (stopped by PID at
// cleanup) and waits until its API answers. It requires gobgpd and gobgp (see Require).
func StartGoBGP(t testing.TB, dir string, c GoBGPConfig) *GoBGP {
	t.Helper()
	gobgpd := Require(t, "gobgpd")
	cli := Require(t, "gobgp")
	requireLoopback(t, c.Local, c.Neighbor)
	for _, n := range c.More {
		requireLoopback(t, n.Address)
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `[global.config]
  as = %d
  router-id = %q
  port = %d
  local-address-list = [%q]
`, c.AS, c.RouterID, c.Port, c.Local)
	if c.NextHop != "" {
		fmt.Fprintf(&conf, `[global.apply-policy.config]
  export-policy-list = ["nh"]
  default-export-policy = "accept-route"
[[policy-definitions]]
  name = "nh"
  [[policy-definitions.statements]]
    name = "s1"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
      [policy-definitions.statements.actions.bgp-actions]
        set-next-hop = %q
`, c.NextHop)
	}
	for _, n := range append([]GoBGPNeighbor{{Address: c.Neighbor, AS: c.NeighborAS}}, c.More...) {
		fmt.Fprintf(&conf, `[[neighbors]]
  [neighbors.config]
    neighbor-address = %q
    peer-as = %d
  [neighbors.transport.config]
    local-address = %q
    passive-mode = true
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
`, n.Address, n.AS, c.Local)
	}
	path := filepath.Join(dir, "gobgpd.toml")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatalf("peer: %v", err)
	}
	api := FreePort(t)
	g := &GoBGP{CLI: cli, API: api, Daemon: Start(t, gobgpd, "-f", path,
		"--api-hosts", "127.0.0.1:"+strconv.Itoa(api), "--pprof-disable", "-p", "-l", "info")}
	Eventually(t, "gobgpd API", 30*time.Second, func() bool { return g.run("global") == nil }, g.Daemon)
	return g
}

func (g *GoBGP) run(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, g.CLI, append([]string{"-p", strconv.Itoa(g.API)}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("gobgp %q: %w %s", args, err, out)
	}
	return nil
}

// AddRoute injects an IPv4 route with origin IGP and the given next hop into
// gobgpd's global RIB; aspath ("64501,64503") is the path after gobgpd's own AS,
// none when empty.
func (g *GoBGP) AddRoute(prefix, aspath, nexthop string) error {
	args := []string{"global", "rib", "-a", "ipv4", "add", prefix}
	if aspath != "" {
		args = append(args, "aspath", aspath)
	}
	return g.run(append(args, "origin", "igp", "nexthop", nexthop)...)
}

// FRRConfig is the bgpd StartFRR configures: listening on Listen, holding Policy, and
// with Neighbor set a router block for AS with that one eBGP neighbour (IPv4 unicast,
// soft-reconfiguration inbound) on NeighborPort.
type FRRConfig struct {
	AS           uint32
	Listen       string // 127.0.0.0/8 address bgpd binds to and sends from
	Policy       string // configuration before the router block (filters, route-maps)
	Neighbor     string
	NeighborAS   uint32
	NeighborPort int
	// InFilter is the neighbour's inbound filter statement, e.g. "route-map CUST-IN in".
	InFilter string
	// Modules are bgpd modules to load ("rpki" for match rpki; Debian's
	// frr-rpki-rtrlib).
	Modules []string
}

// FRR is an FRR bgpd a test started, with vtysh bound to its socket directory.
type FRR struct {
	*Daemon
	Dir   string // vty socket and configuration directory
	Conf  string // the configuration file bgpd runs
	Port  int    // BGP port bgpd listens on
	vtysh string
}

// StartFRR writes c as dir/frr.conf and starts bgpd on it (its BGP port from
// FreePort, vty socket in dir, log in dir/bgpd.log), stopped by PID at cleanup. It
// requires bgpd (also looked for in /usr/lib/frr) and vtysh.
func StartFRR(t testing.TB, dir string, c FRRConfig) *FRR {
	t.Helper()
	return (*NetNS)(nil).StartFRR(t, dir, c)
}

// StartFRR is the package-level StartFRR inside the namespace (n == nil: the
// caller's, where Listen and Neighbor must be loopback addresses). In a namespace an
// empty Listen makes bgpd listen on every address of it.
func (n *NetNS) StartFRR(t testing.TB, dir string, c FRRConfig) *FRR {
	t.Helper()
	bgpd := FRRBgpd(t)
	vtysh := Require(t, "vtysh")
	if n == nil {
		requireLoopback(t, c.Listen)
		if c.Neighbor != "" {
			requireLoopback(t, c.Neighbor)
		}
	}
	log := filepath.Join(dir, "bgpd.log")
	var b strings.Builder
	if err := confTemplates.ExecuteTemplate(&b, "frr.conf.tmpl", struct {
		Log string
		C   FRRConfig
	}{log, c}); err != nil {
		t.Fatalf("peer: frr.conf: %v", err)
	}
	conf := b.String()
	path := filepath.Join(dir, "frr.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatalf("peer: %v", err)
	}
	port := FreePort(t)
	args := []string{"-S", "-Z", "-f", path, "-i", filepath.Join(dir, "bgpd.pid"),
		"--vty_socket", dir, "-A", "127.0.0.1", "-P", "0", "-p", strconv.Itoa(port)}
	if c.Listen != "" {
		args = append(args, "-l", c.Listen)
	}
	for _, m := range c.Modules {
		args = append(args, "-M", m)
	}
	f := &FRR{Dir: dir, Conf: path, Port: port, vtysh: vtysh, Daemon: n.Start(t, bgpd, args...)}
	f.LogFile = log
	return f
}

// Vty runs one vtysh command against the bgpd (10 s at most) and returns its
// output; the error reports a vtysh that failed (e.g. the daemon is not up yet).
func (f *FRR) Vty(cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, f.vtysh, "--vty_socket", f.Dir, "-d", "bgpd", "-c", cmd).Output()
	if err != nil {
		return string(out), fmt.Errorf("peer: vtysh -c %q: %w", cmd, err)
	}
	return string(out), nil
}

// Up reports whether bgpd answers on its vty socket.
func (f *FRR) Up() bool {
	_, err := f.Vty("show version")
	return err == nil
}

// CheckConf has vtysh dry-run the configuration file (vtysh -C -f).
func (f *FRR) CheckConf() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, f.vtysh, "-C", "-f", f.Conf).CombinedOutput(); err != nil {
		return fmt.Errorf("peer: vtysh -C: %w %s", err, out)
	}
	return nil
}

// Apply loads configuration lines into the running bgpd (vtysh -f).
func (f *FRR) Apply(conf string) error {
	path := filepath.Join(f.Dir, "apply.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, f.vtysh, "--vty_socket", f.Dir, "-d", "bgpd", "-f", path).CombinedOutput(); err != nil {
		return fmt.Errorf("peer: vtysh -f: %w %s", err, out)
	}
	return nil
}

// Established reports whether the session with neighbor is Established.
func (f *FRR) Established(neighbor string) bool {
	out, _ := f.Vty("show bgp neighbors " + neighbor + " json")
	return strings.Contains(out, `"bgpState":"Established"`)
}

// NeighborPrefixes returns the sorted IPv4 prefixes of "show bgp ipv4 unicast
// neighbors NEIGHBOR WHICH json", where which is "routes" (accepted) or
// "received-routes" (Adj-RIB-In); nil when the answer is not there yet.
func (f *FRR) NeighborPrefixes(neighbor, which string) []string {
	return f.FamilyPrefixes("ipv4", neighbor, which)
}

// FamilyPrefixes is NeighborPrefixes for the address family afi ("ipv4" or "ipv6").
func (f *FRR) FamilyPrefixes(afi, neighbor, which string) []string {
	out, err := f.Vty("show bgp " + afi + " unicast neighbors " + neighbor + " " + which + " json")
	var doc map[string]json.RawMessage
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil {
		return nil
	}
	var m map[string]json.RawMessage
	for _, k := range []string{"routes", "receivedRoutes"} {
		if raw, ok := doc[k]; ok {
			json.Unmarshal(raw, &m)
		}
	}
	var ps []string
	for p := range m {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// BIRD is a BIRD 2 daemon a test started, with birdc bound to its control socket.
type BIRD struct {
	*Daemon
	Socket string
	birdc  string
}

// StartBIRD writes conf as dir/bird.conf and starts bird in the foreground on it
// (control socket dir/bird.ctl), stopped by PID at cleanup. conf should log to
// dir/bird.log, which Eventually shows on failure. It requires bird and birdc.
func StartBIRD(t testing.TB, dir, conf string) *BIRD {
	t.Helper()
	return (*NetNS)(nil).StartBIRD(t, dir, conf)
}

// StartBIRD is the package-level StartBIRD inside the namespace (n == nil: the
// caller's); birdc reaches it through the control socket in dir.
func (n *NetNS) StartBIRD(t testing.TB, dir, conf string) *BIRD {
	t.Helper()
	bird := Require(t, "bird")
	birdc := Require(t, "birdc")
	path := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatalf("peer: %v", err)
	}
	sock := filepath.Join(dir, "bird.ctl")
	b := &BIRD{Socket: sock, birdc: birdc, Daemon: n.Start(t, bird, "-f", "-c", path, "-s", sock, "-P", filepath.Join(dir, "bird.pid"))}
	b.LogFile = filepath.Join(dir, "bird.log")
	return b
}

// Birdc runs one birdc command (10 s at most) and returns its combined output; the
// error reports a birdc that failed (e.g. bird is not up yet).
func (b *BIRD) Birdc(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.birdc, append([]string{"-s", b.Socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("peer: birdc %q: %w", args, err)
	}
	return string(out), nil
}

// Up reports whether bird answers on its control socket.
func (b *BIRD) Up() bool {
	_, err := b.Birdc("show status")
	return err == nil
}

// StartStayRTR starts stayrtr serving the VRP/ASPA JSON file (re-read every second)
// on a free 127.0.0.1 port, stopped by PID at cleanup, waits until it accepts
// connections and returns its RTR address. extra are more stayrtr flags. It requires
// stayrtr.
func StartStayRTR(t testing.TB, file string, extra ...string) string {
	t.Helper()
	bin := Require(t, "stayrtr")
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	args := append([]string{"-bind", addr, "-metrics.addr", "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		"-cache", file, "-checktime=false", "-refresh", "1", "-loglevel", "info"}, extra...)
	d := Start(t, bin, args...)
	if err := WaitTCP(context.Background(), addr, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, d.Output())
	}
	return addr
}
