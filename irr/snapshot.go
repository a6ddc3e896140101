package irr

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/bgpfilter/bgpfilter/routing"
)

// A snapshot is the binary image of an Index: its object texts and every lookup
// table, laid out so that opening one decodes nothing a query does not touch. Its
// layout is private to this package and may change between versions (the magic carries
// the version); a snapshot is a cache of the RPSL files it was made from, not an
// exchange format.
//
// Layout (integers little-endian; in the header, uvarints and length-prefixed strings):
//
//	SnapshotMagic | header length (u32) | CRC-32C of the header (u32) | header
//	| CRC-32C of every snapBlock bytes of the data area (u32 each) | data area | SnapshotMagic
//
// The header holds the class counts, the text chunk lengths, the default source list
// and, per source, the offset and length of each of its sections in the data area
// (see the sec* constants). Sections are sorted so that every lookup is a binary
// search: string tables (sets, member-of back-references, objects, keys) are a count,
// a table of record offsets and the records (key, then value); the origin tables are
// fixed-width (ASN, first route, route count) rows sorted by ASN pointing into the
// route sections (IPv4: address<<8|length as a u64; IPv6: 16 address bytes and the
// length), sorted by prefix within an origin. Opening a snapshot verifies the header
// and the checksum table; a block of the data area is verified when a query first
// reads from it (see snapFile).

// SnapshotMagic starts every snapshot file.
const SnapshotMagic = "BGPFIRR\x04"

// ErrSnapshot means a snapshot is truncated, corrupt or of another version.
var ErrSnapshot = errors.New("invalid IRR snapshot")

// IsSnapshot reports whether the file at path starts with SnapshotMagic (of any
// version: an old snapshot is then refused with ErrSnapshot, not parsed as RPSL).
func IsSnapshot(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [len(SnapshotMagic)]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:len(b)-1]) == SnapshotMagic[:len(SnapshotMagic)-1]
}

// The sections of one source, in the order of the header.
const (
	secSets     = iota // string table: UPPER(name) → name, class, members, mbrs-by-ref
	secOrigin4         // origin table of the IPv4 routes
	secRoutes4         // IPv4 route keys, 8 bytes each
	secOrigin6         // origin table of the IPv6 routes
	secRoutes6         // IPv6 route keys, 17 bytes each
	secRefs            // text reference of every route (IPv4 then IPv6), refSize bytes each
	secASMember        // string table: UPPER(set) → aut-nums naming it in member-of
	secRtMember        // string table: UPPER(set) → routes naming it in member-of
	secObjs            // string table: class "\x00" UPPER(key) → text reference
	secByKey           // string table: UPPER(key) → classes
	numSec
)

const (
	originRow = 12 // ASN, first route, count (u32 each)
	route4Len = 8
	route6Len = 17
	refSize   = 12
)

// snapWriter appends the varint-coded fields of a snapshot section to b.
type snapWriter struct {
	b []byte
}

func (w *snapWriter) uint(v uint64) {
	w.b = binary.AppendUvarint(w.b, v)
}

func (w *snapWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
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

func appendKey(b []byte, k pkey) []byte {
	if k.V6 {
		b = binary.LittleEndian.AppendUint64(b, k.Hi)
		b = binary.LittleEndian.AppendUint64(b, k.Lo)
		return append(b, k.Bits)
	}
	return binary.LittleEndian.AppendUint64(b, pack4(k))
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

// sortedKeys returns the keys of m in order, so that a snapshot is deterministic.
func sortedKeys[K string | routing.ASN, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// strTable builds a string table section: count, count+1 record offsets, records.
// The records are appended after room for the header, which is filled in last.
func strTable(keys []string, val func(w *snapWriter, i int)) []byte {
	base := 4 + 4*(len(keys)+1)
	w := &snapWriter{b: make([]byte, base, base+24*len(keys))}
	binary.LittleEndian.PutUint32(w.b, uint32(len(keys)))
	for i, k := range keys {
		binary.LittleEndian.PutUint32(w.b[4+4*i:], uint32(len(w.b)))
		w.str(k)
		val(w, i)
	}
	binary.LittleEndian.PutUint32(w.b[4+4*len(keys):], uint32(len(w.b)))
	return w.b
}

// WriteSnapshot writes the whole index (every source, not only the default ones) to w.
func (ix *Index) WriteSnapshot(w io.Writer) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.materialize()
	if err := ix.snapErr(); err != nil {
		return fmt.Errorf("irr: write snapshot: %w", err)
	}
	chunks := ix.texts.all()
	var data [][]byte // the data area, in pieces
	size := 0
	add := func(b []byte) (off, n int) {
		off = size
		data = append(data, b)
		size += len(b)
		return off, len(b)
	}
	hw := &snapWriter{}
	names := sortedKeys(ix.srcs)
	sort.Slice(names, func(i, j int) bool { return ix.srcs[names[i]].idx < ix.srcs[names[j]].idx })
	type srcHead struct {
		name string
		n    [2]int
		secs [numSec][2]int
	}
	heads := make([]srcHead, 0, len(names))
	for _, n := range names {
		s := ix.srcs[n]
		h := srcHead{name: s.name, n: s.nroutes}
		for i, b := range s.sections() {
			off, l := add(b)
			h.secs[i] = [2]int{off, l}
		}
		heads = append(heads, h)
	}
	var textLen int
	for _, c := range chunks {
		add(c)
		textLen += len(c)
	}
	crcs := make([]byte, 0, 4*((size+snapBlock-1)/snapBlock))
	blk := make([]byte, 0, snapBlock)
	for _, b := range data {
		for len(b) > 0 {
			k := min(len(b), snapBlock-len(blk))
			blk = append(blk, b[:k]...)
			b = b[k:]
			if len(blk) == snapBlock {
				crcs = binary.LittleEndian.AppendUint32(crcs, crc32c(blk))
				blk = blk[:0]
			}
		}
	}
	if len(blk) > 0 {
		crcs = binary.LittleEndian.AppendUint32(crcs, crc32c(blk))
	}

	hw.uint(uint64(size))
	hw.uint(uint64(crc32c(crcs)))
	stats := ix.statsLocked()
	hw.uint(uint64(len(stats)))
	for _, c := range sortedKeys(stats) {
		hw.str(c)
		hw.uint(uint64(stats[c]))
	}
	hw.uint(uint64(len(chunks)))
	for _, c := range chunks {
		hw.uint(uint64(len(c)))
	}
	hw.uint(uint64(size - textLen))
	hw.strs(ix.order)
	hw.uint(uint64(len(heads)))
	for _, h := range heads {
		hw.str(h.name)
		hw.uint(uint64(h.n[0]))
		hw.uint(uint64(h.n[1]))
		for _, s := range h.secs {
			hw.uint(uint64(s[0]))
			hw.uint(uint64(s[1]))
		}
	}
	head := hw.b
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(SnapshotMagic)
	bw.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(head))))
	bw.Write(binary.LittleEndian.AppendUint32(nil, crc32c(head)))
	bw.Write(head)
	bw.Write(crcs)
	for _, b := range data {
		bw.Write(b)
	}
	bw.WriteString(SnapshotMagic) // trailer: a truncated file is detected
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("irr: write snapshot: %w", err)
	}
	return nil
}

// sections encodes the sections of s (see the sec* constants).
func (s *source) sections() [numSec][]byte {
	var out [numSec][]byte
	sets := sortedKeys(s.sets)
	out[secSets] = strTable(sets, func(w *snapWriter, i int) {
		set := s.sets[sets[i]]
		w.str(set.name)
		w.str(set.class)
		w.strs(set.members)
		w.strs(set.mbrsByRef)
	})
	tabs, routes, refs := s.originTables()
	for f := range 2 {
		out[secOrigin4+2*f], out[secRoutes4+2*f] = tabs[f], routes[f]
	}
	out[secRefs] = refs
	asm := sortedKeys(s.asMemberOf)
	out[secASMember] = strTable(asm, func(w *snapWriter, i int) {
		m := s.asMemberOf[asm[i]]
		w.uint(uint64(len(m)))
		for _, a := range sortedKeys(m) {
			w.uint(uint64(a))
			w.strs(m[a].mnts)
		}
	})
	rtm := sortedKeys(s.routeMemberOf)
	out[secRtMember] = strTable(rtm, func(w *snapWriter, i int) {
		m := s.routeMemberOf[rtm[i]]
		w.uint(uint64(len(m)))
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
			w.pkey(rk.p)
			w.uint(uint64(rk.origin))
			w.strs(m[rk].mnts)
		}
	})
	objs := sortedKeys(s.objs)
	out[secObjs] = strTable(objs, func(w *snapWriter, i int) { w.ref(s.objs[objs[i]]) })
	keys := sortedKeys(s.byKey)
	out[secByKey] = strTable(keys, func(w *snapWriter, i int) { w.strs(s.byKey[keys[i]]) })
	return out
}

// ReadSnapshot opens a snapshot written by WriteSnapshot that is held in memory; the
// index keeps slices of data, which must not change. Opening checks the header and
// the checksum table only; the tables and texts are decoded when a query needs them,
// each block of them verified on first use (a corrupt block is an error wrapping
// ErrSnapshot from the query that meets it, never a crash).
func ReadSnapshot(data []byte) (*Index, error) {
	ix, err := openSnapshotData("snapshot", data)
	if err != nil {
		return nil, fmt.Errorf("irr: read snapshot: %w", err)
	}
	return ix, nil
}

// openSnapshot opens the snapshot file at path, memory-mapped where the platform
// allows (see mapFile) unless read. It returns the index and the number of bytes read now.
func openSnapshot(path string, read bool) (*Index, int64, error) {
	var data []byte
	var err error
	if read {
		data, err = os.ReadFile(path)
	} else {
		data, err = mapFile(path)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("irr: load: %w", err)
	}
	ix, err := openSnapshotData(path, data)
	if err != nil {
		if !read {
			unmapFile(data)
		}
		return nil, 0, fmt.Errorf("irr: load %s: %w", path, err)
	}
	return ix, int64(len(data)), nil
}

// openSnapshotData opens the snapshot held in data (see ReadSnapshot).
func openSnapshotData(name string, data []byte) (*Index, error) {
	trunc := fmt.Errorf("%w: truncated", ErrSnapshot)
	if len(data) < len(SnapshotMagic) || string(data[:len(SnapshotMagic)]) != SnapshotMagic {
		if len(data) >= len(SnapshotMagic) && string(data[:len(SnapshotMagic)-1]) == SnapshotMagic[:len(SnapshotMagic)-1] {
			return nil, fmt.Errorf("%w: format version %d, this version reads %d (make the snapshot again)", ErrSnapshot, data[len(SnapshotMagic)-1], SnapshotMagic[len(SnapshotMagic)-1])
		}
		return nil, fmt.Errorf("%w: bad magic", ErrSnapshot)
	}
	p := len(SnapshotMagic)
	if len(data) < p+8 {
		return nil, trunc
	}
	hlen := int(binary.LittleEndian.Uint32(data[p:]))
	hcrc := binary.LittleEndian.Uint32(data[p+4:])
	p += 8
	if hlen > len(data)-p {
		return nil, trunc
	}
	head := data[p : p+hlen]
	if crc32c(head) != hcrc {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrSnapshot)
	}
	p += hlen
	r := &snapReader{b: head}
	size := r.uint()
	tcrc := r.uint()
	nblocks := (size + snapBlock - 1) / snapBlock
	if r.err != nil || size > uint64(len(data)) || uint64(len(data)-p) != 4*nblocks+size+uint64(len(SnapshotMagic)) {
		return nil, trunc
	}
	crcb := data[p : p+4*int(nblocks)]
	if uint64(crc32c(crcb)) != tcrc {
		return nil, fmt.Errorf("%w: checksum table mismatch", ErrSnapshot)
	}
	p += len(crcb)
	if string(data[len(data)-len(SnapshotMagic):]) != SnapshotMagic {
		return nil, fmt.Errorf("%w: bad trailer", ErrSnapshot)
	}
	crcs := make([]uint32, nblocks)
	for i := range crcs {
		crcs[i] = binary.LittleEndian.Uint32(crcb[4*i:])
	}
	f := newSnapFile(name, data[p:p+int(size)], crcs)

	ix := NewIndex()
	ix.snap = f
	stats := make(map[string]int)
	for n := r.count(2); n > 0; n-- {
		c := r.str()
		stats[c] = int(r.u32("count"))
	}
	lens := make([]int, r.count(1))
	var textLen uint64
	for i := range lens {
		n := r.u32("chunk length")
		lens[i] = int(n)
		textLen += uint64(n)
	}
	textOff := r.uint()
	if r.err == nil && (textOff > size || size-textOff != textLen) {
		r.fail("text chunks do not fill the text section")
	}
	order := r.strs()
	nsrc := r.count(2 + 2*numSec)
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
		lz := &lazySource{f: f}
		lz.n[0], lz.n[1] = int(r.u32("route count")), int(r.u32("route count"))
		for k := range lz.sec {
			off, n := r.uint(), r.uint()
			if off > textOff || n > textOff-off {
				r.fail("section out of range")
			}
			lz.sec[k] = section{int(off), int(n)}
		}
		if r.err != nil {
			break
		}
		if lz.sec[secOrigin4].n%originRow != 0 || lz.sec[secOrigin6].n%originRow != 0 ||
			lz.sec[secRoutes4].n != lz.n[0]*route4Len || lz.sec[secRoutes6].n != lz.n[1]*route6Len ||
			lz.sec[secRefs].n != (lz.n[0]+lz.n[1])*refSize {
			r.fail("section sizes do not match the route counts")
			break
		}
		s.lz = lz
		s.nroutes = lz.n
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing data")
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := ix.SetDefaultSources(order); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	ix.lazyStats = stats
	ix.texts.lens = lens
	ix.texts.load = func() ([][]byte, error) {
		b := f.bytes(int(textOff), int(textLen))
		if b == nil {
			return nil, f.Err()
		}
		return cutChunks(b, lens), nil
	}
	return ix, nil
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

// snapErr returns the first integrity error met in the snapshot the index was read
// from, or nil. The caller holds at least the read lock.
func (ix *Index) snapErr() error {
	if ix.snap == nil {
		return nil
	}
	if err := ix.snap.Err(); err != nil {
		return fmt.Errorf("irr: %w", err)
	}
	return nil
}

// Verify checks every block of the snapshot the index was read from (nil for an index
// loaded from RPSL): a long-running server calls it once instead of meeting a corrupt
// block in a query.
func (ix *Index) Verify() error {
	if ix.snap == nil {
		return nil
	}
	if err := ix.snap.verifyAll(); err != nil {
		return fmt.Errorf("irr: %w", err)
	}
	return nil
}

// OnSnapshotError registers fn to be called once, with the error, when a query first
// meets a corrupt block of the snapshot the index was read from (the query itself
// fails with that error): a cache removes the file so that the next run rebuilds it.
// It does nothing for an index loaded from RPSL.
func (ix *Index) OnSnapshotError(fn func(error)) {
	if ix.snap != nil {
		ix.snap.onFail.Store(&fn)
	}
}

// OnClose registers fn to run when the index is closed (a snapshot being written in the
// background for a cache, which must finish before the process exits).
func (ix *Index) OnClose(fn func() error) {
	ix.closeMu.Lock()
	defer ix.closeMu.Unlock()
	ix.closers = append(ix.closers, fn)
}

// Close runs the functions registered with OnClose, once, and returns their first
// error. The index stays usable.
func (ix *Index) Close() error {
	ix.closeMu.Lock()
	fns := ix.closers
	ix.closers = nil
	ix.closeMu.Unlock()
	var first error
	for _, fn := range fns {
		if err := fn(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
