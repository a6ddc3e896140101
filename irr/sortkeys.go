package irr

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// Sorting the prefixes of a large as-set (a million and more for "!a4") dominates
// SetPrefixes, so it uses the LSD radix sorts of package pfxkey instead of a comparator
// sort: IPv4 keys are packed into one uint64 (address << 8 | length), IPv6 keys are
// sorted as they are. Both orders equal comparePKey's.

// radixMin is the size below which a comparison sort is faster than packing the keys.
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
	pfxkey.Sort(keys)
	keys = slices.Compact(keys)
	out := make([]netip.Prefix, len(keys))
	for i, k := range keys {
		out[i] = k.Prefix()
	}
	return out
}

// pack4 packs an IPv4 key into 40 bits: address << 8 | length.
func pack4(k pkey) uint64 { return pfxkey.Pack4(k) }

// sortPacked4 sorts and deduplicates packed IPv4 keys (in place) and returns them as
// prefixes.
func sortPacked4(packed []uint64) []netip.Prefix {
	pfxkey.SortPacked(packed)
	packed = slices.Compact(packed)
	out := make([]netip.Prefix, len(packed))
	var b [4]byte
	for i, v := range packed {
		binary.BigEndian.PutUint32(b[:], uint32(v>>8))
		out[i] = netip.PrefixFrom(netip.AddrFrom4(b), int(byte(v)))
	}
	return out
}
