package flow

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// frames joins datagrams as [2-byte length][datagram]..., the fuzz input format: one
// input is a sequence of datagrams from one exporter, so the fuzzer can pair templates
// with data.
func frames(dgs ...[]byte) []byte {
	var b []byte
	for _, d := range dgs {
		if len(d) > 0xffff {
			d = d[:0xffff]
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(d)))
		b = append(b, d...)
	}
	return b
}

// FuzzDecode drives the datagram entry point with every protocol: the seed corpus holds
// every shared capture (NetFlow v5/v9, IPFIX, sFlow; templates before data) and the
// hostile datagrams of hostile_test.go. A plain `go test` (so CI) runs every seed;
// fuzz with: (ulimit -v 8000000; go test ./flow -run X -fuzz FuzzDecode -fuzztime 60s).
func FuzzDecode(f *testing.F) {
	for _, g := range sharedCaptures(f) {
		var dgs [][]byte
		for _, d := range g.datagrams {
			dgs = append(dgs, d.payload)
		}
		f.Add(frames(dgs...))
	}
	f.Add(frames(ipfixMsg(1, set(2, simpleTemplate), set(300, simpleRecord([4]byte{192, 0, 2, 1}, 1, 1, 1)))))
	f.Add(frames(ipfixMsg(1, set(2, tmpl(301, 8, 0, 27, 0)), set(301, make([]byte, 100)))))
	f.Add(frames(ipfixMsg(1, set(3, append(u16s(400, 3, 1), u16s(149, 4, 305, 4, 306, 4)...)), set(400, make([]byte, 12)))))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(Limits{MaxSessions: 4, MaxTemplates: 16}, nil)
		src := netip.MustParseAddrPort("192.0.2.1:2055")
		total := 0
		for len(in) >= 2 {
			n := int(binary.BigEndian.Uint16(in))
			in = in[2:]
			if n > len(in) {
				n = len(in)
			}
			dg := in[:n]
			in = in[n:]
			recs, _ := d.Decode(src, dg, nil)
			if len(recs) > len(dg) {
				t.Fatalf("%d records from %d bytes", len(recs), len(dg))
			}
			for _, r := range recs {
				if !r.Src.IsValid() || r.Src.Is4In6() || r.Exporter != src.Addr() && r.Proto != ProtoSFlowV5 {
					t.Fatalf("bad record %+v", r)
				}
			}
			total += len(recs)
		}
		if st := d.Stats(); st.Panics != 0 {
			t.Fatalf("a decoder panicked (recovered): %+v", st)
		}
		if d.Sessions() > 4 || d.TemplateCount() > 4*16 {
			t.Fatalf("caps exceeded: %d sessions, %d templates", d.Sessions(), d.TemplateCount())
		}
	})
}
