package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// A second, independent implementation of what a Junos router does with the policy
// bgpfilter renders: it reads the rendered text back (it knows nothing of the policy
// model or of the templates) and evaluates routes against the policy-statements, so
// that TestJunosReadBackDiff can compare every decision with policy.Evaluate.
//
// The rules it implements, from Juniper's documentation:
//
//   - Policy terms ("Understanding Routing Policy Terms", Junos OS 10.3 security
//     routing-policy guide; "Understanding How a Routing Policy Chain Is Evaluated",
//     https://www.juniper.net/documentation/us/en/software/junos/routing-policy/topics/concept/policy-routing-policies-chain-evaluation-method.html):
//     the terms of a policy-statement are compared with the route in the order they
//     are defined; a term matches when the route matches all its match conditions
//     (a term without from matches every route); accept and reject end the evaluation;
//     a term without a terminating action, or one that does not match, passes the
//     route to the next term; the then of the policy-statement itself (outside any
//     term) is the final, unnamed term. A route no term decides gets the protocol's
//     default policy, which for BGP import is accept (reported as "default").
//   - Route lists ("How Route Lists Are Evaluated in Routing Policy Match
//     Conditions" and "How Prefix Order Affects Route List Evaluation", Junos Policy
//     Framework Configuration Guide 9.4/10.4): the route-filters of a term form one
//     list; the software looks up the longest prefix of the list that contains the
//     route (order does not matter) and examines only the match type(s) of that
//     prefix: when the same prefix is listed several times they are scanned top to
//     bottom and the first match type that fits applies; when none fits, the list
//     does not match, shorter prefixes are not tried ("Common Configuration Problem
//     with the Longest-Match Lookup", same guide). An action written on the
//     route-filter is taken instead of the term's then. A route-filter-list
//     (policy-options route-filter-list, Junos 15.2+: "a list of individual route
//     filters", each a prefix, a match type and an optional action,
//     https://www.juniper.net/documentation/us/en/software/junos/routing-policy/topics/ref/statement/route-filter-list-edit-policy-options.html)
//     is read as such a list, defined once. Assumed, not documented in what was
//     found: the longest-match lookup runs within one list (the reader refuses a
//     term with two lists or with a list and route-filter lines mixed).
//   - Match types (Route List Match Types table, same guide): exact (same length),
//     longer (strictly longer), orlonger (equal or longer), upto /n (from the
//     prefix's length to n), prefix-length-range /a-/b (a to b), all sharing the
//     prefix's most-significant bits.
//   - Prefix lists: prefix-list-filter NAME exact|longer|orlonger does the same
//     longest-match lookup over the list's prefixes, then applies the qualifier.
//   - AS path regular expressions ("Defining AS Path Regular Expressions", 9.4, and
//     the AS Path Regular Expression Operators table, Policy Framework guide 10.4;
//     show-route-aspath-regex, Junos 13.1): a term is a whole AS number, a range a-b,
//     or "." (any one AS number); operators {m,n} {m} {m,} * + ? | and ( ) groups
//     (space between terms is not needed around parentheses); ^ and $ are implicit:
//     the expression must match the entire path. An as-path-group matches when one
//     of its expressions does; several names in one as-path condition are an OR.
//     A term may not use both as-path and as-path-group (the reader refuses it).
//   - validation-database invalid matches a route whose RFC 6811 state, looked up in
//     the router's validation database, is invalid (the test gives it the VRPs the
//     documents were built with, as the RTR cache would).
//
// Anything else in policy-options or in a policy-statement is an error, so a
// condition the reader does not understand can never make a route pass. Paths are
// AS_SEQUENCE only (the as-set rule is not rendered for Junos).

// junosNode is one statement of the curly-brace configuration: its words and, for a
// block, its children.
type junosNode struct {
	words    []string
	block    bool
	children []*junosNode
}

// junosTokens splits the configuration into words, quoted strings (kept with their
// quotes), "{", "}", "[", "]" and ";", dropping /* */ comments and "replace:" tags.
func junosTokens(text string) ([]string, error) {
	var out []string
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated comment at byte %d", i)
			}
			i += j + 4
		case c == '"':
			j := strings.IndexByte(text[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated string at byte %d", i)
			}
			out = append(out, text[i:i+j+2])
			i += j + 2
		case c == '{' || c == '}' || c == ';' || c == '[' || c == ']':
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n{};[]\"", rune(text[j])) {
				j++
			}
			if w := text[i:j]; w != "replace:" {
				out = append(out, w)
			}
			i = j
		}
	}
	return out, nil
}

// parseJunosTree builds the statement tree of the configuration.
func parseJunosTree(text string) ([]*junosNode, error) {
	toks, err := junosTokens(text)
	if err != nil {
		return nil, err
	}
	pos := 0
	var parse func(depth int) ([]*junosNode, error)
	parse = func(depth int) ([]*junosNode, error) {
		var nodes []*junosNode
		var words []string
		for pos < len(toks) {
			t := toks[pos]
			pos++
			switch t {
			case ";":
				if len(words) == 0 {
					return nil, fmt.Errorf("empty statement at token %d", pos)
				}
				nodes = append(nodes, &junosNode{words: words})
				words = nil
			case "{":
				kids, err := parse(depth + 1)
				if err != nil {
					return nil, err
				}
				nodes = append(nodes, &junosNode{words: words, block: true, children: kids})
				words = nil
			case "}":
				if depth == 0 || len(words) > 0 {
					return nil, fmt.Errorf("unbalanced '}' at token %d (pending %q)", pos, words)
				}
				return nodes, nil
			default:
				words = append(words, t)
			}
		}
		if depth > 0 || len(words) > 0 {
			return nil, fmt.Errorf("unexpected end of configuration (depth %d, pending %q)", depth, words)
		}
		return nodes, nil
	}
	return parse(0)
}

// junosRouteFilter is one entry of a route list: a prefix, its match type as the
// accepted length window, and an optional action of its own.
type junosRouteFilter struct {
	prefix netip.Prefix
	lo, hi int
	action string
}

// junosTerm is one term of a policy-statement (name "" for the final unnamed one).
type junosTerm struct {
	name         string
	asPaths      []string // as-path NAME...: one must match
	asPathGroups []string
	routeFilters []junosRouteFilter // route-filter lines: one route list
	rfls         []string           // route-filter-list NAME
	plFilters    [][2]string        // prefix-list-filter NAME qualifier
	validation   string             // validation-database STATE
	action       string             // accept, reject or "" (none)
}

// junosConfig is what the reader understood of policy-options.
type junosConfig struct {
	asPaths     map[string]*junosRegex
	groups      map[string][]*junosRegex
	rfls        map[string][]junosRouteFilter
	prefixLists map[string][]netip.Prefix
	policies    map[string][]junosTerm
}

// readJunos reads the policy-options of a rendered Junos configuration; the other
// top-level blocks (routing-options, protocols) are not policy and are skipped.
func readJunos(text string) (*junosConfig, error) {
	tree, err := parseJunosTree(text)
	if err != nil {
		return nil, err
	}
	c := &junosConfig{asPaths: map[string]*junosRegex{}, groups: map[string][]*junosRegex{},
		rfls: map[string][]junosRouteFilter{}, prefixLists: map[string][]netip.Prefix{}, policies: map[string][]junosTerm{}}
	for _, top := range tree {
		if len(top.words) != 1 || top.words[0] != "policy-options" {
			continue
		}
		for _, n := range top.children {
			if err := c.readOption(n); err != nil {
				return nil, fmt.Errorf("policy-options %s: %w", strings.Join(n.words, " "), err)
			}
		}
	}
	return c, nil
}

func (c *junosConfig) readOption(n *junosNode) error {
	if len(n.words) < 2 {
		return fmt.Errorf("statement not understood")
	}
	kind, name := n.words[0], n.words[1]
	switch {
	case kind == "as-path" && !n.block && len(n.words) == 3:
		re, err := compileJunosRegex(unquote(n.words[2]))
		if err != nil {
			return err
		}
		c.asPaths[name] = re
	case kind == "as-path-group" && n.block:
		for _, k := range n.children {
			if len(k.words) != 3 || k.words[0] != "as-path" || k.block {
				return fmt.Errorf("group member %q not understood", k.words)
			}
			re, err := compileJunosRegex(unquote(k.words[2]))
			if err != nil {
				return err
			}
			c.groups[name] = append(c.groups[name], re)
		}
	case kind == "route-filter-list" && n.block:
		c.rfls[name] = []junosRouteFilter{}
		for _, k := range n.children {
			rf, err := parseRouteFilter(k.words)
			if err != nil || k.block {
				return fmt.Errorf("entry %q: %v", k.words, err)
			}
			c.rfls[name] = append(c.rfls[name], rf)
		}
	case kind == "prefix-list" && n.block:
		c.prefixLists[name] = []netip.Prefix{}
		for _, k := range n.children {
			p, err := netip.ParsePrefix(strings.Join(k.words, ""))
			if err != nil || len(k.words) != 1 {
				return fmt.Errorf("prefix-list entry %q: %v", k.words, err)
			}
			c.prefixLists[name] = append(c.prefixLists[name], p)
		}
	case kind == "policy-statement" && n.block:
		terms, err := readPolicy(n.children)
		if err != nil {
			return err
		}
		c.policies[name] = terms
	default:
		return fmt.Errorf("statement not understood")
	}
	return nil
}

// readPolicy reads the terms of a policy-statement; a from or then outside any term
// belongs to the final unnamed term, which comes last whatever its position.
func readPolicy(nodes []*junosNode) ([]junosTerm, error) {
	var terms []junosTerm
	final := junosTerm{}
	hasFinal := false
	for _, n := range nodes {
		if n.words[0] == "term" {
			if len(n.words) != 2 || !n.block {
				return nil, fmt.Errorf("term %q not understood", n.words)
			}
			t := junosTerm{name: n.words[1]}
			for _, k := range n.children {
				if err := t.read(k); err != nil {
					return nil, fmt.Errorf("term %s: %w", t.name, err)
				}
			}
			terms = append(terms, t)
			continue
		}
		if err := final.read(n); err != nil {
			return nil, fmt.Errorf("final term: %w", err)
		}
		hasFinal = true
	}
	if hasFinal {
		terms = append(terms, final)
	}
	return terms, nil
}

// read adds a from or then statement (one line or a block) to t.
func (t *junosTerm) read(n *junosNode) error {
	lines := [][]string{n.words[1:]}
	if n.block {
		if len(n.words) != 1 {
			return fmt.Errorf("%q not understood", n.words)
		}
		lines = nil
		for _, k := range n.children {
			if k.block {
				return fmt.Errorf("nested block %q not understood", k.words)
			}
			lines = append(lines, k.words)
		}
	}
	switch n.words[0] {
	case "from":
		for _, l := range lines {
			if err := t.from(l); err != nil {
				return err
			}
		}
	case "then":
		for _, l := range lines {
			if len(l) != 1 || (l[0] != "accept" && l[0] != "reject") {
				return fmt.Errorf("action %q not understood", l)
			}
			t.action = l[0]
		}
	default:
		return fmt.Errorf("%q not understood", n.words)
	}
	if len(t.asPaths) > 0 && len(t.asPathGroups) > 0 {
		return fmt.Errorf("as-path and as-path-group in one term (Junos refuses it)")
	}
	return nil
}

func (t *junosTerm) from(l []string) error {
	if len(l) < 2 {
		return fmt.Errorf("match condition %q not understood", l)
	}
	args := l[1:]
	if args[0] == "[" && args[len(args)-1] == "]" {
		args = args[1 : len(args)-1]
	}
	switch l[0] {
	case "as-path":
		t.asPaths = append(t.asPaths, args...)
	case "as-path-group":
		t.asPathGroups = append(t.asPathGroups, args...)
	case "route-filter-list":
		if len(args) != 1 {
			return fmt.Errorf("route-filter-list %q not understood", args)
		}
		t.rfls = append(t.rfls, args[0])
	case "route-filter":
		rf, err := parseRouteFilter(l[1:])
		if err != nil {
			return err
		}
		t.routeFilters = append(t.routeFilters, rf)
	case "prefix-list-filter":
		if len(l) != 3 {
			return fmt.Errorf("prefix-list-filter %q not understood", l)
		}
		t.plFilters = append(t.plFilters, [2]string{l[1], l[2]})
	case "validation-database":
		if len(l) != 2 || t.validation != "" {
			return fmt.Errorf("validation-database %q not understood", l)
		}
		t.validation = l[1]
	default:
		return fmt.Errorf("match condition %q not understood", l)
	}
	return nil
}

// parseRouteFilter reads "PREFIX MATCH-TYPE [ARGS] [accept|reject]".
func parseRouteFilter(w []string) (junosRouteFilter, error) {
	if len(w) < 2 {
		return junosRouteFilter{}, fmt.Errorf("route filter %q: no match type", w)
	}
	p, err := netip.ParsePrefix(w[0])
	if err != nil || p != p.Masked() {
		return junosRouteFilter{}, fmt.Errorf("route filter prefix %q: %v", w[0], err)
	}
	rf := junosRouteFilter{prefix: p}
	bits, max := p.Bits(), p.Addr().BitLen()
	slash := func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "/"))
		if err != nil || !strings.HasPrefix(s, "/") || n < bits || n > max {
			return 0, fmt.Errorf("route filter %s: bad length %q", p, s)
		}
		return n, nil
	}
	rest := w[2:]
	switch w[1] {
	case "exact":
		rf.lo, rf.hi = bits, bits
	case "longer":
		rf.lo, rf.hi = bits+1, max
	case "orlonger":
		rf.lo, rf.hi = bits, max
	case "upto":
		if len(rest) == 0 {
			return rf, fmt.Errorf("route filter %s: upto without a length", p)
		}
		rf.lo = bits
		if rf.hi, err = slash(rest[0]); err != nil {
			return rf, err
		}
		rest = rest[1:]
	case "prefix-length-range":
		if len(rest) == 0 {
			return rf, fmt.Errorf("route filter %s: prefix-length-range without a range", p)
		}
		a, b, ok := strings.Cut(rest[0], "-")
		if !ok {
			return rf, fmt.Errorf("route filter %s: range %q", p, rest[0])
		}
		if rf.lo, err = slash(a); err != nil {
			return rf, err
		}
		if rf.hi, err = slash(b); err != nil {
			return rf, err
		}
		rest = rest[1:]
	default:
		return rf, fmt.Errorf("route filter %s: match type %q not understood", p, w[1])
	}
	if len(rest) == 1 && (rest[0] == "accept" || rest[0] == "reject") {
		rf.action, rest = rest[0], nil
	}
	if len(rest) > 0 || rf.lo > rf.hi {
		return rf, fmt.Errorf("route filter %q not understood", w)
	}
	return rf, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// matchRouteList is the documented route-list evaluation: the longest listed prefix
// that contains p, then the match types of that prefix in order.
func matchRouteList(list []junosRouteFilter, p netip.Prefix) (matched bool, action string) {
	best := -1
	for _, rf := range list {
		if rf.prefix.Bits() <= p.Bits() && rf.prefix.Contains(p.Addr()) && rf.prefix.Bits() > best {
			best = rf.prefix.Bits()
		}
	}
	if best < 0 {
		return false, ""
	}
	for _, rf := range list {
		if rf.prefix.Bits() == best && rf.prefix.Contains(p.Addr()) && p.Bits() >= rf.lo && p.Bits() <= rf.hi {
			return true, rf.action
		}
	}
	return false, ""
}

// junosRoute is what the policy sees of a route.
type junosRoute struct {
	prefix  netip.Prefix
	path    []routing.ASN // AS_SEQUENCE, left-most first
	invalid bool          // the validation database says invalid
}

// evaluate runs policy pol over r: the action and the term that decided ("default"
// when none did).
func (c *junosConfig) evaluate(pol string, r junosRoute) (action, term string, err error) {
	terms, ok := c.policies[pol]
	if !ok {
		return "", "", fmt.Errorf("no policy-statement %s", pol)
	}
	for _, t := range terms {
		match, override, err := c.matches(t, r)
		if err != nil {
			return "", "", fmt.Errorf("%s term %s: %w", pol, t.name, err)
		}
		if !match {
			continue
		}
		act := t.action
		if override != "" {
			act = override
		}
		if act != "" {
			return act, t.name, nil
		}
	}
	return "accept", "default", nil
}

// matches reports whether every match condition of t holds, and a route-filter's
// own action when one decided.
func (c *junosConfig) matches(t junosTerm, r junosRoute) (bool, string, error) {
	override := ""
	if len(t.asPaths) > 0 {
		any := false
		for _, n := range t.asPaths {
			re, ok := c.asPaths[n]
			if !ok {
				return false, "", fmt.Errorf("as-path %s not defined", n)
			}
			any = any || re.match(r.path)
		}
		if !any {
			return false, "", nil
		}
	}
	if len(t.asPathGroups) > 0 {
		any := false
		for _, n := range t.asPathGroups {
			g, ok := c.groups[n]
			if !ok {
				return false, "", fmt.Errorf("as-path-group %s not defined", n)
			}
			for _, re := range g {
				any = any || re.match(r.path)
			}
		}
		if !any {
			return false, "", nil
		}
	}
	if len(t.routeFilters) > 0 {
		ok, act := matchRouteList(t.routeFilters, r.prefix)
		if !ok {
			return false, "", nil
		}
		override = act
	}
	if len(t.rfls) > 1 || (len(t.rfls) > 0 && len(t.routeFilters) > 0) {
		return false, "", fmt.Errorf("several route lists in one term: the reader does not know how Junos combines them")
	}
	for _, n := range t.rfls {
		list, ok := c.rfls[n]
		if !ok {
			return false, "", fmt.Errorf("route-filter-list %s not defined", n)
		}
		ok, act := matchRouteList(list, r.prefix)
		if !ok {
			return false, "", nil
		}
		if act != "" {
			override = act
		}
	}
	for _, f := range t.plFilters {
		list, ok := c.prefixLists[f[0]]
		if !ok {
			return false, "", fmt.Errorf("prefix-list %s not defined", f[0])
		}
		var rl []junosRouteFilter
		for _, p := range list {
			rf, err := parseRouteFilter([]string{p.String(), f[1]})
			if err != nil {
				return false, "", err
			}
			rl = append(rl, rf)
		}
		if ok, _ := matchRouteList(rl, r.prefix); !ok {
			return false, "", nil
		}
	}
	switch t.validation {
	case "":
	case "invalid":
		if !r.invalid {
			return false, "", nil
		}
	default:
		return false, "", fmt.Errorf("validation-database %s: the test knows only invalid", t.validation)
	}
	return true, override, nil
}

// junosRegex is a compiled AS path regular expression: an alternation of sequences
// of quantified atoms; an atom is an ASN range (one ASN: From == To; "." is 0 to
// 2^32-1) or a group.
type junosRegex struct {
	alts [][]junosPiece
	src  string
}

type junosPiece struct {
	from, to uint64      // ASN range (group == nil)
	group    *junosRegex // a parenthesised expression
	min, max int         // repetitions; max -1: unbounded
}

// compileJunosRegex parses the documented operators. ^ and $ may only open and close
// the expression (they are implicit anyway).
func compileJunosRegex(src string) (*junosRegex, error) {
	s := strings.TrimSpace(src)
	s = strings.TrimPrefix(s, "^")
	if strings.HasSuffix(s, "$") {
		s = s[:len(s)-1]
	}
	pos := 0
	re, err := parseJunosAlt(s, &pos)
	if err != nil {
		return nil, fmt.Errorf("as-path regex %q: %w", src, err)
	}
	if pos != len(s) {
		return nil, fmt.Errorf("as-path regex %q: unexpected %q", src, s[pos:])
	}
	re.src = src
	return re, nil
}

func skipSpace(s string, pos *int) {
	for *pos < len(s) && s[*pos] == ' ' {
		*pos++
	}
}

func parseJunosAlt(s string, pos *int) (*junosRegex, error) {
	re := &junosRegex{}
	var seq []junosPiece
	for {
		skipSpace(s, pos)
		if *pos >= len(s) || s[*pos] == ')' {
			re.alts = append(re.alts, seq)
			return re, nil
		}
		if s[*pos] == '|' {
			*pos++
			re.alts = append(re.alts, seq)
			seq = nil
			continue
		}
		var pc junosPiece
		switch c := s[*pos]; {
		case c == '.':
			*pos++
			pc.from, pc.to = 0, 1<<32-1
		case c == '(':
			*pos++
			g, err := parseJunosAlt(s, pos)
			if err != nil {
				return nil, err
			}
			if *pos >= len(s) || s[*pos] != ')' {
				return nil, fmt.Errorf("unbalanced '('")
			}
			*pos++
			pc.group = g
		case c >= '0' && c <= '9':
			a := readNum(s, pos)
			b := a
			if *pos < len(s) && s[*pos] == '-' {
				*pos++
				if *pos >= len(s) || s[*pos] < '0' || s[*pos] > '9' {
					return nil, fmt.Errorf("range without an end")
				}
				b = readNum(s, pos)
			}
			if a > b || b > 1<<32-1 {
				return nil, fmt.Errorf("bad AS range %d-%d", a, b)
			}
			pc.from, pc.to = a, b
		default:
			return nil, fmt.Errorf("operator %q not understood at %d", c, *pos)
		}
		pc.min, pc.max = 1, 1
		if *pos < len(s) {
			switch s[*pos] {
			case '*':
				pc.min, pc.max = 0, -1
				*pos++
			case '+':
				pc.min, pc.max = 1, -1
				*pos++
			case '?':
				pc.min, pc.max = 0, 1
				*pos++
			case '{':
				end := strings.IndexByte(s[*pos:], '}')
				if end < 0 {
					return nil, fmt.Errorf("unterminated {")
				}
				body := s[*pos+1 : *pos+end]
				*pos += end + 1
				lo, hi, comma := strings.Cut(body, ",")
				m, err := strconv.Atoi(lo)
				if err != nil || m < 0 {
					return nil, fmt.Errorf("repetition {%s}", body)
				}
				pc.min, pc.max = m, m
				if comma {
					pc.max = -1
					if hi != "" {
						if pc.max, err = strconv.Atoi(hi); err != nil || pc.max < m {
							return nil, fmt.Errorf("repetition {%s}", body)
						}
					}
				}
			}
		}
		seq = append(seq, pc)
	}
}

func readNum(s string, pos *int) uint64 {
	start := *pos
	for *pos < len(s) && s[*pos] >= '0' && s[*pos] <= '9' {
		*pos++
	}
	n, _ := strconv.ParseUint(s[start:*pos], 10, 64)
	return n
}

// match reports whether re matches the entire path.
func (re *junosRegex) match(path []routing.ASN) bool {
	return slices.Contains(re.ends(path, 0), len(path))
}

// ends returns every position where a match of re starting at start can end.
func (re *junosRegex) ends(path []routing.ASN, start int) []int {
	var out []int
	for _, seq := range re.alts {
		cur := []int{start}
		for _, pc := range seq {
			cur = pc.ends(path, cur)
		}
		out = union(out, cur)
	}
	return out
}

func (pc junosPiece) once(path []routing.ASN, starts []int) []int {
	var out []int
	for _, s := range starts {
		if pc.group != nil {
			out = union(out, pc.group.ends(path, s))
		} else if s < len(path) && uint64(path[s]) >= pc.from && uint64(path[s]) <= pc.to {
			out = union(out, []int{s + 1})
		}
	}
	return out
}

// ends applies the piece min..max times to every start position.
func (pc junosPiece) ends(path []routing.ASN, starts []int) []int {
	cur := starts
	for range pc.min {
		cur = pc.once(path, cur)
	}
	out := slices.Clone(cur)
	for n := pc.min; pc.max < 0 || n < pc.max; n++ {
		next := pc.once(path, cur)
		grown := union(out, next)
		if len(grown) == len(out) {
			break
		}
		out, cur = grown, next
	}
	return out
}

func union(a, b []int) []int {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}
