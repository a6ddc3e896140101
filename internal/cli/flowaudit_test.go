package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/audit"
	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestFlowAuditOnceAgainstTshark audits akvorado's real NetFlow v5 capture offline
// (--once --pcap) and checks every counter against a computation over tshark's
// dissection of the same capture (source, input interface, packets, octets per record)
// with netip.Prefix.Contains for the customers' permitted prefixes.
func TestFlowAuditOnceAgainstTshark(t *testing.T) {
	capture := peer.SharedData(t, "flows/akvorado/netflow-nfv5.pcap")
	tshark := peer.Require(t, "tshark")
	dir := t.TempDir()
	// "goog" gets its prefixes from the IRR (route objects of a documentation ASN in a
	// registry of the test's own), "other" only from sav.extra_prefixes
	os.WriteFile(filepath.Join(dir, "r.db"), []byte("route: 142.250.0.0/15\norigin: AS64500\nsource: TEST\n\n"+
		"route: 172.217.0.0/16\norigin: AS64500\nsource: TEST\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.yml"), []byte(`local_as: 64511
irr: [r.db]
customers:
  - name: goog
    asn: 64500
    interfaces: [{name: xe-0/0/0, exporter: 10.19.144.41, ifindex: 115}]
  - name: other
    asn: 64501
    interfaces: [{name: xe-0/0/1, exporter: 10.19.144.41, ifindex: 117}]
    sav: {mode: strict, extra_prefixes: [161.202.0.0/16, 157.240.0.0/16]}
`), 0o644)
	out := filepath.Join(dir, "report.json")
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"bgpfilter", "flow-audit", "--config", filepath.Join(dir, "c.yml"),
		"--once", "--pcap", capture, "--report-json", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep audit.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(tshark, "-r", capture, "-n", "-d", "udp.port==9990,cflow", "-T", "fields", "-E", "occurrence=a",
		"-E", "separator=;", "-e", "cflow.srcaddr", "-e", "cflow.inputint", "-e", "cflow.packets", "-e", "cflow.octets")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	tout, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	cols := strings.Split(strings.TrimSpace(string(tout)), ";")
	srcs, ins, pkts, octs := strings.Split(cols[0], ","), strings.Split(cols[1], ","), strings.Split(cols[2], ","), strings.Split(cols[3], ",")
	permitted := map[string][]netip.Prefix{
		"goog":  {netip.MustParsePrefix("142.250.0.0/15"), netip.MustParsePrefix("172.217.0.0/16")},
		"other": {netip.MustParsePrefix("161.202.0.0/16"), netip.MustParsePrefix("157.240.0.0/16")},
	}
	want := map[string]audit.Counters{}
	unmapped := uint64(0)
	for i := range srcs {
		cust := map[string]string{"115": "goog", "117": "other"}[ins[i]]
		if cust == "" {
			unmapped++
			continue
		}
		pk, _ := strconv.ParseUint(pkts[i], 10, 64)
		by, _ := strconv.ParseUint(octs[i], 10, 64)
		c := want[cust]
		c.Flows++
		c.Packets += pk
		c.Bytes += by
		ok := false
		for _, p := range permitted[cust] {
			ok = ok || p.Contains(netip.MustParseAddr(srcs[i]))
		}
		if !ok {
			c.SpoofedFlows++
			c.SpoofedPackets += pk
			c.SpoofedBytes += by
		}
		want[cust] = c
	}
	for _, cr := range rep.Customers {
		if cr.Counters != want[cr.Name] {
			t.Errorf("%s: %+v, tshark-derived %+v", cr.Name, cr.Counters, want[cr.Name])
		}
	}
	if len(rep.Customers) != 2 || rep.UnmappedFlows != unmapped || rep.Records != uint64(len(srcs)) || rep.Datagrams["netflow_v5"] != 1 {
		t.Errorf("report: %s", b)
	}
	if want["goog"].SpoofedFlows == 0 || want["goog"].Flows == want["goog"].SpoofedFlows || want["other"].SpoofedFlows == 0 {
		t.Fatalf("the test data does not exercise both verdicts: %+v", want)
	}
}

func TestFlowAuditUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	os.WriteFile(cfg, []byte("local_as: 64511\ncustomers:\n  - name: a\n    asn: 64500\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--config", cfg, "--once"}, ExitUsage, "--once needs --pcap"},
		{[]string{"--config", cfg}, ExitUsage, "give --listen"},
		{[]string{"--config", cfg, "--listen", "127.0.0.1:0"}, ExitUsage, "give --report DIR or --metrics"},
		{[]string{"--config", cfg, "--once", "--pcap", "x", "--report-json", "y"}, ExitUsage, "no customer has an interface"},
		{[]string{"--config", filepath.Join(dir, "missing.yml"), "--once", "--pcap", "x", "--report-json", "y"}, ExitData, "missing.yml"},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"bgpfilter", "flow-audit"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d (%s), want %d with %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
}
