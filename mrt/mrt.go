// Package mrt reads BGP routing data: MRT files (RFC 6396: TABLE_DUMP, TABLE_DUMP_V2
// with the RFC 8050 ADD-PATH RIB subtypes, BGP4MP and BGP4MP_ET messages and state
// changes, 2- and 4-byte AS variants) and the text tables operators pass around
// (`bgpdump -m` output, RouteViews pfx2as, the RIS whois dump).
//
// MRT data comes from collectors we do not control and is often truncated, so every
// length field is checked against the bytes that are actually there: a bad record is an
// error naming its offset, never a panic or an oversized allocation, and the reader can
// go on with the next record when the framing is intact.
//
// Reader yields one Route per prefix (per RIB entry or per NLRI of an UPDATE), in the
// order `bgpdump -m` prints its lines; Announcements (announce.go) reduces any of the
// supported inputs to (prefix, origin, AS path) triples for the MANRS report.
package mrt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// MRT types (RFC 6396 §4, RFC 8050).
const (
	TypeTableDump   = 12
	TypeTableDumpV2 = 13
	TypeBGP4MP      = 16
	TypeBGP4MPET    = 17
)

// TABLE_DUMP_V2 subtypes.
const (
	SubPeerIndexTable         = 1
	SubRIBIPv4Unicast         = 2
	SubRIBIPv4Multicast       = 3
	SubRIBIPv6Unicast         = 4
	SubRIBIPv6Multicast       = 5
	SubRIBGeneric             = 6
	SubRIBIPv4UnicastAddPath  = 8
	SubRIBIPv4MulticastAddPat = 9
	SubRIBIPv6UnicastAddPath  = 10
	SubRIBIPv6MulticastAddPat = 11
	SubRIBGenericAddPath      = 12
)

// BGP4MP subtypes.
const (
	SubStateChange          = 0
	SubMessage              = 1
	SubMessageAS4           = 4
	SubStateChangeAS4       = 5
	SubMessageLocal         = 6
	SubMessageAS4Local      = 7
	SubMessageAddPath       = 8
	SubMessageAS4AddPath    = 9
	SubMessageLocalAddPath  = 10
	SubMessageAS4LocalAddPa = 11
)

// MaxRecordLen bounds one MRT record. The largest legitimate records are TABLE_DUMP_V2
// RIB entries of a prefix seen by every peer of a big collector (a few hundred KB);
// a larger length field is corruption, and refusing it keeps a bad header from making
// the reader allocate gigabytes.
const MaxRecordLen = 16 << 20

// ErrMalformed is wrapped by every decoding error; callers branch on it with errors.Is.
var ErrMalformed = errors.New("malformed MRT data")

// RecordError is a decoding error with the record it happened in.
type RecordError struct {
	Offset  int64 // byte offset of the record header in the (decompressed) stream
	Type    uint16
	Subtype uint16
	Msg     string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("mrt: record at offset %d (type %d subtype %d): %s", e.Offset, e.Type, e.Subtype, e.Msg)
}

func (e *RecordError) Unwrap() error { return ErrMalformed }

// Kind is what a Route line says.
type Kind uint8

// Route kinds, as the single letters `bgpdump -m` prints.
const (
	RIB      Kind = iota // "B": a TABLE_DUMP / TABLE_DUMP_V2 RIB entry
	Announce             // "A": an NLRI of a BGP UPDATE
	Withdraw             // "W": a withdrawn route of a BGP UPDATE
	State                // "STATE": a BGP4MP state change (no prefix)
)

func (k Kind) String() string {
	switch k {
	case RIB:
		return "B"
	case Announce:
		return "A"
	case Withdraw:
		return "W"
	default:
		return "STATE"
	}
}

// Route is one prefix of one MRT record (or one state change). Routes of the same
// record share Attrs; do not modify it.
type Route struct {
	Kind    Kind
	Type    uint16 // MRT type
	Subtype uint16
	Time    int64  // seconds since the epoch (header timestamp)
	Micro   uint32 // microseconds (BGP4MP_ET only)
	// Local reports a BGP4MP *_LOCAL message (sent, not received, by the collector).
	Local  bool
	PeerIP netip.Addr
	PeerAS uint32
	Prefix netip.Prefix
	// AddPath reports an ADD-PATH subtype; PathID is then the path identifier.
	AddPath bool
	PathID  uint32
	Attrs   *Attrs // nil for withdrawals and state changes
	// OldState and NewState are the BGP FSM states of a state change.
	OldState, NewState uint16
}

// OriginAS returns the origin of the route's AS path: the last AS of a final
// AS_SEQUENCE. ok is false without a path or when the path ends in an AS_SET (the origin
// is then not one AS, RFC 6472).
func (r *Route) OriginAS() (asn uint32, ok bool) {
	if r.Attrs == nil {
		return 0, false
	}
	return r.Attrs.OriginAS()
}

// Reader decodes MRT records from a stream (decompress first: see OpenFile).
type Reader struct {
	r       io.Reader
	off     int64
	buf     []byte
	pending []Route     // routes of the current record not yet returned
	queue   []Route     // pending's backing array, reused for the next record
	peers   []peerEntry // TABLE_DUMP_V2 PEER_INDEX_TABLE
	records int64
}

// NewReader returns a Reader of the MRT stream r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Records returns the number of MRT records read so far.
func (rd *Reader) Records() int64 { return rd.records }

// Offset returns the byte offset after the last record read.
func (rd *Reader) Offset() int64 { return rd.off }

// Next returns the next route. At the end of the stream it returns io.EOF. A record
// whose contents are malformed yields a *RecordError (wrapping ErrMalformed) and the
// reader stays usable: the next call continues with the following record. A truncated
// header or body ends the stream with an error wrapping io.ErrUnexpectedEOF.
func (rd *Reader) Next() (Route, error) {
	for len(rd.pending) == 0 {
		rd.pending = rd.queue[:0]
		if err := rd.record(); err != nil {
			return Route{}, err
		}
		rd.queue = rd.pending
	}
	r := rd.pending[0]
	rd.pending = rd.pending[1:]
	return r, nil
}

// record reads one record and appends its routes to pending.
func (rd *Reader) record() error {
	var hdr [12]byte
	start := rd.off
	n, err := io.ReadFull(rd.r, hdr[:])
	rd.off += int64(n)
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("mrt: header at offset %d: %w", start, io.ErrUnexpectedEOF)
	}
	ts := binary.BigEndian.Uint32(hdr[0:])
	typ := binary.BigEndian.Uint16(hdr[4:])
	sub := binary.BigEndian.Uint16(hdr[6:])
	length := binary.BigEndian.Uint32(hdr[8:])
	bad := func(msg string) error { return &RecordError{Offset: start, Type: typ, Subtype: sub, Msg: msg} }
	if length > MaxRecordLen {
		// The framing is lost: nothing after this can be trusted.
		return fmt.Errorf("%w (stream ends here)", bad(fmt.Sprintf("record length %d exceeds %d", length, MaxRecordLen)))
	}
	if cap(rd.buf) < int(length) {
		rd.buf = make([]byte, length)
	}
	body := rd.buf[:length]
	n, err = io.ReadFull(rd.r, body)
	rd.off += int64(n)
	if err != nil {
		return fmt.Errorf("mrt: record at offset %d: body of %d bytes, %d present: %w", start, length, n, io.ErrUnexpectedEOF)
	}
	rd.records++
	hd := header{time: int64(ts), typ: typ, sub: sub}
	var derr error
	switch typ {
	case TypeTableDump:
		derr = rd.tableDump(hd, body)
	case TypeTableDumpV2:
		derr = rd.tableDumpV2(hd, body)
	case TypeBGP4MP, TypeBGP4MPET:
		if typ == TypeBGP4MPET {
			if len(body) < 4 {
				return bad("BGP4MP_ET record shorter than its microsecond field")
			}
			hd.micro = binary.BigEndian.Uint32(body)
			hd.et = true
			body = body[4:]
		}
		derr = rd.bgp4mp(hd, body)
	default:
		// Other types (OSPF, ISIS, legacy BGP) carry no routes for us: skipped.
		return nil
	}
	if derr != nil {
		rd.pending = rd.pending[:0]
		return bad(derr.Error())
	}
	return nil
}

// header is what every route of a record inherits.
type header struct {
	time     int64
	micro    uint32
	et       bool
	typ, sub uint16
}

func (h header) route(k Kind) Route {
	return Route{Kind: k, Type: h.typ, Subtype: h.sub, Time: h.time, Micro: h.micro}
}

// cursor reads big-endian fields from a byte slice; every read checks the remaining
// length and records the first shortfall in err (later reads return zeros).
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

func (c *cursor) take(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b) {
		c.fail("%s: need %d bytes, %d left", what, n, len(c.b))
		return nil
	}
	v := c.b[:n:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8(what string) uint8 {
	if v := c.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (c *cursor) u16(what string) uint16 {
	if v := c.take(2, what); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (c *cursor) u32(what string) uint32 {
	if v := c.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// addr reads a 4- or 16-byte address.
func (c *cursor) addr(v6 bool, what string) netip.Addr {
	if v6 {
		if v := c.take(16, what); v != nil {
			return netip.AddrFrom16([16]byte(v))
		}
		return netip.IPv6Unspecified()
	}
	if v := c.take(4, what); v != nil {
		return netip.AddrFrom4([4]byte(v))
	}
	return netip.IPv4Unspecified()
}

// prefix reads an NLRI-encoded prefix (length in bits, then the minimum number of
// octets); host bits are cleared as bgpdump does.
func (c *cursor) prefix(v6 bool, what string) netip.Prefix {
	bits := int(c.u8(what))
	max := 32
	if v6 {
		max = 128
	}
	if c.err != nil {
		return netip.Prefix{}
	}
	if bits > max {
		c.fail("%s: prefix length %d exceeds %d", what, bits, max)
		return netip.Prefix{}
	}
	raw := c.take((bits+7)/8, what)
	if c.err != nil {
		return netip.Prefix{}
	}
	var a netip.Addr
	if v6 {
		var b [16]byte
		copy(b[:], raw)
		a = netip.AddrFrom16(b)
	} else {
		var b [4]byte
		copy(b[:], raw)
		a = netip.AddrFrom4(b)
	}
	p, err := a.Prefix(bits)
	if err != nil {
		c.fail("%s: %v", what, err)
	}
	return p
}
