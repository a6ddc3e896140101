package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/audit"
	"github.com/bgpfilter/bgpfilter/flow/pcap"
	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// liveFlow is one UDP flow of the test traffic: packets of size bytes (IP length).
type liveFlow struct {
	src, dst string
	sport    uint16
	packets  int
	size     int
	spoofed  bool
}

// liveCustomers: three customers, each with legitimate and spoofed sources (another
// customer's prefix, private space, a neighbour of its own prefix, IPv6), and charlie
// with a sav.extra_prefixes prefix.
var liveCustomers = []struct {
	name, asn, exporter string
	routes              []string
	extra               string
	flows               []liveFlow
}{
	{"alpha", "AS64496", "127.0.1.1", []string{"192.0.2.0/24", "2001:db8:a::/48"}, "", []liveFlow{
		{"192.0.2.10", "198.18.0.1", 4001, 5, 200, false},
		{"192.0.2.200", "198.18.0.2", 4002, 3, 1200, false},
		{"2001:db8:a::10", "2001:db8:ffff::1", 4003, 4, 300, false},
		{"198.51.100.7", "198.18.0.3", 4004, 7, 100, true}, // bravo's address
		{"10.1.2.3", "198.18.0.4", 4005, 2, 1500, true},
	}},
	{"bravo", "AS64497", "127.0.1.2", []string{"198.51.100.0/24"}, "", []liveFlow{
		{"198.51.100.20", "198.18.0.1", 5001, 6, 400, false},
		{"203.0.113.99", "198.18.0.2", 5002, 9, 64, true},
		{"2001:db8:dead::1", "2001:db8:ffff::1", 5003, 3, 200, true},
		{"198.51.101.1", "198.18.0.2", 5004, 1, 100, true},
	}},
	{"charlie", "AS64498", "127.0.1.3", []string{"203.0.113.0/25"}, "203.0.113.128/26", []liveFlow{
		{"203.0.113.5", "198.18.0.1", 6001, 2, 500, false},
		{"203.0.113.130", "198.18.0.1", 6002, 4, 250, false}, // sav.extra_prefixes
		{"203.0.113.200", "198.18.0.1", 6003, 5, 90, true},   // outside both
		{"100.64.1.1", "198.18.0.1", 6004, 8, 1000, true},
		{"100.64.1.2", "198.18.0.1", 6005, 1, 60, true},
	}},
}

// writeTrafficPcap writes Ethernet frames of the flows (valid IPv4 header checksums;
// UDP checksums 0, which softflowd does not check).
func writeTrafficPcap(t *testing.T, path string, flows []liveFlow) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0)
	n := 0
	for _, f := range flows {
		for i := 0; i < f.packets; i++ {
			src, dst := netip.MustParseAddr(f.src), netip.MustParseAddr(f.dst)
			eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
			var ip []byte
			udpLen := f.size - 20
			if src.Is6() {
				eth[12], eth[13] = 0x86, 0xdd
				udpLen = f.size - 40
				ip = make([]byte, 40)
				ip[0] = 0x60
				binary.BigEndian.PutUint16(ip[4:], uint16(udpLen))
				ip[6], ip[7] = 17, 64
				s, d := src.As16(), dst.As16()
				copy(ip[8:], s[:])
				copy(ip[24:], d[:])
			} else {
				ip = make([]byte, 20)
				ip[0] = 0x45
				binary.BigEndian.PutUint16(ip[2:], uint16(f.size))
				ip[8], ip[9] = 64, 17
				s, d := src.As4(), dst.As4()
				copy(ip[12:], s[:])
				copy(ip[16:], d[:])
				binary.BigEndian.PutUint16(ip[10:], pcap.Checksum(ip))
			}
			udp := make([]byte, udpLen)
			binary.BigEndian.PutUint16(udp[0:], f.sport)
			binary.BigEndian.PutUint16(udp[2:], 53)
			binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
			frame := append(append(eth, ip...), udp...)
			n++
			if err := w.WritePacket(t0.Add(time.Duration(n)*10*time.Millisecond), frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildBgpfilter builds the command into dir (the collector runs in a network
// namespace, so it runs as a program, not in-process).
func buildBgpfilter(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bgpfilter")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/bgpfilter")
	cmd.Dir = peer.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// netns creates a network namespace with lo up in which each exporter address is the
// source of the datagrams sent to it (a local route with that preferred source): the
// way to give three softflowd processes, which cannot bind a source address, three
// exporter addresses on one machine. Needs root and iproute2.
func netns(t *testing.T, exporters ...string) string {
	t.Helper()
	ipCmd := peer.Require(t, "ip")
	if os.Geteuid() != 0 {
		peer.Missing(t, "network namespaces need root")
	}
	name := fmt.Sprintf("bgpf-flow-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	run := func(args ...string) {
		if out, err := exec.Command(ipCmd, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("netns", "add", name)
	t.Cleanup(func() { exec.Command(ipCmd, "netns", "del", name).Run() })
	run("-n", name, "link", "set", "lo", "up")
	for _, e := range exporters {
		run("-n", name, "route", "add", "local", e+"/32", "dev", "lo", "src", e, "table", "local")
	}
	return name
}

// TestFlowAuditLiveSoftflowd: softflowd reads a pcap per customer and exports NetFlow v9
// and then IPFIX from that customer's exporter address to a running flow-audit; the
// report names exactly the spoofed flows, packets and bytes the test put in the pcaps.
func TestFlowAuditLiveSoftflowd(t *testing.T) {
	softflowd := peer.Require(t, "softflowd")
	softflowctl := peer.Require(t, "softflowctl")
	ipCmd := peer.Require(t, "ip")
	var exporters []string
	for _, c := range liveCustomers {
		exporters = append(exporters, c.exporter)
	}
	ns := netns(t, exporters...)
	dir := t.TempDir()
	bin := buildBgpfilter(t, dir)

	var rpsl, cfg strings.Builder
	cfg.WriteString("local_as: 64511\nirr: [registry.db]\ncustomers:\n")
	for _, c := range liveCustomers {
		for _, r := range c.routes {
			kind := "route"
			if strings.Contains(r, ":") {
				kind = "route6"
			}
			fmt.Fprintf(&rpsl, "%s: %s\norigin: %s\nsource: TEST\n\n", kind, r, c.asn)
		}
		fmt.Fprintf(&cfg, "  - name: %s\n    asn: %s\n    interfaces: [{device: edge-%s, name: xe-0/0/1, exporter: %s}]\n",
			c.name, strings.TrimPrefix(c.asn, "AS"), c.name, c.exporter)
		if c.extra != "" {
			fmt.Fprintf(&cfg, "    sav: {mode: acl, extra_prefixes: [%s]}\n", c.extra)
		}
		writeTrafficPcap(t, filepath.Join(dir, c.name+".pcap"), c.flows)
	}
	os.WriteFile(filepath.Join(dir, "registry.db"), []byte(rpsl.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "flow.yml"), []byte(cfg.String()), 0o644)
	reports := filepath.Join(dir, "reports")
	os.Mkdir(reports, 0o755)

	port := 23000 + os.Getpid()%20000
	args := []string{"netns", "exec", ns, bin, "flow-audit", "--config", filepath.Join(dir, "flow.yml"),
		"--report", reports, "--interval", "1h"}
	for _, e := range exporters {
		args = append(args, "--listen", e+":"+strconv.Itoa(port))
	}
	col := peer.Start(t, ipCmd, args...)
	peer.Eventually(t, "flow-audit listening", 20*time.Second, func() bool {
		return strings.Count(col.Output(), "listening on udp") == len(exporters)
	}, col)

	for _, c := range liveCustomers {
		for _, v := range []string{"9", "10"} {
			ctl := filepath.Join(dir, c.name+v+".ctl")
			sf := exec.Command(ipCmd, "netns", "exec", ns, softflowd, "-a", "-d", "-r", filepath.Join(dir, c.name+".pcap"),
				"-n", c.exporter+":"+strconv.Itoa(port), "-v", v, "-p", filepath.Join(dir, c.name+v+".pid"), "-c", ctl)
			var out bytes.Buffer
			sf.Stdout, sf.Stderr = &out, &out
			sf.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := sf.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- sf.Wait() }()
			// softflowd 1.1.0 -r waits on its control socket once per loop: poke it
			// until it has read the file, flushed its flows and exited
			deadline := time.After(20 * time.Second)
		poke:
			for {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("softflowd %s v%s: %v\n%s", c.name, v, err, out.String())
					}
					break poke
				case <-deadline:
					syscall.Kill(-sf.Process.Pid, syscall.SIGKILL)
					t.Fatalf("softflowd %s v%s did not finish\n%s", c.name, v, out.String())
				case <-time.After(50 * time.Millisecond):
					exec.Command(softflowctl, "-c", ctl, "statistics").Run()
				}
			}
		}
	}
	time.Sleep(500 * time.Millisecond) // loopback datagrams are in the socket by now
	col.Stop()                         // SIGTERM: the final report is written
	b, err := os.ReadFile(filepath.Join(reports, "latest.json"))
	if err != nil {
		t.Fatalf("no report: %v\n%s", err, col.Output())
	}
	var rep audit.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]audit.CustomerReport{}
	for _, cr := range rep.Customers {
		got[cr.Name] = cr
	}
	for _, c := range liveCustomers {
		var want audit.Counters
		offenders := map[string]bool{}
		for _, f := range c.flows {
			// exported twice: NetFlow v9 and IPFIX
			want.Flows += 2
			want.Packets += uint64(2 * f.packets)
			want.Bytes += uint64(2 * f.packets * f.size)
			if f.spoofed {
				want.SpoofedFlows += 2
				want.SpoofedPackets += uint64(2 * f.packets)
				want.SpoofedBytes += uint64(2 * f.packets * f.size)
				bits := 24
				if strings.Contains(f.src, ":") {
					bits = 48
				}
				p, _ := netip.MustParseAddr(f.src).Prefix(bits)
				offenders[p.String()] = true
			}
		}
		if got[c.name].Counters != want {
			t.Errorf("%s: report %+v, want %+v", c.name, got[c.name].Counters, want)
		}
		for _, o := range got[c.name].TopOffenders {
			if !offenders[o.Prefix] {
				t.Errorf("%s: offender %s is not one of the spoofed sources' prefixes", c.name, o.Prefix)
			}
			delete(offenders, o.Prefix)
		}
		if len(offenders) != 0 {
			t.Errorf("%s: offenders missing from the report: %v", c.name, offenders)
		}
	}
	if rep.Malformed != 0 || rep.UnknownExporters.Datagrams != 0 || rep.Datagrams["netflow_v9"] == 0 || rep.Datagrams["ipfix"] == 0 {
		t.Errorf("report counters: %s", b)
	}
	t.Logf("report:\n%s", b)
}
