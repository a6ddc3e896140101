package render

// The shared export set: every customer's export policy (NAME_OUT_V4 / NAME_OUT_V6)
// announces the same prefixes, the own ones plus every customer's filter, so the set
// is rendered once per vendor (templates/<vendor>/export.tmpl), one object per family
// named policy.ExportSetName, and each customer's policy refers to it by that name
// (policy.tmpl). A router then holds the set once, not once per customer, and a run
// writes it once: with N customers the copies grew with N².

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/policy"
)

// exportView is what export.tmpl executes on.
type exportView struct {
	// Sets are the families' sets, IPv4 first, each named policy.ExportSetName.
	Sets []*PrefixData
	// Self says whether the own prefixes are in the sets; Customers counts the
	// customers whose filters are.
	Self      bool
	Customers int
}

// RenderExport renders the shared export sets (one per family, at most one of each)
// for vendor. The names are validated with the vendor's name rule.
func RenderExport(vendor string, sets []*policy.ExportSet, opt Options) (*PolicyOutput, error) {
	if !slices.Contains(PolicyVendors, vendor) {
		return nil, fmt.Errorf("render: export set: unknown vendor %q (one of %s)", vendor, strings.Join(PolicyVendors, ", "))
	}
	r, err := New(vendor, opt)
	if err != nil {
		return nil, err
	}
	if r.t.Lookup("export.tmpl") == nil {
		return nil, fmt.Errorf("render: %s: export set: %w", vendor, ErrUnsupported)
	}
	v := &exportView{}
	var warnings []string
	seen := map[int]bool{}
	for _, s := range sets {
		if s == nil {
			continue
		}
		if s.Family != 4 && s.Family != 6 || seen[s.Family] {
			return nil, fmt.Errorf("render: export set: address family %d (twice, or not 4 or 6)", s.Family)
		}
		seen[s.Family] = true
		name := policy.ExportSetName(s.Family)
		if err := ValidateName(vendor, name); err != nil {
			return nil, fmt.Errorf("render: export set: %w", err)
		}
		for _, e := range s.Entries {
			if e.Prefix.Addr().Is6() != (s.Family == 6) {
				return nil, fmt.Errorf("render: export set %s: %s is not IPv%d", name, e.Prefix, s.Family)
			}
		}
		customers := 0
		for _, o := range s.Objects {
			if o == "self" {
				v.Self = true
			} else {
				customers++
			}
		}
		v.Customers = max(v.Customers, customers)
		v.Sets = append(v.Sets, newPrefixData(&policy.PrefixFilter{Name: name, Family: s.Family, Objects: s.Objects, Entries: s.Entries}))
		if len(s.Entries) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: empty IPv%d export set: no export policy announces anything", name, s.Family))
		}
	}
	if len(v.Sets) == 0 {
		return nil, fmt.Errorf("render: export set: no set")
	}
	slices.SortFunc(v.Sets, func(a, b *PrefixData) int { return a.Family - b.Family })
	text, err := r.exec("export.tmpl", v)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Text: text, Warnings: warnings}, nil
}
