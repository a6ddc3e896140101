package irr

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// Sorting the prefixes of a large as-set (a million and more for "!a4") dominates
// SetPrefixes, so it uses LSD radix sorts instead of a comparator sort: IPv4 keys are
// packed into one uint64 (address << 8 | length), IPv6 keys are sorted as 17-byte
// strings (address, then length). Both orders equal comparePKey's within one family.

// radixMin is the size below which a comparison sort is faster than the radix passes.
const radixMin = 256

// sortPrefixes sorts and deduplicates keys of one address family (the slice is
// reordered) and returns them as prefixes.
func sortPrefixes(keys []pkey, v6 bool) []netip.Prefix {
	if len(keys) == 0 {
		return []netip.Prefix{}
	}
	if len(keys) < radixMin {
		return sortKeys(keys)
	}
	if !v6 {
		packed := make([]uint64, len(keys))
		for i, k := range keys {
			packed[i] = pack4(k)
		}
		return sortPacked4(packed)
	}
	radixSortPKey6(keys)
	keys = slices.Compact(keys)
	out := make([]netip.Prefix, len(keys))
	for i, k := range keys {
		out[i] = k.prefix()
	}
	return out
}

// pack4 packs an IPv4 key into 40 bits: address << 8 | length.
func pack4(k pkey) uint64 { return k.hi<<8 | uint64(k.bits) }

// sortPacked4 sorts and deduplicates packed IPv4 keys (in place) and returns them as
// prefixes.
func sortPacked4(packed []uint64) []netip.Prefix {
	radixSortUint64(packed, 40)
	packed = slices.Compact(packed)
	out := make([]netip.Prefix, len(packed))
	var b [4]byte
	for i, v := range packed {
		binary.BigEndian.PutUint32(b[:], uint32(v>>8))
		out[i] = netip.PrefixFrom(netip.AddrFrom4(b), int(byte(v)))
	}
	return out
}

// radixSortUint64 sorts values below 2^width (width a multiple of 8) with one counting
// pass per byte; a byte that is the same in every value costs no pass.
func radixSortUint64(a []uint64, width uint) {
	if len(a) < radixMin {
		slices.Sort(a)
		return
	}
	passes := int(width / 8)
	counts := make([][256]int, passes)
	for _, v := range a {
		for p := 0; p < passes; p++ {
			counts[p][byte(v>>(8*p))]++
		}
	}
	buf := make([]uint64, len(a))
	src, dst := a, buf
	for p := 0; p < passes; p++ {
		c := &counts[p]
		if c[byte(src[0]>>(8*p))] == len(src) {
			continue
		}
		pos := 0
		for i := range c {
			n := c[i]
			c[i] = pos
			pos += n
		}
		shift := uint(8 * p)
		for _, v := range src {
			b := byte(v >> shift)
			dst[c[b]] = v
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// keyByte6 returns byte i (0 = least significant) of an IPv6 key read as the 17-byte
// big-endian string address, length.
func keyByte6(k *pkey, i int) byte {
	switch {
	case i == 0:
		return k.bits
	case i <= 8:
		return byte(k.lo >> (8 * (i - 1)))
	default:
		return byte(k.hi >> (8 * (i - 9)))
	}
}

// radixSortPKey6 sorts IPv6 keys by address, then length.
func radixSortPKey6(a []pkey) {
	if len(a) < radixMin {
		slices.SortFunc(a, comparePKey)
		return
	}
	const passes = 17
	var counts [passes][256]int
	for i := range a {
		k := &a[i]
		counts[0][k.bits]++
		for p := 1; p <= 8; p++ {
			counts[p][byte(k.lo>>(8*(p-1)))]++
		}
		for p := 9; p < passes; p++ {
			counts[p][byte(k.hi>>(8*(p-9)))]++
		}
	}
	buf := make([]pkey, len(a))
	src, dst := a, buf
	for p := 0; p < passes; p++ {
		c := &counts[p]
		if c[keyByte6(&src[0], p)] == len(src) {
			continue
		}
		pos := 0
		for i := range c {
			n := c[i]
			c[i] = pos
			pos += n
		}
		for i := range src {
			b := keyByte6(&src[i], p)
			dst[c[b]] = src[i]
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}
