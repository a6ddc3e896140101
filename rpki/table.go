package rpki

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kentik/patricia"
	"github.com/kentik/patricia/generics_tree"
)

// tag is what the tries store per VRP. It is pointer-free so the GC never scans the
// tries' tag maps (reference go.md §1.1); Len is the VRP's own prefix length, which
// lets ROV rebuild the covering VRP's prefix from the route's address.
type tag struct {
	ASN    uint32
	Len    uint8
	MaxLen uint8
	TA     uint16
}

func tagEqual(a, b tag) bool { return a == b }

// Metadata describes where a Table's data came from.
type Metadata struct {
	// Source is the path or rtr:// address the data was read from.
	Source string
	// Format names the input format ("rpki-client-json", "routinator-csv", "rtr", ...).
	Format string
	// BuildTime is when the relying party produced the data (zero if unknown).
	BuildTime time.Time
	// Expired counts VRPs and ASPAs dropped because their expiry time had passed.
	Expired int
	// FilteredTA counts VRPs dropped by the trust-anchor allow-list.
	FilteredTA int
	// FilteredSLURM counts VRPs and ASPAs removed by SLURM filters; AddedSLURM
	// counts the assertions added.
	FilteredSLURM, AddedSLURM int
}

// Table holds VRPs in patricia tries (one per address family) and ASPAs by customer
// AS. A Table is immutable after Build and safe for concurrent use.
type Table struct {
	v4    *generics_tree.TreeV4[tag]
	v6    *generics_tree.TreeV6[tag]
	tas   []string
	perTA []int
	n4    int
	n6    int
	aspas map[uint32]ASPA
	meta  Metadata

	byASNOnce sync.Once
	byASN     map[uint32][]VRP
}

func key4(p netip.Prefix) patricia.IPv4Address {
	a := p.Addr().As4()
	return patricia.NewIPv4Address(binary.BigEndian.Uint32(a[:]), uint(p.Bits()))
}

func key6(p netip.Prefix) patricia.IPv6Address {
	a := p.Addr().As16()
	return patricia.IPv6Address{Left: binary.BigEndian.Uint64(a[:8]), Right: binary.BigEndian.Uint64(a[8:]), Length: uint(p.Bits())}
}

// Metadata returns where the data came from and what loading dropped.
func (t *Table) Metadata() Metadata { return t.meta }

// Len returns the number of IPv4 and IPv6 VRPs.
func (t *Table) Len() (v4, v6 int) { return t.n4, t.n6 }

// CountByTA returns the number of VRPs per trust anchor name.
func (t *Table) CountByTA() map[string]int {
	m := make(map[string]int, len(t.tas))
	for i, n := range t.perTA {
		if n > 0 {
			m[t.tas[i]] = n
		}
	}
	return m
}

// ASPA returns the ASPA of customer AS, if any.
func (t *Table) ASPA(customer uint32) (ASPA, bool) {
	a, ok := t.aspas[customer]
	return a, ok
}

// ASPAs returns every ASPA sorted by customer AS.
func (t *Table) ASPAs() []ASPA {
	out := make([]ASPA, 0, len(t.aspas))
	for _, a := range t.aspas {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b ASPA) int { return cmp.Compare(a.Customer, b.Customer) })
	return out
}

func (t *Table) vrpOf(p netip.Prefix, tg tag) VRP {
	cp, _ := p.Addr().Prefix(int(tg.Len))
	return VRP{Prefix: cp, MaxLength: tg.MaxLen, ASN: tg.ASN, TA: t.tas[tg.TA]}
}

// covering appends the tags of every VRP whose prefix covers p (p included).
func (t *Table) covering(buf []tag, p netip.Prefix) ([]tag, netip.Prefix, bool) {
	if !p.IsValid() {
		return buf, p, false
	}
	if a := p.Addr(); a.Is4In6() {
		// ::ffff:192.0.2.0/120 is the IPv4 route 192.0.2.0/24.
		if p.Bits() < 96 {
			return buf, p, false
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	if p.Addr().Is4() {
		return t.v4.FindTagsAppend(buf, key4(p)), p, true
	}
	return t.v6.FindTagsAppend(buf, key6(p)), p, true
}

func decide(tags []tag, bits int, origin uint32) State {
	if len(tags) == 0 {
		return NotFound
	}
	for _, tg := range tags {
		// RFC 6811 §2: a VRP matches when its ASN equals the origin and the route is
		// not longer than maxLength; AS0 VRPs (RFC 6483 §4) never match.
		if tg.ASN == origin && origin != 0 && bits <= int(tg.MaxLen) {
			return Valid
		}
	}
	return Invalid
}

// State returns the RFC 6811 state of the route p originated by origin. It does not
// allocate for routes covered by up to 16 VRPs. An origin of 0 stands for a route
// whose origin cannot be determined (AS_SET) and never matches.
func (t *Table) State(p netip.Prefix, origin uint32) State {
	var buf [16]tag
	tags, q, ok := t.covering(buf[:0], p)
	if !ok {
		return NotFound
	}
	return decide(tags, q.Bits(), origin)
}

// ROV returns the RFC 6811 state of the route and the covering VRPs that decided it:
// the matching VRPs when valid, every covering VRP when invalid, none when not found.
func (t *Table) ROV(p netip.Prefix, origin uint32) (State, []VRP) {
	var buf [16]tag
	tags, q, ok := t.covering(buf[:0], p)
	if !ok {
		return NotFound, nil
	}
	st := decide(tags, q.Bits(), origin)
	var out []VRP
	for _, tg := range tags {
		if st == Valid && !(tg.ASN == origin && q.Bits() <= int(tg.MaxLen)) {
			continue
		}
		out = append(out, t.vrpOf(q, tg))
	}
	sortVRPs(out)
	return st, out
}

// Covering returns every VRP whose prefix equals or covers p, sorted.
func (t *Table) Covering(p netip.Prefix) []VRP {
	tags, q, ok := t.covering(nil, p)
	if !ok {
		return nil
	}
	out := make([]VRP, 0, len(tags))
	for _, tg := range tags {
		out = append(out, t.vrpOf(q, tg))
	}
	sortVRPs(out)
	return out
}

// Validate implements policy.RouteValidator: the state as "valid", "invalid" or
// "not-found" and, as reasons, the deciding VRPs ("ROA 192.0.2.0/24-24 AS64496 (ta)").
func (t *Table) Validate(p netip.Prefix, origin uint32) (string, []string) {
	st, vrps := t.ROV(p, origin)
	reasons := make([]string, 0, len(vrps))
	for _, v := range vrps {
		reasons = append(reasons, "ROA "+v.String())
	}
	return st.String(), reasons
}

// VRPs returns every VRP: IPv4 before IPv6, then by address, prefix length, ASN,
// maxLength and trust anchor.
func (t *Table) VRPs() []VRP {
	out := make([]VRP, 0, t.n4+t.n6)
	var buf []tag
	it4 := t.v4.Iterate()
	for it4.Next() {
		k := it4.Address()
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], k.Address)
		p := netip.PrefixFrom(netip.AddrFrom4(a), int(k.Length))
		for _, tg := range it4.TagsWithBuffer(buf[:0]) {
			out = append(out, VRP{Prefix: p, MaxLength: tg.MaxLen, ASN: tg.ASN, TA: t.tas[tg.TA]})
		}
	}
	it6 := t.v6.Iterate()
	for it6.Next() {
		k := it6.Address()
		var a [16]byte
		binary.BigEndian.PutUint64(a[:8], k.Left)
		binary.BigEndian.PutUint64(a[8:], k.Right)
		p := netip.PrefixFrom(netip.AddrFrom16(a), int(k.Length))
		for _, tg := range it6.TagsWithBuffer(buf[:0]) {
			out = append(out, VRP{Prefix: p, MaxLength: tg.MaxLen, ASN: tg.ASN, TA: t.tas[tg.TA]})
		}
	}
	sortVRPs(out)
	return out
}

// ByASN returns the VRPs whose ASN is asn, sorted. The index is built on first use.
func (t *Table) ByASN(asn uint32) []VRP {
	t.byASNOnce.Do(func() {
		m := make(map[uint32][]VRP)
		for _, v := range t.VRPs() {
			m[v.ASN] = append(m[v.ASN], v)
		}
		t.byASN = m
	})
	return t.byASN[asn]
}

// compareVRP orders VRPs: IPv4 first, then address, length, ASN, maxLength, TA.
func compareVRP(a, b VRP) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ASN, b.ASN); c != 0 {
		return c
	}
	if c := cmp.Compare(a.MaxLength, b.MaxLength); c != 0 {
		return c
	}
	return cmp.Compare(a.TA, b.TA)
}

func sortVRPs(v []VRP) { slices.SortFunc(v, compareVRP) }

func slicesSort(s []uint32) { slices.Sort(s) }

// Summary is a one-line description of the table for logs.
func (t *Table) Summary() string {
	return fmt.Sprintf("%d IPv4 + %d IPv6 VRPs, %d ASPAs from %s (%s)", t.n4, t.n6, len(t.aspas), t.meta.Source, t.meta.Format) +
		func() string {
			if t.meta.BuildTime.IsZero() {
				return ""
			}
			return ", built " + t.meta.BuildTime.UTC().Format(time.RFC3339)
		}() + ", " + strconv.Itoa(t.meta.Expired) + " expired dropped"
}

func key4raw(r rec) patricia.IPv4Address {
	return patricia.NewIPv4Address(uint32(r.hi>>32), uint(r.bits))
}

func key6raw(r rec) patricia.IPv6Address {
	return patricia.IPv6Address{Left: r.hi, Right: r.lo, Length: uint(r.bits)}
}
