package rpki

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Policy is how a filter builder combines IRR data with RPKI (--rpki-policy).
type Policy uint8

// RPKI policies.
const (
	// PolicyDropInvalid drops IRR route objects whose (prefix, origin) is
	// RPKI-invalid. It is the default whenever RPKI data is given.
	PolicyDropInvalid Policy = iota
	// PolicyIgnore builds the filter from IRR data only.
	PolicyIgnore
	// PolicyROAAdd drops invalid route objects and also accepts the ROA prefixes of
	// origins in the expanded set (each VRP's own prefix, which its ROA makes valid;
	// with Hooks.ROAMaxLength the lengths up to the VRP's maxLength).
	PolicyROAAdd
)

// ParsePolicy parses "ignore", "drop-invalid" or "roa-add" ("roa-only-add" is
// accepted as an alias); "" gives the default, PolicyDropInvalid.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "drop-invalid":
		return PolicyDropInvalid, nil
	case "ignore":
		return PolicyIgnore, nil
	case "roa-add", "roa-only-add":
		return PolicyROAAdd, nil
	}
	return 0, fmt.Errorf("rpki: unknown RPKI policy %q (want ignore, drop-invalid or roa-add)", s)
}

// String returns the policy's flag value.
func (p Policy) String() string {
	switch p {
	case PolicyIgnore:
		return "ignore"
	case PolicyROAAdd:
		return "roa-add"
	default:
		return "drop-invalid"
	}
}

// MarshalText renders the policy as String does (JSON documents and summaries).
func (p Policy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses what MarshalText writes (ParsePolicy, "" refused).
func (p *Policy) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("rpki: empty RPKI policy")
	}
	v, err := ParsePolicy(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// RouteValidator is the route origin validation hook of package policy
// (policy.RouteValidator has the same method set; *Table implements both).
type RouteValidator interface {
	Validate(p netip.Prefix, origin routing.ASN) (state routing.ROVState, reasons []string)
}

// Hooks are the values a policy builder needs for one Policy: set
// policy.Options.Validator, DropInvalid and ROAAdd from them.
type Hooks struct {
	// Validator is nil for PolicyIgnore (a nil interface, safe to assign).
	Validator RouteValidator
	// DropInvalid is true for PolicyDropInvalid and PolicyROAAdd.
	DropInvalid bool
	// ROAAdd is non-nil for PolicyROAAdd: it returns, for an origin AS and family,
	// the prefixes of that origin's VRPs (sorted). The builder validates them like
	// route objects, so each carries its ROA and trust anchor as ROV reasons.
	ROAAdd func(origin routing.ASN, v6 bool) []netip.Prefix
	// ROAMaxLength is non-nil for PolicyROAAdd: the largest maxLength of origin's
	// VRPs for exactly p (0 when there is none), so a ROA-added prefix permits the
	// lengths its ROA authorises (set policy.Options.ROAMaxLength from it).
	ROAMaxLength func(p netip.Prefix, origin routing.ASN) int
}

// Hooks returns the policy hooks for p. A nil Table gives empty hooks (no RPKI).
func (t *Table) Hooks(p Policy) Hooks {
	if t == nil || p == PolicyIgnore {
		return Hooks{}
	}
	h := Hooks{Validator: t, DropInvalid: true}
	if p == PolicyROAAdd {
		h.ROAAdd = t.ROAPrefixes
		h.ROAMaxLength = t.ROAMaxLength
	}
	return h
}

// ROAPrefixes returns the distinct prefixes of the VRPs of origin in one family,
// sorted. AS0 VRPs authorise nothing and are never returned.
func (t *Table) ROAPrefixes(origin routing.ASN, v6 bool) []netip.Prefix {
	if origin == 0 {
		return nil
	}
	var out []netip.Prefix
	for _, v := range t.ByASN(origin) {
		if v.Prefix.Addr().Is6() != v6 {
			continue
		}
		if n := len(out); n > 0 && out[n-1] == v.Prefix {
			continue
		}
		out = append(out, v.Prefix)
	}
	return out
}

// ROAMaxLength returns the largest maxLength of the VRPs of origin whose prefix is
// exactly p, or 0 when origin has no VRP for p (AS0 never has one).
func (t *Table) ROAMaxLength(p netip.Prefix, origin routing.ASN) int {
	if origin == 0 || !p.IsValid() {
		return 0
	}
	p = p.Masked()
	best := 0
	for _, v := range t.Covering(p) {
		if v.ASN == origin && v.Prefix == p && int(v.MaxLength) > best {
			best = int(v.MaxLength)
		}
	}
	return best
}
