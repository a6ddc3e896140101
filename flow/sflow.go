package flow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/sflow"
)

// sFlow v5 (sflow.org/sflow_version_5.txt) limits that goflow2 also applies, checked here
// before goflow2 sees the datagram.
const maxSFlowSamples = 1000

// decodeSFlow checks the sample structure of an sFlow v5 datagram, applies the exporter
// allow-list to the agent address, and decodes it with goflow2. goflow2 does not cap the
// record count of an expanded flow sample (one ~260-byte datagram made it allocate
// 82 GB), so every sample's record count is checked against the bytes it has.
func (d *Decoder) decodeSFlow(b []byte, out []Record) ([]Record, error) {
	const p = ProtoSFlowV5
	agent, n, err := sflowHeader(b)
	if err != nil {
		return out, err
	}
	if d.allow != nil && !d.allow(agent) {
		d.stats.UnknownExporter++
		return out, fmt.Errorf("%w: sFlow agent %s", ErrUnknownExporter, agent)
	}
	count := int(binary.BigEndian.Uint32(b[n-4:]))
	if count > maxSFlowSamples {
		return out, malformed(p, "%d samples", count)
	}
	rest := b[n:]
	for i := 0; i < count; i++ {
		if len(rest) < 8 {
			return out, malformed(p, "sample %d: truncated header", i)
		}
		format := binary.BigEndian.Uint32(rest)
		l := int(binary.BigEndian.Uint32(rest[4:]))
		if l > len(rest)-8 || l < 0 {
			return out, malformed(p, "sample %d: length %d, %d bytes left", i, l, len(rest)-8)
		}
		body := rest[8 : 8+l]
		rest = rest[8+l:]
		var hdr, per int
		switch format {
		case sflow.SAMPLE_FORMAT_FLOW:
			hdr, per = 32, 8
		case sflow.SAMPLE_FORMAT_EXPANDED_FLOW:
			hdr, per = 44, 8
		case sflow.SAMPLE_FORMAT_COUNTER:
			hdr, per = 12, 8
		case sflow.SAMPLE_FORMAT_EXPANDED_COUNTER:
			hdr, per = 16, 8
		case sflow.SAMPLE_FORMAT_DROP:
			hdr, per = 32, 8
		default:
			// goflow2 refuses the whole datagram for a sample format it does not know
			// (such as an enterprise's); so do we
			return out, malformed(p, "sample %d: unknown format %d:%d", i, format>>12, format&0xfff)
		}
		if len(body) < hdr {
			return out, malformed(p, "sample %d (format %d): %d bytes, header needs %d", i, format, len(body), hdr)
		}
		if rc := int(binary.BigEndian.Uint32(body[hdr-4:])); rc > (len(body)-hdr)/per {
			return out, malformed(p, "sample %d: %d records in %d bytes", i, rc, len(body)-hdr)
		}
	}
	var pkt sflow.Packet
	if err := sflow.DecodeMessageVersion(bytes.NewBuffer(b), &pkt); err != nil {
		return out, malformed(p, "goflow2: %v", err)
	}
	for _, s := range pkt.Samples {
		switch s := s.(type) {
		case sflow.FlowSample:
			out = sflowRecords(out, agent, s.SamplingRate, ifIndex(s.Input), s.Records)
		case sflow.ExpandedFlowSample:
			in := uint32(0)
			if s.InputIfFormat == 0 {
				in = s.InputIfValue
			}
			out = sflowRecords(out, agent, s.SamplingRate, in, s.Records)
		}
	}
	return out, nil
}

// sflowHeader returns the agent address and the header length (through the sample
// count).
func sflowHeader(b []byte) (netip.Addr, int, error) {
	const p = ProtoSFlowV5
	if len(b) < 8 {
		return netip.Addr{}, 0, malformed(p, "header: %d bytes", len(b))
	}
	switch binary.BigEndian.Uint32(b[4:]) {
	case 1:
		if len(b) < 28 {
			return netip.Addr{}, 0, malformed(p, "header: %d bytes, want 28", len(b))
		}
		return netip.AddrFrom4([4]byte(b[8:12])), 28, nil
	case 2:
		if len(b) < 40 {
			return netip.Addr{}, 0, malformed(p, "header: %d bytes, want 40", len(b))
		}
		return netip.AddrFrom16([16]byte(b[8:24])).Unmap(), 40, nil
	}
	return netip.Addr{}, 0, malformed(p, "agent address type %d", binary.BigEndian.Uint32(b[4:]))
}

// ifIndex decodes a compact flow sample's interface field: the top 2 bits are the format
// (0: an ifIndex; 1: a discard code; 2: multiple interfaces), so only format 0 names an
// interface.
func ifIndex(v uint32) uint32 {
	if v>>30 != 0 {
		return 0
	}
	return v & 0x3fffffff
}

// sflowRecords emits one Record per flow sample that carries a source address: from the
// sampled header (Ethernet, IPv4 or IPv6) or from a sampled IPv4/IPv6 record.
func sflowRecords(out []Record, agent netip.Addr, rate, in uint32, recs []sflow.FlowRecord) []Record {
	for _, fr := range recs {
		var src netip.Addr
		var size uint64
		switch r := fr.Data.(type) {
		case sflow.SampledHeader:
			src = headerSource(r.Protocol, r.HeaderData)
			size = uint64(r.FrameLength)
		case sflow.SampledIPv4:
			if a, ok := netip.AddrFromSlice(r.SrcIP); ok {
				src, size = a.Unmap(), uint64(r.Length)
			}
		case sflow.SampledIPv6:
			if a, ok := netip.AddrFromSlice(r.SrcIP); ok {
				src, size = a.Unmap(), uint64(r.Length)
			}
		}
		if src.IsValid() {
			return append(out, Record{Exporter: agent, Src: src, InIf: in, Packets: 1, Bytes: size,
				SamplingRate: rate, Proto: ProtoSFlowV5})
		}
	}
	return out
}

// headerSource finds the source address in a sampled packet header. proto is the sFlow
// header_protocol (1 Ethernet, 11 IPv4, 12 IPv6).
func headerSource(proto uint32, h []byte) netip.Addr {
	switch proto {
	case 11:
		return ipSource(h)
	case 12:
		return ipSource(h)
	case 1:
	default:
		return netip.Addr{}
	}
	if len(h) < 14 {
		return netip.Addr{}
	}
	et := binary.BigEndian.Uint16(h[12:])
	h = h[14:]
	for i := 0; i < 4 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++ { // VLAN tags, QinQ
		if len(h) < 4 {
			return netip.Addr{}
		}
		et = binary.BigEndian.Uint16(h[2:])
		h = h[4:]
	}
	switch et {
	case 0x0800, 0x86dd:
		return ipSource(h)
	case 0x8847: // MPLS: skip the label stack
		for i := 0; i < 16; i++ {
			if len(h) < 4 {
				return netip.Addr{}
			}
			bottom := h[2]&1 == 1
			h = h[4:]
			if bottom {
				return ipSource(h)
			}
		}
	}
	return netip.Addr{}
}

// ipSource returns the source of an IPv4 or IPv6 header by its version nibble.
func ipSource(h []byte) netip.Addr {
	if len(h) < 1 {
		return netip.Addr{}
	}
	switch h[0] >> 4 {
	case 4:
		if len(h) >= 20 {
			return netip.AddrFrom4([4]byte(h[12:16]))
		}
	case 6:
		if len(h) >= 40 {
			return netip.AddrFrom16([16]byte(h[8:24])).Unmap()
		}
	}
	return netip.Addr{}
}
