// Package rtr is an RPKI-to-Router client: RFC 6810 (version 0), RFC 8210 (version 1)
// and the ASPA PDU of draft-ietf-sidrops-8210bis (version 2), with version
// negotiation, reset and serial queries, cache reset and error reports. The PDU
// codec (this file) does no I/O and distrusts every length; the session logic is in
// client.go.
package rtr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// PDU types (RFC 8210 §5, draft-ietf-sidrops-8210bis for ASPA).
const (
	TypeSerialNotify  uint8 = 0
	TypeSerialQuery   uint8 = 1
	TypeResetQuery    uint8 = 2
	TypeCacheResponse uint8 = 3
	TypeIPv4Prefix    uint8 = 4
	TypeIPv6Prefix    uint8 = 6
	TypeEndOfData     uint8 = 7
	TypeCacheReset    uint8 = 8
	TypeRouterKey     uint8 = 9
	TypeErrorReport   uint8 = 10
	TypeASPA          uint8 = 11
)

// Error codes of the Error Report PDU (RFC 8210 §12).
const (
	ErrCorruptData        uint16 = 0
	ErrInternal           uint16 = 1
	ErrNoDataAvailable    uint16 = 2
	ErrInvalidRequest     uint16 = 3
	ErrUnsupportedVersion uint16 = 4
	ErrUnsupportedPDU     uint16 = 5
	ErrWithdrawUnknown    uint16 = 6
	ErrDuplicateAnnounce  uint16 = 7
	ErrUnexpectedVersion  uint16 = 8
)

// MaxPDULength caps the length a PDU may claim (an ASPA with 65535 providers).
const MaxPDULength = 16 + 4*65535

// HeaderLength is the size of the common PDU header.
const HeaderLength = 8

// ErrShort means more bytes are needed to decode the next PDU.
var ErrShort = errors.New("rtr: short PDU")

// PDU is one decoded protocol data unit.
type PDU interface {
	// Type returns the PDU type code.
	Type() uint8
	// Append appends the PDU's wire form.
	Append(b []byte) []byte
}

// SerialNotify tells the router that the cache has new data (RFC 8210 §5.2).
type SerialNotify struct {
	Version uint8
	Session uint16
	Serial  uint32
}

// SerialQuery asks for the changes since Serial (RFC 8210 §5.3).
type SerialQuery struct {
	Version uint8
	Session uint16
	Serial  uint32
}

// ResetQuery asks for the full data set (RFC 8210 §5.4).
type ResetQuery struct{ Version uint8 }

// CacheResponse starts the cache's answer to a query (RFC 8210 §5.5).
type CacheResponse struct {
	Version uint8
	Session uint16
}

// Prefix is an IPv4 or IPv6 Prefix PDU: one VRP announced (Flags bit 0 set) or
// withdrawn (RFC 8210 §5.6, §5.7).
type Prefix struct {
	Version uint8
	Flags   uint8
	Prefix  netip.Prefix
	MaxLen  uint8
	ASN     uint32
}

// EndOfData ends the cache's answer and carries the timers (version 1 and later)
// (RFC 8210 §5.8).
type EndOfData struct {
	Version                uint8
	Session                uint16
	Serial                 uint32
	Refresh, Retry, Expire uint32
}

// CacheReset tells the router to send a Reset Query (RFC 8210 §5.9).
type CacheReset struct{ Version uint8 }

// RouterKey is a BGPsec router key (RFC 8210 §5.10); bgpfilter keeps no keys.
type RouterKey struct {
	Version uint8
	Flags   uint8
	SKI     [20]byte
	ASN     uint32
	SPKI    []byte
}

// ErrorReport reports a protocol error (RFC 8210 §5.11).
type ErrorReport struct {
	Version uint8
	Code    uint16
	PDU     []byte
	Text    string
}

// ASPA carries one customer AS's providers. Two layouts exist: draft-8210bis-10 as
// StayRTR 0.5.1 sends it (flags and an address family in the body: AFI 0 = IPv4,
// 1 = IPv6, and a provider count) and the later drafts' layout (flags in the header,
// no address family). AFI is 4 or 6 for the first, 0 for the second.
type ASPA struct {
	Version   uint8
	Flags     uint8
	AFI       uint8
	Customer  uint32
	Providers []uint32
}

// Type implements PDU.
func (SerialNotify) Type() uint8 { return TypeSerialNotify }

// Type implements PDU.
func (SerialQuery) Type() uint8 { return TypeSerialQuery }

// Type implements PDU.
func (ResetQuery) Type() uint8 { return TypeResetQuery }

// Type implements PDU.
func (CacheResponse) Type() uint8 { return TypeCacheResponse }

// Type implements PDU.
func (p Prefix) Type() uint8 {
	if p.Prefix.Addr().Is4() {
		return TypeIPv4Prefix
	}
	return TypeIPv6Prefix
}

// Type implements PDU.
func (EndOfData) Type() uint8 { return TypeEndOfData }

// Type implements PDU.
func (CacheReset) Type() uint8 { return TypeCacheReset }

// Type implements PDU.
func (RouterKey) Type() uint8 { return TypeRouterKey }

// Type implements PDU.
func (ErrorReport) Type() uint8 { return TypeErrorReport }

// Type implements PDU.
func (ASPA) Type() uint8 { return TypeASPA }

func header(b []byte, version, typ uint8, field uint16, length uint32) []byte {
	b = append(b, version, typ)
	b = binary.BigEndian.AppendUint16(b, field)
	return binary.BigEndian.AppendUint32(b, length)
}

// Append implements PDU.
func (p SerialNotify) Append(b []byte) []byte {
	return binary.BigEndian.AppendUint32(header(b, p.Version, TypeSerialNotify, p.Session, 12), p.Serial)
}

// Append implements PDU.
func (p SerialQuery) Append(b []byte) []byte {
	return binary.BigEndian.AppendUint32(header(b, p.Version, TypeSerialQuery, p.Session, 12), p.Serial)
}

// Append implements PDU.
func (p ResetQuery) Append(b []byte) []byte { return header(b, p.Version, TypeResetQuery, 0, 8) }

// Append implements PDU.
func (p CacheResponse) Append(b []byte) []byte {
	return header(b, p.Version, TypeCacheResponse, p.Session, 8)
}

// Append implements PDU.
func (p Prefix) Append(b []byte) []byte {
	if p.Prefix.Addr().Is4() {
		b = header(b, p.Version, TypeIPv4Prefix, 0, 20)
		b = append(b, p.Flags, uint8(p.Prefix.Bits()), p.MaxLen, 0)
		a := p.Prefix.Addr().As4()
		b = append(b, a[:]...)
	} else {
		b = header(b, p.Version, TypeIPv6Prefix, 0, 32)
		b = append(b, p.Flags, uint8(p.Prefix.Bits()), p.MaxLen, 0)
		a := p.Prefix.Addr().As16()
		b = append(b, a[:]...)
	}
	return binary.BigEndian.AppendUint32(b, p.ASN)
}

// Append implements PDU; version 0 has no timers.
func (p EndOfData) Append(b []byte) []byte {
	if p.Version == 0 {
		return binary.BigEndian.AppendUint32(header(b, 0, TypeEndOfData, p.Session, 12), p.Serial)
	}
	b = header(b, p.Version, TypeEndOfData, p.Session, 24)
	for _, v := range []uint32{p.Serial, p.Refresh, p.Retry, p.Expire} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// Append implements PDU.
func (p CacheReset) Append(b []byte) []byte { return header(b, p.Version, TypeCacheReset, 0, 8) }

// Append implements PDU.
func (p RouterKey) Append(b []byte) []byte {
	b = append(b, p.Version, TypeRouterKey, p.Flags, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(32+len(p.SPKI)))
	b = append(b, p.SKI[:]...)
	b = binary.BigEndian.AppendUint32(b, p.ASN)
	return append(b, p.SPKI...)
}

// Append implements PDU.
func (p ErrorReport) Append(b []byte) []byte {
	b = header(b, p.Version, TypeErrorReport, p.Code, uint32(16+len(p.PDU)+len(p.Text)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.PDU)))
	b = append(b, p.PDU...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Text)))
	return append(b, p.Text...)
}

// Append implements PDU, in the layout AFI selects.
func (p ASPA) Append(b []byte) []byte {
	if p.AFI == 4 || p.AFI == 6 {
		b = header(b, p.Version, TypeASPA, 0, uint32(16+4*len(p.Providers)))
		afi := uint8(0)
		if p.AFI == 6 {
			afi = 1
		}
		b = append(b, p.Flags, afi)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.Providers)))
	} else {
		b = append(b, p.Version, TypeASPA, p.Flags, 0)
		b = binary.BigEndian.AppendUint32(b, uint32(12+4*len(p.Providers)))
	}
	b = binary.BigEndian.AppendUint32(b, p.Customer)
	for _, a := range p.Providers {
		b = binary.BigEndian.AppendUint32(b, a)
	}
	return b
}

// PeekLength returns the length the PDU at the start of b claims, after checking it
// against the header size and MaxPDULength. It needs HeaderLength bytes.
func PeekLength(b []byte) (int, error) {
	if len(b) < HeaderLength {
		return 0, ErrShort
	}
	n := binary.BigEndian.Uint32(b[4:8])
	if n < HeaderLength || n > MaxPDULength {
		return 0, fmt.Errorf("rtr: PDU type %d claims length %d", b[1], n)
	}
	return int(n), nil
}

// Decode decodes the PDU at the start of b and returns it with the number of bytes
// it used. It returns ErrShort when b holds less than the whole PDU.
func Decode(b []byte) (PDU, int, error) {
	n, err := PeekLength(b)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < n {
		return nil, 0, ErrShort
	}
	p, err := decodeBody(b[:n])
	if err != nil {
		return nil, n, err
	}
	return p, n, nil
}

func wantLen(typ uint8, body []byte, n int) error {
	if len(body) != n {
		return fmt.Errorf("rtr: PDU type %d has length %d, want %d", typ, len(body)+HeaderLength, n+HeaderLength)
	}
	return nil
}

func decodeBody(b []byte) (PDU, error) {
	ver, typ, field := b[0], b[1], binary.BigEndian.Uint16(b[2:4])
	body := b[HeaderLength:]
	switch typ {
	case TypeSerialNotify, TypeSerialQuery:
		if err := wantLen(typ, body, 4); err != nil {
			return nil, err
		}
		s := binary.BigEndian.Uint32(body)
		if typ == TypeSerialNotify {
			return SerialNotify{Version: ver, Session: field, Serial: s}, nil
		}
		return SerialQuery{Version: ver, Session: field, Serial: s}, nil
	case TypeResetQuery, TypeCacheResponse, TypeCacheReset:
		if err := wantLen(typ, body, 0); err != nil {
			return nil, err
		}
		switch typ {
		case TypeResetQuery:
			return ResetQuery{Version: ver}, nil
		case TypeCacheResponse:
			return CacheResponse{Version: ver, Session: field}, nil
		}
		return CacheReset{Version: ver}, nil
	case TypeIPv4Prefix, TypeIPv6Prefix:
		alen := 4
		if typ == TypeIPv6Prefix {
			alen = 16
		}
		if err := wantLen(typ, body, 8+alen); err != nil {
			return nil, err
		}
		flags, plen, maxLen := body[0], int(body[1]), body[2]
		addr, _ := netip.AddrFromSlice(body[4 : 4+alen])
		if plen > addr.BitLen() || int(maxLen) > addr.BitLen() || int(maxLen) < plen {
			return nil, fmt.Errorf("rtr: prefix PDU with length %d, max length %d", plen, maxLen)
		}
		p := netip.PrefixFrom(addr, plen)
		if p.Masked() != p {
			return nil, fmt.Errorf("rtr: prefix PDU %s has host bits set", p)
		}
		return Prefix{Version: ver, Flags: flags, Prefix: p, MaxLen: maxLen, ASN: binary.BigEndian.Uint32(body[4+alen:])}, nil
	case TypeEndOfData:
		if ver == 0 { // RFC 6810: no timers in version 0
			if err := wantLen(typ, body, 4); err != nil {
				return nil, err
			}
			return EndOfData{Version: ver, Session: field, Serial: binary.BigEndian.Uint32(body)}, nil
		}
		if err := wantLen(typ, body, 16); err != nil {
			return nil, err
		}
		return EndOfData{Version: ver, Session: field, Serial: binary.BigEndian.Uint32(body),
			Refresh: binary.BigEndian.Uint32(body[4:]), Retry: binary.BigEndian.Uint32(body[8:]),
			Expire: binary.BigEndian.Uint32(body[12:])}, nil
	case TypeRouterKey:
		if len(body) < 24 {
			return nil, fmt.Errorf("rtr: router key PDU too short (%d)", len(b))
		}
		k := RouterKey{Version: ver, Flags: b[2], ASN: binary.BigEndian.Uint32(body[20:24]), SPKI: append([]byte(nil), body[24:]...)}
		copy(k.SKI[:], body[:20])
		return k, nil
	case TypeErrorReport:
		if len(body) < 8 {
			return nil, fmt.Errorf("rtr: error report too short (%d)", len(b))
		}
		pl := binary.BigEndian.Uint32(body)
		if uint64(pl) > uint64(len(body)-8) {
			return nil, fmt.Errorf("rtr: error report PDU copy length %d exceeds the PDU", pl)
		}
		pdu := append([]byte(nil), body[4:4+pl]...)
		rest := body[4+pl:]
		tl := binary.BigEndian.Uint32(rest)
		if uint64(tl) != uint64(len(rest)-4) {
			return nil, fmt.Errorf("rtr: error report text length %d, %d bytes left", tl, len(rest)-4)
		}
		return ErrorReport{Version: ver, Code: field, PDU: pdu, Text: string(rest[4:])}, nil
	case TypeASPA:
		return decodeASPA(ver, b)
	}
	return nil, fmt.Errorf("rtr: unsupported PDU type %d", typ)
}

func decodeASPA(ver uint8, b []byte) (PDU, error) {
	body := b[HeaderLength:]
	// draft-8210bis-10 (StayRTR 0.5.1): zero header field, then flags, AFI,
	// provider count, customer, providers; the count must agree with the length.
	if b[2] == 0 && b[3] == 0 && len(body) >= 8 {
		cnt := int(binary.BigEndian.Uint16(body[2:4]))
		if len(body) == 8+4*cnt && body[1] <= 1 {
			a := ASPA{Version: ver, Flags: body[0], AFI: 4, Customer: binary.BigEndian.Uint32(body[4:8])}
			if body[1] == 1 {
				a.AFI = 6
			}
			a.Providers = readASNs(body[8:])
			return a, nil
		}
	}
	// Later drafts: flags and a zero byte in the header, customer, providers. A
	// withdrawal (flags 0) in this layout can look like the older one; it is then
	// read as the older layout.
	if b[3] != 0 || len(body) < 4 || len(body)%4 != 0 {
		return nil, fmt.Errorf("rtr: ASPA PDU with body length %d", len(body))
	}
	return ASPA{Version: ver, Flags: b[2], Customer: binary.BigEndian.Uint32(body), Providers: readASNs(body[4:])}, nil
}

func readASNs(b []byte) []uint32 {
	out := make([]uint32, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, binary.BigEndian.Uint32(b[i:]))
	}
	return out
}
