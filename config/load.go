package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// MaxSize bounds a config file (a config for 10,000 customers is a few MB).
const MaxSize = 64 << 20

// maxErrors is how many problems one Load reports before it stops listing them.
const maxErrors = 20

// Load reads and validates the config file at path. Relative IRR, RPKI and PeeringDB
// paths are resolved against the file's directory. Every problem is reported with its
// line (up to 20 at once); the error wraps ErrInvalid, or the os error when the file
// cannot be read.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes: %w", path, MaxSize, ErrInvalid)
	}
	cfg, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.Path, cfg.Dir = path, filepath.Dir(path)
	for i, s := range cfg.IRR {
		cfg.IRR[i] = cfg.resolve(s)
	}
	if cfg.RPKI != "" {
		cfg.RPKI = cfg.resolve(cfg.RPKI)
	}
	for i, s := range cfg.PeeringDB {
		cfg.PeeringDB[i] = cfg.resolve(s)
	}
	return cfg, nil
}

// resolve makes a relative file spec relative to the config's directory; URLs
// (whois://, rtr://) and absolute paths are kept.
func (f *File) resolve(spec string) string {
	if strings.Contains(spec, "://") || filepath.IsAbs(spec) {
		return spec
	}
	return filepath.Join(f.Dir, spec)
}

// Parse validates a config document. Paths are kept as written (Load resolves them).
func Parse(b []byte) (*File, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("empty file: %w", ErrInvalid)
		}
		return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(err.Error(), "yaml: "), ErrInvalid)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: a second YAML document (one config per file): %w", extra.Line, ErrInvalid)
	}
	p := &parser{}
	cfg := p.file(&root)
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return cfg, nil
}

// parser collects the problems of one document.
type parser struct {
	errs []string
}

func (p *parser) failf(n *yaml.Node, where, format string, args ...any) {
	if len(p.errs) > maxErrors {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	if line > 0 {
		msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	p.errs = append(p.errs, msg)
}

func (p *parser) err() error {
	msgs := p.errs
	if len(msgs) > maxErrors {
		msgs = append(msgs[:maxErrors:maxErrors], "(more problems not shown)")
	}
	return fmt.Errorf("%s: %w", strings.Join(msgs, "; "), ErrInvalid)
}

// fields returns the values of mapping n by key, reporting every key that is not in
// known (with its line) and a non-mapping n. A nil or null n gives an empty map.
func (p *parser) fields(n *yaml.Node, where string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = deref(n)
	if n == nil || isNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.failf(n, where, "want a mapping of keys (%s)", strings.Join(known, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if prev, dup := out[k.Value]; dup {
			p.failf(k, where, "key %q appears twice (also on line %d)", k.Value, prev.Line)
			continue
		}
		if !slices.Contains(known, k.Value) {
			p.failf(k, where, "unknown key %q (known keys: %s)", k.Value, strings.Join(known, ", "))
			continue
		}
		out[k.Value] = v
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

// scalar returns n's text, reporting a non-scalar.
func (p *parser) scalar(n *yaml.Node, where, want string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		p.failf(n, where, "want %s", want)
		return "", false
	}
	return n.Value, true
}

// list returns the items of a sequence; a single scalar counts as a list of one when
// scalarOK.
func (p *parser) list(n *yaml.Node, where string, scalarOK bool) []*yaml.Node {
	n = deref(n)
	switch {
	case n == nil || isNull(n):
		return nil
	case n.Kind == yaml.SequenceNode:
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = deref(c)
		}
		return out
	case n.Kind == yaml.ScalarNode && scalarOK:
		return []*yaml.Node{n}
	}
	p.failf(n, where, "want a list")
	return nil
}

func idx(where string, i int) string { return where + "[" + strconv.Itoa(i) + "]" }

func (p *parser) str(n *yaml.Node, where string) string {
	s, _ := p.scalar(n, where, "a string")
	return s
}

func (p *parser) strs(n *yaml.Node, where string) []string {
	var out []string
	for i, c := range p.list(n, where, true) {
		if s, ok := p.scalar(c, idx(where, i), "a string"); ok {
			if s == "" {
				p.failf(c, idx(where, i), "empty string")
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) boolean(n *yaml.Node, where string) bool {
	s, ok := p.scalar(n, where, "true or false")
	if !ok {
		return false
	}
	switch s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	p.failf(n, where, "want true or false, not %q", s)
	return false
}

func (p *parser) integer(n *yaml.Node, where string, lo, hi int) int {
	s, ok := p.scalar(n, where, "a number")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		p.failf(n, where, "want a whole number from %d to %d, not %q", lo, hi, s)
		return 0
	}
	return v
}

func (p *parser) asn(n *yaml.Node, where string) routing.ASN {
	s, ok := p.scalar(n, where, "an AS number")
	if !ok {
		return 0
	}
	a, err := routing.ParseASNumber(s)
	if err != nil {
		p.failf(n, where, "%v", err)
	}
	return a
}

// asnRange parses "64496", "AS64496", "64496-64511" or "AS64496-AS64511".
func (p *parser) asnRange(n *yaml.Node, where string) (policy.ASNRange, bool) {
	s, ok := p.scalar(n, where, "an AS number or range FROM-TO")
	if !ok {
		return policy.ASNRange{}, false
	}
	from, to, isRange := strings.Cut(s, "-")
	a, err := routing.ParseASNumber(strings.TrimSpace(from))
	if err != nil {
		p.failf(n, where, "%v", err)
		return policy.ASNRange{}, false
	}
	b := a
	if isRange {
		if b, err = routing.ParseASNumber(strings.TrimSpace(to)); err != nil {
			p.failf(n, where, "%v", err)
			return policy.ASNRange{}, false
		}
		if b < a {
			p.failf(n, where, "range %q ends below its start", s)
			return policy.ASNRange{}, false
		}
	}
	return policy.ASNRange{From: a, To: b, Reason: "config"}, true
}

func (p *parser) asnRanges(n *yaml.Node, where string) []policy.ASNRange {
	var out []policy.ASNRange
	for i, c := range p.list(n, where, true) {
		if r, ok := p.asnRange(c, idx(where, i)); ok {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b policy.ASNRange) int { return int(int64(a.From) - int64(b.From)) })
	// Merge overlaps so the list is a valid ASNRangeSet.
	var merged []policy.ASNRange
	for _, r := range out {
		if m := len(merged); m > 0 && uint64(r.From) <= uint64(merged[m-1].To)+1 {
			merged[m-1].To = max(merged[m-1].To, r.To)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

func (p *parser) addr(n *yaml.Node, where string) netip.Addr {
	s, ok := p.scalar(n, where, "an IP address")
	if !ok {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		p.failf(n, where, "invalid IP address %q", s)
		return netip.Addr{}
	}
	return a
}

func (p *parser) prefix(n *yaml.Node, where string) (netip.Prefix, bool) {
	s, ok := p.scalar(n, where, "a prefix")
	if !ok {
		return netip.Prefix{}, false
	}
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		p.failf(n, where, "invalid prefix %q", s)
		return netip.Prefix{}, false
	}
	if pf.Masked() != pf {
		p.failf(n, where, "prefix %q has host bits set (did you mean %s?)", s, pf.Masked())
		return netip.Prefix{}, false
	}
	return pf, true
}

func (p *parser) prefixes(n *yaml.Node, where string) []netip.Prefix {
	var out []netip.Prefix
	for i, c := range p.list(n, where, true) {
		if pf, ok := p.prefix(c, idx(where, i)); ok {
			out = append(out, pf)
		}
	}
	return out
}

// prefixRanges parses prefixes or RPSL prefix ranges ("198.51.100.0/24^+").
func (p *parser) prefixRanges(n *yaml.Node, where string) []routing.PrefixRange {
	var out []routing.PrefixRange
	for i, c := range p.list(n, where, true) {
		s, ok := p.scalar(c, idx(where, i), "a prefix")
		if !ok {
			continue
		}
		pr, err := irr.ParsePrefixRange(s)
		if err != nil {
			p.failf(c, idx(where, i), "%s", strings.TrimPrefix(err.Error(), "irr: "))
			continue
		}
		out = append(out, pr)
	}
	return out
}

// validName reports whether s is a customer/member name: a letter, then letters,
// digits or '_', at most MaxNameLength in all.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLength {
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

func (p *parser) name(n *yaml.Node, where string) string {
	s, ok := p.scalar(n, where, "a name")
	if ok && !validName(s) {
		p.failf(n, where, "invalid name %q: letters, digits and '_', starting with a letter, at most %d characters", s, MaxNameLength)
		return ""
	}
	return s
}

// validSetName accepts what the IRR resolver takes as a root object: an ASN, an
// AS-SET or route-set name (hierarchical "AS64496:AS-CUSTOMERS" included), each
// optionally as "SOURCE::NAME".
func validSetName(s string) bool {
	if src, rest, ok := strings.Cut(s, "::"); ok {
		if !validSource(src) {
			return false
		}
		s = rest
	}
	if s == "" || len(s) > 200 {
		return false
	}
	for _, part := range strings.Split(s, ":") {
		if routing.IsASN(part) {
			continue
		}
		u := strings.ToUpper(part)
		if !strings.HasPrefix(u, "AS-") && !strings.HasPrefix(u, "RS-") || len(u) < 4 {
			return false
		}
		for i := 3; i < len(u); i++ {
			c := u[i]
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// validSource accepts IRR source names: letters, digits, '-' and '_', a letter first.
func validSource(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_')) {
			return false
		}
	}
	return true
}

func (p *parser) setNames(n *yaml.Node, where string) []string {
	var out []string
	for i, c := range p.list(n, where, true) {
		s, ok := p.scalar(c, idx(where, i), "an AS-SET name")
		if !ok {
			continue
		}
		if !validSetName(s) {
			p.failf(c, idx(where, i), "invalid AS-SET, route-set or ASN %q", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

var fileKeys = []string{"local_as", "router_id", "irr", "sources", "rpki", "rtr_cache", "peeringdb",
	"self", "defaults", "customers", "rs", "members"}

func (p *parser) file(root *yaml.Node) *File {
	m := p.fields(root, "", fileKeys...)
	cfg := &File{}
	if n, ok := m["local_as"]; ok {
		cfg.LocalAS = p.asn(n, "local_as")
	}
	if n, ok := m["router_id"]; ok {
		cfg.RouterID = p.addr(n, "router_id")
		if cfg.RouterID.IsValid() && !cfg.RouterID.Is4() {
			p.failf(n, "router_id", "a BGP router ID is an IPv4 address, not %s", cfg.RouterID)
		}
	}
	if n, ok := m["irr"]; ok {
		cfg.IRR = p.strs(n, "irr")
	}
	if n, ok := m["sources"]; ok {
		for i, c := range p.list(n, "sources", true) {
			if s, ok := p.scalar(c, idx("sources", i), "an IRR source name"); ok {
				if !validSource(s) {
					p.failf(c, idx("sources", i), "invalid IRR source name %q", s)
					continue
				}
				cfg.Sources = append(cfg.Sources, strings.ToUpper(s))
			}
		}
	}
	if n, ok := m["rpki"]; ok {
		cfg.RPKI = p.str(n, "rpki")
	}
	if n, ok := m["rtr_cache"]; ok {
		if s, ok := p.scalar(n, "rtr_cache", "ADDRESS:PORT"); ok {
			ap, err := netip.ParseAddrPort(s)
			if err != nil || ap.Port() == 0 {
				p.failf(n, "rtr_cache", "want ADDRESS:PORT (e.g. 192.0.2.10:8282 or [2001:db8::10]:8282), not %q", s)
			}
			cfg.RTRCache = ap
		}
	}
	if n, ok := m["peeringdb"]; ok {
		cfg.PeeringDB = p.strs(n, "peeringdb")
	}
	if n, ok := m["self"]; ok {
		sm := p.fields(n, "self", "as_set", "prefixes")
		cfg.Self.ASSets = p.setNames(sm["as_set"], "self.as_set")
		cfg.Self.Prefixes = p.prefixRanges(sm["prefixes"], "self.prefixes")
	}
	cfg.Defaults = builtinKnobs()
	if n, ok := m["defaults"]; ok {
		cfg.Defaults = p.knobs(n, "defaults", cfg.Defaults, nil, nil)
	}
	names := map[string]int{}
	for i, c := range p.list(m["customers"], "customers", false) {
		cu := p.customer(c, idx("customers", i), cfg.Defaults)
		p.unique(names, cu.Name, c, labelled(c, idx("customers", i)))
		cfg.Customers = append(cfg.Customers, cu)
	}
	if n, ok := m["rs"]; ok {
		cfg.RS = p.routeServer(n)
	}
	for i, c := range p.list(m["members"], "members", false) {
		mb := p.member(c, idx("members", i), cfg.Defaults)
		p.unique(names, mb.Name, c, labelled(c, idx("members", i)))
		cfg.Members = append(cfg.Members, mb)
	}
	p.crossCheck(cfg, m, root)
	return cfg
}

func (p *parser) unique(names map[string]int, name string, n *yaml.Node, where string) {
	if name == "" {
		return
	}
	key := strings.ToLower(name) // vendors differ in case sensitivity
	if line, ok := names[key]; ok {
		p.failf(n, where, "name %q is used twice (also on line %d)", name, line)
		return
	}
	names[key] = n.Line
}

// crossCheck validates what depends on more than one key.
func (p *parser) crossCheck(cfg *File, m map[string]*yaml.Node, root *yaml.Node) {
	top := deref(root)
	if len(cfg.Customers) == 0 && len(cfg.Members) == 0 && cfg.RS == nil { // members may come from --ixf
		p.failf(top, "", "no customers and no members: nothing to do")
	}
	if len(cfg.Customers) > 0 && m["local_as"] == nil {
		p.failf(top, "local_as", "missing (required with customers)")
	}
	if len(cfg.Members) > 0 && cfg.RS == nil {
		p.failf(m["members"], "rs", "missing (required with members)")
	}
	for _, c := range cfg.Customers {
		if len(c.Sessions) > 0 && m["router_id"] == nil {
			p.failf(m["customers"], "router_id", "missing (customer %s has sessions)", c.Name)
			break
		}
	}
}

func builtinKnobs() Knobs {
	k := Knobs{
		Targets:         slices.Clone(Targets),
		PrefixLength:    PrefixLengths{IPv4: policy.DefaultLengthV4, IPv6: policy.DefaultLengthV6},
		MaxASPathLength: policy.DefaultMaxPathLength,
		RPKIPolicy:      rpki.PolicyDropInvalid,
		PeerlockMode:    "default",
		Peerlock:        policy.DefaultPeerlock(),
		Bogons:          Bogons{ASNs: true, Prefixes: true},
		ShrinkGuard:     0.2,
		MaxPrefix:       MaxPrefixes{Action: policy.MaxPrefixTeardown},
		Rules:           map[policy.RuleName]bool{},
	}
	for _, r := range policy.ImportRules() {
		if r.Switchable() {
			k.Rules[r] = true
		}
	}
	return k
}

var knobKeys = []string{"targets", "prefix_length", "max_length", "allow_more_specifics", "max_as_path_length",
	"rpki_policy", "peerlock", "bogons", "shrink_guard", "origin_binding", "max_prefix", "rules"}

// knobs applies the knob keys found in n (a mapping already checked for unknown keys
// when m is given, else checked here) on top of base.
func (p *parser) knobs(n *yaml.Node, where string, base Knobs, m map[string]*yaml.Node, own *MaxPrefixes) Knobs {
	if m == nil {
		m = p.fields(n, where, knobKeys...)
	}
	k := base
	k.Targets = slices.Clone(base.Targets)
	k.Peerlock = slices.Clone(base.Peerlock)
	k.Rules = maps.Clone(base.Rules)
	if v, ok := m["targets"]; ok {
		k.Targets = nil
		for i, c := range p.list(v, join(where, "targets"), true) {
			s, ok := p.scalar(c, idx(join(where, "targets"), i), "a target")
			if !ok {
				continue
			}
			if !slices.Contains(Targets, s) {
				p.failf(c, idx(join(where, "targets"), i), "unknown target %q (want %s)", s, strings.Join(Targets, ", "))
				continue
			}
			if !slices.Contains(k.Targets, s) {
				k.Targets = append(k.Targets, s)
			}
		}
	}
	if v, ok := m["prefix_length"]; ok {
		w := join(where, "prefix_length")
		fm := p.fields(v, w, "ipv4", "ipv6")
		if c, ok := fm["ipv4"]; ok {
			k.PrefixLength.IPv4 = p.bounds(c, join(w, "ipv4"), 32)
		}
		if c, ok := fm["ipv6"]; ok {
			k.PrefixLength.IPv6 = p.bounds(c, join(w, "ipv6"), 128)
		}
	}
	if v, ok := m["max_length"]; ok {
		w := join(where, "max_length")
		fm := p.fields(v, w, "ipv4", "ipv6")
		if c, ok := fm["ipv4"]; ok {
			k.MaxLength4 = p.integer(c, join(w, "ipv4"), 1, 32)
		}
		if c, ok := fm["ipv6"]; ok {
			k.MaxLength6 = p.integer(c, join(w, "ipv6"), 1, 128)
		}
	}
	if v, ok := m["allow_more_specifics"]; ok {
		k.AllowMoreSpecifics = p.boolean(v, join(where, "allow_more_specifics"))
	}
	if v, ok := m["max_as_path_length"]; ok {
		k.MaxASPathLength = p.integer(v, join(where, "max_as_path_length"), 1, 1000)
	}
	if v, ok := m["rpki_policy"]; ok {
		if s, ok := p.scalar(v, join(where, "rpki_policy"), "ignore, drop-invalid or roa-add"); ok {
			pol, err := rpki.ParsePolicy(s)
			if err != nil || s == "" {
				p.failf(v, join(where, "rpki_policy"), "unknown RPKI policy %q (want ignore, drop-invalid or roa-add)", s)
			}
			k.RPKIPolicy = pol
		}
	}
	if v, ok := m["peerlock"]; ok {
		p.peerlock(v, join(where, "peerlock"), &k)
	}
	if v, ok := m["bogons"]; ok {
		k.Bogons = p.bogons(v, join(where, "bogons"))
	}
	if v, ok := m["shrink_guard"]; ok {
		k.ShrinkGuard = p.share(v, join(where, "shrink_guard"))
	}
	if v, ok := m["origin_binding"]; ok {
		k.OriginBinding = p.boolean(v, join(where, "origin_binding"))
	}
	if v, ok := m["max_prefix"]; ok {
		mp := p.maxPrefix(v, join(where, "max_prefix"), true)
		k.MaxPrefix = mergeMaxPrefix(k.MaxPrefix, mp)
		if own != nil {
			*own = mp
		}
	}
	if v, ok := m["rules"]; ok {
		w := join(where, "rules")
		var names []string
		for _, r := range policy.ImportRules() {
			if r.Switchable() {
				names = append(names, string(r))
			}
		}
		for key, c := range p.fields(v, w, names...) {
			k.Rules[policy.RuleName(key)] = p.boolean(c, join(w, key))
		}
	}
	return k
}

func mergeMaxPrefix(base, own MaxPrefixes) MaxPrefixes {
	if own.IPv4 > 0 {
		base.IPv4 = own.IPv4
	}
	if own.IPv6 > 0 {
		base.IPv6 = own.IPv6
	}
	if own.Action != "" {
		base.Action = own.Action
	}
	return base
}

func (p *parser) bounds(n *yaml.Node, where string, afMax int) policy.LengthBounds {
	items := p.list(n, where, false)
	if len(items) != 2 {
		p.failf(n, where, "want [MIN, MAX]")
		return policy.LengthBounds{}
	}
	b := policy.LengthBounds{Min: p.integer(items[0], where, 0, afMax), Max: p.integer(items[1], where, 0, afMax)}
	if b.Min > b.Max {
		p.failf(n, where, "minimum %d is above maximum %d", b.Min, b.Max)
	}
	return b
}

func (p *parser) share(n *yaml.Node, where string) float64 {
	s, ok := p.scalar(n, where, "a percentage such as 20%, or off")
	if !ok {
		return 0
	}
	if s == "off" || s == "false" {
		return 1
	}
	num, isPct := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !isPct || err != nil || v < 0 || v > 100 {
		p.failf(n, where, "want a percentage from 0%% to 100%% (e.g. 20%%) or off, not %q", s)
		return 0
	}
	return v / 100
}

func (p *parser) peerlock(n *yaml.Node, where string, k *Knobs) {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "default", "true":
			k.PeerlockMode, k.Peerlock = "default", policy.DefaultPeerlock()
			return
		case "off", "false":
			k.PeerlockMode, k.Peerlock = "off", nil
			return
		}
		if _, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(n.Value), "AS"), 10, 32); err != nil {
			p.failf(n, where, "want default, off or a list of ASNs, not %q", n.Value)
			return
		}
	}
	k.PeerlockMode, k.Peerlock = "list", p.asnRanges(n, where)
}

func (p *parser) bogons(n *yaml.Node, where string) Bogons {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		on := p.boolean(n, where)
		return Bogons{ASNs: on, Prefixes: on}
	}
	b := Bogons{ASNs: true, Prefixes: true}
	m := p.fields(n, where, "asns", "prefixes", "except_asns", "except_prefixes")
	if v, ok := m["asns"]; ok {
		b.ASNs = p.boolean(v, join(where, "asns"))
	}
	if v, ok := m["prefixes"]; ok {
		b.Prefixes = p.boolean(v, join(where, "prefixes"))
	}
	b.ExceptASNs = p.asnRanges(m["except_asns"], join(where, "except_asns"))
	b.ExceptPrefixes = p.prefixes(m["except_prefixes"], join(where, "except_prefixes"))
	for _, fam := range []int{4, 6} {
		if _, err := policy.RemovePrefixes(policy.DefaultBogonPrefixes(fam), b.ExceptPrefixes); err != nil {
			p.failf(m["except_prefixes"], join(where, "except_prefixes"), "%v", err)
		}
	}
	return b
}

func (p *parser) maxPrefix(n *yaml.Node, where string, actionOK bool) MaxPrefixes {
	keys := []string{"ipv4", "ipv6"}
	if actionOK {
		keys = append(keys, "action")
	}
	m := p.fields(n, where, keys...)
	var mp MaxPrefixes
	if v, ok := m["ipv4"]; ok {
		mp.IPv4 = p.integer(v, join(where, "ipv4"), 0, 100_000_000)
	}
	if v, ok := m["ipv6"]; ok {
		mp.IPv6 = p.integer(v, join(where, "ipv6"), 0, 100_000_000)
	}
	if v, ok := m["action"]; ok {
		if s, ok := p.scalar(v, join(where, "action"), "teardown, restart or warning"); ok {
			a, err := policy.ParseMaxPrefixAction(s)
			if err != nil {
				p.failf(v, join(where, "action"), "%v", err)
			}
			mp.Action = a
		}
	}
	return mp
}

var customerKeys = append([]string{"name", "asn", "role", "as_set", "extra_prefixes", "exclude_prefixes",
	"sessions", "interfaces", "sav", "description"}, knobKeys...)

// labelled adds the entry's name, when it has a valid one, to where.
func labelled(n *yaml.Node, where string) string {
	if n = deref(n); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" && validName(n.Content[i+1].Value) {
				return where + " (" + n.Content[i+1].Value + ")"
			}
		}
	}
	return where
}

func (p *parser) customer(n *yaml.Node, where string, defaults Knobs) Customer {
	label := labelled(n, where)
	m := p.fields(n, label, customerKeys...)
	c := Customer{Line: n.Line, Role: policy.RoleCustomer}
	if v, ok := m["name"]; ok {
		c.Name = p.name(v, join(where, "name"))
		if err := policy.CheckCustomerName(c.Name); c.Name != "" && err != nil {
			p.failf(v, join(where, "name"), "%v", err)
		}
		where = label
	} else {
		p.failf(n, where, "missing key name")
	}
	if v, ok := m["asn"]; ok {
		c.ASN = p.asn(v, join(where, "asn"))
		if c.ASN == 0 && deref(v).Kind == yaml.ScalarNode {
			p.failf(v, join(where, "asn"), "AS0 cannot be a neighbour (RFC 7607)")
		}
	} else {
		p.failf(n, where, "missing key asn")
	}
	if v, ok := m["role"]; ok {
		if s, ok := p.scalar(v, join(where, "role"), "customer or peer"); ok {
			r, err := policy.ParseRole(s)
			if err != nil || r == policy.RoleRSClient {
				p.failf(v, join(where, "role"), "unknown role %q (want customer or peer; route-server clients go under members)", s)
			}
			c.Role = r
		}
	}
	if v, ok := m["as_set"]; ok {
		c.ASSets = p.setNames(v, join(where, "as_set"))
		if len(c.ASSets) > 0 {
			c.ASSetFrom = "config"
		}
	}
	c.ExtraPrefixes = p.prefixRanges(m["extra_prefixes"], join(where, "extra_prefixes"))
	c.ExcludePrefixes = p.prefixes(m["exclude_prefixes"], join(where, "exclude_prefixes"))
	for i, s := range p.list(m["sessions"], join(where, "sessions"), false) {
		w := idx(join(where, "sessions"), i)
		sm := p.fields(s, w, "address", "port")
		nb := policy.Neighbor{}
		if v, ok := sm["address"]; ok {
			nb.Address = p.addr(v, join(w, "address"))
		} else {
			p.failf(s, w, "missing key address")
		}
		if v, ok := sm["port"]; ok {
			nb.Port = uint16(p.integer(v, join(w, "port"), 1, 65535))
		}
		c.Sessions = append(c.Sessions, nb)
	}
	for i, s := range p.list(m["interfaces"], join(where, "interfaces"), false) {
		c.Interfaces = append(c.Interfaces, p.iface(s, idx(join(where, "interfaces"), i)))
	}
	if v, ok := m["sav"]; ok {
		c.SAV = p.sav(v, join(where, "sav"))
	}
	if v, ok := m["description"]; ok {
		p.str(v, join(where, "description"))
	}
	c.Knobs = p.knobs(n, where, defaults, m, &c.OwnMaxPrefix)
	return c
}

func (p *parser) iface(n *yaml.Node, where string) Interface {
	m := p.fields(n, where, "device", "name", "exporter", "ifindex")
	var it Interface
	if v, ok := m["device"]; ok {
		it.Device = p.ifName(v, join(where, "device"))
	}
	if v, ok := m["name"]; ok {
		it.Name = p.ifName(v, join(where, "name"))
	} else {
		p.failf(n, where, "missing key name (the interface)")
	}
	if v, ok := m["exporter"]; ok {
		it.Exporter = p.addr(v, join(where, "exporter"))
	}
	if v, ok := m["ifindex"]; ok {
		it.IfIndex, it.HasIfIndex = uint32(p.integer(v, join(where, "ifindex"), 0, 1<<31-1)), true
		if _, ok := m["exporter"]; !ok {
			p.failf(v, join(where, "ifindex"), "an ifindex needs the exporter it belongs to")
		}
	}
	return it
}

// ifName accepts device and interface names as vendors write them
// ("xe-0/0/1.100", "Bundle-Ether1", "edge1.fra", "eth0:1").
func (p *parser) ifName(n *yaml.Node, where string) string {
	s, ok := p.scalar(n, where, "a name")
	if !ok {
		return ""
	}
	valid := s != "" && len(s) <= 64
	for i := 0; i < len(s) && valid; i++ {
		c := s[i]
		valid = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./:", c) >= 0
	}
	if !valid {
		p.failf(n, where, "invalid name %q: letters, digits and -_./: only, at most 64 characters", s)
		return ""
	}
	return s
}

func (p *parser) sav(n *yaml.Node, where string) *SAV {
	m := p.fields(n, where, "mode", "extra_prefixes")
	s := &SAV{Mode: SAVStrict}
	if v, ok := m["mode"]; ok {
		if mode, ok := p.scalar(v, join(where, "mode"), "strict, loose or acl"); ok {
			if mode != SAVStrict && mode != SAVLoose && mode != SAVACL {
				p.failf(v, join(where, "mode"), "unknown SAV mode %q (want strict, loose or acl)", mode)
			}
			s.Mode = mode
		}
	}
	s.ExtraPrefixes = p.prefixes(m["extra_prefixes"], join(where, "extra_prefixes"))
	return s
}

func (p *parser) routeServer(n *yaml.Node) *RouteServer {
	m := p.fields(n, "rs", rsKeys...)
	rs := &RouteServer{RejectPolicy: RejectPolicyReject}
	p.routeServerExtra(m, rs)
	if v, ok := m["asn"]; ok {
		rs.ASN = p.asn(v, "rs.asn")
	} else {
		p.failf(n, "rs", "missing key asn")
	}
	if v, ok := m["router_id"]; ok {
		rs.RouterID = p.addr(v, "rs.router_id")
		if rs.RouterID.IsValid() && !rs.RouterID.Is4() {
			p.failf(v, "rs.router_id", "a BGP router ID is an IPv4 address, not %s", rs.RouterID)
		}
	} else {
		p.failf(n, "rs", "missing key router_id")
	}
	if v, ok := m["reject_policy"]; ok {
		if s, ok := p.scalar(v, "rs.reject_policy", "reject or tag"); ok {
			if s != RejectPolicyReject && s != RejectPolicyTag {
				p.failf(v, "rs.reject_policy", "unknown reject policy %q (want reject or tag)", s)
			}
			rs.RejectPolicy = s
		}
	}
	return rs
}

func (p *parser) member(n *yaml.Node, where string, defaults Knobs) Member {
	label := labelled(n, where)
	m := p.fields(n, label, "name", "asn", "addresses", "as_set", "max_prefix", "overrides", "description")
	mb := Member{Line: n.Line}
	if v, ok := m["name"]; ok {
		mb.Name = p.name(v, join(where, "name"))
		where = label
	} else {
		p.failf(n, where, "missing key name")
	}
	if v, ok := m["asn"]; ok {
		mb.ASN = p.asn(v, join(where, "asn"))
	} else {
		p.failf(n, where, "missing key asn")
	}
	for i, a := range p.list(m["addresses"], join(where, "addresses"), true) {
		if ad := p.addr(a, idx(join(where, "addresses"), i)); ad.IsValid() {
			mb.Addresses = append(mb.Addresses, ad)
		}
	}
	if len(mb.Addresses) == 0 {
		p.failf(n, where, "missing key addresses (the member's router addresses)")
	}
	if v, ok := m["as_set"]; ok {
		mb.ASSets = p.setNames(v, join(where, "as_set"))
		if len(mb.ASSets) > 0 {
			mb.ASSetFrom = "config"
		}
	}
	if v, ok := m["description"]; ok {
		p.str(v, join(where, "description"))
	}
	k := defaults
	if v, ok := m["max_prefix"]; ok {
		k = p.knobs(nil, where, k, map[string]*yaml.Node{"max_prefix": v}, &mb.OwnMaxPrefix)
	}
	mb.Knobs = p.knobs(m["overrides"], join(where, "overrides"), k, nil, nil)
	return mb
}
