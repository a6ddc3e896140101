package irr

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/bgpfilter/bgpfilter/routing"
)

// A snapshot is the binary image of an Index: its object texts and every lookup
// table, so that a registry loads without parsing RPSL. Its layout is private to this
// package and may change between versions (the magic carries the version); a
// snapshot is a cache of the RPSL files it was made from, not an exchange format.
//
// Layout: SnapshotMagic, the length of the tables (uvarint), the tables, the text
// references of the routes (refSize bytes each, in the order of the routes in the
// tables), the object texts (the arena's chunks, concatenated), SnapshotMagic again.
// The tables start with the chunk lengths, so that every text reference in them is
// checked before the texts are read. Load reads the route references and the texts
// only when a query needs them (see fillRefs); a prefix-list run needs neither. In the
// tables, integers are uvarints and strings are length-prefixed.

// SnapshotMagic starts every snapshot file.
const SnapshotMagic = "BGPFIRR\x03"

// ErrSnapshot means a snapshot is truncated, corrupt or of another version.
var ErrSnapshot = errors.New("invalid IRR snapshot")

// IsSnapshot reports whether the file at path starts with SnapshotMagic.
func IsSnapshot(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [len(SnapshotMagic)]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:]) == SnapshotMagic
}

type snapWriter struct {
	w   *bytes.Buffer
	buf []byte
}

func (w *snapWriter) uint(v uint64) {
	w.buf = binary.AppendUvarint(w.buf[:0], v)
	w.w.Write(w.buf)
}

func (w *snapWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.w.WriteString(s)
}

func (w *snapWriter) strs(l []string) {
	w.uint(uint64(len(l)))
	for _, s := range l {
		w.str(s)
	}
}

func (w *snapWriter) ref(t textRef) {
	w.uint(uint64(t.chunk))
	w.uint(uint64(t.off))
	w.uint(uint64(t.n))
}

// Route entries of the origin lists have a fixed width (most of a snapshot's tables;
// decoding them is the bulk of opening one): IPv4 address (4 bytes) or IPv6 address
// (16), then the length (1), little-endian. A route's text reference (chunk, offset,
// length: 4 bytes each) is in the separate reference section.
const (
	routeEntry4 = 4 + 1
	routeEntry6 = 16 + 1
	refSize     = 12
)

func appendKey(b []byte, k pkey) []byte {
	if k.V6 {
		b = binary.LittleEndian.AppendUint64(b, k.Hi)
		b = binary.LittleEndian.AppendUint64(b, k.Lo)
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(k.Hi>>32))
	}
	return append(b, k.Bits)
}

func appendRef(b []byte, t textRef) []byte {
	b = binary.LittleEndian.AppendUint32(b, t.chunk)
	b = binary.LittleEndian.AppendUint32(b, t.off)
	return binary.LittleEndian.AppendUint32(b, t.n)
}

// decodeRef decodes refSize bytes.
func decodeRef(b []byte) textRef {
	return textRef{chunk: binary.LittleEndian.Uint32(b), off: binary.LittleEndian.Uint32(b[4:]), n: binary.LittleEndian.Uint32(b[8:])}
}

// route decodes one route entry of family f; the caller checked the length.
func (r *snapReader) route(f int) pkey {
	var k pkey
	b := r.b
	if f == 1 {
		k = pkey{Hi: binary.LittleEndian.Uint64(b), Lo: binary.LittleEndian.Uint64(b[8:]), V6: true}
		b = b[16:]
	} else {
		k = pkey{Hi: uint64(binary.LittleEndian.Uint32(b)) << 32}
		b = b[4:]
	}
	k.Bits = b[0]
	r.b = b[1:]
	if k.Bits > 32 && !k.V6 || k.Bits > 128 || !masked(k) {
		r.fail("invalid prefix")
	}
	return k
}

// pkey writes k; an IPv4 address is written as its 32-bit value.
func (w *snapWriter) pkey(k pkey) {
	v6 := uint64(0)
	if k.V6 {
		v6 = 1
		w.uint(k.Hi)
	} else {
		w.uint(k.Hi >> 32)
	}
	w.uint(k.Lo)
	w.uint(uint64(k.Bits)<<1 | v6)
}

// sortedKeys returns the keys of m in order, so that a snapshot is deterministic.
func sortedKeys[K string | routing.ASN, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// WriteSnapshot writes the whole index (every source, not only the default ones) to w.
func (ix *Index) WriteSnapshot(w io.Writer) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.fillRefs()
	sw := &snapWriter{w: new(bytes.Buffer)}
	var refs []byte
	chunks := ix.texts.all()
	sw.uint(uint64(len(chunks)))
	for _, c := range chunks {
		sw.uint(uint64(len(c)))
	}
	sw.strs(ix.order)
	names := sortedKeys(ix.srcs)
	sort.Slice(names, func(i, j int) bool { return ix.srcs[names[i]].idx < ix.srcs[names[j]].idx })
	sw.uint(uint64(len(names)))
	for _, n := range names {
		s := ix.srcs[n]
		sw.str(s.name)
		sw.uint(uint64(len(s.objs)))
		for _, k := range sortedKeys(s.objs) {
			sw.str(k)
			sw.ref(s.objs[k])
		}
		sw.uint(uint64(len(s.byKey)))
		for _, k := range sortedKeys(s.byKey) {
			sw.str(k)
			sw.strs(s.byKey[k])
		}
		sw.uint(uint64(len(s.sets)))
		for _, k := range sortedKeys(s.sets) {
			set := s.sets[k]
			sw.str(k)
			sw.str(set.name)
			sw.str(set.class)
			sw.strs(set.members)
			sw.strs(set.mbrsByRef)
		}
		for f := range s.origin {
			sw.uint(uint64(len(s.origin[f])))
			for _, a := range sortedKeys(s.origin[f]) {
				o := s.origin[f][a]
				sw.uint(uint64(a))
				sw.uint(uint64(len(o.keys)))
				// In prefix order, so that the reader checks uniqueness in O(1).
				idx := make([]int, len(o.keys))
				for i := range idx {
					idx[i] = i
				}
				sort.Slice(idx, func(i, j int) bool { return comparePKey(o.keys[idx[i]], o.keys[idx[j]]) < 0 })
				for _, i := range idx {
					sw.buf = appendKey(sw.buf[:0], o.keys[i])
					sw.w.Write(sw.buf)
					refs = appendRef(refs, o.refs[i])
				}
			}
		}
		sw.uint(uint64(len(s.asMemberOf)))
		for _, set := range sortedKeys(s.asMemberOf) {
			m := s.asMemberOf[set]
			sw.str(set)
			sw.uint(uint64(len(m)))
			for _, a := range sortedKeys(m) {
				sw.uint(uint64(a))
				sw.strs(m[a].mnts)
			}
		}
		sw.uint(uint64(len(s.routeMemberOf)))
		for _, set := range sortedKeys(s.routeMemberOf) {
			m := s.routeMemberOf[set]
			sw.str(set)
			sw.uint(uint64(len(m)))
			keys := make([]routeKey, 0, len(m))
			for rk := range m {
				keys = append(keys, rk)
			}
			sort.Slice(keys, func(i, j int) bool {
				if c := comparePKey(keys[i].p, keys[j].p); c != 0 {
					return c < 0
				}
				return keys[i].origin < keys[j].origin
			})
			for _, rk := range keys {
				sw.pkey(rk.p)
				sw.uint(uint64(rk.origin))
				sw.strs(m[rk].mnts)
			}
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(SnapshotMagic)
	bw.Write(binary.AppendUvarint(nil, uint64(sw.w.Len())))
	bw.Write(sw.w.Bytes())
	bw.Write(refs)
	for _, c := range chunks {
		bw.Write(c)
	}
	bw.WriteString(SnapshotMagic) // trailer: a truncated file is detected
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("irr: write snapshot: %w", err)
	}
	return nil
}

// snapReader decodes a snapshot held in memory. The first error sticks; every value
// read after it is zero, so decoding loops end quickly.
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

// ReadSnapshot decodes a snapshot written by WriteSnapshot. Every reference into the
// object texts is checked, so a corrupt file is an error wrapping ErrSnapshot, never a
// crash later. The index keeps slices of data.
func ReadSnapshot(data []byte) (*Index, error) {
	tables, rest, err := splitSnapshot(data)
	if err != nil {
		return nil, err
	}
	ix, lens, err := decodeTables(tables)
	if err != nil {
		return nil, err
	}
	nrefs := ix.routeCount() * refSize
	texts := rest[:len(rest)-len(SnapshotMagic)]
	if int64(nrefs)+total(lens) != int64(len(texts)) || !bytes.HasSuffix(rest, []byte(SnapshotMagic)) {
		return nil, fmt.Errorf("irr: read snapshot: %w: truncated", ErrSnapshot)
	}
	refs := texts[:nrefs]
	ix.refsLoad = func() ([]byte, error) { return refs, nil }
	ix.texts.chunks = cutChunks(texts[nrefs:], lens)
	return ix, nil
}

// splitSnapshot checks the magic and returns the tables and what follows them.
func splitSnapshot(data []byte) (tables, rest []byte, err error) {
	if !bytes.HasPrefix(data, []byte(SnapshotMagic)) {
		return nil, nil, fmt.Errorf("irr: read snapshot: %w: bad magic", ErrSnapshot)
	}
	data = data[len(SnapshotMagic):]
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)-k) || uint64(len(data)-k)-n < uint64(len(SnapshotMagic)) {
		return nil, nil, fmt.Errorf("irr: read snapshot: %w: truncated", ErrSnapshot)
	}
	return data[k : k+int(n)], data[k+int(n):], nil
}

func total(lens []int) int64 {
	var t int64
	for _, n := range lens {
		t += int64(n)
	}
	return t
}

// cutChunks slices texts into chunks of the given lengths, each with cap == len so
// that a later add starts a new chunk instead of writing into texts.
func cutChunks(texts []byte, lens []int) [][]byte {
	out := make([][]byte, len(lens))
	for i, n := range lens {
		out[i] = texts[:n:n]
		texts = texts[n:]
	}
	return out
}

// decodeTables decodes the tables of a snapshot into an index without texts, and
// returns the chunk lengths.
func decodeTables(tables []byte) (*Index, []int, error) {
	r := &snapReader{b: tables}
	ix := NewIndex()
	nchunks := r.count(1)
	lens := make([]int, nchunks)
	for i := range lens {
		n := r.uint()
		if n > 1<<32-1 {
			r.fail("chunk too large")
		}
		lens[i] = int(n)
	}
	ref := func() textRef {
		t := textRef{chunk: r.u32("chunk"), off: r.u32("offset"), n: r.u32("length")}
		if r.err == nil && (int(t.chunk) >= nchunks || uint64(t.off)+uint64(t.n) > uint64(lens[t.chunk])) {
			r.fail("text reference out of range")
		}
		return t
	}
	order := r.strs()
	nsrc := r.count(8)
	if nsrc > 1<<16 {
		r.fail("too many sources")
	}
	for i := 0; i < nsrc && r.err == nil; i++ {
		name := r.str()
		if !validSourceName(name) || ix.srcs[name] != nil {
			r.fail("invalid or duplicate source name")
			break
		}
		s := ix.source(name, true)
		for n := r.count(4); n > 0; n-- {
			k := r.str()
			s.objs[k] = ref()
		}
		for n := r.count(2); n > 0; n-- {
			k := r.str()
			s.byKey[k] = r.strs()
		}
		for n := r.count(5); n > 0; n-- {
			k := r.str()
			set := &rpslSet{name: r.str(), class: r.str(), members: r.strs(), mbrsByRef: r.strs()}
			if set.class != "as-set" && set.class != "route-set" {
				r.fail("invalid set class")
			}
			s.sets[k] = set
		}
		for f := range s.origin {
			for n := r.count(2); n > 0 && r.err == nil; n-- {
				a := routing.ASN(r.u32("ASN"))
				size := routeEntry4
				if f == 1 {
					size = routeEntry6
				}
				m := r.count(size)
				o := &originRoutes{keys: make([]pkey, m)} // refs: see fillRefs
				for i := 0; i < m && r.err == nil; i++ {
					k := r.route(f)
					if i > 0 && comparePKey(o.keys[i-1], k) >= 0 {
						r.fail("unordered route")
					}
					o.keys[i] = k
				}
				if r.err != nil {
					break
				}
				if len(o.keys) > linearMax {
					o.pos = make(map[pkey]int32, len(o.keys))
					for i, k := range o.keys {
						o.pos[k] = int32(i)
					}
				}
				if len(o.keys) == 0 || s.origin[f][a] != nil {
					r.fail("empty or duplicate origin list")
					break
				}
				s.origin[f][a] = o
				s.nroutes[f] += len(o.keys)
			}
		}
		for n := r.count(2); n > 0 && r.err == nil; n-- {
			set := r.str()
			m := make(map[routing.ASN]memberOfRef)
			for k := r.count(2); k > 0 && r.err == nil; k-- {
				a := routing.ASN(r.u32("ASN"))
				m[a] = memberOfRef{mnts: r.strs()}
			}
			s.asMemberOf[set] = m
		}
		for n := r.count(2); n > 0 && r.err == nil; n-- {
			set := r.str()
			m := make(map[routeKey]memberOfRef)
			for k := r.count(5); k > 0 && r.err == nil; k-- {
				p := r.pkey()
				m[routeKey{p: p, origin: routing.ASN(r.u32("ASN"))}] = memberOfRef{mnts: r.strs()}
			}
			s.routeMemberOf[set] = m
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing data")
	}
	if r.err != nil {
		return nil, nil, fmt.Errorf("irr: read snapshot: %w", r.err)
	}
	if err := ix.SetDefaultSources(order); err != nil {
		return nil, nil, fmt.Errorf("irr: read snapshot: %w: %w", ErrSnapshot, err)
	}
	return ix, lens, nil
}

// openSnapshot reads the tables of the snapshot file at path; the texts are read from
// the open file when first needed (a file replaced by rename meanwhile is still the
// one read). It returns the index and the number of bytes read now.
func openSnapshot(path string) (*Index, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("irr: load: %w", err)
	}
	ix, n, err := openSnapshotFile(f)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("irr: load %s: %w", path, err)
	}
	return ix, n, nil
}

func openSnapshotFile(f *os.File) (*Index, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := st.Size()
	head := make([]byte, min(size, int64(len(SnapshotMagic)+binary.MaxVarintLen64)))
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, 0, err
	}
	if !bytes.HasPrefix(head, []byte(SnapshotMagic)) {
		return nil, 0, fmt.Errorf("%w: bad magic", ErrSnapshot)
	}
	n, k := binary.Uvarint(head[len(SnapshotMagic):])
	start := int64(len(SnapshotMagic) + k)
	if k <= 0 || n > uint64(size-start) {
		return nil, 0, fmt.Errorf("%w: truncated", ErrSnapshot)
	}
	tables := make([]byte, n)
	if _, err := f.ReadAt(tables, start); err != nil {
		return nil, 0, err
	}
	ix, lens, err := decodeTables(tables)
	if err != nil {
		return nil, 0, err
	}
	refStart, refLen := start+int64(n), int64(ix.routeCount()*refSize)
	textStart, textLen := refStart+refLen, total(lens)
	trailer := make([]byte, len(SnapshotMagic))
	if textStart+textLen+int64(len(trailer)) != size {
		return nil, 0, fmt.Errorf("%w: truncated", ErrSnapshot)
	}
	if _, err := f.ReadAt(trailer, size-int64(len(trailer))); err != nil || string(trailer) != SnapshotMagic {
		return nil, 0, fmt.Errorf("%w: bad trailer", ErrSnapshot)
	}
	ix.texts.lens = lens
	// f stays open for the two loaders (and is closed with the index, by its cleanup).
	ix.refsLoad = func() ([]byte, error) {
		refs := make([]byte, refLen)
		if _, err := f.ReadAt(refs, refStart); err != nil {
			return nil, err
		}
		return refs, nil
	}
	ix.texts.load = func() ([][]byte, error) {
		texts := make([]byte, textLen)
		if _, err := f.ReadAt(texts, textStart); err != nil {
			return nil, err
		}
		return cutChunks(texts, lens), nil
	}
	return ix, refStart, nil
}

// routeCount returns the number of route and route6 objects of every source.
func (ix *Index) routeCount() int {
	n := 0
	for _, s := range ix.srcs {
		n += s.nroutes[0] + s.nroutes[1]
	}
	return n
}
