package irr

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/routing"
)

// ErrNotFound means an object (usually the root set of an expansion) does not exist in
// the selected sources.
var ErrNotFound = errors.New("IRR object not found")

// ObjectError is a malformed or rejected RPSL object, located by file and line.
type ObjectError struct {
	File string
	Line int
	Msg  string
}

func (e *ObjectError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("irr: line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("irr: %s:%d: %s", e.File, e.Line, e.Msg)
}

// Index is an in-memory IRR database: every object by source, class and key
// (case-insensitive), as-sets and route-sets with their members, and route/route6
// origins per address family. It implements Querier with IRRd 4 semantics. All methods
// are safe for concurrent use; writes (Add, Delete, Apply) take a write lock.
type Index struct {
	mu       sync.RWMutex
	order    []string // default source list: load order, or SetDefaultSources
	srcs     map[string]*source
	sorted   atomic.Pointer[[]routeEntry] // lazily built table for FindRoutes
	sortedMu sync.Mutex
	texts    arena
	// routes a load has put in the arena but not yet in their origins' lists, in
	// file order (see pending.go)
	pending []pendRoute
	// An index read from a snapshot answers from it lazily (see lazySource) until the
	// first change; materialize decodes it whole for the other queries.
	snap      *snapFile
	matOnce   sync.Once
	lazyStats map[string]int // class counts from the snapshot header; nil after a change

	closeMu sync.Mutex
	closers []func() error // see OnClose
}

type routeKey struct {
	p      pkey
	origin routing.ASN
}

type rpslSet struct {
	name      string // as written in the primary key
	class     string // "as-set" or "route-set"
	members   []string
	mbrsByRef []string // upper-case maintainer names or "ANY"
}

// memberOfRef is an aut-num or route that names a set in member-of, with its mnt-by.
type memberOfRef struct {
	mnts []string
}

type source struct {
	name  string
	idx   uint16
	objs  map[string]textRef  // class "\x00" UPPER(key) → object text
	byKey map[string][]string // UPPER(key) → classes (routes are looked up by prefix)
	sets  map[string]*rpslSet // UPPER(name)
	// route and route6 objects by family and origin (see originRoutes)
	origin  [2]map[routing.ASN]*originRoutes
	nroutes [2]int
	// member-of back-references for mbrs-by-ref (RFC 2622 §5.1, §5.2)
	asMemberOf    map[string]map[routing.ASN]memberOfRef
	routeMemberOf map[string]map[routeKey]memberOfRef
	// lz answers from a snapshot while s is unchanged (nil otherwise); the maps above
	// are empty until Index.materialize fills them.
	lz *lazySource
}

func newSource(name string) *source {
	return &source{
		name:          name,
		objs:          make(map[string]textRef),
		byKey:         make(map[string][]string),
		sets:          make(map[string]*rpslSet),
		origin:        [2]map[routing.ASN]*originRoutes{make(map[routing.ASN]*originRoutes), make(map[routing.ASN]*originRoutes)},
		asMemberOf:    make(map[string]map[routing.ASN]memberOfRef),
		routeMemberOf: make(map[string]map[routeKey]memberOfRef),
	}
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return &Index{srcs: make(map[string]*source)}
}

// record is an object validated and decomposed for indexing.
type record struct {
	source   string
	class    string
	key      string // UPPER primary key ("" for routes: see keyString)
	text     []byte
	set      *rpslSet
	route    *routeKey // nil or &rk
	rk       routeKey
	extra    []routing.ASN // origins after the first of a multi-origin route object
	multi    *ObjectError  // where it is, for LoadReport.FirstMultiOrigin (loads only)
	asn      routing.ASN
	isAutNum bool
	memberOf []string
	mnts     []string
}

func (r *record) storeKey() string { return r.class + "\x00" + r.key }

// routeKeys returns the keys a route object is indexed under: its prefix with each of
// its origins (several for a multi-origin object, see prepareInto).
func (r *record) routeKeys() []routeKey {
	if r.route == nil {
		return nil
	}
	keys := make([]routeKey, 0, 1+len(r.extra))
	keys = append(keys, *r.route)
	for _, a := range r.extra {
		keys = append(keys, routeKey{p: r.route.p, origin: a})
	}
	return keys
}

// keyString is the primary key for messages (routes: prefix and origin).
func (r *record) keyString() string {
	if r.route != nil {
		return r.route.p.Prefix().String() + r.route.origin.String()
	}
	return r.key
}

func fam(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

func kfam(k pkey) int {
	if k.V6 {
		return 1
	}
	return 0
}

// prepare validates o and decomposes it. defaultSource is used when o has no source.
func prepare(o *rpsl.Object, defaultSource string) (*record, error) {
	r := new(record)
	if _, err := prepareInto(r, o, defaultSource, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// prepareInto is prepare into *r, with the object text appended to text (so that a
// batch of records shares one buffer); it returns the extended buffer.
func prepareInto(r *record, o *rpsl.Object, defaultSource string, text []byte) ([]byte, error) {
	if err := prepareRecord(r, o, defaultSource); err != nil {
		return text, err
	}
	start := len(text)
	text = o.AppendText(text)
	r.text = text[start:len(text):len(text)]
	return text, nil
}

// prepareRecord is prepare into *r, without the text.
func prepareRecord(r *record, o *rpsl.Object, defaultSource string) error {
	bad := func(format string, args ...any) error {
		return &ObjectError{File: o.File, Line: o.Line, Msg: fmt.Sprintf("%s %s: ", o.Class, truncKey(o.Key)) + fmt.Sprintf(format, args...)}
	}
	src := o.Source()
	switch n := o.Count("source"); {
	case n > 1:
		return bad("multiple source attributes")
	case n == 0 && defaultSource == "":
		return bad("no source attribute")
	case n == 0:
		src = strings.ToUpper(defaultSource)
	}
	if !validSourceName(src) {
		return bad("invalid source %q", src)
	}
	*r = record{source: src, class: o.Class}
	if o.Class != "route" && o.Class != "route6" {
		// Clone: the scanner's strings share one allocation per object, which a map key
		// must not keep alive (an aut-num's text can be megabytes).
		r.key = strings.Clone(strings.ToUpper(strings.TrimSpace(o.Key)))
	}
	switch o.Class {
	case "as-set", "route-set":
		// RFC 2622 §5 names only: no control characters or escapes (names reach
		// terminals and configs), no "::" (it would read as SOURCE::NAME).
		if !validSetName(o.Class, r.key) {
			return bad("invalid set name (RFC 2622: components of letters, digits, _ and -, or AS numbers, separated by ':', one starting with %s)", map[string]string{"as-set": "AS-", "route-set": "RS-"}[o.Class])
		}
		s := &rpslSet{name: strings.Clone(strings.TrimSpace(o.Key)), class: o.Class}
		for _, a := range o.Attrs {
			switch a.Name {
			case "members", "mp-members":
				for _, m := range rpsl.SplitList(a.Value) {
					s.members = append(s.members, normalizeMember(m))
				}
			case "mbrs-by-ref":
				for _, m := range rpsl.SplitList(a.Value) {
					s.mbrsByRef = append(s.mbrsByRef, strings.ToUpper(m))
				}
			}
		}
		r.set = s
	case "aut-num":
		asn, err := parseRPSLASN(strings.TrimSpace(o.Key))
		if err != nil {
			return bad("invalid AS number")
		}
		r.asn, r.isAutNum, r.key = asn, true, asn.String()
	case "route", "route6":
		p, err := parseRPSLPrefix(strings.TrimSpace(o.Key))
		if err != nil || p.Masked() != p {
			return bad("invalid prefix")
		}
		if (o.Class == "route") != p.Addr().Is4() {
			return bad("address family does not match the class")
		}
		// Several origin lines (the DN42 schema allows them) index the object under
		// each origin: skipping it would silently drop the prefix. Load counts them
		// (LoadReport.MultiOrigin) and refuses them with Strict.
		origins := o.GetAll("origin")
		if len(origins) == 0 {
			return bad("no origin attribute")
		}
		for i, v := range origins {
			asn, err := parseRPSLASN(strings.TrimSpace(v))
			if err != nil {
				return bad("invalid origin %q", truncKey(v))
			}
			if i == 0 {
				r.rk = routeKey{p: toKey(p), origin: asn}
			} else if asn != r.rk.origin && !slices.Contains(r.extra, asn) {
				r.extra = append(r.extra, asn)
			}
		}
		r.route = &r.rk
	}
	if r.key == "" && r.route == nil {
		return bad("empty primary key")
	}
	if r.isAutNum || r.route != nil {
		for _, v := range o.GetAll("member-of") {
			for _, m := range rpsl.SplitList(v) {
				r.memberOf = append(r.memberOf, strings.Clone(strings.ToUpper(m)))
			}
		}
		if len(r.memberOf) > 0 {
			for _, v := range o.GetAll("mnt-by") {
				for _, m := range rpsl.SplitList(v) {
					r.mnts = append(r.mnts, strings.Clone(strings.ToUpper(m)))
				}
			}
		}
	}
	return nil
}

// normalizeMember puts a set member in the form IRRd stores it: ASNs and set names in
// upper case, prefixes in canonical form (the range operator kept as written).
func normalizeMember(m string) string {
	base, op, hasOp := strings.Cut(m, "^")
	if !strings.Contains(base, "/") {
		return strings.ToUpper(m) // not a prefix (netip.ParsePrefix needs the '/')
	}
	if p, err := netip.ParsePrefix(base); err == nil && p.Masked() == p {
		if hasOp {
			return p.String() + "^" + op
		}
		return p.String()
	}
	return strings.ToUpper(m)
}

func truncKey(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// validSourceName accepts IRR source names: letters, digits, '-' and '_'.
func validSourceName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (ix *Index) source(name string, create bool) *source {
	s := ix.srcs[name]
	if s == nil && create {
		s = newSource(name)
		s.idx = uint16(len(ix.srcs))
		ix.srcs[name] = s
		ix.order = append(ix.order, name)
	}
	return s
}

// insert indexes r, replacing an existing object with the same class and key. The
// caller holds the write lock.
func (ix *Index) insert(r *record) {
	ix.mutable()
	if r.route != nil {
		ix.flushRoutes() // the routes a load held back come first (see pending.go)
	}
	// Unindexing a replaced object reads the arena but never adds to it, so adding
	// the text first leaves the arena as adding it after the removals would.
	ix.insertRef(r, ix.texts.add(r.text))
}

// insertRef is insert with r's text already in the arena at ref.
func (ix *Index) insertRef(r *record, ref textRef) {
	s := ix.source(r.source, true)
	if r.route != nil {
		keys := r.routeKeys()
		// The object replaces those with the same prefix and origin (removeText
		// unindexes every origin of a replaced multi-origin object).
		for _, rk := range keys {
			if old, ok := s.route(rk); ok {
				ix.removeText(s, r.class, old)
			}
		}
		for _, rk := range keys {
			f := kfam(rk.p)
			o := s.origin[f][rk.origin]
			if o == nil {
				o = &originRoutes{}
				s.origin[f][rk.origin] = o
			}
			if i := o.find(rk.p); i >= 0 {
				o.refs[i] = ref // the old text did not parse, so it is still there
			} else {
				o.add(rk.p, ref)
				s.nroutes[f]++
			}
			for _, set := range r.memberOf {
				m := s.routeMemberOf[set]
				if m == nil {
					m = make(map[routeKey]memberOfRef)
					s.routeMemberOf[set] = m
				}
				m[rk] = memberOfRef{mnts: r.mnts}
			}
		}
		ix.sorted.Store(nil)
		return
	}
	sk := r.storeKey()
	if old, ok := s.objs[sk]; ok {
		ix.removeText(s, r.class, old)
	}
	s.objs[sk] = ref
	lk := strings.ToUpper(strings.TrimSpace(r.key))
	if !slices.Contains(s.byKey[lk], r.class) {
		s.byKey[lk] = append(s.byKey[lk], r.class)
	}
	if r.set != nil {
		s.sets[r.key] = r.set
	}
	if r.isAutNum {
		for _, set := range r.memberOf {
			m := s.asMemberOf[set]
			if m == nil {
				m = make(map[routing.ASN]memberOfRef)
				s.asMemberOf[set] = m
			}
			m[r.asn] = memberOfRef{mnts: r.mnts}
		}
	}
}

// placeRoute indexes a route object with one origin and no member-of whose text is
// in the arena at ref (see pending.go): one lookup of the origin's list instead of
// insert's three, no record. The caller holds the write lock, has called mutable and
// clears ix.sorted.
func (ix *Index) placeRoute(s *source, rk routeKey, ref textRef) {
	f := kfam(rk.p)
	o := s.origin[f][rk.origin]
	if o == nil {
		o = &originRoutes{}
		s.origin[f][rk.origin] = o
	} else if o.find(rk.p) >= 0 {
		// It replaces an object, which insertRef unindexes (with its other origins).
		r := record{source: s.name, class: "route", rk: rk}
		if rk.p.V6 {
			r.class = "route6"
		}
		r.route = &r.rk
		ix.insertRef(&r, ref)
		return
	}
	o.add(rk.p, ref)
	s.nroutes[f]++
}

// removeText unindexes the stored object text of class in s.
func (ix *Index) removeText(s *source, class string, ref textRef) {
	sc := rpsl.NewScanner(strings.NewReader(ix.texts.get(ref)), "index")
	o, err := sc.Next()
	if err != nil {
		return
	}
	o.Class = class
	r, err := prepare(o, s.name)
	if err != nil {
		return
	}
	r.source = s.name
	ix.remove(s, r)
}

// remove unindexes r from s. The caller holds the write lock.
func (ix *Index) remove(s *source, r *record) bool {
	if r.route != nil {
		found := false
		for _, rk := range r.routeKeys() {
			if !s.deleteRoute(rk) {
				continue
			}
			found = true
			for _, set := range r.memberOf {
				if m := s.routeMemberOf[set]; m != nil {
					delete(m, rk)
					if len(m) == 0 {
						delete(s.routeMemberOf, set)
					}
				}
			}
		}
		ix.sorted.Store(nil)
		return found
	}
	sk := r.storeKey()
	if _, ok := s.objs[sk]; !ok {
		return false
	}
	delete(s.objs, sk)
	lk := strings.ToUpper(strings.TrimSpace(r.key))
	if cl := slices.DeleteFunc(s.byKey[lk], func(c string) bool { return c == r.class }); len(cl) == 0 {
		delete(s.byKey, lk)
	} else {
		s.byKey[lk] = cl
	}
	if r.set != nil {
		if cur := s.sets[r.key]; cur != nil && cur.class == r.class {
			delete(s.sets, r.key)
		}
	}
	if r.isAutNum {
		for _, set := range r.memberOf {
			if m := s.asMemberOf[set]; m != nil {
				delete(m, r.asn)
				if len(m) == 0 {
					delete(s.asMemberOf, set)
				}
			}
		}
	}
	return true
}

// Add validates o and indexes it, replacing an object with the same source, class and
// primary key (for routes: prefix and origin). An object without a source attribute is
// rejected. The returned error is an *ObjectError.
func (ix *Index) Add(o *rpsl.Object) error {
	r, err := prepare(o, "")
	if err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.insert(r)
	return nil
}

// Delete removes the object with o's source, class and primary key. It returns an error
// wrapping ErrNotFound when there is none.
func (ix *Index) Delete(o *rpsl.Object) error {
	r, err := prepare(o, "")
	if err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.deleteLocked(r)
}

func (ix *Index) deleteLocked(r *record) error {
	ix.mutable()
	if r.route != nil {
		ix.flushRoutes()
	}
	s := ix.source(r.source, false)
	if s == nil {
		return fmt.Errorf("irr: delete %s %s (%s): %w", r.class, r.keyString(), r.source, ErrNotFound)
	}
	// Unindex what was stored (the stored member-of may differ from the delete's text).
	var old textRef
	var ok bool
	if r.route != nil {
		old, ok = s.route(*r.route)
	} else {
		old, ok = s.objs[r.storeKey()]
	}
	if !ok {
		return fmt.Errorf("irr: delete %s %s (%s): %w", r.class, r.keyString(), r.source, ErrNotFound)
	}
	ix.removeText(s, r.class, old)
	return nil
}

// Apply deletes and then adds objects under one write lock, so a concurrent query sees
// either none or all of the batch. Every add is validated first: if one is malformed
// nothing is applied. Deletes of objects that do not exist are skipped and reported in
// the returned error (wrapping ErrNotFound) after the rest of the batch was applied.
func (ix *Index) Apply(adds, deletes []*rpsl.Object) error {
	addRecs := make([]*record, 0, len(adds))
	for _, o := range adds {
		r, err := prepare(o, "")
		if err != nil {
			return fmt.Errorf("irr: apply: %w", err)
		}
		addRecs = append(addRecs, r)
	}
	delRecs := make([]*record, 0, len(deletes))
	for _, o := range deletes {
		r, err := prepare(o, "")
		if err != nil {
			return fmt.Errorf("irr: apply: %w", err)
		}
		delRecs = append(delRecs, r)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var errs []error
	for _, r := range delRecs {
		if err := ix.deleteLocked(r); err != nil {
			errs = append(errs, err)
		}
	}
	for _, r := range addRecs {
		ix.insert(r)
	}
	return errors.Join(errs...)
}

// SetDefaultSources replaces the default source list (what Sources returns and what a
// nil source list means). Every name must be loaded; names are case-insensitive.
func (ix *Index) SetDefaultSources(list []string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var order []string
	for _, n := range list {
		n = strings.ToUpper(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		if ix.srcs[n] == nil {
			return fmt.Errorf("irr: source %s: %w", n, ErrUnknownSource)
		}
		if !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	ix.order = order
	return nil
}

// Stats returns the number of objects per class across all sources.
func (ix *Index) Stats() map[string]int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.statsLocked()
}

func (ix *Index) statsLocked() map[string]int {
	if ix.lazyStats != nil {
		return maps.Clone(ix.lazyStats)
	}
	out := make(map[string]int)
	for _, s := range ix.srcs {
		for k := range s.objs {
			c, _, _ := strings.Cut(k, "\x00")
			out[c]++
		}
		for f, class := range [2]string{"route", "route6"} {
			if s.nroutes[f] > 0 {
				out[class] += s.nroutes[f]
			}
		}
	}
	return out
}
