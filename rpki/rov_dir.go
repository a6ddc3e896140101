package rpki

// The directory: from an address to the few interval starts to search.
//
// The root is indexed by the address's top bits (IPv4: the /16; IPv6: the /20
// inside 2000::/4, with one bucket below and one above it). A bucket holding more
// than leafMax interval starts is split by the next childBits address bits into a
// child node, recursively, so that the binary search at the end reads one or two
// cache lines of keys. Each directory entry is 8 bytes: the index of the first
// interval starting in its range and its child node (0: a leaf). The intervals an
// address can fall in are [start-1, next start): the last interval starting before
// the range, then every one starting in it.
//
// Real data is very uneven: the densest IPv6 /24 of the 2025 VRP set holds 8,708
// interval starts (a 13-step binary search over 16-byte keys, one cache miss per
// step, before the directory had children), the densest IPv4 /16 270; after splitting, every search window has at
// most leafMax+1 keys unless the splitting stops at /32 (IPv4) or /64 (IPv6),
// where VRP prefixes are rare.
type dirEnt struct {
	start uint32 // the first interval starting at or after the range's first address
	child uint32 // index in flatIndex.sub of the child node's first entry; 0: leaf
}

// Directory shape per family: the root consumes the top 16 address bits (IPv6:
// 4 + dirBits6 = 20), children childBits more; a leaf has at most leafMax interval
// starts (16-bit IPv4 keys: 64 bytes; 16-byte IPv6 keys: 256 bytes) or reaches
// minShift (the address bits below it are never split). The IPv6 shape is a
// trade: 8-bit children would save ~0.6 dependent loads per lookup of the real
// VRP prefixes for 3x the memory (9.5 MiB), 4-bit ones cost ~1.4 more.
const (
	childBits4 = 4 // a child node of 17 entries: 136 bytes
	childBits6 = 6 // 65 entries: 520 bytes
	leafMax4   = 32
	leafMax6   = 16
	minShift4  = 32 // IPv4 addresses are the top 32 bits of hi
	minShift6  = 0
)

// rootShift is how many bits of hi are below the root's bucket bits.
func (x *flatIndex) rootShift() uint {
	if x.v6 {
		return 60 - dirBits6
	}
	return 64 - dirBits4
}

func (x *flatIndex) childBits() uint {
	if x.v6 {
		return childBits6
	}
	return childBits4
}

// buildDir builds the directory over the interval starts (sorted, starts[0] is
// address 0).
func (x *flatIndex) buildDir(starts []point) {
	nb := x.buckets()
	x.dir = make([]dirEnt, nb+1)
	k := 0
	for b := 0; b <= nb; b++ {
		for k < len(starts) && x.bucket(starts[k].hi) < b {
			k++
		}
		x.dir[b].start = uint32(max(k, 1)) // interval 0 starts at address 0
	}
	x.sub = make([]dirEnt, 1, 64) // sub[0] is unused: child 0 means a leaf
	leafMax, minShift := leafMax4, uint(minShift4)
	if x.v6 {
		leafMax, minShift = leafMax6, minShift6
	}
	cb := x.childBits()
	// split gives the range [base, base+2^sh) (top bits of hi, lo 0) whose
	// intervals are [first-1, end) a child node when it has too many of them.
	var split func(base uint64, sh uint, first, end uint32) uint32
	split = func(base uint64, sh uint, first, end uint32) uint32 {
		if int(end)-int(first)+1 <= leafMax || sh < minShift+cb {
			return 0
		}
		off := uint32(len(x.sub))
		n := 1 << cb
		x.sub = append(x.sub, make([]dirEnt, n+1)...)
		csh := sh - cb
		k := int(first)
		for j := range n {
			lo := base + uint64(j)<<csh
			for k < int(end) && starts[k].hi < lo {
				k++
			}
			x.sub[off+uint32(j)].start = uint32(max(k, 1))
		}
		x.sub[off+uint32(n)].start = end
		for j := range n {
			c := split(base+uint64(j)<<csh, csh, x.sub[off+uint32(j)].start, x.sub[off+uint32(j)+1].start)
			x.sub[off+uint32(j)].child = c
		}
		return off
	}
	for b := range nb {
		base, ok := x.bucketBase(b)
		if !ok {
			continue
		}
		x.dir[b].child = split(base, x.rootShift(), x.dir[b].start, x.dir[b+1].start)
	}
}

// bucketBase returns the first address (top 64 bits) of root bucket b, false for
// the IPv6 buckets below and above 2000::/4 (not aligned ranges: never split).
func (x *flatIndex) bucketBase(b int) (uint64, bool) {
	if !x.v6 {
		return uint64(b) << x.rootShift(), true
	}
	if b == 0 || b > 1<<dirBits6 {
		return 0, false
	}
	return 2<<60 | uint64(b-1)<<x.rootShift(), true
}

// window returns the intervals [k, k+n) the address hi (top 64 bits) can fall in.
func (x *flatIndex) window(hi uint64) (k, n int) {
	b := x.bucket(hi)
	e, end := x.dir[b], x.dir[b+1].start
	sh, cb := x.rootShift(), x.childBits()
	for e.child != 0 {
		sh -= cb
		j := e.child + uint32(hi>>sh)&(1<<cb-1)
		e, end = x.sub[j], x.sub[j+1].start
	}
	k = int(e.start) - 1
	return k, int(end) - k
}
