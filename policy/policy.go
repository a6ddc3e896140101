// Package policy holds the one filter model every vendor renders from: a prefix filter
// (entries with length ranges and their provenance) and an AS-path/origin filter, and
// the code that builds them from IRR data with bgpq4's length and aggregation semantics.
package policy

import (
	"errors"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Errors callers branch on with errors.Is; the command line maps them to exit codes.
var (
	// ErrUnknownObject means a root object (set or ASN given by the user) does not exist
	// in the selected IRR sources. bgpq4 exits 0 with an empty list here; we fail.
	ErrUnknownObject = errors.New("unknown object")
	// ErrMissingMember means a member set of a root object does not exist; an error only
	// with Options.FailOnMissing, a warning otherwise.
	ErrMissingMember = errors.New("missing member set")
	// ErrInvalidOption means the length options are out of range or contradict each other.
	ErrInvalidOption = errors.New("invalid option")
)

// Entry is one line of a prefix filter: Prefix with accepted lengths Min..Max
// (Prefix.Bits() <= Min <= Max <= 32/128), and why it is there.
type Entry struct {
	// PrefixRange is the prefix (masked, no host bits) and the accepted lengths;
	// Min == Max == Prefix.Bits() is an exact match.
	routing.PrefixRange
	// Origins are the origin ASNs of the route objects this entry covers, ascending.
	Origins []routing.ASN
	// Sources are the IRR sources of those route objects where the data can tell
	// (sorted); empty when unknown (a remote whois server does not say).
	Sources []string
	// Paths are set paths from a root object to the origin, e.g.
	// [["AS-EXAMPLE" "AS-CUST" "AS64500"]], deduplicated and sorted; may be empty.
	Paths [][]string
	// ROV holds the distinct RPKI states (Options.Validator) of the route objects behind
	// the entry, ascending; empty when no validator was given.
	ROV []routing.ROVState `json:",omitempty"`
	// ROVReasons explains ROV (matching ROAs), empty without a validator.
	ROVReasons []string `json:",omitempty"`
}

// ROVSummary is the entry's RPKI state in one word: "" without a validator, the state
// when every route object behind the entry has the same one, else "mixed".
func (e Entry) ROVSummary() string {
	switch len(e.ROV) {
	case 0:
		return ""
	case 1:
		return e.ROV[0].String()
	}
	return "mixed"
}

// PrefixFilter is a prefix list for one address family.
type PrefixFilter struct {
	// Name is the list name; the renderer validates it against the vendor's rules.
	Name string
	// Family is 4 or 6.
	Family int
	// Objects are the root objects as the user gave them.
	Objects []string
	// Entries are sorted by address, then by prefix length, then by Min, Max.
	Entries []Entry
	// Warnings are non-fatal findings (missing member sets, loops), sorted.
	Warnings []string
}

// V6 reports whether the filter is for IPv6.
func (f *PrefixFilter) V6() bool { return f.Family == 6 }

// Empty reports whether the filter has no entries (it then denies everything).
func (f *PrefixFilter) Empty() bool { return len(f.Entries) == 0 }

// ASPathFilter is an origin / AS-path filter: routes whose origin is one of Origins,
// and when PeerAS is set, whose path starts with PeerAS.
type ASPathFilter struct {
	// Name is the list name; the renderer validates it against the vendor's rules.
	Name string
	// PeerAS, when non-zero, is the neighbour AS every path must start with.
	PeerAS routing.ASN
	// Objects are the root objects as the user gave them.
	Objects []string
	// Origins are the permitted origin ASNs, ascending, deduplicated. PeerAS is not in
	// this list unless it is a member of the objects (see PeerIsMember).
	Origins []routing.ASN
	// PeerIsMember reports whether PeerAS is itself a member (it then may originate).
	PeerIsMember bool
	// Warnings are non-fatal findings (missing member sets, loops), sorted.
	Warnings []string
}

// Empty reports whether the filter permits no path at all.
func (f *ASPathFilter) Empty() bool { return len(f.Origins) == 0 && !f.PeerIsMember }

// OthersThanPeer returns Origins without PeerAS (for "peer then any then origin" lines).
func (f *ASPathFilter) OthersThanPeer() []routing.ASN {
	if f.PeerAS == 0 {
		return f.Origins
	}
	out := make([]routing.ASN, 0, len(f.Origins))
	for _, a := range f.Origins {
		if a != f.PeerAS {
			out = append(out, a)
		}
	}
	return out
}

// RouteValidator is the hook for RPKI route origin validation (RFC 6811): it returns
// the state of a route and human-readable reasons.
// The RPKI package implements it; policy only records the answer per entry and applies
// Options.DropInvalid.
type RouteValidator interface {
	Validate(p netip.Prefix, origin routing.ASN) (state routing.ROVState, reasons []string)
}
