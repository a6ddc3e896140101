package mrt

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// BGP path attribute type codes (RFC 4271 §5, RFC 4760, RFC 6793, RFC 8092).
const (
	attrOrigin          = 1
	attrASPath          = 2
	attrNextHop         = 3
	attrMED             = 4
	attrLocalPref       = 5
	attrAtomicAggregate = 6
	attrAggregator      = 7
	attrCommunities     = 8
	attrMPReach         = 14
	attrMPUnreach       = 15
	attrAS4Path         = 17
	attrAS4Aggregator   = 18
	attrLargeCommunity  = 32
)

// AS path segment types (RFC 4271, RFC 5065).
const (
	SegSet         = 1
	SegSequence    = 2
	SegConfedSeq   = 3
	SegConfedSet   = 4
	asTrans        = 23456
	maxASPathWords = 1 << 16 // more ASNs than any real path: corruption
)

// Segment is one AS path segment.
type Segment struct {
	Type uint8
	ASNs []uint32
}

// Attrs are the decoded path attributes of one UPDATE or RIB entry that the report
// and the `bgpdump -m` rendering use. Unknown attributes are skipped.
type Attrs struct {
	HasASPath bool
	// Path is the AS path; for 2-byte sessions already merged with AS4_PATH
	// (RFC 6793 §4.2.3).
	Path []Segment
	// Origin is ORIGIN (0 IGP, 1 EGP, 2 INCOMPLETE); HasOrigin is false without one.
	HasOrigin bool
	Origin    uint8
	NextHop   netip.Addr // NEXT_HOP; invalid when absent
	// MPReach reports an MP_REACH_NLRI attribute; MPAFI/MPSAFI are its address family
	// (for the abbreviated TABLE_DUMP_V2 form, RFC 6396 §4.3.4, MPAbbrev is set and the
	// family is the RIB's) and MPNextHop its first next hop (MPNextHopLen 4, 16 or 32).
	MPReach      bool
	MPAbbrev     bool
	MPAFI        uint16
	MPSAFI       uint8
	MPNextHop    netip.Addr
	MPNextHopLen int
	HasLocalPref bool
	LocalPref    uint32
	HasMED       bool
	MED          uint32
	// Communities are RFC 1997 communities as 32-bit values; HasCommunities tells an
	// empty attribute from none.
	HasCommunities   bool
	Communities      []uint32
	LargeCommunities [][3]uint32
	AtomicAggregate  bool
	HasAggregator    bool
	AggregatorAS     uint32
	AggregatorAddr   netip.Addr

	// NLRI carried inside the attributes (BGP4MP only).
	mpAnnounce, mpWithdraw []nlri
}

// nlri is one prefix with its ADD-PATH identifier.
type nlri struct {
	p      netip.Prefix
	pathID uint32
}

// OriginAS returns the last AS of a final AS_SEQUENCE (see Route.OriginAS).
func (a *Attrs) OriginAS() (uint32, bool) {
	if len(a.Path) == 0 {
		return 0, false
	}
	last := a.Path[len(a.Path)-1]
	if last.Type != SegSequence || len(last.ASNs) == 0 {
		return 0, false
	}
	return last.ASNs[len(last.ASNs)-1], true
}

// Flat returns the AS path as a flat list (sets and confederation segments included in
// order), for display and path analysis.
func (a *Attrs) Flat() []uint32 {
	n := 0
	for _, s := range a.Path {
		n += len(s.ASNs)
	}
	out := make([]uint32, 0, n)
	for _, s := range a.Path {
		out = append(out, s.ASNs...)
	}
	return out
}

// attrContext says how to read attributes: AS number size, ADD-PATH NLRI, and whether
// MP_REACH may be the abbreviated TABLE_DUMP_V2 form.
type attrContext struct {
	as4     bool
	addPath bool
	rib     bool
	ribAFI  uint16
}

// parseAttrs decodes a path attribute block.
func parseAttrs(b []byte, ctx attrContext) (*Attrs, error) {
	a := &Attrs{}
	var as4Path []Segment
	var hasAS4Path, hasAS4Agg bool
	var as4AggAS uint32
	var as4AggAddr netip.Addr
	c := cursor{b: b}
	for len(c.b) > 0 && c.err == nil {
		flags := c.u8("attribute flags")
		typ := c.u8("attribute type")
		var n int
		if flags&0x10 != 0 {
			n = int(c.u16("attribute length"))
		} else {
			n = int(c.u8("attribute length"))
		}
		v := c.take(n, fmt.Sprintf("attribute %d", typ))
		if c.err != nil {
			break
		}
		var err error
		switch typ {
		case attrOrigin:
			if len(v) != 1 {
				err = fmt.Errorf("ORIGIN length %d", len(v))
				break
			}
			a.HasOrigin, a.Origin = true, v[0]
		case attrASPath:
			a.HasASPath = true
			a.Path, err = parseASPath(v, ctx.as4)
		case attrNextHop:
			if len(v) != 4 {
				err = fmt.Errorf("NEXT_HOP length %d", len(v))
				break
			}
			a.NextHop = netip.AddrFrom4([4]byte(v))
		case attrMED:
			if len(v) != 4 {
				err = fmt.Errorf("MULTI_EXIT_DISC length %d", len(v))
				break
			}
			a.HasMED, a.MED = true, binary.BigEndian.Uint32(v)
		case attrLocalPref:
			if len(v) != 4 {
				err = fmt.Errorf("LOCAL_PREF length %d", len(v))
				break
			}
			a.HasLocalPref, a.LocalPref = true, binary.BigEndian.Uint32(v)
		case attrAtomicAggregate:
			a.AtomicAggregate = true
		case attrAggregator:
			switch len(v) {
			case 6:
				a.AggregatorAS = uint32(binary.BigEndian.Uint16(v))
				a.AggregatorAddr = netip.AddrFrom4([4]byte(v[2:6]))
			case 8:
				a.AggregatorAS = binary.BigEndian.Uint32(v)
				a.AggregatorAddr = netip.AddrFrom4([4]byte(v[4:8]))
			default:
				err = fmt.Errorf("AGGREGATOR length %d", len(v))
			}
			a.HasAggregator = err == nil
		case attrCommunities:
			if len(v)%4 != 0 {
				err = fmt.Errorf("COMMUNITIES length %d", len(v))
				break
			}
			a.HasCommunities = true
			a.Communities = make([]uint32, len(v)/4)
			for i := range a.Communities {
				a.Communities[i] = binary.BigEndian.Uint32(v[4*i:])
			}
		case attrLargeCommunity:
			if len(v)%12 != 0 {
				err = fmt.Errorf("LARGE_COMMUNITY length %d", len(v))
				break
			}
			for i := 0; i < len(v); i += 12 {
				a.LargeCommunities = append(a.LargeCommunities, [3]uint32{
					binary.BigEndian.Uint32(v[i:]), binary.BigEndian.Uint32(v[i+4:]), binary.BigEndian.Uint32(v[i+8:])})
			}
		case attrMPReach:
			err = a.parseMPReach(v, ctx)
		case attrMPUnreach:
			err = a.parseMPUnreach(v, ctx)
		case attrAS4Path:
			hasAS4Path = true
			as4Path, err = parseASPath(v, true)
		case attrAS4Aggregator:
			if len(v) != 8 {
				err = fmt.Errorf("AS4_AGGREGATOR length %d", len(v))
				break
			}
			hasAS4Agg = true
			as4AggAS = binary.BigEndian.Uint32(v)
			as4AggAddr = netip.AddrFrom4([4]byte(v[4:8]))
		}
		if err != nil {
			return nil, err
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	if !ctx.as4 {
		// RFC 6793 §4.2.3: a 2-byte speaker's AS_PATH holds AS_TRANS where a 4-byte AS
		// was; AS4_PATH carries the real numbers for the trailing part of the path.
		if hasAS4Agg && a.HasAggregator && a.AggregatorAS == asTrans {
			a.AggregatorAS, a.AggregatorAddr = as4AggAS, as4AggAddr
		}
		if hasAS4Path && a.HasASPath {
			a.Path = mergeAS4(a.Path, as4Path)
		}
	}
	return a, nil
}

// parseASPath decodes AS_PATH / AS4_PATH segments.
func parseASPath(v []byte, as4 bool) ([]Segment, error) {
	size := 2
	if as4 {
		size = 4
	}
	var out []Segment
	c := cursor{b: v}
	total := 0
	for len(c.b) > 0 {
		t := c.u8("segment type")
		n := int(c.u8("segment length"))
		raw := c.take(n*size, "segment")
		if c.err != nil {
			return nil, fmt.Errorf("AS path: %w", c.err)
		}
		if t < SegSet || t > SegConfedSet {
			return nil, fmt.Errorf("AS path: segment type %d", t)
		}
		if total += n; total > maxASPathWords {
			return nil, fmt.Errorf("AS path: more than %d ASNs", maxASPathWords)
		}
		s := Segment{Type: t, ASNs: make([]uint32, n)}
		for i := range s.ASNs {
			if as4 {
				s.ASNs[i] = binary.BigEndian.Uint32(raw[4*i:])
			} else {
				s.ASNs[i] = uint32(binary.BigEndian.Uint16(raw[2*i:]))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// pathCount counts a path as RFC 6793 does: a set (or confederation set) counts one.
func pathCount(p []Segment) int {
	n := 0
	for _, s := range p {
		if s.Type == SegSet || s.Type == SegConfedSet {
			n++
		} else {
			n += len(s.ASNs)
		}
	}
	return n
}

// mergeAS4 rebuilds the path: the leading (count(AS_PATH) − count(AS4_PATH)) ASes of
// AS_PATH followed by AS4_PATH; an AS4_PATH longer than AS_PATH is ignored (RFC 6793
// §4.2.3). Whole segments are copied until the count is reached, a sequence cut short,
// as bgpdump does.
func mergeAS4(path, as4 []Segment) []Segment {
	pc, nc := pathCount(path), pathCount(as4)
	if pc < nc {
		return path
	}
	keep := pc - nc
	var out []Segment
	count := 0
	for _, s := range path {
		if count >= keep {
			break
		}
		seg := Segment{Type: s.Type, ASNs: append([]uint32(nil), s.ASNs...)}
		if s.Type == SegSet || s.Type == SegConfedSet {
			count++
		} else {
			count += len(s.ASNs)
			if count > keep {
				seg.ASNs = seg.ASNs[:len(seg.ASNs)-(count-keep)]
			}
		}
		out = append(out, seg)
	}
	return append(out, as4...)
}

// parseMPReach decodes MP_REACH_NLRI (RFC 4760 §3), or its abbreviated TABLE_DUMP_V2
// form (next hop length and next hop only): a full attribute starts with the AFI, whose
// first byte is 0 for every defined family.
func (a *Attrs) parseMPReach(v []byte, ctx attrContext) error {
	a.MPReach = true
	c := cursor{b: v}
	if ctx.rib && len(v) > 0 && v[0] != 0 {
		a.MPAbbrev, a.MPAFI, a.MPSAFI = true, ctx.ribAFI, 1
		nhl := int(c.u8("MP next hop length"))
		nh := c.take(nhl, "MP next hop")
		if c.err != nil {
			return c.err
		}
		a.setMPNextHop(nh)
		return nil
	}
	a.MPAFI = c.u16("MP AFI")
	a.MPSAFI = c.u8("MP SAFI")
	nhl := int(c.u8("MP next hop length"))
	nh := c.take(nhl, "MP next hop")
	c.u8("MP reserved")
	if c.err != nil {
		return c.err
	}
	a.setMPNextHop(nh)
	if ctx.rib || a.MPSAFI < 1 || a.MPSAFI > 3 {
		// A RIB entry's prefix is in the RIB record, not here; other SAFIs (labelled,
		// VPN, flowspec) are not plain prefixes.
		return nil
	}
	var err error
	a.mpAnnounce, err = parseNLRI(c.b, a.MPAFI, ctx.addPath)
	return err
}

func (a *Attrs) setMPNextHop(nh []byte) {
	a.MPNextHopLen = len(nh)
	switch len(nh) {
	case 4:
		a.MPNextHop = netip.AddrFrom4([4]byte(nh))
	case 16, 32:
		a.MPNextHop = netip.AddrFrom16([16]byte(nh[:16]))
	}
}

// parseMPUnreach decodes MP_UNREACH_NLRI (RFC 4760 §4).
func (a *Attrs) parseMPUnreach(v []byte, ctx attrContext) error {
	c := cursor{b: v}
	afi := c.u16("MP_UNREACH AFI")
	safi := c.u8("MP_UNREACH SAFI")
	if c.err != nil {
		return c.err
	}
	if safi < 1 || safi > 3 {
		return nil
	}
	var err error
	a.mpWithdraw, err = parseNLRI(c.b, afi, ctx.addPath)
	return err
}

// parseNLRI decodes a list of prefixes of address family afi (1 IPv4, 2 IPv6; others
// are skipped), each preceded by a path identifier when addPath is set.
func parseNLRI(b []byte, afi uint16, addPath bool) ([]nlri, error) {
	if afi != 1 && afi != 2 {
		return nil, nil
	}
	c := cursor{b: b}
	var out []nlri
	for len(c.b) > 0 {
		var id uint32
		if addPath {
			id = c.u32("path identifier")
		}
		p := c.prefix(afi == 2, "NLRI")
		if c.err != nil {
			return nil, c.err
		}
		out = append(out, nlri{p: p, pathID: id})
	}
	return out, nil
}
