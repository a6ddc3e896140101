package flow

import (
	"bytes"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// realDatagrams are the v9/IPFIX datagrams of the shared captures that carry data
// records, with each group's datagrams before them as warm-up (templates).
func realDatagrams(b *testing.B) (warm, data []datagram) {
	for _, g := range sharedCaptures(b) {
		d := NewDecoder(Limits{}, nil)
		for _, dg := range g.datagrams {
			p := Detect(dg.payload)
			if p != ProtoNetFlowV9 && p != ProtoIPFIX || g.name == "logstash/netflow9_test_invalid01" {
				continue
			}
			// one address per group keeps the groups' templates apart
			dg.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(len(warm) >> 8), byte(len(warm))}), dg.src.Port())
			warm = append(warm, dg)
			recs, _ := d.Decode(dg.src, dg.payload, nil)
			if len(recs) > 0 {
				data = append(data, dg)
			}
		}
	}
	return warm, data
}

// BenchmarkRealCaptures: our decoder and goflow2's alone on the data datagrams of the
// real v9/IPFIX captures (templates loaded first).
func BenchmarkRealCaptures(b *testing.B) {
	warm, data := realDatagrams(b)
	b.Run("bgpfilter", func(b *testing.B) {
		d := NewDecoder(Limits{}, nil)
		for _, dg := range warm {
			d.Decode(dg.src, dg.payload, nil)
		}
		var out []Record
		n, i := 0, 0
		cpu0 := cpuTime()
		for b.Loop() {
			dg := data[i%len(data)]
			out, _ = d.Decode(dg.src, dg.payload, out[:0])
			n += len(out)
			i++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
	})
	b.Run("goflow2", func(b *testing.B) {
		systems := map[netip.AddrPort]netflow.NetFlowTemplateSystem{}
		for _, dg := range warm {
			ts := systems[dg.src]
			if ts == nil {
				ts = netflow.CreateTemplateSystem()
				systems[dg.src] = ts
			}
			var nf9 netflow.NFv9Packet
			var ipfix netflow.IPFIXPacket
			netflow.DecodeMessageVersion(bytes.NewBuffer(dg.payload), ts, &nf9, &ipfix)
		}
		n, i := 0, 0
		cpu0 := cpuTime()
		for b.Loop() {
			dg := data[i%len(data)]
			var nf9 netflow.NFv9Packet
			var ipfix netflow.IPFIXPacket
			netflow.DecodeMessageVersion(bytes.NewBuffer(dg.payload), systems[dg.src], &nf9, &ipfix)
			for _, fs := range append(nf9.FlowSets, ipfix.FlowSets...) {
				if ds, ok := fs.(netflow.DataFlowSet); ok {
					n += len(ds.Records)
				}
			}
			i++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
	})
}
