package policy

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// SessionSpec is everything the builder needs to know about one session, with every
// default already applied (package config produces it from the YAML file). It is
// vendor-neutral and holds no I/O handles.
type SessionSpec struct {
	// Name is the customer (or member) name: letters, digits, '_', starting with a
	// letter, at most 40 characters. Policy and object names are derived from it.
	Name        string
	LocalASN    routing.ASN
	RouterID    netip.Addr
	NeighborASN routing.ASN
	Role        Role
	// ASSets are the IRR objects of the customer cone; empty means the neighbour's
	// ASN alone.
	ASSets []string
	// ExtraPrefixes are added to the prefix set as given (no RPKI check: the operator
	// vouches for them); ExcludePrefixes remove every IRR/ROA input inside them.
	ExtraPrefixes   []routing.PrefixRange
	ExcludePrefixes []netip.Prefix
	// Neighbors are the session addresses of both families; each document gets those
	// of its family.
	Neighbors              []Neighbor
	MaxPrefix4, MaxPrefix6 MaxPrefix
	// Length4 and Length6 are the prefix-length rule's windows.
	Length4, Length6 LengthBounds
	// MaxLength4 and MaxLength6 drop route objects longer than this from the prefix
	// set (bgpq4 -m); 0 means the window's Max.
	MaxLength4, MaxLength6 int
	// AllowMoreSpecifics makes every entry permit its more-specifics up to the
	// window's Max (bgpq4 -R).
	AllowMoreSpecifics bool
	MaxPathLength      int
	RPKIPolicy         rpki.Policy
	// RTRCache, when valid, turns on run-time ROV on the router.
	RTRCache      netip.AddrPort
	OriginBinding bool
	// BogonASNs, BogonPrefixes4/6 and Peerlock are the rules' lists with the
	// configured exceptions already removed (DefaultBogonASNs, RemoveASNs, ...).
	// The builder removes the neighbour's own ASN from Peerlock.
	BogonASNs                      []ASNRange
	BogonPrefixes4, BogonPrefixes6 []BogonPrefix
	Peerlock                       []ASNRange
	// Disabled lists the rules the config switched off (accept cannot be).
	Disabled []RuleName
}

// ROASource answers the ROA questions of rpki_policy roa-add; *rpki.Table implements
// it.
type ROASource interface {
	ROAPrefixes(origin routing.ASN, v6 bool) []netip.Prefix
	ROAMaxLength(p netip.Prefix, origin routing.ASN) int
}

// Inputs are the data sources of a build. The caller (package pipeline) opens them;
// the builder only queries.
type Inputs struct {
	Querier  irr.Querier
	Resolver *irr.Resolver
	// Validator, when set, records the RPKI state of every entry and, unless the
	// policy is ignore, drops invalid route objects. nil: no RPKI data.
	Validator RouteValidator
	// ROAs, with rpki_policy roa-add, adds the ROA prefixes of every origin.
	ROAs ROASource
}

// Object name suffixes: NAME plus these give the helper objects of a document.
const (
	SuffixPrefixes  = "_PFX_V"      // + family: the prefix set
	SuffixOrigins   = "_ORIGINS"    // the origin ASN set
	SuffixBogonASNs = "_BOGON_ASNS" // bogon ASN ranges
	SuffixBogons    = "_BOGONS_V"   // + family: bogon prefixes
	SuffixPeerlock  = "_PEERLOCK"   // peerlock ASNs
)

func famName(name, suffix string, family int) string {
	return name + suffix + string(rune('0'+family))
}

// BuildSession builds the import documents of both families for spec. Warnings of the
// expansion (missing member sets, loops, dropped RPKI-invalid route objects, an empty
// prefix set) are in each Document's Warnings; an unknown root object or an IRR source
// that failed is an error, as for BuildPrefixFilter.
func BuildSession(ctx context.Context, in Inputs, spec SessionSpec) (*SessionDocuments, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("policy: session without a name: %w", ErrInvalidOption)
	}
	if in.Querier == nil || in.Resolver == nil {
		return nil, fmt.Errorf("policy: session %s: no IRR querier: %w", spec.Name, ErrInvalidOption)
	}
	objects := slices.Clone(spec.ASSets)
	if len(objects) == 0 {
		objects = []string{spec.NeighborASN.String()}
	}
	all := slices.Clone(objects)
	for _, pr := range spec.ExtraPrefixes {
		all = append(all, pr.String())
	}
	// One expansion serves the origin set and both families' prefix sets.
	exp, err := ExpandObjects(ctx, in.Resolver, all, false)
	if err != nil {
		return nil, fmt.Errorf("policy: session %s: %w", spec.Name, err)
	}
	origins, owarn := buildOrigins(exp.Expansion, spec.Name+SuffixOrigins, objects, spec.NeighborASN, len(spec.ExtraPrefixes))
	docs := &SessionDocuments{}
	for _, family := range []int{4, 6} {
		d, err := buildImport(ctx, in, spec, family, exp, origins)
		if err != nil {
			return nil, fmt.Errorf("policy: session %s: %w", spec.Name, err)
		}
		d.Warnings = sortedUnique(append(d.Warnings, owarn...))
		if family == 4 {
			docs.Import4 = d
		} else {
			docs.Import6 = d
		}
	}
	return docs, nil
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// buildOrigins takes the customer cone from the expansion of objects (plus extras
// literal prefixes, which add no ASN). AS 0 and AS_TRANS are never origins (they are
// bogons whatever the config says).
func buildOrigins(exp *irr.Expansion, name string, objects []string, neighbor routing.ASN, extras int) (ASNSet, []string) {
	var warnings []string
	set := ASNSet{Name: name, Objects: slices.Clone(objects), Paths: map[routing.ASN][]string{}}
	for _, a := range exp.ASNs {
		if a == 0 || a == 23456 {
			warnings = append(warnings, fmt.Sprintf("dropped reserved origin %s", a))
			continue
		}
		set.ASNs = append(set.ASNs, a)
		if p := exp.Paths[a]; len(p) > 0 {
			set.Paths[a] = p
		}
	}
	if !set.Contains(neighbor) {
		warnings = append(warnings, fmt.Sprintf("the neighbour %s is not in its own cone %v: routes it originates are rejected by the origin rule", neighbor, objects))
	}
	if n := len(exp.Prefixes) - extras; n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d route-set prefix members have no origin for the origin set", n))
	}
	return set, warnings
}

func buildImport(ctx context.Context, in Inputs, spec SessionSpec, family int, exp *Expanded, origins ASNSet) (*Document, error) {
	bounds, maxLen, limit, bogons := spec.Length4, spec.MaxLength4, spec.MaxPrefix4, spec.BogonPrefixes4
	if family == 6 {
		bounds, maxLen, limit, bogons = spec.Length6, spec.MaxLength6, spec.MaxPrefix6, spec.BogonPrefixes6
	}
	if maxLen == 0 {
		maxLen = bounds.Max
	}
	opt := Options{Name: famName(spec.Name, SuffixPrefixes, family), Family: family, MaxLength: maxLen,
		Validator: in.Validator, Exclude: spec.ExcludePrefixes, Expansion: exp}
	if spec.AllowMoreSpecifics {
		opt.MoreSpecifics = bounds.Max
	}
	if in.Validator != nil && spec.RPKIPolicy != rpki.PolicyIgnore {
		opt.DropInvalid = true
		if spec.RPKIPolicy == rpki.PolicyROAAdd && in.ROAs != nil {
			opt.ROAAdd, opt.ROAMaxLength = in.ROAs.ROAPrefixes, in.ROAs.ROAMaxLength
		}
	}
	all := exp.Objects
	f, err := BuildPrefixFilter(ctx, in.Querier, in.Resolver, all, opt)
	if err != nil {
		return nil, err
	}
	d := &Document{
		Name:      PolicyName(spec.Name, Import, family),
		Customer:  spec.Name,
		Direction: Import,
		Family:    family,
		Session: Session{LocalASN: spec.LocalASN, RouterID: spec.RouterID, NeighborASN: spec.NeighborASN,
			Role: spec.Role, MaxPrefix: limit, RPKIPolicy: spec.RPKIPolicy, RTRCache: spec.RTRCache,
			OriginBinding: spec.OriginBinding},
		Prefixes:      PrefixSet{Name: f.Name, Family: family, Objects: slices.Clone(all), Entries: f.Entries},
		Origins:       origins,
		BogonPrefixes: BogonPrefixSet{Name: famName(spec.Name, SuffixBogons, family), Family: family, Entries: slices.Clone(bogons)},
		BogonASNs:     ASNRangeSet{Name: spec.Name + SuffixBogonASNs, Ranges: slices.Clone(spec.BogonASNs)},
		Peerlock: ASNRangeSet{Name: spec.Name + SuffixPeerlock,
			Ranges: RemoveASNs(spec.Peerlock, []ASNRange{{From: spec.NeighborASN, To: spec.NeighborASN}})},
		PrefixLength:  bounds,
		MaxPathLength: spec.MaxPathLength,
		Warnings:      slices.Clone(f.Warnings),
	}
	for _, n := range spec.Neighbors {
		if n.Address.Is4() == (family == 4) {
			d.Session.Neighbors = append(d.Session.Neighbors, n)
		}
	}
	if len(f.Entries) == 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("empty IPv%d prefix filter: every route is rejected", family))
	}
	d.Rules = makeRules(importRules, spec.Disabled, d)
	return d, nil
}

// makeRules lists names as rules of d, with the notes that say how each applies.
func makeRules(names []RuleName, disabled []RuleName, d *Document) []Rule {
	rules := make([]Rule, 0, len(names))
	for _, n := range names {
		r := Rule{Name: n, Enabled: true, Action: Reject}
		if n == RuleAccept {
			r.Action = Accept
		} else if slices.Contains(disabled, n) {
			r.Enabled, r.Note = false, "disabled in the config"
		}
		if r.Enabled {
			switch n {
			case RuleRPKIInvalid:
				switch {
				case d.Session.RuntimeROV():
				case d.Session.RPKIPolicy == rpki.PolicyIgnore:
					r.Note = "no RTR cache and rpki_policy ignore: RPKI is not applied"
				default:
					r.Note = "no RTR cache: applied at generation time through the prefix set (rpki_policy " + d.Session.RPKIPolicy.String() + ")"
				}
			case RuleMaxPrefix:
				if d.Session.MaxPrefix.Limit == 0 {
					r.Note = "no limit configured"
				}
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// OwnPrefixes builds the operator's own prefix set of one family (config self: its
// AS-SETs, expanded like a customer's, and literal prefixes). name is the set's name.
func OwnPrefixes(ctx context.Context, in Inputs, name string, family int, asSets []string, prefixes []routing.PrefixRange, pol rpki.Policy) (PrefixSet, []string, error) {
	objects := slices.Clone(asSets)
	for _, pr := range prefixes {
		objects = append(objects, pr.String())
	}
	set := PrefixSet{Name: name, Family: family, Objects: objects}
	if len(objects) == 0 {
		return set, nil, nil
	}
	opt := Options{Name: name, Family: family, Validator: in.Validator}
	if in.Validator != nil && pol != rpki.PolicyIgnore {
		opt.DropInvalid = true
	}
	f, err := BuildPrefixFilter(ctx, in.Querier, in.Resolver, objects, opt)
	if err != nil {
		return PrefixSet{}, nil, fmt.Errorf("policy: own prefixes: %w", err)
	}
	set.Entries = f.Entries
	return set, f.Warnings, nil
}

// ExportDocument builds the export document of the session imp belongs to: announce
// only own (the operator's prefixes) and the union of the customers' import prefix
// sets (customers are import documents of imp's family; imp itself may be among
// them). Entries that several sets hold once are merged with their provenance.
func ExportDocument(imp *Document, own PrefixSet, customers []*Document) *Document {
	return ExportDocumentFrom(imp, NewExportSet(imp.Family, own, customers))
}

// ExportSet is the prefix set every export policy of one family announces: the own
// prefixes plus the union of the customers' import filters. It does not depend on the
// session, so a job with many sessions builds it once (NewExportSet) and shares it
// (ExportDocumentFrom): building it per session costs O(sessions²) for the same set.
type ExportSet struct {
	Family  int
	Objects []string
	Entries []Entry
}

// NewExportSet merges own and the import documents of customers of family (others
// and nil are skipped) into the shared export set.
func NewExportSet(family int, own PrefixSet, customers []*Document) *ExportSet {
	objects := []string{}
	if len(own.Objects) > 0 || len(own.Entries) > 0 {
		objects = append(objects, "self")
	}
	byRange := map[routing.PrefixRange]int{}
	var entries []Entry
	addAll := func(es []Entry) {
		for _, e := range es {
			if i, ok := byRange[e.PrefixRange]; ok {
				entries[i] = mergeEntry(entries[i], e)
				continue
			}
			byRange[e.PrefixRange] = len(entries)
			entries = append(entries, cloneEntry(e))
		}
	}
	addAll(own.Entries)
	for _, c := range customers {
		if c == nil || c.Family != family || c.Direction != Import {
			continue
		}
		objects = append(objects, c.Customer)
		addAll(c.Prefixes.Entries)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return routing.Compare(a.PrefixRange, b.PrefixRange) })
	return &ExportSet{Family: family, Objects: objects, Entries: entries}
}

// ExportDocumentFrom is the export document of imp's session announcing set. The
// document shares set's Objects and Entries (read-only, like every Document's).
func ExportDocumentFrom(imp *Document, set *ExportSet) *Document {
	d := &Document{
		Name:      PolicyName(imp.Customer, Export, imp.Family),
		Customer:  imp.Customer,
		Direction: Export,
		Family:    imp.Family,
		Session:   imp.Session,
	}
	d.Session.MaxPrefix = MaxPrefix{}
	d.Prefixes = PrefixSet{Name: ExportSetName(imp.Family), Family: imp.Family,
		Objects: set.Objects, Entries: set.Entries}
	if len(set.Entries) == 0 {
		d.Warnings = []string{fmt.Sprintf("empty IPv%d export filter: nothing is announced", imp.Family)}
	}
	d.Rules = makeRules(exportRules, nil, d)
	return d
}

func cloneEntry(e Entry) Entry {
	e.Origins, e.Sources, e.ROV, e.ROVReasons = slices.Clone(e.Origins), slices.Clone(e.Sources), slices.Clone(e.ROV), slices.Clone(e.ROVReasons)
	e.Paths = slices.Clone(e.Paths)
	return e
}

func mergeEntry(a, b Entry) Entry {
	a.Origins = mergeSorted(a.Origins, b.Origins, func(x, y routing.ASN) int { return cmpASN(x, y) })
	a.Sources = mergeSorted(a.Sources, b.Sources, func(x, y string) int { return cmpString(x, y) })
	a.ROV = mergeSorted(a.ROV, b.ROV, func(x, y routing.ROVState) int { return int(x) - int(y) })
	a.ROVReasons = mergeSorted(a.ROVReasons, b.ROVReasons, func(x, y string) int { return cmpString(x, y) })
	a.Paths = append(a.Paths, b.Paths...)
	slices.SortFunc(a.Paths, slices.Compare)
	a.Paths = slices.CompactFunc(a.Paths, func(x, y []string) bool { return slices.Equal(x, y) })
	return a
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func mergeSorted[T comparable](a, b []T, cmp func(T, T) int) []T {
	out := append(slices.Clone(a), b...)
	slices.SortFunc(out, cmp)
	return slices.Compact(out)
}
