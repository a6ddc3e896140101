package policy

import (
	"fmt"
	"slices"
)

// RuleName is the stable name of a rule. It appears in the config (rules: switches),
// in explain's output, in summary.json and in comments of every rendered config, so it
// never changes once released.
//
// The semantics below are the contract between Evaluate and every vendor renderer: a
// router running the rendered config must accept exactly the routes Evaluate accepts.
// An AS path is a list of segments (RFC 4271 §4.3): AS_SEQUENCE segments hold ASNs in
// order, left-most (the neighbour, most recently prepended) first; AS_SET segments
// hold an unordered set (RFC 6472 deprecates them, they still occur). Confederation
// segments do not occur on the eBGP sessions this model describes.
type RuleName string

// The rules, in the order an import document evaluates them.
const (
	// RuleBogonASN rejects a route when any ASN of its path, in any segment (AS_SET
	// members included), is in BogonASNs (reserved ASNs: RFC 5398, 6793, 6996, 7300,
	// 7607; the documentation ASNs a fixture uses are removed from the list as
	// configured exceptions).
	RuleBogonASN RuleName = "bogon-asn"
	// RuleBogonPrefix rejects a route whose prefix is contained in an entry of
	// BogonPrefixes (RFC 1918, 6598, 5737, 3849, 6890 … and the default routes, which
	// are exact entries: 0.0.0.0/0 and ::/0 alone, not their more-specifics).
	RuleBogonPrefix RuleName = "bogon-prefix"
	// RulePrefixLength rejects a route whose prefix length is outside PrefixLength
	// (inclusive; default 8–24 for IPv4, 16–48 for IPv6).
	RulePrefixLength RuleName = "prefix-length"
	// RuleRPKIInvalid rejects a route whose RFC 6811 state is invalid. It is a
	// router-side check only when the session has an RTR cache (Session.RTRCache):
	// the router computes the state from the route's origin (the right-most ASN; a
	// path ending in an AS_SET has no origin, so a covered route is invalid). Without a
	// cache the rule is applied at generation time only: RPKI-invalid route objects
	// are not in Prefixes (RPKIPolicy drop-invalid or roa-add), so the prefix rule
	// rejects what the rpki-invalid rule would have.
	RuleRPKIInvalid RuleName = "rpki-invalid"
	// RulePeerlock rejects a route whose path contains, in any segment, an ASN of
	// Peerlock (transit-free networks a customer must never give us routes through).
	// The neighbour's own ASN is not in the document's list: a transit-free
	// neighbour's paths always start with itself.
	RulePeerlock RuleName = "peerlock"
	// RuleASPathLength rejects a route whose path is longer than MaxPathLength ASNs.
	// Every ASN of an AS_SEQUENCE counts, prepends included; an AS_SET counts as one
	// (RFC 4271 §9.1.2.2), as BIRD's bgp_path.len and IOS-XR's "as-path length" do.
	RuleASPathLength RuleName = "as-path-length"
	// RuleASSet rejects a route whose path holds an AS_SET segment. RFC 9774 (2025)
	// deprecates AS_SET: no speaker may originate one any more, and a receiver should
	// treat an UPDATE that carries one as a withdrawal (RFC 7606 treat-as-withdraw).
	// What an operator expects from a customer session is therefore a rejected route,
	// not one judged by an origin (or first ASN) it does not have. With the rule
	// switched off, the rules below read AS_SETs as documented on each.
	RuleASSet RuleName = "as-set"
	// RuleFirstAS rejects a route whose left-most ASN is not the neighbour's
	// (Session.NeighborASN). A path that starts with an AS_SET has no left-most ASN
	// and is rejected.
	RuleFirstAS RuleName = "first-as"
	// RuleOrigin rejects a route whose origin, the right-most ASN of the path, is not
	// in Origins (the customer cone: the AS-SET expansion, or the neighbour's ASN
	// alone). A path that ends in an AS_SET has no origin and is rejected.
	RuleOrigin RuleName = "origin"
	// RulePrefix rejects a route whose prefix no entry of Prefixes contains (entry
	// prefix covers it and its length is in [Min, Max]). With Session.OriginBinding it
	// also rejects a route none of whose containing entries lists the route's origin
	// (entries without origins, literal config prefixes, bind to every origin).
	RulePrefix RuleName = "prefix"
	// RuleMaxPrefix is the session limit (Session.MaxPrefix). It is not a per-route
	// match: the router counts accepted prefixes and applies the action; Evaluate
	// never names it as the deciding rule.
	RuleMaxPrefix RuleName = "max-prefix"
	// RuleAccept accepts a route that passed every rule above; nothing else is
	// accepted (the rendered policy ends in an explicit reject).
	RuleAccept RuleName = "accept"
)

var importRules = []RuleName{RuleBogonASN, RuleBogonPrefix, RulePrefixLength, RuleRPKIInvalid,
	RulePeerlock, RuleASPathLength, RuleASSet, RuleFirstAS, RuleOrigin, RulePrefix, RuleMaxPrefix, RuleAccept}

// exportRules: an export policy announces only the own prefixes and the customers'
// filters (MANRS Action 1, prefix-based, not AS-path only).
var exportRules = []RuleName{RulePrefix, RuleAccept}

// ImportRules returns the rule names of an import document in evaluation order.
func ImportRules() []RuleName { return slices.Clone(importRules) }

// ExportRules returns the rule names of an export document in evaluation order.
func ExportRules() []RuleName { return slices.Clone(exportRules) }

// ParseRuleName parses a rule name as the config and explain write it.
func ParseRuleName(s string) (RuleName, error) {
	if slices.Contains(importRules, RuleName(s)) {
		return RuleName(s), nil
	}
	return "", fmt.Errorf("unknown rule %q (want one of %v)", s, importRules)
}

// Switchable reports whether the config may switch the rule off (every rule but
// accept).
func (n RuleName) Switchable() bool { return n != RuleAccept }

// Description is a one-line statement of what the rule rejects, for comments in
// rendered configs and for explain.
func (n RuleName) Description() string {
	switch n {
	case RuleBogonASN:
		return "reject paths with a reserved (bogon) ASN anywhere"
	case RuleBogonPrefix:
		return "reject bogon/martian prefixes and the default route"
	case RulePrefixLength:
		return "reject prefixes outside the accepted lengths"
	case RuleRPKIInvalid:
		return "reject RPKI-invalid routes (RFC 6811)"
	case RulePeerlock:
		return "reject paths through a transit-free network (peerlock)"
	case RuleASPathLength:
		return "reject AS paths longer than the limit (prepends count)"
	case RuleASSet:
		return "reject paths with an AS_SET segment (RFC 9774 deprecates AS_SET)"
	case RuleFirstAS:
		return "reject paths whose left-most ASN is not the neighbour's"
	case RuleOrigin:
		return "reject origins outside the customer cone"
	case RulePrefix:
		return "reject prefixes outside the IRR/RPKI prefix filter"
	case RuleMaxPrefix:
		return "session limit on the number of accepted prefixes"
	case RuleAccept:
		return "accept what passed every rule; reject everything else"
	}
	return string(n)
}
