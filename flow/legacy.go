package flow

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
)

// maxV5Records is the most records a NetFlow v5 datagram holds (Cisco's export format
// documentation: 30 records of 48 bytes after the 24-byte header).
const maxV5Records = 30

// decodeV5 decodes a NetFlow v5 datagram with goflow2 after checking its count against
// its length: goflow2 allocates Count records whatever the datagram holds (a crafted
// count makes 65,535 empty records).
func decodeV5(exporter netip.Addr, b []byte, out []Record) ([]Record, error) {
	if len(b) < 24 {
		return out, malformed(ProtoNetFlowV5, "header: %d bytes, want 24", len(b))
	}
	count := int(binary.BigEndian.Uint16(b[2:]))
	if count < 1 || count > maxV5Records {
		return out, malformed(ProtoNetFlowV5, "count %d, want 1..%d", count, maxV5Records)
	}
	if len(b) < 24+48*count {
		return out, malformed(ProtoNetFlowV5, "count %d needs %d bytes, datagram has %d", count, 24+48*count, len(b))
	}
	var pkt netflowlegacy.PacketNetFlowV5
	if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(b[:24+48*count]), &pkt); err != nil {
		return out, malformed(ProtoNetFlowV5, "goflow2: %v", err)
	}
	// the header's sampling interval: 2 bits of mode, 14 bits of interval
	rate := uint32(pkt.SamplingInterval & 0x3fff)
	for _, r := range pkt.Records {
		out = append(out, Record{
			Exporter: exporter, Src: netip.AddrFrom4(be4(uint32(r.SrcAddr))), InIf: uint32(r.Input),
			Packets: uint64(r.DPkts), Bytes: uint64(r.DOctets), SamplingRate: rate, Proto: ProtoNetFlowV5,
		})
	}
	return out, nil
}

func be4(v uint32) [4]byte {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	return a
}
