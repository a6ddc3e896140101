package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/prefixset"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Options controls BuildPrefixFilter. Length options follow bgpq4 exactly (reference
// bgpq4.md §6.2): MaxLength filters input, then MoreSpecifics, MinLength and Aggregate
// re-encode the set. Zero means "not set" for every int option.
type Options struct {
	// Name is the list name (validated later by the renderer).
	Name string
	// Family is 4 or 6.
	Family int
	// MaxLength drops input prefixes longer than this (bgpq4 -m).
	MaxLength int
	// MoreSpecifics widens prefixes shorter than R to "le R" (bgpq4 -R).
	MoreSpecifics int
	// MinLength raises the lower bound of prefixes up to L to L (bgpq4 -r): the exact
	// match of a shorter prefix is then no longer permitted.
	MinLength int
	// Aggregate merges siblings losslessly (bgpq4 -A). It is implied when an input is
	// a prefix range (a route-set member with a range operator such as "^+"): bgpq4
	// enumerates every covered prefix into the list (511 lines for a /24^+, bgp/bgpq4#66)
	// and only -A folds them back; the aggregated list permits exactly the same routes.
	Aggregate bool
	// FailOnMissing turns unknown member sets from warnings into an error wrapping
	// ErrMissingMember.
	FailOnMissing bool

	// Validator, when set, is asked for the RPKI state of every (prefix, origin) input;
	// the answer is recorded per entry (Entry.ROV).
	Validator RouteValidator
	// DropInvalid drops inputs the Validator calls "invalid" (with a warning).
	DropInvalid bool
	// ROAAdd, when set, returns extra prefixes an origin may announce (e.g. ROA-only
	// additions); they are added as inputs with source "RPKI".
	ROAAdd func(origin routing.ASN, v6 bool) []netip.Prefix
	// ROAMaxLength, when set with ROAAdd, returns the maxLength of the ROA that
	// authorises origin to announce p (0: none); a ROA-added prefix then permits the
	// lengths p.Bits()..maxLength instead of p alone. Like a route-set range, such an
	// input turns on lossless aggregation.
	ROAMaxLength func(p netip.Prefix, origin routing.ASN) int

	// Exclude drops every input (route object, ROA addition, route-set member or
	// literal prefix) whose prefix lies inside one of these prefixes, with a warning;
	// an input range that covers an excluded prefix is kept, with a warning that the
	// exclusion could not be applied to it.
	Exclude []netip.Prefix

	// Expansion, when set, is the result of an earlier expansion of exactly objects
	// (ExpandObjects) and is used instead of expanding again: a session builds both
	// families and its origin set from one expansion.
	Expansion *Expanded

	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
}

// routeSourcer is implemented by queriers that know which IRR source holds a route
// object (the local *irr.Index); remote whois servers do not say.
type routeSourcer interface {
	RouteSources(p netip.Prefix, origin routing.ASN) []string
}

// input is one prefix (range) that went into the filter and why.
type input struct {
	pr     routing.PrefixRange
	origin routing.ASN // 0 for a route-set prefix member or a literal prefix
	path   []string
	source string // "RPKI" for ROAAdd inputs, else "" (looked up lazily)
	rov    routing.ROVState
	hasROV bool
	rovWhy []string
}

func (o *Options) validate() (afMax int, err error) {
	switch o.Family {
	case 4:
		afMax = 32
	case 6:
		afMax = 128
	default:
		return 0, fmt.Errorf("policy: address family %d: %w", o.Family, ErrInvalidOption)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"max-length", o.MaxLength}, {"more-specifics", o.MoreSpecifics}, {"min-length", o.MinLength}} {
		if v.n < 0 || v.n > afMax {
			return 0, fmt.Errorf("policy: %s %d outside 1..%d: %w", v.name, v.n, afMax, ErrInvalidOption)
		}
	}
	if o.MinLength > 0 && o.MoreSpecifics > 0 && o.MinLength > o.MoreSpecifics {
		return 0, fmt.Errorf("policy: min-length %d greater than more-specifics %d: %w",
			o.MinLength, o.MoreSpecifics, ErrInvalidOption)
	}
	return afMax, nil
}

// expand runs the resolver and turns missing sets and loops into warnings (or an error).
func expand(ctx context.Context, r *irr.Resolver, objects []string, failOnMissing bool) (*irr.Expansion, []string, error) {
	if len(objects) == 0 {
		return nil, nil, fmt.Errorf("policy: no objects: %w", ErrInvalidOption)
	}
	exp, err := r.Expand(ctx, objects...)
	if err != nil {
		if errors.Is(err, irr.ErrNotFound) {
			return nil, nil, fmt.Errorf("policy: %w (%w)", err, ErrUnknownObject)
		}
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	var warnings []string
	for _, m := range exp.Missing {
		warnings = append(warnings, fmt.Sprintf("member set %s not found (via %s)", safe(m.Name), safePath(m.Path)))
	}
	if failOnMissing && len(exp.Missing) > 0 {
		return nil, nil, fmt.Errorf("policy: %s: %w", warnings[0], ErrMissingMember)
	}
	for _, l := range exp.Loops {
		warnings = append(warnings, "loop ignored: "+safePath(l))
	}
	for _, b := range exp.Invalid {
		warnings = append(warnings, fmt.Sprintf("invalid member %s of %s ignored: %s (via %s)", safe(b.Member), safe(b.Set), b.Reason, safePath(b.Path)))
	}
	slices.Sort(warnings)
	return exp, slices.Compact(warnings), nil
}

// Expanded is the expansion of a list of root objects with its warnings (missing
// member sets, loops), to be shared by several builds.
type Expanded struct {
	Objects   []string
	Expansion *irr.Expansion
	Warnings  []string
}

// ExpandObjects expands objects through r once (see Options.Expansion). Errors are
// those of BuildPrefixFilter.
func ExpandObjects(ctx context.Context, r *irr.Resolver, objects []string, failOnMissing bool) (*Expanded, error) {
	exp, warnings, err := expand(ctx, r, objects, failOnMissing)
	if err != nil {
		return nil, err
	}
	return &Expanded{Objects: slices.Clone(objects), Expansion: exp, Warnings: warnings}, nil
}

// BuildPrefixFilter expands objects through r, fetches the route prefixes of the ASNs
// from q and builds the prefix filter for opt.Family with bgpq4's length semantics, each
// entry carrying its provenance. An unknown root object is an error wrapping both
// irr.ErrNotFound and ErrUnknownObject; unlike bgpq4, "^n" ranges are honoured.
func BuildPrefixFilter(ctx context.Context, q irr.Querier, r *irr.Resolver, objects []string, opt Options) (*PrefixFilter, error) {
	afMax, err := opt.validate()
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v6 := opt.Family == 6
	var exp *irr.Expansion
	var warnings []string
	if opt.Expansion != nil {
		if !slices.Equal(opt.Expansion.Objects, objects) {
			return nil, fmt.Errorf("policy: expansion of %v given for %v: %w", opt.Expansion.Objects, objects, ErrInvalidOption)
		}
		exp, warnings = opt.Expansion.Expansion, slices.Clone(opt.Expansion.Warnings)
	} else if exp, warnings, err = expand(ctx, r, objects, opt.FailOnMissing); err != nil {
		return nil, err
	}
	var inputs []input
	for _, pr := range exp.Prefixes {
		if pr.Prefix.Addr().Is6() == v6 {
			inputs = append(inputs, input{pr: pr, path: exp.PrefixPaths[pr]})
		}
	}
	routes, err := q.Routes(ctx, r.Sources, exp.ASNs, v6)
	if err != nil {
		return nil, fmt.Errorf("policy: routes of %d ASNs: %w", len(exp.ASNs), err)
	}
	if len(routes) != len(exp.ASNs) {
		return nil, fmt.Errorf("policy: routes: %d answers for %d ASNs: %w", len(routes), len(exp.ASNs), irr.ErrUnavailable)
	}
	for i, a := range exp.ASNs {
		op, ranged := exp.ASNRanges[a]
		var emptied []string // route prefixes the range operator leaves no length of
		for _, p := range routes[i] {
			if !p.IsValid() || p.Addr().Is6() != v6 {
				// Never build a filter from an answer that does not fit the question.
				return nil, fmt.Errorf("policy: routes of %s: %q is not an IPv%d prefix: %w", a, p, opt.Family, irr.ErrUnavailable)
			}
			pr := routing.PrefixRange{Prefix: p.Masked(), Min: p.Bits(), Max: p.Bits()}
			if ranged {
				var ok bool
				if pr, ok = op.Apply(pr); !ok {
					emptied = append(emptied, p.String())
					continue
				}
			}
			inputs = append(inputs, input{pr: pr, origin: a, path: exp.Paths[a]})
		}
		if len(emptied) > 0 {
			// RFC 2622 §2: ^n and ^n-m need n >= the prefix length (and at most the family
			// maximum), so the operator permits nothing of these route objects. Said once
			// per ASN, with the first few prefixes, so a big cone gives one line, not one
			// per route.
			warnings = append(warnings, fmt.Sprintf("range operator %s of %s (via %s) permits no length of %d of its IPv%d route prefixes; dropped: %s",
				op, a, safePath(exp.Paths[a]), len(emptied), opt.Family, firstFew(emptied, 5)))
		}
		if opt.ROAAdd != nil {
			for _, p := range opt.ROAAdd(a, v6) {
				if p.IsValid() && p.Addr().Is6() == v6 {
					p = p.Masked()
					pr := routing.PrefixRange{Prefix: p, Min: p.Bits(), Max: p.Bits()}
					if opt.ROAMaxLength != nil {
						if m := opt.ROAMaxLength(p, a); m > pr.Max && m <= afMax {
							pr.Max = m
						}
					}
					inputs = append(inputs, input{pr: pr, origin: a, path: exp.Paths[a], source: "RPKI"})
				}
			}
		}
	}
	if opt.Validator != nil {
		kept := inputs[:0]
		for _, in := range inputs {
			if in.origin != 0 {
				in.rov, in.rovWhy = opt.Validator.Validate(in.pr.Prefix, in.origin)
				in.hasROV = true
				if opt.DropInvalid && in.rov == routing.Invalid {
					warnings = append(warnings, fmt.Sprintf("dropped RPKI-invalid %s origin %s", in.pr, in.origin))
					continue
				}
			}
			kept = append(kept, in)
		}
		inputs = kept
	}

	if len(opt.Exclude) > 0 {
		inputs, warnings = exclude(inputs, opt.Exclude, warnings)
	}

	set := prefixset.New(v6)
	if opt.MaxLength > 0 {
		set.MaxLen(opt.MaxLength)
	}
	kept := inputs[:0]
	aggregate := opt.Aggregate
	for _, in := range inputs {
		if opt.MaxLength > 0 && in.pr.Min > opt.MaxLength {
			continue // bgpq4 -m: the input is dropped, and so is its provenance
		}
		if in.pr.Exact() {
			set.Add(in.pr.Prefix)
		} else {
			if err := set.AddRange(in.pr.Prefix, in.pr.Min, in.pr.Max); err != nil {
				return nil, fmt.Errorf("policy: %s: %w", in.pr, err)
			}
			aggregate = true
		}
		kept = append(kept, in)
	}
	inputs = kept
	if opt.MoreSpecifics > 0 {
		set.Refine(opt.MoreSpecifics)
	}
	if opt.MinLength > 0 {
		if opt.MoreSpecifics == 0 {
			set.Refine(afMax)
		}
		set.RefineLow(opt.MinLength)
	}
	if aggregate {
		set.Aggregate()
	}
	raw := set.Entries()
	log.Debug("prefix filter built", "objects", strings.Join(objects, ","), "family", opt.Family,
		"asns", len(exp.ASNs), "inputs", len(inputs), "entries", len(raw))

	f := &PrefixFilter{Name: opt.Name, Family: opt.Family, Objects: slices.Clone(objects),
		Entries: make([]Entry, len(raw)), Warnings: warnings}
	for i, e := range raw {
		f.Entries[i] = Entry{PrefixRange: routing.PrefixRange{Prefix: e.Prefix, Min: e.Min, Max: e.Max}}
	}
	rs, _ := q.(routeSourcer)
	attachProvenance(f.Entries, inputs, rs, exp.Paths)
	slices.Sort(f.Warnings)
	f.Warnings = slices.Compact(f.Warnings)
	return f, nil
}

// attachProvenance records for every entry the inputs it stands for: an input whose
// prefix lies inside the entry's prefix and is not longer than the entry's Max, or a
// range input whose prefix covers the entry and whose lengths overlap the entry's.
// asnPaths gives the set path of every origin (shared, never modified).
func attachProvenance(entries []Entry, inputs []input, rs routeSourcer, asnPaths map[routing.ASN][]string) {
	order := make([]int32, len(inputs)) // inputs by address, then length
	ranges := make(map[netip.Prefix][]int32)
	for i := range inputs {
		order[i] = int32(i)
		if !inputs[i].pr.Exact() {
			ranges[inputs[i].pr.Prefix] = append(ranges[inputs[i].pr.Prefix], int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := inputs[a].pr.Prefix, inputs[b].pr.Prefix
		if c := x.Addr().Compare(y.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(x.Bits(), y.Bits())
	})
	var acc provAcc
	for ei := range entries {
		e := &entries[ei]
		acc.reset()
		start, _ := slices.BinarySearchFunc(order, e.Prefix.Addr(), func(i int32, a netip.Addr) int {
			return inputs[i].pr.Prefix.Addr().Compare(a)
		})
		for j := start; j < len(order) && e.Prefix.Contains(inputs[order[j]].pr.Prefix.Addr()); j++ {
			in := &inputs[order[j]]
			if in.pr.Prefix.Bits() >= e.Prefix.Bits() && in.pr.Min <= e.Max {
				acc.add(in, rs)
			}
		}
		if len(ranges) > 0 {
			for b := e.Prefix.Bits() - 1; b >= 0; b-- {
				sup := netip.PrefixFrom(e.Prefix.Addr(), b).Masked()
				for _, i := range ranges[sup] {
					in := &inputs[i]
					if in.pr.Max >= e.Min && in.pr.Min <= e.Max {
						acc.add(in, rs)
					}
				}
			}
		}
		acc.finish(e, asnPaths)
	}
}

// provAcc accumulates the provenance of one entry.
type provAcc struct {
	origins  []routing.ASN
	literals []*input // inputs without an origin (route-set members, literal prefixes)
	sources  []string
	rov      []routing.ROVState
	rovWhy   []string
}

func (a *provAcc) reset() {
	a.origins, a.literals, a.sources, a.rov, a.rovWhy = a.origins[:0], a.literals[:0], a.sources[:0], a.rov[:0], a.rovWhy[:0]
}

func (a *provAcc) add(in *input, rs routeSourcer) {
	if in.origin != 0 {
		a.origins = append(a.origins, in.origin)
	} else {
		a.literals = append(a.literals, in)
	}
	switch {
	case in.source != "":
		a.sources = append(a.sources, in.source)
	case rs != nil && in.origin != 0:
		a.sources = append(a.sources, rs.RouteSources(in.pr.Prefix, in.origin)...)
	}
	if in.hasROV {
		a.rov = append(a.rov, in.rov)
		a.rovWhy = append(a.rovWhy, in.rovWhy...)
	}
}

// finish stores the accumulated provenance in e (fresh slices; the accumulator's
// buffers are reused for the next entry).
func (a *provAcc) finish(e *Entry, asnPaths map[routing.ASN][]string) {
	slices.Sort(a.origins)
	e.Origins = slices.Clone(slices.Compact(a.origins))
	slices.Sort(a.sources)
	e.Sources = slices.Clone(slices.Compact(a.sources))
	paths := make([][]string, 0, len(e.Origins)+len(a.literals))
	for _, o := range e.Origins {
		p := asnPaths[o]
		paths = append(paths, append(p[:len(p):len(p)], o.String()))
	}
	for _, in := range a.literals {
		paths = append(paths, append(in.path[:len(in.path):len(in.path)], in.pr.String()))
	}
	slices.SortFunc(paths, slices.Compare)
	e.Paths = slices.CompactFunc(paths, func(x, y []string) bool { return slices.Equal(x, y) })
	if len(a.rov) > 0 {
		slices.Sort(a.rov)
		e.ROV = slices.Clone(slices.Compact(a.rov))
		slices.Sort(a.rovWhy)
		e.ROVReasons = slices.Clone(slices.Compact(a.rovWhy))
	}
}

// ASPathOptions controls BuildASPathFilter.
type ASPathOptions struct {
	// Name is the list name (validated later by the renderer).
	Name string
	// PeerAS, when non-zero, is the neighbour every path must start with.
	PeerAS routing.ASN
	// FailOnMissing turns unknown member sets into an error wrapping ErrMissingMember.
	FailOnMissing bool
}

// BuildASPathFilter expands objects through r into an origin / AS-path filter. AS 0
// (RFC 7607) and AS_TRANS 23456 (RFC 6793) are dropped with a warning; prefix members
// of route-sets are ignored with a warning.
func BuildASPathFilter(ctx context.Context, r *irr.Resolver, objects []string, opt ASPathOptions) (*ASPathFilter, error) {
	exp, warnings, err := expand(ctx, r, objects, opt.FailOnMissing)
	if err != nil {
		return nil, err
	}
	f := &ASPathFilter{Name: opt.Name, PeerAS: opt.PeerAS, Objects: slices.Clone(objects)}
	for _, a := range exp.ASNs {
		if a == 0 || a == 23456 {
			warnings = append(warnings, fmt.Sprintf("dropped reserved origin %s", a))
			continue
		}
		f.Origins = append(f.Origins, a)
		if a == opt.PeerAS {
			f.PeerIsMember = true
		}
	}
	if len(exp.Prefixes) > 0 {
		warnings = append(warnings, fmt.Sprintf("%d prefix members ignored in an as-path filter", len(exp.Prefixes)))
	}
	slices.Sort(warnings)
	f.Warnings = slices.Compact(warnings)
	return f, nil
}

// exclude drops the inputs inside an excluded prefix (see Options.Exclude).
func exclude(inputs []input, ex []netip.Prefix, warnings []string) ([]input, []string) {
	kept := inputs[:0]
next:
	for _, in := range inputs {
		p := in.pr.Prefix
		for _, x := range ex {
			if x.Addr().Is6() != p.Addr().Is6() {
				continue
			}
			if x.Bits() <= p.Bits() && x.Contains(p.Addr()) {
				warnings = append(warnings, fmt.Sprintf("excluded %s (inside %s)", in.pr, x))
				continue next
			}
			if x.Bits() > p.Bits() && p.Contains(x.Addr()) && in.pr.Max >= x.Bits() {
				warnings = append(warnings, fmt.Sprintf("exclusion %s not applied to %s, which covers it", x, in.pr))
			}
		}
		kept = append(kept, in)
	}
	return kept, warnings
}

// firstFew joins the first n of ss and says how many more there are.
func firstFew(ss []string, n int) string {
	if len(ss) <= n {
		return strings.Join(ss, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ss[:n], ", "), len(ss)-n)
}
