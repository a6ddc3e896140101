// Package pfxkey represents an IP prefix as a small pointer-free value (a 128-bit
// big-endian address, its length and its family) with the order bgpq4 and IRRd output
// prefixes in: IPv4 before IPv6, then ascending address, then shorter first. It also
// provides LSD radix sorts of such keys, which beat a comparison sort for the millions
// of prefixes a large as-set expands to.
package pfxkey

import (
	"net/netip"
	"slices"
)

// Key is a prefix as a comparable value without pointers, so that maps and slices of
// millions of keys cost the garbage collector nothing to scan. The address is stored
// big-endian in Hi (bits 0-63) and Lo (bits 64-127); an IPv4 address occupies the top
// 32 bits of Hi, so the bit positions of both families line up.
type Key struct {
	Hi, Lo uint64
	Bits   uint8 // prefix length
	V6     bool  // IPv6 (including IPv4-mapped addresses) rather than IPv4
}

// FromPrefix returns p's key. Host bits are kept as they are (see Masked). An invalid
// prefix gives a key that is not meaningful; callers check p.IsValid first.
func FromPrefix(p netip.Prefix) Key {
	a := p.Addr()
	if a.Is4() {
		return From4(a.As4(), p.Bits())
	}
	return From16(a.As16(), p.Bits())
}

// From4 returns the key of the IPv4 prefix with address b and length bits (host bits
// kept), for callers that already know the family.
func From4(b [4]byte, bits int) Key {
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	return Key{Hi: v << 32, Bits: uint8(bits)}
}

// From16 returns the key of the IPv6 prefix with address b and length bits (host bits
// kept).
func From16(b [16]byte, bits int) Key {
	return Key{Hi: be64(b[0:8]), Lo: be64(b[8:16]), Bits: uint8(bits), V6: true}
}

func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// Prefix returns the prefix k represents, of the family k.V6 says.
func (k Key) Prefix() netip.Prefix {
	if !k.V6 {
		v := uint32(k.Hi >> 32)
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), int(k.Bits))
	}
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(k.Hi >> (56 - 8*i))
		b[8+i] = byte(k.Lo >> (56 - 8*i))
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), int(k.Bits))
}

// Masked returns k with the address bits past its length cleared. A length beyond 128
// leaves the address as it is.
func (k Key) Masked() Key {
	n := int(k.Bits)
	switch {
	case n == 0:
		k.Hi, k.Lo = 0, 0
	case n < 64:
		k.Hi &= ^uint64(0) << (64 - n)
		k.Lo = 0
	case n == 64:
		k.Lo = 0
	case n < 128:
		k.Lo &= ^uint64(0) << (128 - n)
	}
	return k
}

// Compare orders keys like the prefix lists of bgpq4 and IRRd: IPv4 before IPv6, then
// by address, then shorter prefix first. It returns -1, 0 or +1 (or the length
// difference), for slices.SortFunc.
func Compare(a, b Key) int {
	switch {
	case a.V6 != b.V6:
		if !a.V6 {
			return -1
		}
		return 1
	case a.Hi != b.Hi:
		if a.Hi < b.Hi {
			return -1
		}
		return 1
	case a.Lo != b.Lo:
		if a.Lo < b.Lo {
			return -1
		}
		return 1
	}
	return int(a.Bits) - int(b.Bits)
}

// Pack4 packs an IPv4 key into 40 bits, address << 8 | length, whose numeric order is
// Compare's order among IPv4 keys. k must be an IPv4 key.
func Pack4(k Key) uint64 { return k.Hi>>24 | uint64(k.Bits) }

// Unpack4 is the inverse of Pack4.
func Unpack4(v uint64) Key { return Key{Hi: v >> 8 << 32, Bits: uint8(v)} }

// radixMin is the size below which a comparison sort is faster than the radix passes.
const radixMin = 256

// SortPacked sorts values below 2^40 (such as Pack4's) in place with an LSD radix
// sort: one counting scan, then one pass per byte, skipping a byte that is the same in
// every value.
func SortPacked(a []uint64) {
	if len(a) < radixMin {
		slices.Sort(a)
		return
	}
	const passes = 5
	var counts [passes][256]int
	for _, v := range a {
		counts[0][byte(v)]++
		counts[1][byte(v>>8)]++
		counts[2][byte(v>>16)]++
		counts[3][byte(v>>24)]++
		counts[4][byte(v>>32)]++
	}
	buf := make([]uint64, len(a))
	src, dst := a, buf
	for p := 0; p < passes; p++ {
		c := &counts[p]
		if c[byte(src[0]>>(8*p))] == len(src) {
			continue
		}
		toOffsets(c)
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

// toOffsets turns the byte counts of a radix pass into each byte's first position.
func toOffsets(c *[256]int) {
	pos := 0
	for i := range c {
		n := c[i]
		c[i] = pos
		pos += n
	}
}

// keyBytes is the number of radix digits of a key read as the 18-byte big-endian
// string family, address, length.
const keyBytes = 18

// digit returns byte i (0 = least significant) of k read as the string family,
// address, length.
func digit(k *Key, i int) byte {
	switch {
	case i == 0:
		return k.Bits
	case i <= 8:
		return byte(k.Lo >> (8 * (i - 1)))
	case i <= 16:
		return byte(k.Hi >> (8 * (i - 9)))
	case k.V6:
		return 1
	}
	return 0
}

// Sort sorts a in Compare's order with an LSD radix sort (a comparison sort below a
// few hundred keys); a byte that is the same in every key costs no pass, so keys of one
// family pay nothing for the family byte, and IPv4 keys nothing for Lo.
func Sort(a []Key) {
	if len(a) < radixMin {
		slices.SortFunc(a, Compare)
		return
	}
	var counts [keyBytes][256]int
	for i := range a {
		k := &a[i]
		counts[0][k.Bits]++
		for p := 1; p <= 8; p++ {
			counts[p][byte(k.Lo>>(8*(p-1)))]++
		}
		for p := 9; p <= 16; p++ {
			counts[p][byte(k.Hi>>(8*(p-9)))]++
		}
		if k.V6 {
			counts[17][1]++
		} else {
			counts[17][0]++
		}
	}
	buf := make([]Key, len(a))
	src, dst := a, buf
	for p := 0; p < keyBytes; p++ {
		c := &counts[p]
		if c[digit(&src[0], p)] == len(src) {
			continue
		}
		toOffsets(c)
		for i := range src {
			b := digit(&src[i], p)
			dst[c[b]] = src[i]
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}
