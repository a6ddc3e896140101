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
)

// A snapshot is the binary image of an Index: its object texts and every lookup
// table, so that a registry loads without parsing RPSL. Its layout is private to this
// package and may change between versions (the magic carries the version); a
// snapshot is a cache of the RPSL files it was made from, not an exchange format.
// Integers are uvarints, strings and byte strings are length-prefixed.

// SnapshotMagic starts every snapshot file.
const SnapshotMagic = "BGPFIRR\x01"

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
	w   *bufio.Writer
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

func (w *snapWriter) pkey(k pkey) {
	w.uint(k.hi)
	w.uint(k.lo)
	v6 := uint64(0)
	if k.v6 {
		v6 = 1
	}
	w.uint(uint64(k.bits)<<1 | v6)
}

// sortedKeys returns the keys of m in order, so that a snapshot is deterministic.
func sortedKeys[K string | ASN, V any](m map[K]V) []K {
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
	sw := &snapWriter{w: bufio.NewWriterSize(w, 1<<20)}
	sw.w.WriteString(SnapshotMagic)
	sw.uint(uint64(len(ix.texts.chunks)))
	for _, c := range ix.texts.chunks {
		sw.uint(uint64(len(c)))
		sw.w.Write(c)
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
				for i, k := range o.keys {
					sw.pkey(k)
					sw.ref(o.refs[i])
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
	sw.w.WriteString(SnapshotMagic) // trailer: a truncated file is detected
	if err := sw.w.Flush(); err != nil {
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
	k := pkey{hi: r.uint(), lo: r.uint()}
	bv := r.uint()
	k.bits, k.v6 = uint8(bv>>1), bv&1 == 1
	max := uint8(32)
	if k.v6 {
		max = 128
	}
	if bv>>1 > uint64(max) || !k.v6 && (k.hi > 1<<32-1 || k.lo != 0) || k.prefix().Masked() != k.prefix() {
		r.fail("invalid prefix")
	}
	return k
}

// ReadSnapshot decodes a snapshot written by WriteSnapshot. Every reference into the
// object texts is checked, so a corrupt file is an error wrapping ErrSnapshot, never a
// crash later.
func ReadSnapshot(data []byte) (*Index, error) {
	if !bytes.HasPrefix(data, []byte(SnapshotMagic)) || !bytes.HasSuffix(data[len(SnapshotMagic):], []byte(SnapshotMagic)) {
		return nil, fmt.Errorf("irr: %w: bad magic or truncated file", ErrSnapshot)
	}
	r := &snapReader{b: data[len(SnapshotMagic) : len(data)-len(SnapshotMagic)]}
	ix := NewIndex()
	nchunks := r.count(1)
	ix.texts.chunks = make([][]byte, nchunks)
	for i := range ix.texts.chunks {
		// cap == len: a later add starts a new chunk instead of writing into data.
		ix.texts.chunks[i] = r.bytes()
	}
	ref := func() textRef {
		t := textRef{chunk: r.u32("chunk"), off: r.u32("offset"), n: r.u32("length")}
		if r.err == nil && (int(t.chunk) >= nchunks || uint64(t.off)+uint64(t.n) > uint64(len(ix.texts.chunks[t.chunk]))) {
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
				a := ASN(r.u32("ASN"))
				m := r.count(6)
				o := &originRoutes{keys: make([]pkey, 0, m), refs: make([]textRef, 0, m)}
				for ; m > 0 && r.err == nil; m-- {
					k, t := r.pkey(), ref()
					if kfam(k) != f || o.find(k) >= 0 {
						r.fail("misplaced or duplicate route")
						break
					}
					o.add(k, t)
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
			m := make(map[ASN]memberOfRef)
			for k := r.count(2); k > 0 && r.err == nil; k-- {
				a := ASN(r.u32("ASN"))
				m[a] = memberOfRef{mnts: r.strs()}
			}
			s.asMemberOf[set] = m
		}
		for n := r.count(2); n > 0 && r.err == nil; n-- {
			set := r.str()
			m := make(map[routeKey]memberOfRef)
			for k := r.count(5); k > 0 && r.err == nil; k-- {
				p := r.pkey()
				m[routeKey{p: p, origin: ASN(r.u32("ASN"))}] = memberOfRef{mnts: r.strs()}
			}
			s.routeMemberOf[set] = m
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing data")
	}
	if r.err != nil {
		return nil, fmt.Errorf("irr: read snapshot: %w", r.err)
	}
	if err := ix.SetDefaultSources(order); err != nil {
		return nil, fmt.Errorf("irr: read snapshot: %w: %w", ErrSnapshot, err)
	}
	return ix, nil
}
