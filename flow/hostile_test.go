package flow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

var exp = netip.MustParseAddrPort("192.0.2.1:2055")

// ipfixMsg builds an IPFIX message of the given sets (each: id, body).
func ipfixMsg(domain uint32, sets ...[]byte) []byte {
	var b []byte
	for _, s := range sets {
		b = append(b, s...)
	}
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 10)
	binary.BigEndian.PutUint16(h[2:], uint16(16+len(b)))
	binary.BigEndian.PutUint32(h[12:], domain)
	return append(h, b...)
}

func set(id uint16, body []byte) []byte {
	h := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint16(h[0:], id)
	binary.BigEndian.PutUint16(h[2:], uint16(4+len(body)))
	return append(h, body...)
}

func u16s(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint16(b[2*i:], x)
	}
	return b
}

// tmpl is an IPFIX template record: id, then (type, length) pairs.
func tmpl(id uint16, fields ...uint16) []byte {
	return append(u16s(id, uint16(len(fields)/2)), u16s(fields...)...)
}

// a template of src address, ingress interface, packets, bytes (4+4+4+4)
var simpleTemplate = tmpl(300, 8, 4, 10, 4, 2, 4, 1, 4)

func simpleRecord(src [4]byte, in, pk, by uint32) []byte {
	b := append([]byte{}, src[:]...)
	b = binary.BigEndian.AppendUint32(b, in)
	b = binary.BigEndian.AppendUint32(b, pk)
	return binary.BigEndian.AppendUint32(b, by)
}

func TestIPFIXTemplatesWithdrawalAndSampling(t *testing.T) {
	d := NewDecoder(Limits{}, nil)
	data := set(300, append(simpleRecord([4]byte{203, 0, 113, 1}, 7, 3, 300), simpleRecord([4]byte{198, 51, 100, 1}, 7, 1, 40)...))
	// data before its template: counted, no records, no error
	recs, err := d.Decode(exp, ipfixMsg(1, data), nil)
	if err != nil || len(recs) != 0 || d.Stats().TemplateNotFound != 1 {
		t.Fatalf("before template: %v %v %+v", recs, err, d.Stats())
	}
	// options template (scope: observationDomainId 149; option samplingPacketInterval 305
	// and samplingPacketSpace 306): 1 in 100
	opt := append(u16s(400, 3, 1), u16s(149, 4, 305, 4, 306, 4)...)
	optData := set(400, []byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 99})
	recs, err = d.Decode(exp, ipfixMsg(1, set(2, simpleTemplate), set(3, opt), optData, data), nil)
	if err != nil || len(recs) != 2 {
		t.Fatalf("with templates: %v %v", recs, err)
	}
	want := Record{Exporter: exp.Addr(), Src: netip.MustParseAddr("203.0.113.1"), InIf: 7, Packets: 3, Bytes: 300, SamplingRate: 100, Proto: ProtoIPFIX}
	if recs[0] != want {
		t.Errorf("record %+v, want %+v", recs[0], want)
	}
	// another observation domain has its own templates
	if recs, _ = d.Decode(exp, ipfixMsg(2, data), nil); len(recs) != 0 {
		t.Errorf("domain 2 used domain 1's template")
	}
	// another source port is another session
	if recs, _ = d.Decode(netip.MustParseAddrPort("192.0.2.1:2056"), ipfixMsg(1, data), nil); len(recs) != 0 {
		t.Errorf("port 2056 used port 2055's template")
	}
	// withdrawal of template 300 (field count 0)
	if _, err = d.Decode(exp, ipfixMsg(1, set(2, u16s(300, 0))), nil); err != nil {
		t.Fatal(err)
	}
	if recs, _ = d.Decode(exp, ipfixMsg(1, data), nil); len(recs) != 0 || d.Stats().Withdrawals != 1 {
		t.Errorf("after withdrawal: %d records, %+v", len(recs), d.Stats())
	}
	// withdraw-all of options templates (id = set id 3)
	d.Decode(exp, ipfixMsg(1, set(2, simpleTemplate)), nil)
	d.Decode(exp, ipfixMsg(1, set(3, u16s(3, 0))), nil)
	if d.TemplateCount() != 1 {
		t.Errorf("after withdraw-all options: %d templates, want the data template only", d.TemplateCount())
	}
}

func TestHostileDatagrams(t *testing.T) {
	sflowHdr := func(samples uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, 5)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = append(b, 192, 0, 2, 9)
		b = binary.BigEndian.AppendUint32(b, 0)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, 1)
		return binary.BigEndian.AppendUint32(b, samples)
	}
	// expanded flow sample claiming 2^32-1 records (goflow2 allocates them all)
	expanded := binary.BigEndian.AppendUint32(nil, 3)
	body := make([]byte, 44)
	binary.BigEndian.PutUint32(body[40:], 0xffffffff)
	expanded = binary.BigEndian.AppendUint32(expanded, uint32(len(body)))
	expanded = append(expanded, body...)
	v5 := make([]byte, 24+48)
	binary.BigEndian.PutUint16(v5, 5)
	binary.BigEndian.PutUint16(v5[2:], 65535)
	zeroSize := ipfixMsg(1, set(2, tmpl(301, 8, 0, 27, 0)), set(301, make([]byte, 1000)))
	manyFields := ipfixMsg(1, set(2, append(u16s(302, 65535), make([]byte, 40)...)))
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"three bytes", []byte{0, 9, 0}},
		{"v9 header only, truncated", []byte{0, 9, 0, 1, 0, 0, 0, 0}},
		{"ipfix length beyond datagram", append(u16s(10, 60000), make([]byte, 30)...)},
		{"ipfix set length beyond message", ipfixMsg(1, u16s(2, 9000, 1, 2))},
		{"ipfix set length 2", ipfixMsg(1, u16s(300, 2, 1, 1))},
		{"template claims 65535 fields", manyFields},
		{"v5 count 65535", v5},
		{"sflow 2^32-1 samples", sflowHdr(0xffffffff)},
		{"sflow expanded sample with 2^32-1 records", append(sflowHdr(1), expanded...)},
		{"sflow sample length beyond datagram", append(sflowHdr(1), 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff)},
		{"unknown version", []byte{0, 7, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Limits{}, nil)
			recs, err := d.Decode(exp, tc.b, nil)
			var me *MalformedError
			if !errors.As(err, &me) || len(recs) != 0 || d.Stats().Malformed != 1 {
				t.Errorf("got %d records, err %v, stats %+v; want refused as malformed", len(recs), err, d.Stats())
			}
		})
	}
	// a template of zero-length fields only describes no bytes: refused, and its data
	// set (which loops goflow2 forever) decodes nothing
	d := NewDecoder(Limits{}, nil)
	recs, err := d.Decode(exp, zeroSize, nil)
	if err != nil || len(recs) != 0 || d.Stats().TemplatesRefused != 1 {
		t.Errorf("zero-size template: %d records, %v, %+v", len(recs), err, d.Stats())
	}
	// a template of 8000 zero-length fields and one real one: linear, not records x fields
	f := []uint16{}
	for i := 0; i < 8000; i++ {
		f = append(f, 5, 0)
	}
	f = append(f, 8, 4)
	start := time.Now()
	recs, err = d.Decode(exp, ipfixMsg(1, set(2, tmpl(303, f...))), nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, err = d.Decode(exp, ipfixMsg(1, set(303, make([]byte, 16000))), nil)
	if err != nil || len(recs) != 4000 || time.Since(start) > time.Second {
		t.Errorf("zero-length field bomb: %d records, %v, %s", len(recs), err, time.Since(start))
	}
}

// TestTruncatedCaptures feeds every prefix of every shared datagram: no panic, never
// more records than the whole datagram gives.
func TestTruncatedCaptures(t *testing.T) {
	for _, g := range sharedCaptures(t) {
		full := NewDecoder(Limits{}, nil)
		cut := NewDecoder(Limits{}, nil)
		for _, dg := range g.datagrams {
			full.Decode(dg.src, dg.payload, nil)
			// decoded twice, so that a data set ahead of its template in the same
			// datagram counts too (the cut decoder has seen the template by then)
			whole, _ := full.Decode(dg.src, dg.payload, nil)
			for n := 0; n < len(dg.payload); n += 1 + n/16 {
				recs, _ := cut.Decode(dg.src, bytes.Clone(dg.payload[:n]), nil)
				if len(recs) > len(whole) {
					t.Errorf("%s: %d bytes of %d gave %d records, whole %d", g.name, n, len(dg.payload), len(recs), len(whole))
				}
			}
			cut.Decode(dg.src, dg.payload, nil) // keep templates in step
		}
		if st := cut.Stats(); st.Panics != 0 {
			t.Errorf("%s: %d decoder panics", g.name, st.Panics)
		}
	}
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestTemplateAndSessionFloods: a flood of new template ids and of new source ports
// stays within the caps, and so does the heap.
func TestTemplateAndSessionFloods(t *testing.T) {
	lim := Limits{MaxSessions: 64, MaxTemplates: 32}
	d := NewDecoder(lim, nil)
	before := heap()
	for i := 0; i < 20000; i++ {
		// the first half from one session (a template flood), then one port each
		src := exp
		if i >= 10000 {
			src = netip.AddrPortFrom(exp.Addr(), uint16(1024+i%5000))
		}
		var body []byte
		for j := 0; j < 20; j++ {
			body = append(body, tmpl(uint16(256+(i*20+j)%60000), 8, 4, 2, 4, 1, 8)...)
		}
		if _, err := d.Decode(src, ipfixMsg(uint32(i), set(2, body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	st := d.Stats()
	if d.Sessions() > 64 || d.TemplateCount() > 64*32 || st.TemplatesRefused == 0 || st.SessionsEvicted == 0 {
		t.Errorf("sessions %d, templates %d, %+v", d.Sessions(), d.TemplateCount(), st)
	}
	if grew := int64(heap()) - int64(before); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
	t.Logf("after 400,000 templates, half from one session, half from 5,000 ports: %d sessions, %d templates, %d refused, %d sessions evicted",
		d.Sessions(), d.TemplateCount(), st.TemplatesRefused, st.SessionsEvicted)
}

func TestUnknownExportersRefusedBeforeDecoding(t *testing.T) {
	known := netip.MustParseAddr("192.0.2.1")
	d := NewDecoder(Limits{}, func(a netip.Addr) bool { return a == known })
	msg := ipfixMsg(1, set(2, simpleTemplate))
	for i := 0; i < 10000; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 2055)
		if _, err := d.Decode(src, msg, nil); !errors.Is(err, ErrUnknownExporter) {
			t.Fatalf("unknown exporter: %v", err)
		}
	}
	if d.Sessions() != 0 || d.Stats().UnknownExporter != 10000 {
		t.Errorf("sessions %d, %+v", d.Sessions(), d.Stats())
	}
	if _, err := d.Decode(netip.AddrPortFrom(known, 9), msg, nil); err != nil || d.Sessions() != 1 {
		t.Errorf("known exporter: %v, sessions %d", err, d.Sessions())
	}
}

// TestAgainstGoflow2 decodes every NetFlow v9/IPFIX capture with goflow2's own decoder
// (one template system per session, as goflow2's collector does) and compares each data
// record's source, input interface, packets and bytes with ours: the compiled-template
// reader must agree with goflow2 record by record.
func TestAgainstGoflow2(t *testing.T) {
	compared := 0
	for _, g := range sharedCaptures(t) {
		if g.name == "logstash/netflow9_test_invalid01" {
			// goflow2 reads the v9 count (2) as a number of sets and stops before the
			// data; see captureExceptions
			continue
		}
		d := NewDecoder(Limits{}, nil)
		systems := map[netip.AddrPort]netflow.NetFlowTemplateSystem{}
		for _, dg := range g.datagrams {
			p := Detect(dg.payload)
			if p != ProtoNetFlowV9 && p != ProtoIPFIX {
				continue
			}
			ours, _ := d.Decode(dg.src, dg.payload, nil)
			ts := systems[dg.src]
			if ts == nil {
				ts = netflow.CreateTemplateSystem()
				systems[dg.src] = ts
			}
			var nf9 netflow.NFv9Packet
			var ipfix netflow.IPFIXPacket
			netflow.DecodeMessageVersion(bytes.NewBuffer(bytes.Clone(dg.payload)), ts, &nf9, &ipfix)
			sets := nf9.FlowSets
			if p == ProtoIPFIX {
				sets = ipfix.FlowSets
			}
			var theirs []Record
			for _, fs := range sets {
				dfs, ok := fs.(netflow.DataFlowSet)
				if !ok {
					continue
				}
				for _, rec := range dfs.Records {
					var r Record
					var v4, v6 netip.Addr
					seen := map[uint16]bool{}
					for _, f := range rec.Values {
						b, _ := f.Value.([]byte)
						if f.PenProvided || seen[f.Type] {
							continue
						}
						seen[f.Type] = true
						switch {
						case f.Type == 8 && len(b) == 4:
							v4 = netip.AddrFrom4([4]byte(b))
						case f.Type == 27 && len(b) == 16:
							v6 = netip.AddrFrom16([16]byte(b)).Unmap()
						case f.Type == 10 && len(b) <= 8 && len(b) > 0:
							r.InIf = uint32(uintN(b))
						case f.Type == 1 && len(b) <= 8 && len(b) > 0:
							r.Bytes = uintN(b)
						case f.Type == 2 && len(b) <= 8 && len(b) > 0:
							r.Packets = uintN(b)
						}
					}
					switch {
					case v4.IsValid() && (!v4.IsUnspecified() || !v6.IsValid() || v6.IsUnspecified()):
						r.Src = v4
					case v6.IsValid():
						r.Src = v6
					default:
						continue
					}
					theirs = append(theirs, r)
				}
			}
			if len(ours) != len(theirs) {
				t.Errorf("%s: %d records, goflow2 %d", g.name, len(ours), len(theirs))
				continue
			}
			for i := range ours {
				o := ours[i]
				if o.Src != theirs[i].Src || o.InIf != theirs[i].InIf || (theirs[i].Bytes != 0 && o.Bytes != theirs[i].Bytes) || (theirs[i].Packets != 0 && o.Packets != theirs[i].Packets) {
					t.Errorf("%s record %d: ours %+v, goflow2 %+v", g.name, i, o, theirs[i])
				}
				compared++
			}
		}
	}
	if compared < 300 {
		t.Errorf("only %d records compared", compared)
	}
	t.Logf("%d NetFlow v9/IPFIX records identical to goflow2's decode", compared)
}
