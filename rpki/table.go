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

	"github.com/bgpfilter/bgpfilter/routing"
)

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

// Table holds VRPs in an interval index per family (rov_index.go) and ASPAs by
// customer AS. A Table is immutable after Build and safe for concurrent use.
type Table struct {
	ix4   *flatIndex // rov_index.go
	ix6   *flatIndex
	ents  []entry  // the VRPs of every group, in prefix order
	runs  []runEnt // the covering runs of both families (rov_runs.go)
	tas   []string
	perTA []int
	n4    int
	n6    int
	aspas map[routing.ASN]ASPA
	meta  Metadata

	byASNOnce sync.Once
	byASN     map[routing.ASN][]VRP
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
func (t *Table) ASPA(customer routing.ASN) (ASPA, bool) {
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

func (t *Table) vrpOf(p netip.Prefix, g group, e entry) VRP {
	cp, _ := p.Addr().Prefix(int(g.bits))
	return VRP{Prefix: cp, MaxLength: e.maxLen, ASN: e.asn, TA: t.tas[e.ta]}
}

// State returns the RFC 6811 state of the route p originated by origin. It does not
// allocate; a route is usually decided by the directory, a binary search in a cache
// line or two of keys and one interval record (rov_index.go, rov_runs.go). For many
// routes States is several times faster: it overlaps the lookups' cache misses. An
// origin of 0 stands for a route whose origin cannot be determined (AS_SET) and
// never matches.
func (t *Table) State(p netip.Prefix, origin routing.ASN) routing.ROVState {
	if a := p.Addr(); a.Is4() {
		if p.Bits() < 0 {
			return routing.NotFound // an invalid prefix
		}
		a4 := a.As4()
		return t.state4(binary.BigEndian.Uint32(a4[:]), uint8(p.Bits()), origin)
	}
	q := prepare(p)
	return t.state(&q, origin)
}

// ROV returns the RFC 6811 state of the route and the covering VRPs that decided it:
// the matching VRPs when valid, every covering VRP when invalid, none when not found.
func (t *Table) ROV(p netip.Prefix, origin routing.ASN) (routing.ROVState, []VRP) {
	var buf [16]group
	q := prepare(p)
	gs := t.groups(buf[:0], &q)
	bits := q.bits()
	st := t.decide(gs, bits, origin)
	var out []VRP
	for _, g := range gs {
		for _, e := range t.entries(g) {
			if st == routing.Valid && !matches(e, bits, origin) {
				continue
			}
			out = append(out, t.vrpOf(q.p, g, e))
		}
	}
	sortVRPs(out)
	return st, out
}

// Covering returns every VRP whose prefix equals or covers p, sorted.
func (t *Table) Covering(p netip.Prefix) []VRP {
	q := prepare(p)
	gs := t.groups(nil, &q)
	var out []VRP
	for _, g := range gs {
		for _, e := range t.entries(g) {
			out = append(out, t.vrpOf(q.p, g, e))
		}
	}
	sortVRPs(out)
	return out
}

// Validate implements policy.RouteValidator: the state and, as reasons, the deciding VRPs ("ROA 192.0.2.0/24-24 AS64496 (ta)").
func (t *Table) Validate(p netip.Prefix, origin routing.ASN) (routing.ROVState, []string) {
	st, vrps := t.ROV(p, origin)
	reasons := make([]string, 0, len(vrps))
	for _, v := range vrps {
		reasons = append(reasons, "ROA "+v.String())
	}
	return st, reasons
}

// VRPs returns every VRP: IPv4 before IPv6, then by address, prefix length, ASN,
// maxLength and trust anchor.
func (t *Table) VRPs() []VRP {
	out := make([]VRP, 0, t.n4+t.n6)
	for _, x := range []*flatIndex{t.ix4, t.ix6} {
		for i := range x.nodes {
			out = t.appendVRPs(out, x.prefix(i), []group{x.nodes[i].group()})
		}
	}
	sortVRPs(out)
	return out
}

// appendVRPs appends the VRPs of the groups on the node of prefix p.
func (t *Table) appendVRPs(out []VRP, p netip.Prefix, gs []group) []VRP {
	for _, g := range gs {
		for _, e := range t.entries(g) {
			out = append(out, VRP{Prefix: p, MaxLength: e.maxLen, ASN: e.asn, TA: t.tas[e.ta]})
		}
	}
	return out
}

// ByASN returns the VRPs whose ASN is asn, sorted. The index is built on first use.
func (t *Table) ByASN(asn routing.ASN) []VRP {
	t.byASNOnce.Do(func() {
		m := make(map[routing.ASN][]VRP)
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

func slicesSort(s []routing.ASN) { slices.Sort(s) }

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
