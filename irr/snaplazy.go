package irr

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/routing"
)

// lazySource answers the queries of a prefix-list run (set members, routes per origin,
// member-of back-references, route existence) straight from the sections of a snapshot,
// by binary search, decoding only what it returns. Everything else (plain lookups,
// FindRoutes, changes, writing a snapshot) first decodes the whole snapshot into the
// maps of source (Index.materialize); a change then drops the lazy view.
type lazySource struct {
	f   *snapFile
	sec [numSec]section
	n   [2]int // routes per family

	tabOnce [2]sync.Once
	tabs    [2][]byte // the origin tables, verified whole on first use (see originTable)
}

// originTable returns the origin table of family f. It is verified whole on first use
// (12 bytes per origin: 600 KB for 50k origins, some 50 µs of checksum): a large list
// searches it tens of thousands of times, each search then a plain binary search.
func (lz *lazySource) originTable(f int) []byte {
	lz.tabOnce[f].Do(func() {
		s := lz.sec[secOrigin4+2*f]
		lz.tabs[f] = lz.f.sub(s, 0, s.n)
	})
	return lz.tabs[f]
}

// snapReader decodes a byte slice. The first error sticks; every value read after it
// is zero, so decoding loops end quickly.
type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrSnapshot, msg)
	}
	r.b = nil
}

func (r *snapReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length and checks that at least min bytes per element remain.
func (r *snapReader) count(min int) int {
	v := r.uint()
	if v > uint64(len(r.b)/min) {
		r.fail("count exceeds the data")
		return 0
	}
	return int(v)
}

func (r *snapReader) bytes() []byte {
	n := r.count(1)
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *snapReader) str() string { return string(r.bytes()) }

func (r *snapReader) strs() []string {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *snapReader) u32(what string) uint32 {
	v := r.uint()
	if v > 1<<32-1 {
		r.fail(what + " out of range")
	}
	return uint32(v)
}

func (r *snapReader) ref() textRef {
	return textRef{chunk: r.u32("chunk"), off: r.u32("offset"), n: r.u32("length")}
}

func (r *snapReader) pkey() pkey {
	k := pkey{Hi: r.uint(), Lo: r.uint()}
	bv := r.uint()
	k.Bits, k.V6 = uint8(bv>>1), bv&1 == 1
	max := uint8(32)
	if k.V6 {
		max = 128
	}
	if bv>>1 > uint64(max) || !k.V6 && (k.Hi > 1<<32-1 || k.Lo != 0) {
		r.fail("invalid prefix")
		return k
	}
	if !k.V6 {
		k.Hi <<= 32
	}
	if !masked(k) {
		r.fail("invalid prefix")
	}
	return k
}

// masked reports whether k has no bits set past its length (k.bits is in range).
func masked(k pkey) bool { return k.Masked() == k }

// tableLen returns the number of records of a string table section.
func (lz *lazySource) tableLen(k int) int {
	s := lz.sec[k]
	if s.n == 0 {
		return 0
	}
	n := int(lz.f.u32(s, 0))
	if n > (s.n-8)/4 {
		lz.f.fail(fmt.Errorf("%w: %s: string table count exceeds its section", ErrSnapshot, lz.f.name))
		return 0
	}
	return n
}

// record returns the key and value of record i of string table k.
func (lz *lazySource) record(k, i int) (key, val []byte) {
	s := lz.sec[k]
	a, b := int(lz.f.u32(s, 4+4*i)), int(lz.f.u32(s, 8+4*i))
	if b < a {
		lz.f.fail(fmt.Errorf("%w: %s: unordered string table", ErrSnapshot, lz.f.name))
		return nil, nil
	}
	rec := lz.f.sub(s, a, b-a)
	if rec == nil {
		return nil, nil
	}
	n, w := binary.Uvarint(rec)
	if w <= 0 || n > uint64(len(rec)-w) {
		lz.f.fail(fmt.Errorf("%w: %s: bad string table key", ErrSnapshot, lz.f.name))
		return nil, nil
	}
	return rec[w : w+int(n)], rec[w+int(n):]
}

// find returns the value of key in string table k, or nil.
func (lz *lazySource) find(k int, key string) []byte {
	lo, hi := 0, lz.tableLen(k)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		kb, v := lz.record(k, m)
		if kb == nil && v == nil {
			return nil
		}
		switch c := strings.Compare(string(kb), key); {
		case c == 0:
			return v
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil
}

// decodeSet decodes a set record's value (nil when corrupt).
func decodeSet(v []byte) *rpslSet {
	r := &snapReader{b: v}
	set := &rpslSet{name: r.str(), class: r.str(), members: r.strs(), mbrsByRef: r.strs()}
	if r.err != nil || set.class != "as-set" && set.class != "route-set" {
		return nil
	}
	return set
}

func (lz *lazySource) set(key string) *rpslSet {
	v := lz.find(secSets, key)
	if v == nil {
		return nil
	}
	set := decodeSet(v)
	if set == nil {
		lz.f.fail(fmt.Errorf("%w: %s: bad set %s", ErrSnapshot, lz.f.name, key))
	}
	return set
}

func decodeASMembers(v []byte) (map[routing.ASN]memberOfRef, error) {
	r := &snapReader{b: v}
	m := make(map[routing.ASN]memberOfRef)
	for k := r.count(2); k > 0 && r.err == nil; k-- {
		a := routing.ASN(r.u32("ASN"))
		m[a] = memberOfRef{mnts: r.strs()}
	}
	return m, r.err
}

func decodeRouteMembers(v []byte) (map[routeKey]memberOfRef, error) {
	r := &snapReader{b: v}
	m := make(map[routeKey]memberOfRef)
	for k := r.count(4); k > 0 && r.err == nil; k-- {
		p := r.pkey()
		m[routeKey{p: p, origin: routing.ASN(r.u32("ASN"))}] = memberOfRef{mnts: r.strs()}
	}
	return m, r.err
}

// memberRefs returns the decoded member-of back-references of set in table k.
func (lz *lazySource) asMembers(set string) map[routing.ASN]memberOfRef {
	v := lz.find(secASMember, set)
	if v == nil {
		return nil
	}
	m, err := decodeASMembers(v)
	if err != nil {
		lz.f.fail(fmt.Errorf("%s: %w", lz.f.name, err))
	}
	return m
}

func (lz *lazySource) routeMembers(set string) map[routeKey]memberOfRef {
	v := lz.find(secRtMember, set)
	if v == nil {
		return nil
	}
	m, err := decodeRouteMembers(v)
	if err != nil {
		lz.f.fail(fmt.Errorf("%s: %w", lz.f.name, err))
	}
	return m
}

// origin returns the routes of a in family f as a byte range of its route section.
func (lz *lazySource) origin(f int, a routing.ASN) []byte {
	tab := lz.originTable(f)
	return lz.rowRoutes(f, tab, seekOrigin(tab, 0, a), a)
}

// originCursor looks up ASNs in ascending order in the origin table of one family:
// the sorted ASNs of an expansion walk the table front to back, each search starting
// where the last one ended (galloping), instead of a binary search over the whole
// table per ASN (50k of them for a large set).
type originCursor struct {
	lz  *lazySource
	f   int
	tab []byte
	i   int
}

func (lz *lazySource) cursor(f int) *originCursor {
	return &originCursor{lz: lz, f: f, tab: lz.originTable(f)}
}

// routes returns the routes of a, which must not be smaller than the previous a.
func (c *originCursor) routes(a routing.ASN) []byte {
	c.i = seekOrigin(c.tab, c.i, a)
	return c.lz.rowRoutes(c.f, c.tab, c.i, a)
}

// seekOrigin returns the first row at or after from of the origin table tab whose ASN
// is not below a (the number of rows when there is none): doubling steps from from,
// then a binary search within the last step.
func seekOrigin(tab []byte, from int, a routing.ASN) int {
	n := len(tab) / originRow
	at := func(i int) routing.ASN { return routing.ASN(binary.LittleEndian.Uint32(tab[i*originRow:])) }
	lo, hi := from, n
	for step := 1; lo+step < n; step *= 2 {
		if at(lo+step) >= a {
			hi = lo + step
			break
		}
		lo += step
	}
	if lo < n && at(lo) >= a {
		return lo
	}
	for lo < hi { // invariant: at(lo) < a, hi == n or at(hi) >= a
		m := int(uint(lo+hi) >> 1)
		if m == lo {
			return hi
		}
		if at(m) < a {
			lo = m
		} else {
			hi = m
		}
	}
	return hi
}

// rowRoutes returns the routes of row i of origin table tab of family f when that row
// is a's, else nil.
func (lz *lazySource) rowRoutes(f int, tab []byte, i int, a routing.ASN) []byte {
	if i*originRow >= len(tab) {
		return nil
	}
	row := tab[i*originRow:]
	if routing.ASN(binary.LittleEndian.Uint32(row)) != a {
		return nil
	}
	first, n := int(binary.LittleEndian.Uint32(row[4:])), int(binary.LittleEndian.Uint32(row[8:]))
	size := route4Len
	if f == 1 {
		size = route6Len
	}
	if first > lz.n[f] || n > lz.n[f]-first {
		lz.f.fail(fmt.Errorf("%w: %s: origin %s: routes out of range", ErrSnapshot, lz.f.name, a))
		return nil
	}
	return lz.f.sub(lz.sec[secRoutes4+2*f], first*size, n*size)
}

// routeAt decodes route i of a route section of family f (nil-safe: the caller sliced
// b from the section).
func routeAt(b []byte, f, i int) (pkey, bool) {
	if f == 0 {
		k := pfxkey.Unpack4(binary.LittleEndian.Uint64(b[i*route4Len:]))
		return k, k.Bits <= 32 && masked(k)
	}
	b = b[i*route6Len:]
	k := pkey{Hi: binary.LittleEndian.Uint64(b), Lo: binary.LittleEndian.Uint64(b[8:]), Bits: b[16], V6: true}
	return k, k.Bits <= 128 && masked(k)
}

// prefixes decodes the routes of a in family f, sorted.
func (lz *lazySource) prefixes(f int, a routing.ASN) []pkey {
	return lz.appendKeys(nil, f, a)
}

// appendKeys appends the routes of a in family f to dst.
func (lz *lazySource) appendKeys(dst []pkey, f int, a routing.ASN) []pkey {
	return lz.decodeKeys(dst, lz.origin(f, a), f, a)
}

// decodeKeys appends the routes b (of origin a, family f, from origin or a cursor).
func (lz *lazySource) decodeKeys(dst []pkey, b []byte, f int, a routing.ASN) []pkey {
	size := route4Len
	if f == 1 {
		size = route6Len
	}
	for i := 0; i < len(b)/size; i++ {
		k, ok := routeAt(b, f, i)
		if !ok {
			lz.f.fail(fmt.Errorf("%w: %s: invalid route of %s", ErrSnapshot, lz.f.name, a))
			return dst
		}
		dst = append(dst, k)
	}
	return dst
}

// appendPacked4 appends the IPv4 routes of a as pack4 values (the route section's own
// encoding).
func (lz *lazySource) appendPacked4(dst []uint64, a routing.ASN) []uint64 {
	return lz.decodePacked4(dst, lz.origin(0, a), a)
}

// decodePacked4 appends the IPv4 routes b of origin a as pack4 values.
func (lz *lazySource) decodePacked4(dst []uint64, b []byte, a routing.ASN) []uint64 {
	for i := 0; i+route4Len <= len(b); i += route4Len {
		v := binary.LittleEndian.Uint64(b[i:])
		if k := pfxkey.Unpack4(v); v>>40 != 0 || k.Bits > 32 || !masked(k) {
			lz.f.fail(fmt.Errorf("%w: %s: invalid route of %s", ErrSnapshot, lz.f.name, a))
			return dst
		}
		dst = append(dst, v)
	}
	return dst
}

// count returns the number of routes of a in family f.
func (lz *lazySource) count(f int, a routing.ASN) int {
	if f == 0 {
		return len(lz.origin(0, a)) / route4Len
	}
	return len(lz.origin(1, a)) / route6Len
}

// hasRoute reports whether route k exists (binary search within its origin).
func (lz *lazySource) hasRoute(k routeKey) bool {
	f := kfam(k.p)
	b := lz.origin(f, k.origin)
	size := route4Len
	if f == 1 {
		size = route6Len
	}
	lo, hi := 0, len(b)/size
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		v, _ := routeAt(b, f, m)
		switch c := comparePKey(v, k.p); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// fill decodes every section into the maps of s; errors are recorded in the file.
func (lz *lazySource) fill(s *source) {
	f := lz.f
	bad := func(what string) { f.fail(fmt.Errorf("%w: %s: source %s: %s", ErrSnapshot, f.name, s.name, what)) }
	each := func(k int, fn func(key string, v []byte)) {
		n := lz.tableLen(k)
		var prev []byte
		for i := 0; i < n && f.Err() == nil; i++ {
			kb, v := lz.record(k, i)
			if kb == nil && v == nil {
				return
			}
			if i > 0 && string(prev) >= string(kb) {
				bad("unordered string table")
				return
			}
			prev = kb
			fn(string(kb), v)
		}
	}
	each(secSets, func(k string, v []byte) {
		if set := decodeSet(v); set != nil {
			s.sets[k] = set
		} else {
			bad("bad set " + k)
		}
	})
	each(secASMember, func(k string, v []byte) {
		m, err := decodeASMembers(v)
		if err != nil {
			bad(err.Error())
		}
		s.asMemberOf[k] = m
	})
	each(secRtMember, func(k string, v []byte) {
		m, err := decodeRouteMembers(v)
		if err != nil {
			bad(err.Error())
		}
		s.routeMemberOf[k] = m
	})
	each(secObjs, func(k string, v []byte) {
		r := &snapReader{b: v}
		t := r.ref()
		if r.err != nil {
			bad("bad text reference")
		}
		s.objs[k] = t
	})
	each(secByKey, func(k string, v []byte) {
		r := &snapReader{b: v}
		s.byKey[k] = r.strs()
		if r.err != nil {
			bad("bad key classes")
		}
	})
	refs := f.sub(lz.sec[secRefs], 0, lz.sec[secRefs].n)
	for fam := 0; fam < 2 && f.Err() == nil; fam++ {
		tab := f.sub(lz.sec[secOrigin4+2*fam], 0, lz.sec[secOrigin4+2*fam].n)
		size := route4Len
		if fam == 1 {
			size = route6Len
		}
		routes := f.sub(lz.sec[secRoutes4+2*fam], 0, lz.sec[secRoutes4+2*fam].n)
		if f.Err() != nil {
			return
		}
		next, prev := 0, routing.ASN(0)
		for i := 0; i+originRow <= len(tab) && f.Err() == nil; i += originRow {
			a := routing.ASN(binary.LittleEndian.Uint32(tab[i:]))
			first, n := int(binary.LittleEndian.Uint32(tab[i+4:])), int(binary.LittleEndian.Uint32(tab[i+8:]))
			if first != next || n == 0 || n > lz.n[fam]-first || i > 0 && a <= prev {
				bad("bad origin table")
				return
			}
			next, prev = first+n, a
			o := &originRoutes{keys: make([]pkey, n), refs: make([]textRef, n)}
			rb := routes[first*size:]
			for j := range o.keys {
				k, ok := routeAt(rb, fam, j)
				if !ok || j > 0 && comparePKey(o.keys[j-1], k) >= 0 {
					bad("invalid or unordered route")
					return
				}
				o.keys[j] = k
				ri := (first + j) * refSize
				if fam == 1 {
					ri += lz.n[0] * refSize
				}
				o.refs[j] = decodeRef(refs[ri:])
			}
			if n > linearMax {
				o.pos = make(map[pkey]int32, n)
				for j, k := range o.keys {
					o.pos[k] = int32(j)
				}
			}
			s.origin[fam][a] = o
		}
		if next != lz.n[fam] && f.Err() == nil {
			bad("origin table does not cover the routes")
		}
	}
}
