// Package pcap reads classic libpcap capture files (not pcapng) and extracts the UDP
// datagrams in them: enough to replay a capture of flow-export datagrams through the
// collector offline. It is a small reader of its own because gopacket's needs cgo
// (libpcap) for most of its layers and the audit needs only Ethernet/SLL/raw IP + UDP.
package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Link types (tcpdump.org/linktypes.html) the reader understands.
const (
	LinkNull     = 0
	LinkEthernet = 1
	LinkRaw      = 101
	LinkLinuxSLL = 113
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276
)

// MaxSnapLen caps the captured length of one packet: a larger record length is a
// corrupt file, not a packet, and is refused instead of allocated.
const MaxSnapLen = 262144

// ErrFormat is wrapped by every error about the file's content.
var ErrFormat = errors.New("pcap: bad file")

// Datagram is one UDP datagram from the capture. Payload is valid until the next call
// of Next.
type Datagram struct {
	Time    time.Time
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Payload []byte
}

// Reader reads a capture packet by packet.
type Reader struct {
	r       *bufio.Reader
	order   binary.ByteOrder
	nano    bool
	link    uint32
	buf     []byte
	hdr     [16]byte
	Skipped int // packets that were not a whole, unfragmented UDP datagram
	packets int
}

// NewReader reads the file header.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var h [24]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, fmt.Errorf("%w: file header: %v", ErrFormat, err)
	}
	rd := &Reader{r: br}
	switch binary.LittleEndian.Uint32(h[:]) {
	case 0xa1b2c3d4:
		rd.order = binary.LittleEndian
	case 0xa1b23c4d:
		rd.order, rd.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		rd.order = binary.BigEndian
	case 0x4d3cb2a1:
		rd.order, rd.nano = binary.BigEndian, true
	case 0x0a0d0d0a:
		return nil, fmt.Errorf("%w: pcapng is not supported (convert with: editcap -F pcap in out)", ErrFormat)
	default:
		return nil, fmt.Errorf("%w: magic %08x", ErrFormat, binary.LittleEndian.Uint32(h[:]))
	}
	rd.link = rd.order.Uint32(h[20:]) & 0x0fffffff // the top bits carry FCS information
	switch rd.link {
	case LinkNull, LinkEthernet, LinkRaw, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkSLL2:
	default:
		return nil, fmt.Errorf("%w: link type %d not supported", ErrFormat, rd.link)
	}
	return rd, nil
}

// LinkType returns the capture's link type.
func (r *Reader) LinkType() uint32 { return r.link }

// Next returns the next UDP datagram, skipping other packets. It returns io.EOF at the
// end of the file and an error wrapping ErrFormat for a truncated or corrupt record.
func (r *Reader) Next() (Datagram, error) {
	for {
		if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
			if err == io.EOF {
				return Datagram{}, io.EOF
			}
			return Datagram{}, fmt.Errorf("%w: record %d header: %v", ErrFormat, r.packets+1, err)
		}
		r.packets++
		sec, frac := r.order.Uint32(r.hdr[0:]), r.order.Uint32(r.hdr[4:])
		incl := r.order.Uint32(r.hdr[8:])
		if incl > MaxSnapLen {
			return Datagram{}, fmt.Errorf("%w: record %d: captured length %d", ErrFormat, r.packets, incl)
		}
		if cap(r.buf) < int(incl) {
			r.buf = make([]byte, incl)
		}
		b := r.buf[:incl]
		if _, err := io.ReadFull(r.r, b); err != nil {
			return Datagram{}, fmt.Errorf("%w: record %d truncated: %v", ErrFormat, r.packets, err)
		}
		ns := int64(frac) * 1000
		if r.nano {
			ns = int64(frac)
		}
		d, ok := udp(r.link, b)
		if !ok {
			r.Skipped++
			continue
		}
		d.Time = time.Unix(int64(sec), ns).UTC()
		return d, nil
	}
}

// udp strips the link header and decodes IPv4/IPv6 + UDP.
func udp(link uint32, b []byte) (Datagram, bool) {
	switch link {
	case LinkEthernet:
		if len(b) < 14 {
			return Datagram{}, false
		}
		et := binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		for i := 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++ {
			if len(b) < 4 {
				return Datagram{}, false
			}
			et = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
		}
		if et != 0x0800 && et != 0x86dd {
			return Datagram{}, false
		}
	case LinkLinuxSLL:
		if len(b) < 16 {
			return Datagram{}, false
		}
		b = b[16:]
	case LinkSLL2:
		if len(b) < 20 {
			return Datagram{}, false
		}
		b = b[20:]
	case LinkNull:
		if len(b) < 4 {
			return Datagram{}, false
		}
		b = b[4:]
	}
	return ipUDP(b)
}

func ipUDP(b []byte) (Datagram, bool) {
	if len(b) < 1 {
		return Datagram{}, false
	}
	var src, dst netip.Addr
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return Datagram{}, false
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if ihl < 20 || total < ihl || total > len(b) || b[9] != 17 {
			return Datagram{}, false
		}
		if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 { // a fragment (MF set or offset > 0)
			return Datagram{}, false
		}
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		l4 = b[ihl:total]
	case 6:
		if len(b) < 40 || b[6] != 17 { // extension headers are not followed
			return Datagram{}, false
		}
		pl := int(binary.BigEndian.Uint16(b[4:]))
		if 40+pl > len(b) {
			return Datagram{}, false
		}
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		l4 = b[40 : 40+pl]
	default:
		return Datagram{}, false
	}
	if len(l4) < 8 {
		return Datagram{}, false
	}
	ul := int(binary.BigEndian.Uint16(l4[4:]))
	if ul < 8 || ul > len(l4) {
		return Datagram{}, false
	}
	return Datagram{
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:])),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:])),
		Payload: l4[8:ul],
	}, true
}

// Writer writes a LINKTYPE_RAW capture of UDP datagrams (IPv4 or IPv6 headers made up
// from the addresses): what tests feed to tshark and softflowd.
type Writer struct {
	w io.Writer
}

// NewWriter writes the file header of a microsecond little-endian capture of the given
// link type (LinkRaw or LinkEthernet for WritePacket; WriteUDP always writes raw IP).
func NewWriter(w io.Writer, link uint32) (*Writer, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], MaxSnapLen)
	binary.LittleEndian.PutUint32(h[20:], link)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap: write header: %w", err)
	}
	return &Writer{w: w}, nil
}

// WritePacket writes one captured packet (link header included).
func (w *Writer) WritePacket(t time.Time, pkt []byte) error {
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(t.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(t.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(pkt)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(pkt)))
	if _, err := w.w.Write(h[:]); err != nil {
		return fmt.Errorf("pcap: write: %w", err)
	}
	if _, err := w.w.Write(pkt); err != nil {
		return fmt.Errorf("pcap: write: %w", err)
	}
	return nil
}

// WriteUDP writes a UDP datagram from src to dst as a raw IP packet (for a LinkRaw
// file). The UDP checksum is left 0 (allowed for IPv4; tshark does not check it).
func (w *Writer) WriteUDP(t time.Time, src, dst netip.AddrPort, payload []byte) error {
	u := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	var ip []byte
	if src.Addr().Is4() {
		ip = make([]byte, 20, 20+len(u))
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(u)))
		ip[8], ip[9] = 64, 17
		s, d := src.Addr().As4(), dst.Addr().Unmap().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], Checksum(ip))
	} else {
		ip = make([]byte, 40, 40+len(u))
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(u)))
		ip[6], ip[7] = 17, 64
		s, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
	}
	return w.WritePacket(t, append(ip, u...))
}

// Checksum is the Internet checksum (RFC 1071) of b.
func Checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
