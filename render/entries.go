package render

// Prefix-list entries without text/template per line. A generate run prints millions
// of entries, and text/template (reflection for every field, every branch, every
// nested template) cost more than everything else of the run. The vendor text stays
// in the templates: each list template calls `entries NAME LIST`, and NAME is a small
// template that prints one entry (templates/<vendor>/entries.tmpl). Here that
// template is compiled, once per process and entry shape, into literal segments and
// field slots:
//
//   - the template's parse tree is checked first: its branches may depend only on the
//     entry's shape (the flags, the order of Bits/Min/Max, first/last, the family),
//     never on values, so that every entry of a shape takes the same path through it;
//     a template that does anything else (ranges, comparisons with constants,
//     functions outside a small list) is executed with text/template, entry by entry;
//   - the template is then executed with sentinel values (strings that cannot occur
//     in config text, large distinct numbers; three index values for the sequence
//     numbers some vendors print) and split where the sentinels appear;
//   - the program is accepted only if it reproduces text/template's output for a
//     second, different sentinel set and for the real entry that asked for the shape;
//     otherwise that shape falls back to text/template.
//
// The differential test (entries_test.go) compares both paths on random entries of
// every vendor and shape.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
)

// EntryView is what an entry template executes on: one entry of a prefix list, its
// place in the list, and the list's name and family.
type EntryView struct {
	Line
	// Index is the entry's position in the list (0 first); First and Last say
	// whether it is the first or the last one.
	Index       int
	First, Last bool
	// Name is the list's name, V6 whether it is an IPv6 list.
	Name string
	V6   bool
}

// ASNEntryView is what an ASN-list entry template executes on (`asnEntries NAME
// ASNS LIST`): one ASN of a list, its place, and the list's name.
type ASNEntryView struct {
	ASN         uint32
	Index       int
	First, Last bool
	Name        string
}

// asnCarrier holds an ASN entry in an EntryView for the compiled programs: the ASN
// is in Bits (= Min = Max), which the ASN template's sentinel maps to.
func asnCarrier(asn uint32, i, n int, name string) EntryView {
	a := int(asn)
	return EntryView{Line: Line{Bits: a, Min: a, Max: a, Exact: true}, Index: i, First: i == 0, Last: i == n-1, Name: name}
}

func asnEntryOf(v *EntryView) *ASNEntryView {
	return &ASNEntryView{ASN: uint32(v.Bits), Index: v.Index, First: v.First, Last: v.Last, Name: v.Name}
}

// entryShape numbers the classes of entries that take the same path through a
// checked entry template: the order relations of Min/Bits, Max/Bits and Min/Max,
// first, last and family.
type entryShape int

const entryShapes = 3 * 3 * 3 * 2 * 2 * 2

func rel(a, b int) int {
	switch {
	case a < b:
		return 0
	case a == b:
		return 1
	}
	return 2
}

func shapeOf(v *EntryView) entryShape {
	s := rel(v.Min, v.Bits)*9 + rel(v.Max, v.Bits)*3 + rel(v.Min, v.Max)
	s = s*2 + b2i(v.First)
	s = s*2 + b2i(v.Last)
	s = s*2 + b2i(v.V6)
	return entryShape(s)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type slotKind uint8

const (
	slotNone slotKind = iota
	slotPrefix
	slotName
	slotBits
	slotMin
	slotMax
	slotIndex // k*Index + c
)

// entryOp is a literal followed by at most one slot.
type entryOp struct {
	lit  string
	slot slotKind
	k, c int
}

// entryProg prints one entry of a shape; nil means "use text/template".
type entryProg []entryOp

func (p entryProg) append(b *strings.Builder, v *EntryView) {
	var num [20]byte
	for _, op := range p {
		b.WriteString(op.lit)
		switch op.slot {
		case slotPrefix:
			b.WriteString(v.Prefix)
		case slotName:
			b.WriteString(v.Name)
		case slotBits:
			b.Write(strconv.AppendInt(num[:0], int64(v.Bits), 10))
		case slotMin:
			b.Write(strconv.AppendInt(num[:0], int64(v.Min), 10))
		case slotMax:
			b.Write(strconv.AppendInt(num[:0], int64(v.Max), 10))
		case slotIndex:
			b.Write(strconv.AppendInt(num[:0], int64(op.k*v.Index+op.c), 10))
		}
	}
}

func (p entryProg) String(v *EntryView) string {
	var b strings.Builder
	p.append(&b, v)
	return b.String()
}

// entryCompiler compiles one entry template of one Renderer.
type entryCompiler struct {
	t *template.Template
	// asn: the template executes on ASNEntryView (carried in an EntryView).
	asn bool
	// checked: the parse tree passed checkEntryTemplate.
	checked bool
	// global, when set, keys the process-wide program cache: the template is a
	// built-in one (no overrides), so its programs are the same in every Renderer.
	global string
	mu     sync.Mutex
	progs  map[entryShape]entryProg
	tried  map[entryShape]bool
}

type globalProgKey struct {
	key   string
	shape entryShape
}

// globalProgs caches the programs of built-in entry templates (a bounded set: the
// embedded templates times the shapes): globalProgKey -> entryProg (nil: fall back).
var globalProgs sync.Map

// entryCompilerFor returns the Renderer's compiler of the entry template name (for
// ASNEntryView with asn).
func (r *Renderer) entryCompilerFor(name string, asn bool) (*entryCompiler, error) {
	r.entryMu.Lock()
	defer r.entryMu.Unlock()
	key := name
	if asn {
		key = "asn\x00" + name
	}
	if c := r.entryComps[key]; c != nil {
		return c, nil
	}
	t := r.t.Lookup(name)
	if t == nil || t.Tree == nil {
		return nil, fmt.Errorf("entries: no template %q", name)
	}
	c := &entryCompiler{t: t, asn: asn, progs: map[entryShape]entryProg{}, tried: map[entryShape]bool{}}
	c.checked = !r.noCompile && checkEntryTemplate(r.t, name, map[string]bool{})
	if c.checked && r.builtinOnly {
		c.global = r.f.dir + "\x00" + key
	}
	if r.entryComps == nil {
		r.entryComps = map[string]*entryCompiler{}
	}
	r.entryComps[key] = c
	return c, nil
}

// exec runs the entry template on v (as an ASNEntryView for an ASN template).
func (c *entryCompiler) exec(w io.Writer, v *EntryView) error {
	if c.asn {
		return c.t.Execute(w, asnEntryOf(v))
	}
	return c.t.Execute(w, v)
}

// program returns the program of shape s (nil: text/template), compiling it with
// the real entry v when nobody has.
func (c *entryCompiler) program(s entryShape, v *EntryView) entryProg {
	if !c.checked {
		return nil
	}
	if c.global != "" {
		k := globalProgKey{c.global, s}
		if p, ok := globalProgs.Load(k); ok {
			return p.(entryProg)
		}
		p := compileEntry(c, v)
		globalProgs.Store(k, p)
		return p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.tried[s] {
		c.tried[s] = true
		c.progs[s] = compileEntry(c, v)
	}
	return c.progs[s]
}

// entries is the template function `entries NAME LIST`: every entry of LIST printed
// by the template NAME (executed on an EntryView), as a range over the entries would.
func (r *Renderer) entries(name string, d *PrefixData) (string, error) {
	if d == nil {
		return "", errors.New("entries: no prefix list")
	}
	c, err := r.entryCompilerFor(name, false)
	if err != nil {
		return "", err
	}
	n := len(d.Entries)
	return renderEntries(c, n, 32+len(d.Name), func(i int) EntryView {
		return EntryView{Line: d.Entries[i], Index: i, First: i == 0, Last: i == n-1, Name: d.Name, V6: d.V6}
	})
}

// asnEntries is the template function `asnEntries NAME ASNS LIST`: every ASN of ASNS
// printed by the template NAME (executed on an ASNEntryView; LIST is the list's name).
func (r *Renderer) asnEntries(name string, asns []uint32, list string) (string, error) {
	c, err := r.entryCompilerFor(name, true)
	if err != nil {
		return "", err
	}
	n := len(asns)
	return renderEntries(c, n, 24+len(list), func(i int) EntryView { return asnCarrier(asns[i], i, n, list) })
}

// renderEntries prints the n entries that view returns, each about per bytes.
func renderEntries(c *entryCompiler, n, per int, view func(int) EntryView) (string, error) {
	var b strings.Builder
	b.Grow(n * per)
	var progs [entryShapes]entryProg
	var tried [entryShapes]bool
	for i := range n {
		v := view(i)
		s := shapeOf(&v)
		if !tried[s] {
			tried[s] = true
			progs[s] = c.program(s, &v)
		}
		if p := progs[s]; p != nil {
			p.append(&b, &v)
			continue
		}
		if err := c.exec(&b, &v); err != nil {
			return "", fmt.Errorf("entries %s: %w", c.t.Name(), err)
		}
	}
	return b.String(), nil
}

// Sentinels: two sets, A to build the program and B to check it. The strings hold
// NUL, which no config text holds; the numbers are far outside any prefix length and
// their differences differ between the sets, so that an arithmetic on a field cannot
// reproduce both.
var (
	sentPrefix = [2]string{"\x00bgpf-prefix-a\x00", "\x00bgpf-prefix-b\x00"}
	sentName   = [2]string{"\x00bgpf-name-a\x00", "\x00bgpf-name-b\x00"}
	sentBase   = [2]int{700000001, 800000011}
	sentStep   = [2]int{1, 11}
	sentIndex  = [2]int{500000000, 610000000}
)

// sentinelView is a view of the same shape as real, with sentinel set k's values and
// index offset di.
func sentinelView(real *EntryView, k, di int) EntryView {
	v := *real
	v.Prefix, v.Name = sentPrefix[k], sentName[k]
	// Same order relations as real: rank the distinct values.
	vals := []int{real.Bits, real.Min, real.Max}
	ranks := make([]int, 3)
	for i, x := range vals {
		for _, y := range distinctSorted(vals) {
			if y < x {
				ranks[i]++
			}
		}
	}
	v.Bits = sentBase[k] + ranks[0]*sentStep[k]
	v.Min = sentBase[k] + ranks[1]*sentStep[k]
	v.Max = sentBase[k] + ranks[2]*sentStep[k]
	if !real.First {
		v.Index = sentIndex[k] + di
	}
	return v
}

func distinctSorted(xs []int) []int {
	var out []int
	for _, x := range xs {
		dup := false
		for _, y := range out {
			dup = dup || x == y
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

func execString(c *entryCompiler, v *EntryView) (string, error) {
	var b bytes.Buffer
	err := c.exec(&b, v)
	return b.String(), err
}

// compileEntry builds the program of real's shape, or nil when the sentinels do not
// reproduce text/template's output.
func compileEntry(c *entryCompiler, real *EntryView) entryProg {
	var outs [3]string
	for di := range outs {
		v := sentinelView(real, 0, di)
		s, err := execString(c, &v)
		if err != nil {
			return nil
		}
		outs[di] = s
	}
	a := sentinelView(real, 0, 0)
	p, ok := buildProg(outs, &a)
	if !ok {
		return nil
	}
	for _, v := range []EntryView{sentinelView(real, 1, 0), *real} {
		want, err := execString(c, &v)
		if err != nil || p.String(&v) != want {
			return nil
		}
	}
	return p
}

// buildProg splits the outputs of the three index values into literals and slots.
func buildProg(outs [3]string, a *EntryView) (entryProg, bool) {
	var parts [3][]piece
	for i, s := range outs {
		parts[i] = splitPieces(s)
	}
	if len(parts[1]) != len(parts[0]) || len(parts[2]) != len(parts[0]) {
		return nil, false
	}
	var prog entryProg
	var lit strings.Builder
	emit := func(op entryOp) {
		op.lit = lit.String()
		lit.Reset()
		prog = append(prog, op)
	}
	for i, p0 := range parts[0] {
		p1, p2 := parts[1][i], parts[2][i]
		if p0.kind != p1.kind || p0.kind != p2.kind {
			return nil, false
		}
		switch p0.kind {
		case pieceText:
			if p0.text != p1.text || p0.text != p2.text || strings.IndexByte(p0.text, 0) >= 0 {
				return nil, false
			}
			lit.WriteString(p0.text)
		case pieceSlot:
			if p0.slot != p1.slot || p0.slot != p2.slot {
				return nil, false
			}
			emit(entryOp{slot: p0.slot})
		case pieceDigits:
			x0, e0 := strconv.Atoi(p0.text)
			x1, e1 := strconv.Atoi(p1.text)
			x2, e2 := strconv.Atoi(p2.text)
			if e0 != nil || e1 != nil || e2 != nil {
				return nil, false
			}
			switch {
			case x0 != x1 || x1 != x2:
				// Depends on the index: k*Index + c, checked on the third value.
				k := x1 - x0
				if k <= 0 || x2-x1 != k || a.First {
					return nil, false
				}
				emit(entryOp{slot: slotIndex, k: k, c: x0 - k*a.Index})
			case p0.text == strconv.Itoa(a.Bits) && strconv.Itoa(x0) == p0.text:
				emit(entryOp{slot: slotBits})
			case p0.text == strconv.Itoa(a.Min) && strconv.Itoa(x0) == p0.text:
				emit(entryOp{slot: slotMin})
			case p0.text == strconv.Itoa(a.Max) && strconv.Itoa(x0) == p0.text:
				emit(entryOp{slot: slotMax})
			default:
				lit.WriteString(p0.text)
			}
		}
	}
	if lit.Len() > 0 {
		emit(entryOp{})
	}
	return prog, true
}

type pieceKind uint8

const (
	pieceText pieceKind = iota
	pieceDigits
	pieceSlot
)

type piece struct {
	kind pieceKind
	text string
	slot slotKind
}

// splitPieces cuts an output of sentinel set A into string slots, digit runs and
// other text.
func splitPieces(s string) []piece {
	var out []piece
	for len(s) > 0 {
		ip, in := strings.Index(s, sentPrefix[0]), strings.Index(s, sentName[0])
		next, slot, n := len(s), slotNone, 0
		if ip >= 0 && ip < next {
			next, slot, n = ip, slotPrefix, len(sentPrefix[0])
		}
		if in >= 0 && in < next {
			next, slot, n = in, slotName, len(sentName[0])
		}
		out = append(out, splitDigits(s[:next])...)
		if slot == slotNone {
			break
		}
		out = append(out, piece{kind: pieceSlot, slot: slot})
		s = s[next+n:]
	}
	return out
}

func splitDigits(s string) []piece {
	var out []piece
	for len(s) > 0 {
		digits := s[0] >= '0' && s[0] <= '9'
		i := 1
		for i < len(s) && (s[i] >= '0' && s[i] <= '9') == digits {
			i++
		}
		k := pieceText
		if digits {
			k = pieceDigits
		}
		out = append(out, piece{kind: k, text: s[:i]})
		s = s[i:]
	}
	return out
}

// Fields of EntryView by what a checked template may do with them.
var (
	entryBoolFields = map[string]bool{"Exact": true, "HasGE": true, "HasLE": true, "First": true, "Last": true, "V6": true}
	// entryLenFields may be compared with each other (their order is part of the shape).
	entryLenFields = map[string]bool{"Bits": true, "Min": true, "Max": true}
	entryAllFields = map[string]bool{"ASN": true, "Prefix": true, "Name": true, "Index": true, "Exact": true, "HasGE": true,
		"HasLE": true, "First": true, "Last": true, "V6": true, "Bits": true, "Min": true, "Max": true}
	// entryPrintFuncs may be used in printing actions: integer arithmetic, whose
	// results the sentinel check either reproduces exactly or refuses.
	entryPrintFuncs = map[string]bool{"seqno": true, "add": true, "add1": true, "sub": true, "mul": true}
	entryCompare    = map[string]bool{"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true}
)

// checkEntryTemplate reports whether the template name of set, and every template it
// calls, takes a path that depends on the entry's shape only (see the file comment).
func checkEntryTemplate(set *template.Template, name string, active map[string]bool) bool {
	t := set.Lookup(name)
	if t == nil || t.Tree == nil || active[name] {
		return false
	}
	active[name] = true
	defer delete(active, name)
	return checkNodes(set, t.Tree.Root, active)
}

func checkNodes(set *template.Template, n parse.Node, active map[string]bool) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, c := range n.Nodes {
			if !checkNodes(set, c, active) {
				return false
			}
		}
		return true
	case *parse.TextNode, *parse.CommentNode:
		return true
	case *parse.ActionNode:
		return checkPrint(n.Pipe)
	case *parse.IfNode:
		return checkCond(n.Pipe) && checkNodes(set, n.List, active) && checkNodes(set, n.ElseList, active)
	case *parse.TemplateNode:
		// The same entry as data only: the called template is checked the same way.
		if n.Pipe != nil {
			if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
				return false
			}
			if _, ok := n.Pipe.Cmds[0].Args[0].(*parse.DotNode); !ok {
				return false
			}
		}
		return checkEntryTemplate(set, n.Name, active)
	}
	return false // range, with, break, continue
}

// checkPrint accepts a printing action or a variable declaration: operands and
// integer arithmetic.
func checkPrint(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 {
		return false
	}
	args := p.Cmds[0].Args
	if len(args) == 0 {
		return false
	}
	if id, ok := args[0].(*parse.IdentifierNode); ok {
		if !entryPrintFuncs[id.Ident] {
			return false
		}
		args = args[1:]
	} else if len(args) != 1 {
		return false
	}
	for _, a := range args {
		if !printOperand(a) {
			return false
		}
	}
	return true
}

func printOperand(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.DotNode:
		return true
	case *parse.FieldNode:
		return len(n.Ident) == 1 && entryAllFields[n.Ident[0]]
	case *parse.VariableNode:
		// $ and its fields, or a variable the template declared (its value was
		// itself checked by checkPrint).
		return len(n.Ident) == 1 || n.Ident[0] == "$" && len(n.Ident) == 2 && entryAllFields[n.Ident[1]]
	}
	return false
}

// checkCond accepts a condition on the entry's shape: boolean fields, the index's
// truth (= not First), comparisons among Bits/Min/Max, combined with not/and/or.
func checkCond(p *parse.PipeNode) bool {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 {
		return false
	}
	return condCommand(p.Cmds[0].Args)
}

func condCommand(args []parse.Node) bool {
	if len(args) == 0 {
		return false
	}
	id, ok := args[0].(*parse.IdentifierNode)
	if !ok {
		return len(args) == 1 && condOperand(args[0])
	}
	rest := args[1:]
	switch {
	case id.Ident == "not" || id.Ident == "and" || id.Ident == "or":
		if len(rest) == 0 {
			return false
		}
		for _, a := range rest {
			if !condOperand(a) {
				return false
			}
		}
		return true
	case entryCompare[id.Ident]:
		if len(rest) != 2 {
			return false
		}
		for _, a := range rest {
			if f := fieldName(a); !entryLenFields[f] {
				return false
			}
		}
		return true
	}
	return false
}

func condOperand(n parse.Node) bool {
	if p, ok := n.(*parse.PipeNode); ok {
		return checkCond(p)
	}
	f := fieldName(n)
	return entryBoolFields[f] || f == "Index"
}

// fieldName returns the EntryView field n reads (.F or $.F), or "".
func fieldName(n parse.Node) string {
	switch n := n.(type) {
	case *parse.FieldNode:
		if len(n.Ident) == 1 {
			return n.Ident[0]
		}
	case *parse.VariableNode:
		if len(n.Ident) == 2 && n.Ident[0] == "$" {
			return n.Ident[1]
		}
	}
	return ""
}
