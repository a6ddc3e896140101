package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bgpfilter/bgpfilter/flow"
	"github.com/bgpfilter/bgpfilter/internal/metrics"
)

// v5 builds a NetFlow v5 datagram of (src, ifindex, packets, bytes) records.
func v5(recs ...[4]uint32) []byte {
	b := make([]byte, 24, 24+48*len(recs))
	b[1], b[3] = 5, byte(len(recs))
	for _, r := range recs {
		rec := make([]byte, 48)
		rec[0], rec[1], rec[2], rec[3] = byte(r[0]>>24), byte(r[0]>>16), byte(r[0]>>8), byte(r[0])
		rec[12], rec[13] = byte(r[1]>>8), byte(r[1])
		rec[16], rec[17], rec[18], rec[19] = byte(r[2]>>24), byte(r[2]>>16), byte(r[2]>>8), byte(r[2])
		rec[20], rec[21], rec[22], rec[23] = byte(r[3]>>24), byte(r[3]>>16), byte(r[3]>>8), byte(r[3])
		b = append(b, rec...)
	}
	return b
}

func ip4(s string) uint32 {
	a := netip.MustParseAddr(s).As4()
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

// TestServeReportsAndMetrics runs the UDP server on loopback: datagrams from a
// configured exporter are counted, from another address refused; the interval report
// lands in the directory (latest.json and a timestamped file) and the Prometheus
// collector exposes the same totals.
func TestServeReportsAndMetrics(t *testing.T) {
	c, err := NewCollector(testCustomers, Limits{}, flow.Limits{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, c, log, pc) }()
	reported := make(chan error, 1)
	go func() { reported <- ReportEvery(ctx, c, dir, time.Hour, log) }()
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(v5([4]uint32{ip4("192.0.2.9"), 10, 2, 100}, [4]uint32{ip4("203.0.113.9"), 10, 3, 300}))
	conn.Write([]byte{0, 5, 0, 99}) // malformed
	deadline := time.Now().Add(5 * time.Second)
	for c.Totals().Decoder.Malformed == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	reg := metrics.NewRegistry()
	RegisterMetrics(reg, c)
	want := `
# HELP bgpfilter_flow_audit_spoofed_packets_total Spoofed packets (scaled).
# TYPE bgpfilter_flow_audit_spoofed_packets_total counter
bgpfilter_flow_audit_spoofed_packets_total{customer="alpha"} 3
bgpfilter_flow_audit_spoofed_packets_total{customer="beta"} 0
bgpfilter_flow_audit_spoofed_packets_total{customer="gamma"} 0
# HELP bgpfilter_flow_audit_malformed_datagrams_total Datagrams refused or cut short as malformed.
# TYPE bgpfilter_flow_audit_malformed_datagrams_total counter
bgpfilter_flow_audit_malformed_datagrams_total 1
`
	var exp strings.Builder
	reg.WriteTo(&exp)
	// Prometheus's own parser must read the whole exposition, and the two families
	// must be these lines exactly (what the client library wrote before).
	p := expfmt.NewTextParser(model.LegacyValidation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(exp.String())); err != nil {
		t.Errorf("Prometheus's parser refuses the exposition: %v\n%s", err, exp.String())
	}
	for _, fam := range strings.SplitAfter(strings.TrimPrefix(want, "\n"), "bgpfilter_flow_audit_spoofed_packets_total{customer=\"gamma\"} 0\n") {
		if !strings.Contains(exp.String(), fam) {
			t.Errorf("exposition lacks\n%s\ngot:\n%s", fam, exp.String())
		}
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if err := <-reported; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Customers[0].Name != "alpha" || r.Customers[0].SpoofedBytes != 300 || r.Malformed != 1 {
		t.Errorf("report %s", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "flow-audit-*.json")); len(m) != 1 {
		t.Errorf("timestamped reports: %v", m)
	}
}

func TestUnknownExporterListedAndCapped(t *testing.T) {
	c, _ := NewCollector(testCustomers, Limits{MaxUnknownExporters: 3}, flow.Limits{}, time.Now())
	for i := 0; i < 100; i++ {
		c.HandleDatagram(netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}), 2055), v5([4]uint32{1, 1, 1, 1}))
	}
	r := c.Report(time.Now())
	if r.UnknownExporters.Datagrams != 100 || len(r.UnknownExporters.Addresses) != 3 || r.Records != 0 {
		t.Errorf("unknown exporters %+v, records %d", r.UnknownExporters, r.Records)
	}
}
