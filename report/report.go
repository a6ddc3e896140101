// Package report computes the MANRS readiness report of an ASN or a customer cone:
// what the IRR and RPKI publish for it, what is announced (from MRT or prefix tables,
// package mrt), the Observatory-style figures per origin ASN, the conflicts between
// IRR, RPKI and the routing table, the Action 3 contact data, and the size of the
// filter the cone would get today. The figures follow the MANRS Observatory
// definitions (../shared/reference/anchors.md §6.3): m7irr = 100 × (exact + covered) /
// announced, m7rpki = max(0, 100 × (valid − 10 × invalid) / announced).
package report

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/mrt"
	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// IRR states of an announced (prefix, origin).
const (
	IRRExact       = "exact"        // a route object with the same prefix and origin
	IRRCovered     = "covered"      // a less-specific route object with the same origin
	IRROtherOrigin = "other-origin" // route objects exist for it, only with other origins
	IRRNone        = "none"
)

// Options are the inputs of Build.
type Options struct {
	Objects []string
	Q       irr.Querier
	// Index, when the IRR data is local, answers other-origin lookups and aut-num
	// contact checks; nil for a remote whois source (those parts are then empty).
	Index *irr.Index
	Res   *irr.Resolver
	RPKI  *rpki.Table // nil: no RPKI data (RPKI states all not-found)
	// Announcements are what the routing table shows (any order, duplicates allowed).
	Announcements []mrt.Announcement
	// PeeringDB are net records keyed by ASN (see LoadPeeringDB); nil when not given.
	PeeringDB map[routing.ASN]peeringdb.Net
	// Filter, when set, returns the number of entries the cone's prefix filter has per
	// family today (4 and 6) under the configured RPKI policy (the CLI builds it with
	// policy.BuildPrefixFilter as prefix-list does).
	Filter func(ctx context.Context, family int) (int, error)
	// Drops is the hook for "which announced routes the filter drops and by which
	// rule": it needs the explain model (policy/explain, in progress elsewhere); when
	// nil the report's Filter.Drops stays empty.
	Drops func(ctx context.Context, announced []Route) ([]Drop, error)
}

// Route is one announced (prefix, origin) with its states.
type Route struct {
	Prefix netip.Prefix `json:"prefix"`
	Origin routing.ASN  `json:"origin"`
	IRR    string       `json:"irr"`
	RPKI   string       `json:"rpki"`
}

// Origin holds the figures of one origin ASN of the cone (JSON names from issue 11).
type Origin struct {
	ASN            routing.ASN `json:"asn"`
	Announced      int         `json:"announced"`
	IRRExact       int         `json:"irr_exact"`
	IRRCovered     int         `json:"irr_covered"`
	IRROtherOrigin int         `json:"irr_other_origin"`
	IRRNone        int         `json:"irr_none"`
	RPKIValid      int         `json:"rpki_valid"`
	RPKIInvalid    int         `json:"rpki_invalid"`
	RPKINotFound   int         `json:"rpki_not_found"`
	M7IRR          float64     `json:"m7irr"`
	M7RPKI         float64     `json:"m7rpki"`
	Routes         []Route     `json:"routes,omitempty"`
}

// Conflict is one disagreement between IRR, RPKI and the routing table.
type Conflict struct {
	Kind   string       `json:"kind"`
	Prefix netip.Prefix `json:"prefix"`
	Origin routing.ASN  `json:"origin"`
	Detail string       `json:"detail,omitempty"`
}

// Conflict kinds.
const (
	ConflictRouteInvalid = "route-object-rpki-invalid"
	ConflictROANoRoute   = "roa-without-route-object"
	ConflictNeither      = "announced-without-irr-or-roa"
	ConflictMaxLength    = "longer-than-roa-maxlength"
	ConflictNotAnnounced = "route-object-not-announced"
)

// Contact is the Action 3 data of one ASN.
type Contact struct {
	ASN     routing.ASN    `json:"asn"`
	AutNum  bool           `json:"aut_num"`
	AdminC  bool           `json:"admin_c"`
	TechC   bool           `json:"tech_c"`
	AbuseC  bool           `json:"abuse_c"`
	MntBy   bool           `json:"mnt_by"`
	Source  string         `json:"source,omitempty"`
	PDB     *peeringdb.Net `json:"peeringdb,omitempty"`
	Missing []string       `json:"missing,omitempty"`
}

// Drop is an announced route the filter would reject and the rule that rejects it.
type Drop struct {
	Route Route  `json:"route"`
	Rule  string `json:"rule"`
}

// FilterInfo is the filter the cone would get today.
type FilterInfo struct {
	IPv4  int    `json:"ipv4_entries"`
	IPv6  int    `json:"ipv6_entries"`
	Drops []Drop `json:"drops,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Report is the whole result.
type Report struct {
	Title     string     `json:"title"`
	Objects   []string   `json:"objects"`
	ConeASNs  int        `json:"cone_asns"`
	Origins   []Origin   `json:"origins"`
	Totals    Origin     `json:"totals"`
	Conflicts []Conflict `json:"conflicts"`
	Contacts  []Contact  `json:"contacts"`
	Filter    FilterInfo `json:"filter"`
	Warnings  []string   `json:"warnings,omitempty"`
}

type po struct {
	p netip.Prefix
	o routing.ASN
}

// Build computes the report.
func Build(ctx context.Context, opt Options) (*Report, error) {
	exp, err := opt.Res.Expand(ctx, opt.Objects...)
	if err != nil {
		return nil, fmt.Errorf("report: expanding %s: %w", strings.Join(opt.Objects, " "), err)
	}
	rep := &Report{Title: "MANRS readiness: " + strings.Join(opt.Objects, " "), Objects: opt.Objects, ConeASNs: len(exp.ASNs)}
	for _, m := range exp.Missing {
		rep.Warnings = append(rep.Warnings, "missing set "+m.Name)
	}
	cone := make(map[routing.ASN]bool, len(exp.ASNs))
	for _, a := range exp.ASNs {
		cone[a] = true
	}
	// Route objects of the cone, per origin.
	objs := make(map[po]bool)
	for _, v6 := range []bool{false, true} {
		lists, err := opt.Q.Routes(ctx, nil, exp.ASNs, v6)
		if err != nil {
			return nil, fmt.Errorf("report: route objects: %w", err)
		}
		for i, l := range lists {
			for _, p := range l {
				objs[po{p, exp.ASNs[i]}] = true
			}
		}
	}
	// Announced pairs of the cone.
	announced := make(map[po]bool)
	for _, a := range opt.Announcements {
		if o := routing.ASN(a.Origin); cone[o] {
			announced[po{a.Prefix, o}] = true
		}
	}
	byOrigin := make(map[routing.ASN]*Origin)
	var all []Route
	for k := range announced {
		r := Route{Prefix: k.p, Origin: k.o, IRR: irrState(opt, objs, k), RPKI: routing.NotFound.String()}
		if opt.RPKI != nil {
			r.RPKI = opt.RPKI.State(k.p, k.o).String()
		}
		all = append(all, r)
	}
	slices.SortFunc(all, compareRoute)
	for _, r := range all {
		o := byOrigin[r.Origin]
		if o == nil {
			o = &Origin{ASN: r.Origin}
			byOrigin[r.Origin] = o
		}
		o.Routes = append(o.Routes, r)
		count(o, r)
		count(&rep.Totals, r)
		switch {
		case r.IRR == IRRNone && r.RPKI == routing.NotFound.String():
			rep.Conflicts = append(rep.Conflicts, Conflict{Kind: ConflictNeither, Prefix: r.Prefix, Origin: r.Origin})
		case r.RPKI == routing.Invalid.String():
			if d := maxLengthDetail(opt.RPKI, r); d != "" {
				rep.Conflicts = append(rep.Conflicts, Conflict{Kind: ConflictMaxLength, Prefix: r.Prefix, Origin: r.Origin, Detail: d})
			}
		}
	}
	for _, o := range byOrigin {
		finish(o)
		rep.Origins = append(rep.Origins, *o)
	}
	slices.SortFunc(rep.Origins, func(a, b Origin) int { return int(int64(a.ASN) - int64(b.ASN)) })
	rep.Totals.ASN = 0
	finish(&rep.Totals)
	rep.Totals.Routes = nil
	rep.Conflicts = append(rep.Conflicts, objectConflicts(opt, cone, objs, announced)...)
	slices.SortStableFunc(rep.Conflicts, func(a, b Conflict) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return compareRoute(Route{Prefix: a.Prefix, Origin: a.Origin}, Route{Prefix: b.Prefix, Origin: b.Origin})
	})
	rep.Contacts = contacts(opt, exp.ASNs)
	if opt.Filter != nil {
		for _, fam := range []int{4, 6} {
			n, err := opt.Filter(ctx, fam)
			if err != nil {
				return nil, fmt.Errorf("report: IPv%d filter: %w", fam, err)
			}
			if fam == 4 {
				rep.Filter.IPv4 = n
			} else {
				rep.Filter.IPv6 = n
			}
		}
	}
	if opt.Drops != nil {
		if rep.Filter.Drops, err = opt.Drops(ctx, all); err != nil {
			return nil, fmt.Errorf("report: filter drops: %w", err)
		}
	} else {
		rep.Filter.Note = "per-route drop rules need the explain model (not wired yet)"
	}
	if rep.Conflicts == nil {
		rep.Conflicts = []Conflict{}
	}
	if rep.Origins == nil {
		rep.Origins = []Origin{}
	}
	return rep, nil
}

func compareRoute(a, b Route) int {
	if c := routing.ComparePrefix(a.Prefix, b.Prefix); c != 0 {
		return c
	}
	return int(int64(a.Origin) - int64(b.Origin))
}

// irrState classifies one announced pair against the route objects.
func irrState(opt Options, objs map[po]bool, k po) string {
	if objs[k] {
		return IRRExact
	}
	for b := k.p.Bits() - 1; b >= 0; b-- {
		q, _ := k.p.Addr().Prefix(b)
		if objs[po{q, k.o}] {
			return IRRCovered
		}
	}
	if opt.Index != nil && len(opt.Index.FindRoutes(nil, k.p, irr.AllLessSpecific)) > 0 {
		return IRROtherOrigin
	}
	return IRRNone
}

func count(o *Origin, r Route) {
	o.Announced++
	switch r.IRR {
	case IRRExact:
		o.IRRExact++
	case IRRCovered:
		o.IRRCovered++
	case IRROtherOrigin:
		o.IRROtherOrigin++
	default:
		o.IRRNone++
	}
	switch r.RPKI {
	case routing.Valid.String():
		o.RPKIValid++
	case routing.Invalid.String():
		o.RPKIInvalid++
	default:
		o.RPKINotFound++
	}
}

// finish computes the Observatory figures, rounded to two decimals.
func finish(o *Origin) {
	if o.Announced == 0 {
		return
	}
	n := float64(o.Announced)
	o.M7IRR = round2(100 * float64(o.IRRExact+o.IRRCovered) / n)
	o.M7RPKI = round2(max(0, 100*float64(o.RPKIValid-10*o.RPKIInvalid)/n))
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// maxLengthDetail names the ROA of the same origin that covers r but is shorter than it.
func maxLengthDetail(t *rpki.Table, r Route) string {
	if t == nil {
		return ""
	}
	for _, v := range t.Covering(r.Prefix) {
		if v.ASN == r.Origin && int(v.MaxLength) < r.Prefix.Bits() {
			return fmt.Sprintf("ROA %s maxLength %d", v.Prefix, v.MaxLength)
		}
	}
	return ""
}

// objectConflicts are the conflicts found from the published data side.
func objectConflicts(opt Options, cone map[routing.ASN]bool, objs, announced map[po]bool) []Conflict {
	var out []Conflict
	for k := range objs {
		if opt.RPKI != nil && opt.RPKI.State(k.p, k.o) == routing.Invalid {
			out = append(out, Conflict{Kind: ConflictRouteInvalid, Prefix: k.p, Origin: k.o})
		}
		if !announced[k] {
			out = append(out, Conflict{Kind: ConflictNotAnnounced, Prefix: k.p, Origin: k.o})
		}
	}
	if opt.RPKI != nil {
		for a := range cone {
			for _, v := range opt.RPKI.ByASN(a) {
				if !objs[po{v.Prefix, a}] {
					out = append(out, Conflict{Kind: ConflictROANoRoute, Prefix: v.Prefix, Origin: a,
						Detail: fmt.Sprintf("maxLength %d", v.MaxLength)})
				}
			}
		}
	}
	return out
}

// contacts checks the aut-num objects of the cone (Action 3).
func contacts(opt Options, asns []routing.ASN) []Contact {
	out := make([]Contact, 0, len(asns))
	for _, a := range asns {
		c := Contact{ASN: a}
		if opt.Index != nil {
			for _, o := range opt.Index.Lookup(nil, a.String()) {
				if o.Class != "aut-num" {
					continue
				}
				c.AutNum, c.Source = true, o.Source()
				c.AdminC, c.TechC = has(o, "admin-c"), has(o, "tech-c")
				c.AbuseC, c.MntBy = has(o, "abuse-c"), has(o, "mnt-by")
				break
			}
		}
		if p, ok := opt.PeeringDB[a]; ok {
			c.PDB = &p
		}
		for _, f := range []struct {
			ok   bool
			name string
		}{{c.AutNum, "aut-num"}, {c.AdminC, "admin-c"}, {c.TechC, "tech-c"}, {c.AbuseC, "abuse-c"}, {c.MntBy, "mnt-by"}} {
			if !f.ok {
				c.Missing = append(c.Missing, f.name)
			}
		}
		if opt.PeeringDB != nil && c.PDB == nil {
			c.Missing = append(c.Missing, "peeringdb")
		}
		out = append(out, c)
	}
	return out
}

func has(o *rpsl.Object, attr string) bool { return strings.TrimSpace(o.Get(attr)) != "" }
