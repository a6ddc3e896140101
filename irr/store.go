package irr

import (
	"net/netip"
	"sync"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// pkey is a prefix as a comparable value without pointers, so that the route maps and
// per-origin lists of a million routes cost the garbage collector nothing to scan.
type pkey = pfxkey.Key

func toKey(p netip.Prefix) pkey { return pfxkey.FromPrefix(p) }

// comparePKey orders like ComparePrefix: IPv4 first, then address, then length.
func comparePKey(a, b pkey) int { return pfxkey.Compare(a, b) }

// textRef locates an object's RPSL text in an arena.
type textRef struct {
	chunk, off, n uint32
}

const arenaChunk = 1 << 20

// arena stores object texts in large byte chunks (no per-object heap allocation, no
// pointers for the GC to follow). Replaced or deleted texts are not reclaimed; the
// mirror's churn is small next to a full load. An index read from a snapshot file
// reads its texts on first use only (see fill): most runs never look at them.
type arena struct {
	chunks [][]byte
	lens   []int                    // chunk lengths while load is pending
	load   func() ([][]byte, error) // reads the chunks; nil when they are in memory
	once   sync.Once
}

// fill reads the chunks on first use. When reading fails the texts read as zero bytes
// (no object), which keeps every textRef valid.
func (a *arena) fill() {
	a.once.Do(func() {
		if a.load == nil {
			return
		}
		c, err := a.load()
		if err != nil || len(c) != len(a.lens) {
			c = make([][]byte, len(a.lens))
			for i, n := range a.lens {
				c[i] = make([]byte, n)
			}
		}
		a.chunks = c
	})
}

func (a *arena) add(b []byte) textRef {
	a.fill()
	if len(b) > arenaChunk/4 {
		c := make([]byte, len(b))
		copy(c, b)
		a.chunks = append(a.chunks, c)
		return textRef{chunk: uint32(len(a.chunks) - 1), n: uint32(len(b))}
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(b) > cap(a.chunks[last]) {
		a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
		last++
	}
	off := len(a.chunks[last])
	a.chunks[last] = append(a.chunks[last], b...)
	return textRef{chunk: uint32(last), off: uint32(off), n: uint32(len(b))}
}

// get returns the text r refers to; a reference outside the chunks (a corrupt
// snapshot) reads as "".
func (a *arena) get(r textRef) string {
	a.fill()
	if int(r.chunk) >= len(a.chunks) || uint64(r.off)+uint64(r.n) > uint64(len(a.chunks[r.chunk])) {
		return ""
	}
	return string(a.chunks[r.chunk][r.off : r.off+r.n])
}

// all returns every chunk.
func (a *arena) all() [][]byte {
	a.fill()
	return a.chunks
}
