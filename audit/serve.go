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

	"github.com/bgpfilter/bgpfilter/flow/pcap"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/internal/metrics"
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

// RegisterMetrics exposes c's cumulative counters in reg, read at scrape time.
func RegisterMetrics(reg *metrics.Registry, c *Collector) {
	reg.Func("bgpfilter_flow_audit", func(e *metrics.Emitter) {
		t := c.Totals()
		cnt := func(n, help string, v uint64, label, lv string) {
			e.Emit("bgpfilter_flow_audit_"+n, help, metrics.TypeCounter, label, lv, float64(v))
		}
		for n, c := range t.Customers {
			cnt("flows_total", "Flow records mapped to the customer.", c.Flows, "customer", n)
			cnt("packets_total", "Packets (scaled by the sampling rate).", c.Packets, "customer", n)
			cnt("bytes_total", "Bytes (scaled by the sampling rate).", c.Bytes, "customer", n)
			cnt("spoofed_flows_total", "Flow records with a source outside the customer's permitted prefixes.", c.SpoofedFlows, "customer", n)
			cnt("spoofed_packets_total", "Spoofed packets (scaled).", c.SpoofedPackets, "customer", n)
			cnt("spoofed_bytes_total", "Spoofed bytes (scaled).", c.SpoofedBytes, "customer", n)
		}
		for i, v := range t.Decoder.Datagrams {
			cnt("datagrams_total", "Datagrams received, by protocol.", v, "protocol", protoName(i))
		}
		cnt("malformed_datagrams_total", "Datagrams refused or cut short as malformed.", t.Decoder.Malformed, "", "")
		cnt("unknown_exporter_datagrams_total", "Datagrams from addresses that are no customer's exporter.", t.UnknownDatagrams, "", "")
		cnt("unmapped_flows_total", "Flows on interfaces no customer has.", t.UnmappedFlows, "", "")
		cnt("template_not_found_total", "Data sets whose template had not arrived.", t.Decoder.TemplateNotFound, "", "")
		cnt("templates_refused_total", "Templates refused (caps, zero size).", t.Decoder.TemplatesRefused, "", "")
		cnt("offenders_dropped_total", "Spoofed flows not attributed to a prefix (offender cap).", t.OffendersDropped, "", "")
		cnt("decoder_panics_total", "Decoder panics recovered.", t.Decoder.Panics, "", "")
		e.Emit("bgpfilter_flow_audit_templates", "Templates held.", metrics.TypeGauge, "", "", float64(t.Templates))
		e.Emit("bgpfilter_flow_audit_exporter_sessions", "Exporter transport sessions with state.", metrics.TypeGauge, "", "", float64(t.Sessions))
	})
}
