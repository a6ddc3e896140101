package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/bgpfilter/bgpfilter/routing"
)

// ErrBadRoute means Evaluate was given a route it cannot judge: an invalid prefix or
// one of the other family, an empty AS path, or no ROV state for a session that
// validates at run time.
var ErrBadRoute = errors.New("bad route")

// ROVResult is a route's RFC 6811 state and the VRPs that decided it, as a validator
// reports them ("ROA 192.0.2.0/24-24 AS64496 (ripe)": prefix, maxLength, ASN, trust
// anchor).
type ROVResult struct {
	State routing.ROVState `json:"state"`
	ROAs  []string         `json:"roas,omitempty"`
}

// Announcement is what a router receives on the session: a prefix and its AS path, and
// optionally the ROV state the router's validator would give it. (Route is the plain
// prefix-origin pair of the RPKI bookkeeping.)
type Announcement struct {
	Prefix netip.Prefix `json:"prefix"`
	Path   ASPath       `json:"path"`
	// ROV is nil when unknown; Evaluate needs it only when the session validates at
	// run time (Session.RTRCache), and reports it as evidence otherwise.
	ROV *ROVResult `json:"rov,omitempty"`
}

// WithROV returns r with its ROV state from v for the route's origin (the right-most
// ASN; a path ending in an AS_SET has none and is validated with origin 0, which no
// VRP matches, as RFC 6811 §2 says). A nil v returns r unchanged.
func (r Announcement) WithROV(v RouteValidator) Announcement {
	if v == nil {
		return r
	}
	origin, _ := r.Path.Origin()
	st, why := v.Validate(r.Prefix.Masked(), origin)
	r.ROV = &ROVResult{State: st, ROAs: why}
	return r
}

// Outcome is what one rule did with a route.
type Outcome string

// Outcomes of a Step.
const (
	Matched      Outcome = "matched"  // the rule matched and decided
	Passed       Outcome = "passed"   // the rule did not match; evaluation went on
	Disabled     Outcome = "disabled" // switched off in the config
	SessionParam Outcome = "session"  // a session parameter, not a per-route match (max-prefix)
)

// Step is one rule's outcome in a Decision's trace.
type Step struct {
	Rule    RuleName `json:"rule"`
	Outcome Outcome  `json:"outcome"`
	Note    string   `json:"note,omitempty"`
}

// Evidence is what the deciding rule (and, for an accepted route, every passed rule)
// found. Fields are set only when they apply.
type Evidence struct {
	// ASN is the ASN that matched bogon-asn or peerlock, Position its 1-based index in
	// Announcement.Path.ASNs(), Range the list entry (with the RFC or network name).
	ASN      *routing.ASN `json:"asn,omitempty"`
	Position int          `json:"position,omitempty"`
	Range    *ASNRange    `json:"range,omitempty"`
	// Bogon is the bogon-prefix entry that contains the prefix.
	Bogon *BogonPrefix `json:"bogon,omitempty"`
	// Length and Bounds for prefix-length.
	Length int           `json:"length,omitempty"`
	Bounds *LengthBounds `json:"bounds,omitempty"`
	// PathLength and MaxPathLength for as-path-length.
	PathLength    int `json:"path_length,omitempty"`
	MaxPathLength int `json:"max_path_length,omitempty"`
	// FirstAS is the path's left-most ASN (absent when it starts with an AS_SET),
	// NeighborASN the session's.
	FirstAS     *routing.ASN `json:"first_as,omitempty"`
	NeighborASN routing.ASN  `json:"neighbor_asn,omitempty"`
	// Origin is the right-most ASN (absent when the path ends in an AS_SET), and
	// OriginPath the set path that put it in the customer cone.
	Origin     *routing.ASN `json:"origin,omitempty"`
	OriginPath []string     `json:"origin_path,omitempty"`
	// Entries are the prefix set's entries that contain the prefix, each with its
	// route objects' origins, IRR sources, set paths and ROAs.
	Entries []Entry `json:"entries,omitempty"`
	// ROV is the route's RPKI state with the deciding ROAs (trust anchor included).
	ROV *ROVResult `json:"rov,omitempty"`
}

// Decision is Evaluate's answer.
type Decision struct {
	// Action is Accept or Reject.
	Action Action `json:"action"`
	// Rule is the rule that decided: RuleAccept, or the rejecting rule.
	Rule RuleName `json:"rule"`
	// Reason is one sentence for people.
	Reason   string   `json:"reason"`
	Evidence Evidence `json:"evidence"`
	// Steps has every rule of the document in order, up to the deciding one.
	Steps []Step `json:"steps"`
}

// Accepted reports whether the route is accepted.
func (d Decision) Accepted() bool { return d.Action == Accept }

// Evaluate runs doc's rules over r, in order, the way a router running the rendered
// config does (the per-rule semantics are documented on RuleName): the first enabled
// rule that matches rejects; a route no rule rejects is accepted by RuleAccept.
// It returns an error wrapping ErrBadRoute for a route no router would evaluate.
func Evaluate(doc *Document, r Announcement) (Decision, error) {
	if !r.Prefix.IsValid() {
		return Decision{}, fmt.Errorf("evaluate: invalid prefix: %w", ErrBadRoute)
	}
	if r.Prefix.Addr().Is6() != (doc.Family == 6) {
		return Decision{}, fmt.Errorf("evaluate: %s is not an IPv%d prefix (document %s): %w", r.Prefix, doc.Family, doc.Name, ErrBadRoute)
	}
	if doc.Direction == Import && r.Path.Len() == 0 {
		return Decision{}, fmt.Errorf("evaluate: %s: empty AS path (an eBGP route always has one): %w", r.Prefix, ErrBadRoute)
	}
	p := r.Prefix.Masked()
	asns := r.Path.ASNs()
	origin, hasOrigin := r.Path.Origin()
	var d Decision
	ev := &d.Evidence
	ev.ROV = r.ROV
	if hasOrigin {
		ev.Origin = &origin
	}
	reject := func(rule RuleName, reason string) (Decision, error) {
		d.Action, d.Rule, d.Reason = Reject, rule, reason
		d.Steps = append(d.Steps, Step{Rule: rule, Outcome: Matched})
		return d, nil
	}
	for _, rule := range doc.Rules {
		if !rule.Enabled {
			d.Steps = append(d.Steps, Step{Rule: rule.Name, Outcome: Disabled, Note: rule.Note})
			continue
		}
		note := ""
		switch rule.Name {
		case RuleBogonASN:
			for i, a := range asns {
				if rg, ok := doc.BogonASNs.Match(a); ok {
					ev.ASN, ev.Position, ev.Range = &a, i+1, &rg
					return reject(rule.Name, fmt.Sprintf("%s (position %d in the path) is a reserved ASN: %s", a, i+1, rg.Reason))
				}
			}
		case RuleBogonPrefix:
			if b, ok := doc.BogonPrefixes.Match(p); ok {
				ev.Bogon = &b
				return reject(rule.Name, fmt.Sprintf("%s is a bogon: %s %s", p, b.PrefixRange, b.Reason))
			}
		case RulePrefixLength:
			if !doc.PrefixLength.Contains(p.Bits()) {
				ev.Length, ev.Bounds = p.Bits(), &doc.PrefixLength
				return reject(rule.Name, fmt.Sprintf("/%d is outside the accepted lengths /%d-/%d", p.Bits(), doc.PrefixLength.Min, doc.PrefixLength.Max))
			}
		case RuleRPKIInvalid:
			if !doc.Session.RuntimeROV() {
				note = "no RTR cache: applied at generation time (RPKI-invalid route objects are not in the prefix set)"
				if r.ROV != nil && r.ROV.State == routing.Invalid {
					note += "; this route is RPKI-invalid"
				}
				break
			}
			if r.ROV == nil {
				return Decision{}, fmt.Errorf("evaluate: %s validates at run time (RTR cache %s): the route's ROV state is needed: %w", doc.Name, doc.Session.RTRCache, ErrBadRoute)
			}
			if r.ROV.State == routing.Invalid {
				if !hasOrigin {
					return reject(rule.Name, fmt.Sprintf("%s is RPKI-invalid: the path ends in an AS_SET (no origin) and VRPs cover the prefix", p))
				}
				return reject(rule.Name, fmt.Sprintf("%s from %s is RPKI-invalid", p, origin))
			}
			note = "ROV state " + r.ROV.State.String()
		case RulePeerlock:
			for i, a := range asns {
				if rg, ok := doc.Peerlock.Match(a); ok {
					ev.ASN, ev.Position, ev.Range = &a, i+1, &rg
					return reject(rule.Name, fmt.Sprintf("%s (position %d in the path) is a transit-free network: %s", a, i+1, rg.Reason))
				}
			}
		case RuleASPathLength:
			if n := r.Path.Len(); n > doc.MaxPathLength {
				ev.PathLength, ev.MaxPathLength = n, doc.MaxPathLength
				return reject(rule.Name, fmt.Sprintf("the path has %d ASNs, more than %d", n, doc.MaxPathLength))
			}
		case RuleASSet:
			for i, seg := range r.Path {
				if seg.Type == ASSet {
					return reject(rule.Name, fmt.Sprintf("the path holds an AS_SET (%s, segment %d): RFC 9774 deprecates AS_SET", ASPath{seg}, i+1))
				}
			}
		case RuleFirstAS:
			ev.NeighborASN = doc.Session.NeighborASN
			first, ok := r.Path.First()
			if !ok {
				return reject(rule.Name, "the path starts with an AS_SET, not with the neighbour "+doc.Session.NeighborASN.String())
			}
			ev.FirstAS = &first
			if first != doc.Session.NeighborASN {
				return reject(rule.Name, fmt.Sprintf("the left-most ASN %s is not the neighbour %s", first, doc.Session.NeighborASN))
			}
		case RuleOrigin:
			if !hasOrigin {
				return reject(rule.Name, "the path ends in an AS_SET: the route has no origin ASN")
			}
			if !doc.Origins.Contains(origin) {
				return reject(rule.Name, fmt.Sprintf("origin %s is not in the customer cone %s", origin, doc.Origins.Name))
			}
			ev.OriginPath = doc.Origins.Paths[origin]
		case RulePrefix:
			entries := doc.Prefixes.Match(p)
			if doc.Session.OriginBinding {
				entries = slices.DeleteFunc(entries, func(e Entry) bool {
					return len(e.Origins) > 0 && (!hasOrigin || !slices.Contains(e.Origins, origin))
				})
			}
			if len(entries) == 0 {
				if doc.Session.OriginBinding && len(doc.Prefixes.Match(p)) > 0 {
					ev.Entries = doc.Prefixes.Match(p)
					return reject(rule.Name, fmt.Sprintf("%s is in %s, but not with origin %s (origin binding)", p, doc.Prefixes.Name, originText(origin, hasOrigin)))
				}
				return reject(rule.Name, fmt.Sprintf("%s is not in the prefix filter %s", p, doc.Prefixes.Name))
			}
			ev.Entries = entries
		case RuleMaxPrefix:
			if doc.Session.MaxPrefix.Limit == 0 {
				note = "no limit"
			} else {
				note = "limit " + strconv.Itoa(doc.Session.MaxPrefix.Limit) + ", action " + string(doc.Session.MaxPrefix.Action)
			}
			d.Steps = append(d.Steps, Step{Rule: rule.Name, Outcome: SessionParam, Note: note})
			continue
		case RuleAccept:
			d.Action, d.Rule = Accept, RuleAccept
			d.Reason = acceptReason(doc, p, ev)
			d.Steps = append(d.Steps, Step{Rule: rule.Name, Outcome: Matched})
			return d, nil
		default:
			return Decision{}, fmt.Errorf("evaluate: %s: unknown rule %q", doc.Name, rule.Name)
		}
		d.Steps = append(d.Steps, Step{Rule: rule.Name, Outcome: Passed, Note: note})
	}
	// A document without an accept rule accepts nothing (every rendering ends in an
	// explicit reject).
	d.Action, d.Rule, d.Reason = Reject, RuleAccept, "no rule accepted the route"
	return d, nil
}

func originText(a routing.ASN, ok bool) string {
	if !ok {
		return "none (AS_SET)"
	}
	return a.String()
}

func acceptReason(doc *Document, p netip.Prefix, ev *Evidence) string {
	s := p.String() + " passed every rule of " + doc.Name
	if len(ev.Entries) > 0 {
		s += "; filter entry " + ev.Entries[0].PrefixRange.String()
	}
	if ev.Origin != nil && doc.Direction == Import {
		s += "; origin " + ev.Origin.String()
	}
	return s
}
