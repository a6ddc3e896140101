package mrt

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// This file renders a Route as one line of `bgpdump -m` (bgpdump 1.6) and parses such
// lines back. The rendering exists so that the decoder can be checked line for line
// against bgpdump's own output of the same files (mrt/expected in the shared data); it
// reproduces bgpdump's choices, including its quirks (which next hop a RIB line shows,
// "255.255.255.255" for a missing NEXT_HOP, zero for a missing LOCAL_PREF or MED).

var none4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// typeName is bgpdump's first column.
func (r *Route) typeName() string {
	switch r.Type {
	case TypeTableDump:
		return "TABLE_DUMP"
	case TypeTableDumpV2:
		if r.AddPath {
			return "TABLE_DUMP2_AP"
		}
		return "TABLE_DUMP2"
	}
	s := "BGP4MP"
	if r.Type == TypeBGP4MPET {
		s += "_ET"
	}
	if r.Local {
		s += "_LOCAL"
	}
	if r.AddPath {
		s += "_AP"
	}
	return s
}

// BgpdumpLine renders r as `bgpdump -m` does (without the newline).
func (r *Route) BgpdumpLine() string {
	var b strings.Builder
	b.WriteString(r.typeName())
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(r.Time, 10))
	if r.Type == TypeBGP4MPET {
		fmt.Fprintf(&b, ".%06d", r.Micro)
	}
	b.WriteByte('|')
	b.WriteString(r.Kind.String())
	fmt.Fprintf(&b, "|%s|%d|", r.PeerIP, r.PeerAS)
	if r.Kind == State {
		fmt.Fprintf(&b, "%d|%d", r.OldState, r.NewState)
		return b.String()
	}
	b.WriteString(r.Prefix.String())
	if r.Kind == Withdraw {
		if r.AddPath {
			fmt.Fprintf(&b, "|%d", r.PathID)
		}
		return b.String()
	}
	b.WriteByte('|')
	if r.AddPath {
		fmt.Fprintf(&b, "%d|", r.PathID)
	}
	a := r.Attrs
	nh, ok := r.bgpdumpNextHop()
	if ok {
		if a.HasASPath {
			b.WriteString(FormatPath(a.Path))
		}
		fmt.Fprintf(&b, "|%s|%s|%d|%d|", originName(a), nh, a.LocalPref, a.MED)
	}
	if a.HasCommunities {
		b.WriteString(formatCommunities(a.Communities))
	}
	b.WriteByte('|')
	if a.AtomicAggregate {
		b.WriteString("AG")
	} else {
		b.WriteString("NAG")
	}
	b.WriteByte('|')
	if a.HasAggregator && a.AggregatorAddr != none4 {
		fmt.Fprintf(&b, "%d %s", a.AggregatorAS, a.AggregatorAddr)
	}
	b.WriteByte('|')
	return b.String()
}

// bgpdumpNextHop picks the next hop bgpdump shows; ok is false when bgpdump omits the
// path/origin/next hop/local pref/MED columns (an MP next hop of odd length).
func (r *Route) bgpdumpNextHop() (netip.Addr, bool) {
	a := r.Attrs
	nextHop := a.NextHop
	if !nextHop.IsValid() {
		nextHop = none4
	}
	// bgpdump files the abbreviated MP_REACH of a RIB entry as IPv6 unicast, whatever
	// the RIB's family.
	mp6 := a.MPReach && (a.MPAbbrev || a.MPAFI == 2 && a.MPSAFI == 1)
	mp4 := a.MPReach && !a.MPAbbrev && a.MPAFI == 1 && a.MPSAFI == 1
	mpHop := func() (netip.Addr, bool) {
		switch a.MPNextHopLen {
		case 4, 16, 32:
			return a.MPNextHop, true
		}
		return netip.Addr{}, false
	}
	switch r.Type {
	case TypeTableDump:
		if mp6 && a.MPNextHopLen >= 16 {
			return a.MPNextHop, true
		}
		return nextHop, true
	case TypeTableDumpV2:
		if mp6 || mp4 {
			if h, ok := mpHop(); ok {
				return h, true
			}
		}
		return nextHop, true
	}
	// BGP4MP: prefixes from the NLRI field use NEXT_HOP, MP ones the MP next hop.
	if r.Prefix.Addr().Is4() && !r.fromMP() {
		return nextHop, true
	}
	return mpHop()
}

// fromMP reports whether an announced prefix came from MP_REACH_NLRI.
func (r *Route) fromMP() bool {
	a := r.Attrs
	if !a.MPReach {
		return false
	}
	for _, n := range a.mpAnnounce {
		if n.p == r.Prefix && n.pathID == r.PathID {
			return true
		}
	}
	return false
}

// originName is bgpdump's ORIGIN column; a missing ORIGIN reads as INCOMPLETE.
func originName(a *Attrs) string {
	if !a.HasOrigin {
		return "INCOMPLETE"
	}
	switch a.Origin {
	case 0:
		return "IGP"
	case 1:
		return "EGP"
	}
	return "INCOMPLETE"
}

func formatCommunities(cs []uint32) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		switch c {
		case 0xFFFFFF01:
			parts[i] = "no-export"
		case 0xFFFFFF02:
			parts[i] = "no-advertise"
		case 0xFFFFFF03:
			parts[i] = "local-AS"
		default:
			parts[i] = strconv.Itoa(int(c>>16)) + ":" + strconv.Itoa(int(c&0xFFFF))
		}
	}
	return strings.Join(parts, " ")
}

// FormatPath renders an AS path as bgpdump does: sequences space-separated, AS_SET
// as {a,b}, confederation sequences as (a b), confederation sets as [a,b].
func FormatPath(path []Segment) string {
	var b strings.Builder
	open := map[uint8]byte{SegSet: '{', SegConfedSet: '[', SegConfedSeq: '('}
	closer := map[uint8]byte{SegSet: '}', SegConfedSet: ']', SegConfedSeq: ')'}
	prev := uint8(SegSequence)
	space := false
	for _, s := range path {
		if prev != SegSequence {
			b.WriteByte(closer[prev])
		}
		if space {
			b.WriteByte(' ')
		}
		if s.Type != SegSequence {
			b.WriteByte(open[s.Type])
		}
		space = false
		for _, a := range s.ASNs {
			if space {
				if s.Type == SegSet || s.Type == SegConfedSet {
					b.WriteByte(',')
				} else {
					b.WriteByte(' ')
				}
			}
			space = true
			b.WriteString(strconv.FormatUint(uint64(a), 10))
		}
		prev = s.Type
	}
	if len(path) > 0 && prev != SegSequence {
		b.WriteByte(closer[prev])
	}
	return b.String()
}

// ParsePath parses an AS path as FormatPath writes it (and as bgpdump, bgpq4 and most
// route servers print it). Confederation segments are read as sequences/sets.
func ParsePath(s string) ([]Segment, error) {
	var out []Segment
	var cur *Segment
	flushSeq := func() {
		if cur != nil && len(cur.ASNs) > 0 {
			out = append(out, *cur)
		}
		cur = nil
	}
	rest := strings.TrimSpace(s)
	for rest != "" {
		switch rest[0] {
		case ' ':
			rest = rest[1:]
			continue
		case '{', '[', '(':
			flushSeq()
			end := map[byte]byte{'{': '}', '[': ']', '(': ')'}[rest[0]]
			typ := map[byte]uint8{'{': SegSet, '[': SegConfedSet, '(': SegConfedSeq}[rest[0]]
			j := strings.IndexByte(rest, end)
			if j < 0 {
				return nil, fmt.Errorf("AS path %q: unterminated %c", s, rest[0])
			}
			seg := Segment{Type: typ}
			for _, f := range strings.FieldsFunc(rest[1:j], func(r rune) bool { return r == ',' || r == ' ' }) {
				n, err := strconv.ParseUint(f, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("AS path %q: %q is not an AS number", s, f)
				}
				seg.ASNs = append(seg.ASNs, uint32(n))
			}
			out = append(out, seg)
			rest = rest[j+1:]
			continue
		}
		j := strings.IndexAny(rest, " {[(")
		if j < 0 {
			j = len(rest)
		}
		n, err := strconv.ParseUint(rest[:j], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("AS path %q: %q is not an AS number", s, rest[:j])
		}
		if cur == nil {
			cur = &Segment{Type: SegSequence}
		}
		cur.ASNs = append(cur.ASNs, uint32(n))
		rest = rest[j:]
	}
	flushSeq()
	return out, nil
}
