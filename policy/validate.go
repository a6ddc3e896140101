package policy

import (
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidDocument means a Document breaks an invariant a renderer relies on.
var ErrInvalidDocument = errors.New("invalid policy document")

// validObjectName reports whether s is a vendor-neutral object name: a letter, then
// letters, digits or '_', at most 64 characters (within every vendor's limit).
func validObjectName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_')) {
			return false
		}
	}
	return true
}

// Validate checks the invariants every renderer may rely on: the fixed policy name,
// valid object names, the rules in their fixed order with accept last, entries of the
// document's family, sorted non-overlapping ASN ranges, and session parameters in
// range. Builders produce valid documents; a renderer calls Validate before rendering
// a document it did not build.
func (d *Document) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("policy document %s: %s: %w", d.Name, fmt.Sprintf(format, args...), ErrInvalidDocument)
	}
	if d.Family != 4 && d.Family != 6 {
		return fail("family %d", d.Family)
	}
	if d.Direction != Import && d.Direction != Export {
		return fail("direction %q", d.Direction)
	}
	if d.Name != PolicyName(d.Customer, d.Direction, d.Family) {
		return fail("name is not %s", PolicyName(d.Customer, d.Direction, d.Family))
	}
	for _, n := range []string{d.Name, d.Prefixes.Name} {
		if !validObjectName(n) {
			return fail("object name %q", n)
		}
	}
	if d.Direction == Import {
		for _, n := range []string{d.Origins.Name, d.BogonPrefixes.Name, d.BogonASNs.Name, d.Peerlock.Name} {
			if !validObjectName(n) {
				return fail("object name %q", n)
			}
		}
	}
	want := importRules
	if d.Direction == Export {
		want = exportRules
	}
	names := make([]RuleName, len(d.Rules))
	for i, r := range d.Rules {
		names[i] = r.Name
		switch {
		case r.Name == RuleAccept && (!r.Enabled || r.Action != Accept):
			return fail("rule accept must be enabled and accept")
		case r.Name != RuleAccept && r.Action != Reject:
			return fail("rule %s must reject", r.Name)
		}
	}
	if !slices.Equal(names, want) {
		return fail("rules %v, want %v", names, want)
	}
	maxBits := 32
	if d.Family == 6 {
		maxBits = 128
	}
	for _, e := range d.Prefixes.Entries {
		if e.Prefix.Addr().Is6() != (d.Family == 6) || e.Prefix.Masked() != e.Prefix || e.Min < e.Prefix.Bits() || e.Max < e.Min || e.Max > maxBits {
			return fail("prefix entry %s", e.PrefixRange)
		}
	}
	for _, e := range d.BogonPrefixes.Entries {
		if e.Prefix.Addr().Is6() != (d.Family == 6) || e.Min < e.Prefix.Bits() || e.Max < e.Min || e.Max > maxBits {
			return fail("bogon entry %s", e.PrefixRange)
		}
	}
	for _, set := range []ASNRangeSet{d.BogonASNs, d.Peerlock} {
		for i, r := range set.Ranges {
			if r.From > r.To || i > 0 && r.From <= set.Ranges[i-1].To {
				return fail("%s: range %s unsorted or overlapping", set.Name, r)
			}
		}
	}
	if !slices.IsSorted(d.Origins.ASNs) {
		return fail("origins unsorted")
	}
	if d.Direction == Import && (d.PrefixLength.Min < 0 || d.PrefixLength.Min > d.PrefixLength.Max || d.PrefixLength.Max > maxBits) {
		return fail("prefix length %d-%d", d.PrefixLength.Min, d.PrefixLength.Max)
	}
	if d.Direction == Import && d.MaxPathLength < 1 {
		return fail("max path length %d", d.MaxPathLength)
	}
	if _, err := ParseRole(string(d.Session.Role)); err != nil {
		return fail("%v", err)
	}
	if mp := d.Session.MaxPrefix; mp.Limit < 0 || mp.Limit > 0 && mp.Action == "" {
		return fail("max-prefix %d without an action", mp.Limit)
	} else if mp.Limit > 0 {
		if _, err := ParseMaxPrefixAction(string(mp.Action)); err != nil {
			return fail("%v", err)
		}
	}
	for _, n := range d.Session.Neighbors {
		if !n.Address.IsValid() || n.Address.Is4() != (d.Family == 4) {
			return fail("neighbour %s is not an IPv%d address", n.Address, d.Family)
		}
	}
	return nil
}
