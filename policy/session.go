package policy

// The session policy document: everything one BGP session applies to the routes of one
// address family, in vendor-neutral form. Every vendor template renders a Document;
// Evaluate (evaluate.go) runs the same Document for one route, so a router that runs
// the rendered config and `bgpfilter explain` must agree route for route.

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Direction says which way a Document filters.
type Direction string

// Directions.
const (
	// Import filters the routes the neighbour sends us (NAME_IN_V4 / NAME_IN_V6).
	Import Direction = "import"
	// Export filters the routes we send the neighbour (NAME_OUT_V4 / NAME_OUT_V6).
	Export Direction = "export"
)

// Role is what the neighbour is to us. It decides nothing in the import rules
// themselves (every rule applies to every role) but is rendered where the vendor
// knows BGP roles (RFC 9234) and read by the route-server and report features.
type Role string

// Roles.
const (
	// RoleCustomer is a customer: we give it transit (MANRS Action 1).
	RoleCustomer Role = "customer"
	// RolePeer is a non-transit (settlement-free) peer, filtered like a customer
	// (MANRS for CDN and Cloud providers).
	RolePeer Role = "peer"
	// RoleRSClient is a member of our route server (MANRS for IXPs): its routes are
	// filtered like a customer's; the route server does not prepend its own AS.
	RoleRSClient Role = "rs-client"
)

// ParseRole parses "customer", "peer" or "rs-client".
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleCustomer, RolePeer, RoleRSClient:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want customer, peer or rs-client)", s)
}

// MaxPrefixAction is what the router does when the neighbour sends more prefixes of one
// family than the session limit.
type MaxPrefixAction string

// Max-prefix actions.
const (
	// MaxPrefixTeardown closes the session and keeps it down until an operator clears it.
	MaxPrefixTeardown MaxPrefixAction = "teardown"
	// MaxPrefixRestart closes the session and lets it come back after the vendor's
	// idle timeout (rendered as the vendor's restart interval).
	MaxPrefixRestart MaxPrefixAction = "restart"
	// MaxPrefixWarning only logs; the routes over the limit are still accepted.
	MaxPrefixWarning MaxPrefixAction = "warning"
)

// ParseMaxPrefixAction parses "teardown", "restart" or "warning".
func ParseMaxPrefixAction(s string) (MaxPrefixAction, error) {
	switch a := MaxPrefixAction(s); a {
	case MaxPrefixTeardown, MaxPrefixRestart, MaxPrefixWarning:
		return a, nil
	}
	return "", fmt.Errorf("unknown max-prefix action %q (want teardown, restart or warning)", s)
}

// MaxPrefix is the session limit of one family. A zero Limit means no limit.
type MaxPrefix struct {
	Limit  int             `json:"limit"`
	Action MaxPrefixAction `json:"action,omitempty"`
}

// LengthBounds are the accepted prefix lengths of one family, inclusive.
type LengthBounds struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Contains reports whether Min <= bits <= Max.
func (b LengthBounds) Contains(bits int) bool { return bits >= b.Min && bits <= b.Max }

// Default length bounds (MANRS and the common practice of every anchor: nothing
// shorter than /8 or longer than /24 in IPv4, /16 and /48 in IPv6).
var (
	DefaultLengthV4 = LengthBounds{Min: 8, Max: 24}
	DefaultLengthV6 = LengthBounds{Min: 16, Max: 48}
)

// DefaultMaxPathLength is the default of the as-path-length rule.
const DefaultMaxPathLength = 32

// Neighbor is one BGP neighbour address of the session (of the document's family) and
// its TCP port; Port 0 means the default, 179.
type Neighbor struct {
	Address netip.Addr `json:"address"`
	Port    uint16     `json:"port,omitempty"`
}

// Session holds the session parameters of a Document: who the neighbour is, what the
// vendor puts on the session rather than in the policy (max-prefix, run-time ROV), and
// the operator's own identity for the session stanza.
type Session struct {
	// LocalASN and RouterID are the operator's (config local_as, router_id).
	LocalASN routing.ASN `json:"local_asn"`
	RouterID netip.Addr  `json:"router_id"`
	// NeighborASN is the neighbour's ASN: the first-as rule compares the left-most ASN
	// of every path with it.
	NeighborASN routing.ASN `json:"neighbor_asn"`
	Role        Role        `json:"role"`
	// Neighbors are the session addresses of this family; empty: render no session
	// stanza, only the policy and its objects.
	Neighbors []Neighbor `json:"neighbors,omitempty"`
	// MaxPrefix is the limit of this family (the max-prefix rule).
	MaxPrefix MaxPrefix `json:"max_prefix"`
	// RPKIPolicy is how the prefix set was built from IRR and RPKI data.
	RPKIPolicy rpki.Policy `json:"rpki_policy"`
	// RTRCache, when valid, is the RTR cache the router validates against at run time
	// (the rpki-invalid rule is then rendered as a router-side check); zero: RPKI is
	// applied at generation time only, through the prefix set.
	RTRCache netip.AddrPort `json:"rtr_cache,omitzero"`
	// OriginBinding makes the prefix rule also require the route's origin to be one of
	// the origins of the matching entry's route objects or ROAs (bgp/bgpq4#24).
	OriginBinding bool `json:"origin_binding,omitempty"`
}

// RuntimeROV reports whether the router validates routes against an RTR cache.
func (s Session) RuntimeROV() bool { return s.RTRCache.IsValid() }

// PrefixSet is a named set of prefix ranges with the provenance of every entry.
type PrefixSet struct {
	// Name is the vendor-neutral object name (letters, digits, '_').
	Name   string `json:"name"`
	Family int    `json:"family"`
	// Objects are the IRR objects (AS-SETs, ASNs) the set was expanded from, plus
	// "config" when extra prefixes were added from the config file.
	Objects []string `json:"objects,omitempty"`
	// Entries are sorted as PrefixFilter.Entries are.
	Entries []Entry `json:"entries"`
}

// Match returns the entries that contain p (the route is "in the set" when any does).
func (s *PrefixSet) Match(p netip.Prefix) []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if e.Contains(p) {
			out = append(out, e)
		}
	}
	return out
}

// ASNSet is a named set of ASNs (the customer cone: origins the origin rule permits).
type ASNSet struct {
	Name string `json:"name"`
	// Objects are the IRR objects the set was expanded from (the AS-SETs, or the
	// neighbour's ASN alone when none is configured).
	Objects []string `json:"objects,omitempty"`
	// ASNs are ascending and unique.
	ASNs []routing.ASN `json:"asns"`
	// Paths holds, for ASNs reached through a set, the set path (root first).
	Paths map[routing.ASN][]string `json:"paths,omitempty"`
}

// Contains reports whether a is in the set.
func (s *ASNSet) Contains(a routing.ASN) bool {
	_, ok := slices.BinarySearch(s.ASNs, a)
	return ok
}

// ASNRange is an inclusive range of ASNs (From == To for one ASN) and why it is listed:
// the RFC for a reserved range, the network's name for a peerlock ASN.
type ASNRange struct {
	From   routing.ASN `json:"from"`
	To     routing.ASN `json:"to"`
	Reason string      `json:"reason,omitempty"`
}

// Contains reports whether From <= a <= To.
func (r ASNRange) Contains(a routing.ASN) bool { return a >= r.From && a <= r.To }

// String renders "AS64496" or "AS64496-AS64511".
func (r ASNRange) String() string {
	if r.From == r.To {
		return r.From.String()
	}
	return r.From.String() + "-" + r.To.String()
}

// ASNRangeSet is a named list of ASN ranges (bogon ASNs, peerlock ASNs), sorted by
// From and not overlapping.
type ASNRangeSet struct {
	Name   string     `json:"name"`
	Ranges []ASNRange `json:"ranges"`
}

// Match returns the range that contains a.
func (s *ASNRangeSet) Match(a routing.ASN) (ASNRange, bool) {
	i, _ := slices.BinarySearchFunc(s.Ranges, a, func(r ASNRange, a routing.ASN) int {
		switch {
		case r.To < a:
			return -1
		case r.From > a:
			return 1
		}
		return 0
	})
	if i < len(s.Ranges) && s.Ranges[i].Contains(a) {
		return s.Ranges[i], true
	}
	return ASNRange{}, false
}

// BogonPrefix is one bogon entry: a prefix range and the RFC that reserves it.
type BogonPrefix struct {
	routing.PrefixRange
	Reason string `json:"reason,omitempty"`
}

// BogonPrefixSet is the named list of bogon prefix ranges of one family.
type BogonPrefixSet struct {
	Name    string        `json:"name"`
	Family  int           `json:"family"`
	Entries []BogonPrefix `json:"entries"`
}

// Match returns the first entry that contains p.
func (s *BogonPrefixSet) Match(p netip.Prefix) (BogonPrefix, bool) {
	for _, e := range s.Entries {
		if e.Contains(p) {
			return e, true
		}
	}
	return BogonPrefix{}, false
}

// Action is what a rule does with a route it matches.
type Action string

// Actions.
const (
	Reject Action = "reject"
	Accept Action = "accept"
)

// Rule is one term of a Document. Rules are evaluated in order; the first enabled rule
// that matches decides. The match of every rule is fixed by its Name (see RuleName);
// its parameters are the Document's objects and fields.
type Rule struct {
	Name RuleName `json:"name"`
	// Enabled is false when the config switched the rule off (a renderer writes a
	// comment saying so, never silently nothing).
	Enabled bool `json:"enabled"`
	// Action is Reject for every rule but accept.
	Action Action `json:"action"`
	// Note says, for comments and explain, how the rule applies to this session
	// ("disabled in the config", "no RTR cache: applied at generation time").
	Note string `json:"note,omitempty"`
}

// Document is the complete filtering of one BGP session for one address family and
// direction: named objects, ordered rules and session parameters. It holds no vendor
// syntax; every object name is letters, digits and '_' (valid in every vendor).
type Document struct {
	// Name is the policy name: NAME_IN_V4, NAME_IN_V6, NAME_OUT_V4 or NAME_OUT_V6
	// for the customer NAME (the same in every vendor, so other tools can refer to it).
	Name string `json:"name"`
	// Customer is the customer (or member) name from the config.
	Customer  string    `json:"customer"`
	Direction Direction `json:"direction"`
	// Family is 4 or 6.
	Family  int     `json:"family"`
	Session Session `json:"session"`

	// Prefixes is the prefix rule's set: IRR ∩ RPKI prefixes of the customer cone
	// (import) or own prefixes plus every customer's filter (export).
	Prefixes PrefixSet `json:"prefixes"`
	// Origins is the origin rule's set (import only).
	Origins ASNSet `json:"origins"`
	// BogonPrefixes and BogonASNs are the bogon rules' lists, exceptions removed.
	BogonPrefixes BogonPrefixSet `json:"bogon_prefixes"`
	BogonASNs     ASNRangeSet    `json:"bogon_asns"`
	// Peerlock is the peerlock rule's list, the neighbour's own ASN removed.
	Peerlock ASNRangeSet `json:"peerlock"`
	// PrefixLength is the prefix-length rule's window.
	PrefixLength LengthBounds `json:"prefix_length"`
	// MaxPathLength is the as-path-length rule's limit.
	MaxPathLength int `json:"max_path_length"`

	// Rules are the terms in evaluation order (ImportRules or ExportRules).
	Rules []Rule `json:"rules"`
	// Warnings are non-fatal findings of the build (missing member sets, loops,
	// dropped RPKI-invalid route objects), sorted.
	Warnings []string `json:"warnings,omitempty"`
}

// Rule returns the document's rule of that name.
func (d *Document) Rule(n RuleName) (Rule, bool) {
	for _, r := range d.Rules {
		if r.Name == n {
			return r, true
		}
	}
	return Rule{}, false
}

// Enabled reports whether the document has the rule n switched on.
func (d *Document) Enabled(n RuleName) bool {
	r, ok := d.Rule(n)
	return ok && r.Enabled
}

// PolicyName returns the fixed policy name of customer name: NAME_IN_V4 and so on.
func PolicyName(name string, dir Direction, family int) string {
	s := name + "_IN_V"
	if dir == Export {
		s = name + "_OUT_V"
	}
	if family == 6 {
		return s + "6"
	}
	return s + "4"
}

// SessionDocuments are the four documents of one customer session.
type SessionDocuments struct {
	Import4, Import6 *Document
	// Export4 and Export6 are nil until BuildExport has run (they need every
	// customer's filter).
	Export4, Export6 *Document
}
