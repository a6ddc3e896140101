package flow

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// Information elements the audit reads (IANA IPFIX registry; NetFlow v9 uses the same
// numbers for these, RFC 3954 §8).
const (
	ieOctetDelta        = 1
	iePacketDelta       = 2
	ieSrcIPv4           = 8
	ieIngressInterface  = 10
	ieSrcIPv6           = 27
	ieSamplingInterval  = 34
	ieSamplerID         = 48 // v9 FLOW_SAMPLER_ID / IPFIX samplerId
	ieSamplerRandom     = 50 // v9 FLOW_SAMPLER_RANDOM_INTERVAL / samplerRandomInterval
	ieOctetTotal        = 85
	iePacketTotal       = 86
	ieSelectorID        = 302
	ieSamplingPacketInt = 305 // samplingPacketInterval (RFC 7270)
	ieSamplingPacketSpc = 306 // samplingPacketSpace
	varLength           = 0xffff
)

// Field kinds of a compiled template: what a field's bytes mean to the audit.
const (
	kSkip uint8 = iota
	kSrc4
	kSrc6
	kInIf
	kBytes
	kPackets
	kBytesTotal
	kPacketsTotal
	kRate  // 34, 50, 305: packets per sampled packet (305 with 306: see rateFrom)
	kSpace // 306
	kSampler
)

type field struct {
	length uint16 // varLength for variable-length fields
	kind   uint8
}

// template is a v9/IPFIX (options) template reduced to what decoding needs. Zero-length
// fields are dropped when it is compiled: they carry no bytes, and keeping them is what
// makes goflow2's data decoding cost records x fields.
type template struct {
	fields  []field
	fixed   int  // bytes of the fixed-length fields
	minSize int  // smallest record: fixed + 1 byte per variable-length field
	hasVar  bool // some field is variable-length; otherwise every record is fixed bytes
	options bool
	// offsets of the interesting fields in a fixed-size record (-1: absent)
	offSrc4, offSrc6, offIf, offBytes, offPkts, offRate, offSampler int
	lenIf, lenBytes, lenPkts, lenRate, lenSampler                   int
}

func kindOf(f netflow.Field, scope, v9 bool) uint8 {
	if f.PenProvided || (scope && v9) {
		// enterprise-specific elements, and v9 scope fields (whose types are scope
		// codes such as 1 = System, not information elements), mean nothing here
		return kSkip
	}
	numeric := f.Length >= 1 && f.Length <= 8
	switch f.Type {
	case ieSrcIPv4:
		if f.Length == 4 {
			return kSrc4
		}
	case ieSrcIPv6:
		if f.Length == 16 {
			return kSrc6
		}
	case ieIngressInterface:
		if numeric {
			return kInIf
		}
	case ieOctetDelta:
		if numeric {
			return kBytes
		}
	case iePacketDelta:
		if numeric {
			return kPackets
		}
	case ieOctetTotal:
		if numeric {
			return kBytesTotal
		}
	case iePacketTotal:
		if numeric {
			return kPacketsTotal
		}
	case ieSamplingInterval, ieSamplerRandom, ieSamplingPacketInt:
		if numeric {
			return kRate
		}
	case ieSamplingPacketSpc:
		if numeric {
			return kSpace
		}
	case ieSamplerID, ieSelectorID:
		if numeric {
			return kSampler
		}
	}
	return kSkip
}

// compile builds a template from goflow2's parsed fields. It returns nil when the
// template cannot describe a record (no bytes at all) or has more than maxFields fields.
func compile(scopes, fields []netflow.Field, options, v9 bool, maxFields int) *template {
	t := &template{options: options, offSrc4: -1, offSrc6: -1, offIf: -1, offBytes: -1, offPkts: -1, offRate: -1, offSampler: -1}
	haveDelta := [2]bool{}
	add := func(list []netflow.Field, scope bool) {
		for _, f := range list {
			if f.Length == 0 {
				continue
			}
			k := kindOf(f, scope, v9)
			if k == kBytes {
				haveDelta[0] = true
			}
			if k == kPackets {
				haveDelta[1] = true
			}
			t.fields = append(t.fields, field{length: f.Length, kind: k})
		}
	}
	add(scopes, true)
	add(fields, false)
	if len(t.fields) == 0 || len(t.fields) > maxFields {
		return nil
	}
	// total counters only when the template has no delta counter (RFC 7012: a flow
	// carries one or the other); a second field of a kind is ignored
	seen := map[uint8]bool{}
	off := 0
	for i := range t.fields {
		f := &t.fields[i]
		switch {
		case f.kind == kBytesTotal && haveDelta[0], f.kind == kPacketsTotal && haveDelta[1]:
			f.kind = kSkip
		case f.kind == kBytesTotal:
			f.kind = kBytes
		case f.kind == kPacketsTotal:
			f.kind = kPackets
		}
		if f.kind != kSkip && seen[f.kind] {
			f.kind = kSkip
		}
		seen[f.kind] = true
		if f.length == varLength {
			t.hasVar = true
			t.minSize++
			continue
		}
		t.fixed += int(f.length)
		t.minSize += int(f.length)
		if t.hasVar {
			continue
		}
		l := int(f.length)
		switch f.kind {
		case kSrc4:
			t.offSrc4 = off
		case kSrc6:
			t.offSrc6 = off
		case kInIf:
			t.offIf, t.lenIf = off, l
		case kBytes:
			t.offBytes, t.lenBytes = off, l
		case kPackets:
			t.offPkts, t.lenPkts = off, l
		case kRate:
			t.offRate, t.lenRate = off, l
		case kSampler:
			t.offSampler, t.lenSampler = off, l
		}
		off += l
	}
	if t.minSize == 0 {
		return nil
	}
	return t
}

// uintN reads a big-endian unsigned integer of 1 to 8 bytes (RFC 7011 §6.2 reduced-size
// encoding).
func uintN(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	case 8:
		return binary.BigEndian.Uint64(b)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// values is what one data record says.
type values struct {
	src4      [4]byte
	src6      [16]byte
	has4      bool
	has6      bool
	inIf      uint64
	bytes     uint64
	packets   uint64
	rate      uint64
	space     uint64
	sampler   uint64
	hasRate   bool
	hasSpace  bool
	hasSample bool
}

// next reads one record from b, returning the bytes it used, or 0 when b holds no whole
// record (the rest of a set is then padding or truncated).
func (t *template) next(b []byte, v *values) int {
	if len(b) < t.minSize {
		return 0
	}
	*v = values{}
	if !t.hasVar {
		r := b[:t.fixed]
		if t.offSrc4 >= 0 {
			v.src4, v.has4 = [4]byte(r[t.offSrc4:t.offSrc4+4]), true
		}
		if t.offSrc6 >= 0 {
			v.src6, v.has6 = [16]byte(r[t.offSrc6:t.offSrc6+16]), true
		}
		if t.offIf >= 0 {
			v.inIf = uintN(r[t.offIf : t.offIf+t.lenIf])
		}
		if t.offBytes >= 0 {
			v.bytes = uintN(r[t.offBytes : t.offBytes+t.lenBytes])
		}
		if t.offPkts >= 0 {
			v.packets = uintN(r[t.offPkts : t.offPkts+t.lenPkts])
		}
		if t.options || t.offRate >= 0 || t.offSampler >= 0 {
			t.scan(r, v)
		}
		return t.fixed
	}
	return t.scan(b, v)
}

// scan walks the fields one by one: the path for variable-length fields and options
// records.
func (t *template) scan(b []byte, v *values) int {
	off := 0
	for _, f := range t.fields {
		l := int(f.length)
		if f.length == varLength {
			if off >= len(b) {
				return 0
			}
			l = int(b[off])
			off++
			if l == 255 {
				if off+2 > len(b) {
					return 0
				}
				l = int(binary.BigEndian.Uint16(b[off:]))
				off += 2
			}
		}
		if off+l > len(b) {
			return 0
		}
		val := b[off : off+l]
		off += l
		switch f.kind {
		case kSrc4:
			if l == 4 {
				v.src4, v.has4 = [4]byte(val), true
			}
		case kSrc6:
			if l == 16 {
				v.src6, v.has6 = [16]byte(val), true
			}
		case kInIf:
			if l <= 8 {
				v.inIf = uintN(val)
			}
		case kBytes:
			if l <= 8 {
				v.bytes = uintN(val)
			}
		case kPackets:
			if l <= 8 {
				v.packets = uintN(val)
			}
		case kRate:
			if l <= 8 {
				v.rate, v.hasRate = uintN(val), true
			}
		case kSpace:
			if l <= 8 {
				v.space, v.hasSpace = uintN(val), true
			}
		case kSampler:
			if l <= 8 {
				v.sampler, v.hasSample = uintN(val), true
			}
		}
	}
	if off == 0 {
		return 0
	}
	return off
}

// source is the record's source address. Some templates (Cisco, Huawei, akvorado's
// physical-interfaces sample) carry both sourceIPv4Address and sourceIPv6Address and
// fill only one; the other is all zeros.
func (v *values) source() (netip.Addr, bool) {
	switch {
	case v.has4 && (v.src4 != [4]byte{} || !v.has6 || v.src6 == [16]byte{}):
		return netip.AddrFrom4(v.src4), true
	case v.has6:
		return netip.AddrFrom16(v.src6).Unmap(), true
	}
	return netip.Addr{}, false
}

// rateFrom is the sampling rate an options or data record states: samplingInterval,
// samplerRandomInterval or samplingPacketInterval alone give the rate (1 out of N, as
// routers export them); samplingPacketInterval with samplingPacketSpace gives
// (interval+space)/interval (RFC 7270 §5.2.3).
func (v *values) rateFrom() (uint32, bool) {
	if !v.hasRate && !v.hasSpace {
		return 0, false
	}
	r := v.rate
	if v.hasSpace {
		if r == 0 {
			r = 1
		}
		r = (r + v.space) / r
	}
	if r > 1<<31 {
		r = 1 << 31
	}
	return uint32(r), r > 0
}

// parseTemplateRecord hands one template record (already bounds-checked) to goflow2's
// parser and compiles it.
func parseTemplateRecord(version uint16, setID uint16, rec []byte, maxFields int) (uint16, *template, bool) {
	buf := bytes.NewBuffer(rec)
	v9 := version == 9
	switch {
	case setID == 0 || setID == 2:
		rs, err := netflow.DecodeTemplateSet(version, buf)
		if err != nil || len(rs) != 1 {
			return 0, nil, false
		}
		return rs[0].TemplateId, compile(nil, rs[0].Fields, false, v9, maxFields), true
	case setID == 1:
		rs, err := netflow.DecodeNFv9OptionsTemplateSet(buf)
		if err != nil || len(rs) != 1 {
			return 0, nil, false
		}
		return rs[0].TemplateId, compile(rs[0].Scopes, rs[0].Options, true, v9, maxFields), true
	case setID == 3:
		rs, err := netflow.DecodeIPFIXOptionsTemplateSet(buf)
		if err != nil || len(rs) != 1 {
			return 0, nil, false
		}
		return rs[0].TemplateId, compile(rs[0].Scopes, rs[0].Options, true, v9, maxFields), true
	}
	return 0, nil, false
}
