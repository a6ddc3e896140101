package render

// Session policies: the policy.Documents of one customer (import and export, both
// families) rendered as one router config fragment per vendor, from
// templates/<vendor>/policy.tmpl. This file only prepares vendor-neutral view data
// (names validated, lists sorted, ASN ranges also as regex alternations for vendors
// that match paths with regexes) and checks the capability table: a rule a vendor
// cannot express is an error or a comment plus a warning, never silently dropped.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// PolicyVendors are the vendors with a session policy template.
var PolicyVendors = []string{"bird", "frr", "iosxr", "junos"}

// Capability says how a vendor renders one rule.
type Capability string

// Capabilities.
const (
	// CapRule: rendered as a statement of the policy.
	CapRule Capability = "policy"
	// CapSession: rendered on the session (neighbour) stanza, so only when sessions
	// are configured; otherwise a comment and a warning.
	CapSession Capability = "session"
	// CapNo: the vendor cannot express it; rendering a document that enables it
	// fails with ErrUnsupported.
	CapNo Capability = "unsupported"
	// CapComment: the vendor has no documented statement that matches it, and the
	// rule is a refinement the other rules mostly cover: a comment and a warning
	// saying the router does not apply it (explain with the rule switched off then
	// matches the router).
	CapComment Capability = "comment"
)

// capabilities is the per-vendor table. Every import rule is a policy statement
// except max-prefix (a session setting everywhere) and as-set: BIRD refuses AS_SETs
// on the session (its filters cannot tell a one-member AS_SET from an ASN), FRR
// matches them with an as-path list, and Junos and IOS-XR document no AS path match
// for AS_SET segments. origin_binding (the prefix rule
// paired with each entry's own origins, binding.go) is a policy statement in every
// vendor: per-origin prefix sets matched together with the path's origin.
var capabilities = map[string]map[string]Capability{
	"bird":  {"max-prefix": CapSession, "as-set": CapSession},
	"frr":   {"max-prefix": CapSession},
	"iosxr": {"max-prefix": CapSession, "as-set": CapComment, "neighbor-port": CapNo},
	"junos": {"max-prefix": CapSession, "as-set": CapComment, "neighbor-port": CapNo},
}

// Capabilities returns vendor's capability of every rule (and "origin-binding").
func Capabilities(vendor string) map[string]Capability {
	out := map[string]Capability{}
	for _, r := range policy.ImportRules() {
		out[string(r)] = CapRule
	}
	out["origin-binding"] = CapRule
	out["neighbor-port"] = CapSession
	for k, v := range capabilities[vendor] {
		out[k] = v
	}
	return out
}

// PolicyOutput is a rendered session policy: the config text and the warnings the
// summary must carry (rules that are comments only in this vendor's output).
type PolicyOutput struct {
	Text     []byte
	Warnings []string
}

// policyView is what policy.tmpl executes on.
type policyView struct {
	Customer    string
	LocalASN    uint32
	RouterID    string
	NeighborASN uint32
	Role        string
	// RTR is the RTR cache ("" when none); RTRAddr and RTRPort its parts.
	RTR     string
	RTRAddr string
	RTRPort uint16
	Imports []*docView // v4 first; nil entries removed
	Exports []*docView
	// Origins, BogonASNs and Peerlock are shared by the families (one object each).
	Origins   asnView
	BogonASNs asnView
	Peerlock  asnView
	// OriginPaths are the path objects of origin binding (both families' bound
	// origins), empty without it.
	OriginPaths []originPathView
	// Sessions are the neighbours of both families, with the documents they use.
	Sessions []sessionView
}

type asnView struct {
	Name   string
	Ranges []rangeView
	// ASNs are the single ASNs (Origins only), Chunks of them 8 at a time;
	// OtherChunks the same without the neighbour, HasNeighbor whether it is one.
	ASNs        []uint32
	Chunks      [][]uint32
	OtherChunks [][]uint32
	HasNeighbor bool
	Empty       bool
}

// Regex is an alternation "(a|b|c)" matching exactly the ASNs of Ranges as whole
// numbers. It is made when a template asks (methods, not fields: an origin set of a
// large cone has thousands of ASNs and no built-in template wants its regex).
func (v asnView) Regex() string { r, _ := rangesRegex(v.Ranges); return r }

// RegexChunks is Regex split into groups of about 8 ranges.
func (v asnView) RegexChunks() []string { _, c := rangesRegex(v.Ranges); return c }

type rangeView struct {
	From, To uint32
	Single   bool
	Reason   string
}

type ruleView struct {
	Name        string
	Enabled     bool
	Note        string
	Description string
}

type docView struct {
	Name      string
	Direction string
	Family    int
	V6        bool
	Rules     []ruleView
	Enabled   map[string]bool
	Prefixes  *PrefixData
	Bogons    *PrefixData
	LenMin    int
	LenMax    int
	AFMax     int
	// MaxPath is the as-path-length limit, MaxPath1 the first length rejected.
	MaxPath, MaxPath1 int
	MaxPrefix         int
	MaxPrefixAction   string
	RuntimeROV        bool
	Warnings          []string
	// Binding is origin binding on the prefix rule (binding.go): Unbound holds the
	// entries without origins, Bound one prefix set per origin.
	Binding   bool
	Unbound   *PrefixData
	Bound     []boundView
	neighbors []policy.Neighbor
}

type sessionView struct {
	// Name is a protocol/group name for vendors that need one (CUSTOMER_N).
	Name    string
	Address string
	Port    uint16
	V6      bool
	In, Out string // policy names; Out "" when no export document
	Import  *docView
}

// RenderPolicy renders the documents of one customer (its import documents and,
// when built, its export documents) for vendor. Every object name is validated with
// the vendor's name rule first.
func RenderPolicy(vendor string, docs []*policy.Document, opt Options) (*PolicyOutput, error) {
	if !slices.Contains(PolicyVendors, vendor) {
		return nil, fmt.Errorf("render: session policies: unknown vendor %q (one of %s)", vendor, strings.Join(PolicyVendors, ", "))
	}
	docs = slices.DeleteFunc(slices.Clone(docs), func(d *policy.Document) bool { return d == nil })
	if len(docs) == 0 {
		return nil, fmt.Errorf("render: session policies: no document")
	}
	r, err := New(vendor, opt)
	if err != nil {
		return nil, err
	}
	if r.t.Lookup("policy.tmpl") == nil {
		return nil, fmt.Errorf("render: %s: session policies: %w", vendor, ErrUnsupported)
	}
	v, warnings, err := newPolicyView(vendor, docs)
	if err != nil {
		return nil, err
	}
	text, err := r.exec("policy.tmpl", v)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Text: text, Warnings: warnings}, nil
}

func newPolicyView(vendor string, docs []*policy.Document) (*policyView, []string, error) {
	first := docs[0]
	caps := Capabilities(vendor)
	s := first.Session
	v := &policyView{Customer: first.Customer, LocalASN: uint32(s.LocalASN), NeighborASN: uint32(s.NeighborASN),
		Role: string(s.Role)}
	if s.RouterID.IsValid() {
		v.RouterID = s.RouterID.String()
	}
	if s.RTRCache.IsValid() {
		v.RTR, v.RTRAddr, v.RTRPort = s.RTRCache.String(), s.RTRCache.Addr().String(), s.RTRCache.Port()
	}
	var names []string
	check := func(name string) error {
		if err := ValidateName(vendor, name); err != nil {
			return fmt.Errorf("render: customer %s: %w", first.Customer, err)
		}
		names = append(names, name)
		return nil
	}
	var warnings []string
	var bound []routing.ASN
	byName := map[string]*docView{}
	for _, d := range docs {
		if d.Customer != first.Customer {
			return nil, nil, fmt.Errorf("render: documents of two customers (%s, %s) in one config", first.Customer, d.Customer)
		}
		if _, dup := byName[d.Name]; dup {
			return nil, nil, fmt.Errorf("render: document %s twice", d.Name)
		}
		if d.Session.OriginBinding && d.Direction == policy.Import && caps["origin-binding"] == CapNo {
			return nil, nil, fmt.Errorf("render: %s: %s: origin_binding (prefix paired with its own origins): %w", vendor, d.Name, ErrUnsupported)
		}
		dv, err := newDocView(d)
		if err != nil {
			return nil, nil, err
		}
		bound = append(bound, bindingView(dv, d)...)
		for _, n := range append([]string{d.Name, d.Prefixes.Name}, bindingNames(dv)...) {
			if err := check(n); err != nil {
				return nil, nil, err
			}
		}
		if d.Direction == policy.Import {
			if err := check(d.BogonPrefixes.Name); err != nil {
				return nil, nil, err
			}
			v.Imports = append(v.Imports, dv)
			if v.Origins.Name == "" {
				v.Origins = originsView(d.Origins, d.Session.NeighborASN)
				v.BogonASNs = rangesView(d.BogonASNs)
				v.Peerlock = rangesView(d.Peerlock)
				for _, n := range []string{v.Origins.Name, v.BogonASNs.Name, v.Peerlock.Name} {
					if err := check(n); err != nil {
						return nil, nil, err
					}
				}
			}
			if dv.MaxPrefix > 0 && len(d.Session.Neighbors) == 0 && caps["max-prefix"] == CapSession {
				warnings = append(warnings, fmt.Sprintf("%s: max-prefix %d is a session setting and no IPv%d session is configured: not rendered", d.Name, dv.MaxPrefix, d.Family))
			}
			if dv.Enabled[string(policy.RuleASSet)] {
				switch caps[string(policy.RuleASSet)] {
				case CapSession:
					if len(d.Session.Neighbors) == 0 {
						warnings = append(warnings, fmt.Sprintf("%s: as-set is a session setting in %s and no IPv%d session is configured: not rendered (routes with an AS_SET are judged by the other rules)", d.Name, vendor, d.Family))
					}
				case CapComment:
					warnings = append(warnings, fmt.Sprintf("%s: as-set: %s has no documented match for AS_SET segments: not rendered (routes with an AS_SET are judged by the other rules)", d.Name, vendor))
				}
			}
		} else {
			v.Exports = append(v.Exports, dv)
		}
		byName[d.Name] = dv
		for _, w := range d.Warnings {
			warnings = append(warnings, d.Name+": "+w)
		}
	}
	// Helper objects some templates add (ROA tables and the RTR protocol, path and
	// length lists), validated whether or not this vendor uses them.
	for _, suffix := range []string{"_ROA_V4", "_ROA_V6", "_RPKI", "_FIRST_AS", "_AS_SET", "_LONG", "_LONG_V4", "_LONG_V6", "_LEN_V4", "_LEN_V6", "_PATH", "_REJECT_ALL"} {
		if err := ValidateName(vendor, first.Customer+suffix); err != nil {
			return nil, nil, fmt.Errorf("render: customer %s: %w", first.Customer, err)
		}
	}
	v.OriginPaths = originPathsView(first.Customer, first.Session.NeighborASN, bound)
	for _, p := range v.OriginPaths {
		if err := check(p.Name); err != nil {
			return nil, nil, err
		}
	}
	slices.SortFunc(v.Imports, func(a, b *docView) int { return a.Family - b.Family })
	slices.SortFunc(v.Exports, func(a, b *docView) int { return a.Family - b.Family })
	n := 0
	for _, imp := range v.Imports {
		for _, nb := range imp.neighbors {
			n++
			sv := sessionView{Name: fmt.Sprintf("%s_%d", first.Customer, n), Address: nb.Address.String(), Port: nb.Port,
				V6: imp.V6, In: imp.Name, Import: imp}
			if out := byName[policy.PolicyName(first.Customer, policy.Export, imp.Family)]; out != nil {
				sv.Out = out.Name
			}
			if err := check(sv.Name); err != nil {
				return nil, nil, err
			}
			if nb.Port != 0 && nb.Port != 179 && caps["neighbor-port"] == CapNo {
				warnings = append(warnings, fmt.Sprintf("%s: neighbour %s port %d: %s has no per-neighbour remote port, not rendered", imp.Name, nb.Address, nb.Port, vendor))
			}
			v.Sessions = append(v.Sessions, sv)
		}
	}
	slices.Sort(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] && !sharedName(v, names[i]) {
			return nil, nil, fmt.Errorf("render: customer %s: object name %s used twice", first.Customer, names[i])
		}
	}
	return v, warnings, nil
}

// sharedName reports whether name is one of the objects both families share.
func sharedName(v *policyView, name string) bool {
	return name == v.Origins.Name || name == v.BogonASNs.Name || name == v.Peerlock.Name
}

func newDocView(d *policy.Document) (*docView, error) {
	if d.Family != 4 && d.Family != 6 {
		return nil, fmt.Errorf("render: %s: address family %d", d.Name, d.Family)
	}
	dv := &docView{Name: d.Name, Direction: string(d.Direction), Family: d.Family, V6: d.Family == 6,
		Enabled: map[string]bool{}, LenMin: d.PrefixLength.Min, LenMax: d.PrefixLength.Max, AFMax: 32,
		MaxPath: d.MaxPathLength, MaxPath1: d.MaxPathLength + 1, MaxPrefix: d.Session.MaxPrefix.Limit,
		MaxPrefixAction: string(d.Session.MaxPrefix.Action), RuntimeROV: d.Session.RuntimeROV(), Warnings: d.Warnings,
		neighbors: d.Session.Neighbors}
	if dv.V6 {
		dv.AFMax = 128
	}
	if dv.MaxPrefixAction == "" {
		dv.MaxPrefixAction = string(policy.MaxPrefixTeardown)
	}
	for _, r := range d.Rules {
		dv.Rules = append(dv.Rules, ruleView{Name: string(r.Name), Enabled: r.Enabled, Note: safeComment(r.Note), Description: r.Name.Description()})
		dv.Enabled[string(r.Name)] = r.Enabled
	}
	if d.Direction == policy.Import && dv.Enabled[string(policy.RuleASPathLength)] && d.MaxPathLength < 1 {
		return nil, fmt.Errorf("render: %s: as-path-length limit %d", d.Name, d.MaxPathLength)
	}
	pf := &policy.PrefixFilter{Name: d.Prefixes.Name, Family: d.Family, Objects: d.Prefixes.Objects}
	if d.Direction == policy.Export && d.Prefixes.Name != policy.ExportSetName(d.Family) {
		return nil, fmt.Errorf("render: %s: the export policy must announce the shared export set %s, not %s", d.Name, policy.ExportSetName(d.Family), d.Prefixes.Name)
	}
	if d.Direction == policy.Export {
		// The export set is the shared one (export.go), rendered once per run: the
		// customer's policy only names it.
		dv.Prefixes = newPrefixDataLines(pf, nil)
		dv.Prefixes.Empty = len(d.Prefixes.Entries) == 0
	} else {
		pf.Entries = d.Prefixes.Entries
		dv.Prefixes = newPrefixData(pf)
	}
	bog := &policy.PrefixFilter{Name: d.BogonPrefixes.Name, Family: d.Family}
	for _, b := range d.BogonPrefixes.Entries {
		if b.Prefix.Addr().Is6() != dv.V6 {
			return nil, fmt.Errorf("render: %s: bogon %s in an IPv%d list", d.Name, b.PrefixRange, d.Family)
		}
		bog.Entries = append(bog.Entries, policy.Entry{PrefixRange: b.PrefixRange})
	}
	dv.Bogons = newPrefixData(bog)
	return dv, nil
}

// safeComment keeps a note printable in a one-line comment of any vendor.
func safeComment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\'' || r == '{' || r == '}' || r == ';' || r == '\\' || r == '*' {
			return ' '
		}
		return r
	}, s)
}

func originsView(s policy.ASNSet, neighbor routing.ASN) asnView {
	v := asnView{Name: s.Name, Empty: len(s.ASNs) == 0}
	var others []uint32
	if n := len(s.ASNs); n > 0 {
		// Sized once: a large cone has tens of thousands of origins, per vendor.
		v.ASNs, v.Ranges, others = make([]uint32, 0, n), make([]rangeView, 0, n), make([]uint32, 0, n)
		v.Chunks, v.OtherChunks = make([][]uint32, 0, (n+7)/8), make([][]uint32, 0, (n+7)/8)
	}
	for _, a := range s.ASNs {
		if a == neighbor {
			v.HasNeighbor = true
		} else {
			others = append(others, uint32(a))
		}
		v.ASNs = append(v.ASNs, uint32(a))
		v.Ranges = append(v.Ranges, rangeView{From: uint32(a), To: uint32(a), Single: true})
	}
	for i := 0; i < len(v.ASNs); i += 8 {
		v.Chunks = append(v.Chunks, v.ASNs[i:min(i+8, len(v.ASNs))])
	}
	for i := 0; i < len(others); i += 8 {
		v.OtherChunks = append(v.OtherChunks, others[i:min(i+8, len(others))])
	}
	return v
}

func rangesView(s policy.ASNRangeSet) asnView {
	v := asnView{Name: s.Name, Empty: len(s.Ranges) == 0}
	for _, r := range s.Ranges {
		v.Ranges = append(v.Ranges, rangeView{From: uint32(r.From), To: uint32(r.To), Single: r.From == r.To, Reason: safeComment(r.Reason)})
	}
	return v
}

// rangesRegex returns an alternation that matches the decimal numbers of the ranges
// and nothing else (no leading zeros), whole and in chunks of about 8 ranges.
func rangesRegex(rs []rangeView) (string, []string) {
	var all []string
	var chunks []string
	var cur []string
	for i, r := range rs {
		alts := numRangeRegex(uint64(r.From), uint64(r.To))
		all = append(all, alts...)
		cur = append(cur, alts...)
		if (i+1)%8 == 0 || i == len(rs)-1 {
			chunks = append(chunks, "("+strings.Join(cur, "|")+")")
			cur = nil
		}
	}
	if len(all) == 0 {
		return "", nil
	}
	return "(" + strings.Join(all, "|") + ")", chunks
}

// numRangeRegex splits [lo, hi] into patterns of digits and [a-b] classes, each
// matching numbers of one length.
func numRangeRegex(lo, hi uint64) []string {
	if lo > hi {
		return nil
	}
	var out []string
	// Split by number of digits.
	for l := len(strconv.FormatUint(lo, 10)); l <= len(strconv.FormatUint(hi, 10)); l++ {
		a, b := lo, hi
		minL, maxL := pow10(l-1), pow10(l)-1
		if l == 1 {
			minL = 0
		}
		a, b = max(a, minL), min(b, maxL)
		if a > b {
			continue
		}
		out = append(out, sameLenRegex(strconv.FormatUint(a, 10), strconv.FormatUint(b, 10))...)
	}
	return out
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// sameLenRegex covers [a, b] (decimal strings of equal length) with digit patterns.
func sameLenRegex(a, b string) []string {
	if a == b {
		return []string{a}
	}
	// Common prefix.
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	p, a, b := a[:i], a[i:], b[i:]
	if len(a) == 1 {
		return []string{p + class(a[0], b[0])}
	}
	rest := len(a) - 1
	zeros, nines := strings.Repeat("0", rest), strings.Repeat("9", rest)
	var out []string
	lo, hi := a[0], b[0]
	if a[1:] != zeros {
		for _, s := range sameLenRegex(a[1:], nines) {
			out = append(out, p+string(a[0])+s)
		}
		lo++
	}
	topFull := b[1:] == nines
	if !topFull {
		hi--
	}
	if lo <= hi {
		out = append(out, p+class(lo, hi)+strings.Repeat("[0-9]", rest))
	}
	if !topFull {
		for _, s := range sameLenRegex(zeros, b[1:]) {
			out = append(out, p+string(b[0])+s)
		}
	}
	return out
}

func class(a, b byte) string {
	if a == b {
		return string(a)
	}
	return "[" + string(a) + "-" + string(b) + "]"
}
