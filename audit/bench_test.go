package audit

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/bgpfilter/bgpfilter/flow"
)

// synthCustomers makes n customers with 1-4 IPv4 prefixes (/20-/24) and one IPv6 /48
// each, on 20 exporters with one ifindex per customer, in a DFZ-like spread of address
// space.
func synthCustomers(n int) []Customer {
	rng := rand.New(rand.NewPCG(7, 11))
	cs := make([]Customer, n)
	for i := range cs {
		c := Customer{Name: "c" + itoa(i)}
		for j := 0; j < 1+rng.IntN(4); j++ {
			bits := 20 + rng.IntN(5)
			a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
			c.Prefixes = append(c.Prefixes, netip.PrefixFrom(a, bits).Masked())
		}
		var b [16]byte
		b[0], b[1], b[2], b[3], b[4], b[5] = 0x2a, 0x01, byte(i>>8), byte(i), byte(rng.IntN(256)), byte(rng.IntN(256))
		c.Prefixes = append(c.Prefixes, netip.PrefixFrom(netip.AddrFrom16(b), 48))
		c.Interfaces = []Interface{{Exporter: netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%20)}), IfIndex: uint32(100 + i/20)}}
		cs[i] = c
	}
	return cs
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// benchTemplate: a typical router template (22 fields, 61 bytes): addresses, ports,
// protocol, interfaces, counters, timestamps, ToS, flags, masks, AS numbers, next hop.
var benchFields = []uint16{8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 10, 4, 14, 4, 2, 8, 1, 8, 152, 8, 153, 8,
	5, 1, 6, 1, 9, 1, 13, 1, 16, 4, 17, 4, 15, 4, 61, 1, 89, 1, 58, 2, 136, 1, 234, 4}

// benchDatagrams builds v9 or IPFIX datagrams (template first, then 20 records each) for
// exporters of cs: 90 % of sources inside the customer's prefixes, 10 % spoofed.
func benchDatagrams(cs []Customer, version uint16, n int) (tmpl map[netip.Addr][]byte, data []benchDG, records int) {
	rng := rand.New(rand.NewPCG(3, 5))
	recLen := 0
	for i := 1; i < len(benchFields); i += 2 {
		recLen += int(benchFields[i])
	}
	hdr := func(body []byte) []byte {
		var h []byte
		if version == 9 {
			h = make([]byte, 20)
			binary.BigEndian.PutUint16(h, 9)
			binary.BigEndian.PutUint16(h[2:], 20)
		} else {
			h = make([]byte, 16)
			binary.BigEndian.PutUint16(h, 10)
			binary.BigEndian.PutUint16(h[2:], uint16(16+len(body)))
		}
		return append(h, body...)
	}
	setID := uint16(0)
	if version == 10 {
		setID = 2
	}
	t := binary.BigEndian.AppendUint16(nil, setID)
	t = binary.BigEndian.AppendUint16(t, uint16(8+len(benchFields)*2))
	t = binary.BigEndian.AppendUint16(t, 256)
	t = binary.BigEndian.AppendUint16(t, uint16(len(benchFields)/2))
	for _, f := range benchFields {
		t = binary.BigEndian.AppendUint16(t, f)
	}
	tmpl = map[netip.Addr][]byte{}
	for _, c := range cs {
		tmpl[c.Interfaces[0].Exporter] = hdr(t)
	}
	for d := 0; d < n; d++ {
		c := cs[rng.IntN(len(cs))]
		body := binary.BigEndian.AppendUint16(nil, 256)
		body = binary.BigEndian.AppendUint16(body, uint16(4+20*recLen))
		for r := 0; r < 20; r++ {
			// customers' traffic comes from many customers per datagram on a real
			// router; pick one per record among those of the same exporter
			cu := c
			for k := 0; k < 3; k++ {
				if o := cs[rng.IntN(len(cs))]; o.Interfaces[0].Exporter == c.Interfaces[0].Exporter {
					cu = o
					break
				}
			}
			rec := make([]byte, recLen)
			var src [4]byte
			if rng.IntN(10) == 0 {
				binary.BigEndian.PutUint32(src[:], rng.Uint32())
			} else {
				p := cu.Prefixes[rng.IntN(len(cu.Prefixes)-1)]
				a := p.Addr().As4()
				v := binary.BigEndian.Uint32(a[:]) | rng.Uint32()>>p.Bits()
				binary.BigEndian.PutUint32(src[:], v)
			}
			copy(rec[0:], src[:])
			binary.BigEndian.PutUint32(rec[4:], rng.Uint32())
			rec[8], rec[10], rec[12] = 0x1f, 0x01, 6
			binary.BigEndian.PutUint32(rec[13:], cu.Interfaces[0].IfIndex)
			binary.BigEndian.PutUint64(rec[21:], uint64(1+rng.IntN(100)))
			binary.BigEndian.PutUint64(rec[29:], uint64(64+rng.IntN(100000)))
			body = append(body, rec...)
		}
		data = append(data, benchDG{netip.AddrPortFrom(c.Interfaces[0].Exporter, 2055), hdr(body)})
		records += 20
	}
	return tmpl, data, records
}

// cpuTime is the process's user+system CPU time: the machine is shared, so rates are
// reported per CPU second as well as per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type benchDG struct {
	src netip.AddrPort
	b   []byte
}

func benchSetup(b *testing.B, version uint16) (*Collector, []benchDG, map[netip.Addr][]byte, int) {
	cs := synthCustomers(10000)
	tmpl, data, n := benchDatagrams(cs, version, 2000)
	c, err := NewCollector(cs, Limits{}, flow.Limits{}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for a, t := range tmpl {
		if err := c.HandleDatagram(netip.AddrPortFrom(a, 2055), t); err != nil {
			b.Fatal(err)
		}
	}
	return c, data, tmpl, n
}

// BenchmarkDecodeClassify is the collector's whole path per datagram: exporter
// allow-list, v9/IPFIX decoding, customer mapping, source check against 10,000
// customers' prefixes, counters and offenders. Run with -cpu 1.
func BenchmarkDecodeClassify(b *testing.B) {
	for _, v := range []uint16{9, 10} {
		b.Run(map[uint16]string{9: "v9", 10: "ipfix"}[v], func(b *testing.B) {
			c, data, _, n := benchSetup(b, v)
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				d := data[i%len(data)]
				c.HandleDatagram(d.src, d.b)
				i++
			}
			b.ReportMetric(float64(i*n/len(data))/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(i*n/len(data))/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
			r := c.Report(time.Now())
			spoofed := uint64(0)
			for _, cr := range r.Customers {
				spoofed += cr.SpoofedFlows
			}
			if r.Records == 0 || spoofed == 0 || r.Malformed != 0 {
				b.Fatalf("records %d, spoofed %d, malformed %d", r.Records, spoofed, r.Malformed)
			}
		})
	}
}

// BenchmarkGoflow2Decode is goflow2's decoder alone (netflow.DecodeMessageVersion, one
// template system per exporter) on the same datagrams: no mapping, no classification.
func BenchmarkGoflow2Decode(b *testing.B) {
	for _, v := range []uint16{9, 10} {
		b.Run(map[uint16]string{9: "v9", 10: "ipfix"}[v], func(b *testing.B) {
			_, data, tmpl, n := benchSetup(b, v)
			systems := map[netip.Addr]netflow.NetFlowTemplateSystem{}
			for a, t := range tmpl {
				ts := netflow.CreateTemplateSystem()
				var nf9 netflow.NFv9Packet
				var ipfix netflow.IPFIXPacket
				if err := netflow.DecodeMessageVersion(bytes.NewBuffer(t), ts, &nf9, &ipfix); err != nil {
					b.Fatal(err)
				}
				systems[a] = ts
			}
			i, recs := 0, 0
			cpu0 := cpuTime()
			for b.Loop() {
				d := data[i%len(data)]
				var nf9 netflow.NFv9Packet
				var ipfix netflow.IPFIXPacket
				if err := netflow.DecodeMessageVersion(bytes.NewBuffer(d.b), systems[d.src.Addr()], &nf9, &ipfix); err != nil {
					b.Fatal(err)
				}
				for _, fs := range append(nf9.FlowSets, ipfix.FlowSets...) {
					if ds, ok := fs.(netflow.DataFlowSet); ok {
						recs += len(ds.Records)
					}
				}
				i++
			}
			if recs != i*n/len(data) {
				b.Fatalf("goflow2 decoded %d records, want %d", recs, i*n/len(data))
			}
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(recs)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
		})
	}
}

// TestMemory10kCustomers reports the heap the permitted-source trie and the mapping of
// 10,000 customers take (BENCHMARKS.md).
func TestMemory10kCustomers(t *testing.T) {
	cs := synthCustomers(10000)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c, err := NewCollector(cs, Limits{}, flow.Limits{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	used := m1.HeapAlloc - m0.HeapAlloc
	t.Logf("10,000 customers, %d prefixes: %.1f MiB heap (%d B per prefix)", c.Prefixes(), float64(used)/(1<<20), int(used)/c.Prefixes())
	if used > 64<<20 {
		t.Errorf("%d bytes for 10,000 customers", used)
	}
	runtime.KeepAlive(c)
}

// BenchmarkVerdictMiss is the cost of a source check that misses the verdict cache (a
// new /24 or /48 for that customer): the patricia lookups alone, on 10,000 customers'
// prefixes, with 90 % legitimate and 10 % random sources.
func BenchmarkVerdictMiss(b *testing.B) {
	cs := synthCustomers(10000)
	m := NewMatcher(cs)
	rng := rand.New(rand.NewPCG(9, 9))
	type q struct {
		c uint32
		a netip.Addr
	}
	qs := make([]q, 1<<16)
	for i := range qs {
		ci := rng.IntN(len(cs))
		var v uint32
		if rng.IntN(10) == 0 {
			v = rng.Uint32()
		} else {
			p := cs[ci].Prefixes[rng.IntN(len(cs[ci].Prefixes)-1)]
			a := p.Addr().As4()
			v = binary.BigEndian.Uint32(a[:]) | rng.Uint32()>>p.Bits()
		}
		qs[i] = q{uint32(ci), netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})}
	}
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		x := qs[i&(len(qs)-1)]
		k := blockOf(x.a, x.c)
		if m.blockVerdict(k) == vMixed {
			m.has(x.c, x.a, 0)
		}
		i++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(i), "cpu-ns/lookup")
}
