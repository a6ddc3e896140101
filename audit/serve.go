package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bgpfilter/bgpfilter/flow/pcap"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
)

// Serve reads datagrams from every conn until ctx ends, feeding c. Each conn has its own
// reader goroutine; the collector's lock serialises decoding.
func Serve(ctx context.Context, c *Collector, log *slog.Logger, conns ...net.PacketConn) error {
	var wg sync.WaitGroup
	for _, pc := range conns {
		wg.Add(1)
		go func(pc net.PacketConn) {
			defer wg.Done()
			buf := make([]byte, 65536)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
						log.Error("flow-audit: read", "listen", pc.LocalAddr().String(), "err", err)
					}
					return
				}
				ua, ok := from.(*net.UDPAddr)
				if !ok {
					continue
				}
				if err := c.HandleDatagram(ua.AddrPort(), buf[:n]); err != nil {
					log.Debug("flow-audit: datagram", "err", err)
				}
			}
		}(pc)
	}
	<-ctx.Done()
	for _, pc := range conns {
		pc.Close()
	}
	wg.Wait()
	return nil
}

// ReplayPcap feeds every UDP datagram of a pcap capture to c and returns how many it
// read. A corrupt capture is an error naming the record.
func ReplayPcap(c *Collector, r io.Reader) (int, error) {
	pr, err := pcap.NewReader(r)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		d, err := pr.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		c.HandleDatagram(netip.AddrPortFrom(d.Src.Addr().Unmap(), d.Src.Port()), d.Payload)
	}
}

// MarshalReport renders a report as indented JSON.
func MarshalReport(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("audit: report: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteReport writes r atomically to DIR/flow-audit-<end time>.json and DIR/latest.json.
func WriteReport(dir string, r *Report) (string, error) {
	b, err := MarshalReport(r)
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, "flow-audit-"+r.End.UTC().Format("20060102T150405Z")+".json")
	if err := atomicfile.WriteFile(name, b, 0o644); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "latest.json"), b, 0o644); err != nil {
		return "", err
	}
	return name, nil
}

// ReportEvery writes a report into dir every interval until ctx ends, and a last one
// then.
func ReportEvery(ctx context.Context, c *Collector, dir string, interval time.Duration, log *slog.Logger) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("audit: report directory %s: not a directory (%v)", dir, err)
	}
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			_, err := WriteReport(dir, c.Report(time.Now()))
			return err
		case now := <-tk.C:
			if name, err := WriteReport(dir, c.Report(now)); err != nil {
				log.Error("flow-audit: report", "err", err)
			} else {
				log.Debug("flow-audit: report written", "file", name)
			}
		}
	}
}

// metrics exposes a Collector's cumulative counters to Prometheus, read at scrape time.
type metrics struct {
	c                                                  *Collector
	flows, packets, bytes, sflows, spackets, sbytes    *prometheus.Desc
	datagrams, malformed, unknown, unmapped, templates *prometheus.Desc
	tnf, refused, sessions, dropped, panics            *prometheus.Desc
}

// NewMetrics returns a prometheus.Collector for c (register it in a private registry).
func NewMetrics(c *Collector) prometheus.Collector {
	d := func(n, h string, l ...string) *prometheus.Desc {
		return prometheus.NewDesc("bgpfilter_flow_audit_"+n, h, l, nil)
	}
	return &metrics{c: c,
		flows:     d("flows_total", "Flow records mapped to the customer.", "customer"),
		packets:   d("packets_total", "Packets (scaled by the sampling rate).", "customer"),
		bytes:     d("bytes_total", "Bytes (scaled by the sampling rate).", "customer"),
		sflows:    d("spoofed_flows_total", "Flow records with a source outside the customer's permitted prefixes.", "customer"),
		spackets:  d("spoofed_packets_total", "Spoofed packets (scaled).", "customer"),
		sbytes:    d("spoofed_bytes_total", "Spoofed bytes (scaled).", "customer"),
		datagrams: d("datagrams_total", "Datagrams received, by protocol.", "protocol"),
		malformed: d("malformed_datagrams_total", "Datagrams refused or cut short as malformed."),
		unknown:   d("unknown_exporter_datagrams_total", "Datagrams from addresses that are no customer's exporter."),
		unmapped:  d("unmapped_flows_total", "Flows on interfaces no customer has."),
		templates: d("templates", "Templates held."),
		tnf:       d("template_not_found_total", "Data sets whose template had not arrived."),
		refused:   d("templates_refused_total", "Templates refused (caps, zero size)."),
		sessions:  d("exporter_sessions", "Exporter transport sessions with state."),
		dropped:   d("offenders_dropped_total", "Spoofed flows not attributed to a prefix (offender cap)."),
		panics:    d("decoder_panics_total", "Decoder panics recovered."),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.flows, m.packets, m.bytes, m.sflows, m.spackets, m.sbytes, m.datagrams,
		m.malformed, m.unknown, m.unmapped, m.templates, m.tnf, m.refused, m.sessions, m.dropped, m.panics} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	t := m.c.Totals()
	cnt := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	for n, c := range t.Customers {
		cnt(m.flows, c.Flows, n)
		cnt(m.packets, c.Packets, n)
		cnt(m.bytes, c.Bytes, n)
		cnt(m.sflows, c.SpoofedFlows, n)
		cnt(m.spackets, c.SpoofedPackets, n)
		cnt(m.sbytes, c.SpoofedBytes, n)
	}
	for i, v := range t.Decoder.Datagrams {
		cnt(m.datagrams, v, protoName(i))
	}
	cnt(m.malformed, t.Decoder.Malformed)
	cnt(m.unknown, t.UnknownDatagrams)
	cnt(m.unmapped, t.UnmappedFlows)
	cnt(m.tnf, t.Decoder.TemplateNotFound)
	cnt(m.refused, t.Decoder.TemplatesRefused)
	cnt(m.dropped, t.OffendersDropped)
	cnt(m.panics, t.Decoder.Panics)
	ch <- prometheus.MustNewConstMetric(m.templates, prometheus.GaugeValue, float64(t.Templates))
	ch <- prometheus.MustNewConstMetric(m.sessions, prometheus.GaugeValue, float64(t.Sessions))
}
