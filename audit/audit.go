// Package audit checks flow records against the source addresses each customer may use
// (MANRS Action 2, source address validation): a record is mapped to a customer by
// exporter and input interface, and its source must fall inside one of the customer's
// permitted prefixes (every more-specific of them allowed: a source is an address, not a
// route). Spoofed flows, packets and bytes, scaled by the sampling rate, are counted per
// customer and per offending /24 (IPv4) or /48 (IPv6).
//
// The package takes plain inputs (customers with prefixes and interfaces); where the
// prefixes come from (IRR filters, extra prefixes from a config) is the caller's choice.
package audit

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"

	"github.com/kentik/patricia"
	"github.com/kentik/patricia/generics_tree"
)

// Interface is where a customer's traffic enters the network: an exporter (the flow
// exporter's address: the UDP source of NetFlow/IPFIX, the sFlow agent address) and an
// input ifIndex. IfIndex 0 means every interface of that exporter.
type Interface struct {
	Exporter netip.Addr
	IfIndex  uint32
}

// Customer is one customer as the audit needs it.
type Customer struct {
	Name string
	// Prefixes are the permitted source prefixes: the customer's prefix filter and any
	// extra prefixes. A source inside any of them (at any length) is legitimate.
	Prefixes   []netip.Prefix
	Interfaces []Interface
}

// Limits bound the audit's memory. Zero fields take DefaultLimits.
type Limits struct {
	// MaxOffenders caps the offending /24 and /48 entries kept per report interval over
	// all customers; spoofed traffic from further prefixes is still counted per
	// customer (and in OffendersDropped), just not attributed to a prefix.
	MaxOffenders int
	// TopOffenders is how many offending prefixes a report lists per customer.
	TopOffenders int
	// MaxUnknownExporters caps the unknown exporter addresses a report lists (all are
	// counted).
	MaxUnknownExporters int
}

// DefaultLimits are the caps README documents.
var DefaultLimits = Limits{MaxOffenders: 100000, TopOffenders: 10, MaxUnknownExporters: 64}

func (l Limits) withDefaults() Limits {
	if l.MaxOffenders <= 0 {
		l.MaxOffenders = DefaultLimits.MaxOffenders
	}
	if l.TopOffenders <= 0 {
		l.TopOffenders = DefaultLimits.TopOffenders
	}
	if l.MaxUnknownExporters <= 0 {
		l.MaxUnknownExporters = DefaultLimits.MaxUnknownExporters
	}
	return l
}

// Counters are a customer's traffic totals. Packets and bytes are multiplied by the
// sampling rate (1 when the exporter has not said); flows are records as exported.
type Counters struct {
	Flows          uint64 `json:"flows"`
	Packets        uint64 `json:"packets"`
	Bytes          uint64 `json:"bytes"`
	SpoofedFlows   uint64 `json:"spoofed_flows"`
	SpoofedPackets uint64 `json:"spoofed_packets"`
	SpoofedBytes   uint64 `json:"spoofed_bytes"`
}

// verdicts of a source block (/24 or /48) for one customer
const (
	vUnknown uint8 = iota
	vAllowed       // a permitted prefix of length <= 24 (48) covers the whole block
	vDenied        // no permitted prefix touches the block
	vMixed         // a longer permitted prefix lies inside: look the address up
)

type blockKey struct {
	hi   uint64 // the /24 (top 32 bits of an IPv4 address) or the /48
	cust uint32
	v6   bool
}

type cacheEntry struct {
	key     blockKey
	verdict uint8
}

// cacheSize is the number of block verdicts cached (24 bytes each: 6 MiB). A flow
// audit looks the same sources up again and again; a patricia lookup costs 0.3-1.5 µs
// (../shared/reference/go.md §1.1), a cache hit a few ns.
const cacheSize = 1 << 18

// Matcher answers "may customer c send from address a". It is immutable once built and
// safe for concurrent readers, except for the lookup cache, which belongs to one
// goroutine (use one Matcher per goroutine via Clone, or hold a lock).
type Matcher struct {
	t4    *generics_tree.TreeV4[uint32]
	t6    *generics_tree.TreeV6[uint32]
	long  map[blockKey]struct{} // blocks holding a permitted prefix longer than the block
	cache []cacheEntry
	buf   []uint32
	nPfx  int
}

func key4(p netip.Prefix) patricia.IPv4Address {
	a := p.Addr().As4()
	return patricia.NewIPv4Address(binary.BigEndian.Uint32(a[:]), uint(p.Bits()))
}

func key6(p netip.Prefix) patricia.IPv6Address {
	a := p.Addr().As16()
	return patricia.IPv6Address{Left: binary.BigEndian.Uint64(a[:8]), Right: binary.BigEndian.Uint64(a[8:]), Length: uint(p.Bits())}
}

func eq(a, b uint32) bool { return a == b }

// NewMatcher builds the permitted-source trees: one IPv4 and one IPv6 patricia tree for
// all customers, tagged with the customer's index in customers.
func NewMatcher(customers []Customer) *Matcher {
	m := &Matcher{t4: generics_tree.NewTreeV4[uint32](), t6: generics_tree.NewTreeV6[uint32](),
		long: map[blockKey]struct{}{}, cache: make([]cacheEntry, cacheSize)}
	type item struct {
		p netip.Prefix
		c uint32
	}
	var items []item
	for ci, c := range customers {
		for _, p := range c.Prefixes {
			if !p.IsValid() {
				continue
			}
			if p.Addr().Is4In6() {
				if p.Bits() < 96 {
					continue
				}
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			p = p.Masked()
			items = append(items, item{p, uint32(ci)})
		}
	}
	// sorted insertion is ~3x faster in patricia (../shared/reference/go.md §1.1)
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i].p, items[j].p
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c < 0
		}
		return a.Bits() < b.Bits()
	})
	for _, it := range items {
		p := it.p
		if p.Addr().Is4() {
			m.t4.Add(key4(p), it.c, eq)
			if p.Bits() > 24 {
				m.long[blockOf(p.Addr(), it.c)] = struct{}{}
			}
		} else {
			m.t6.Add(key6(p), it.c, eq)
			if p.Bits() > 48 {
				m.long[blockOf(p.Addr(), it.c)] = struct{}{}
			}
		}
		m.nPfx++
	}
	return m
}

// Prefixes returns the number of permitted prefixes loaded.
func (m *Matcher) Prefixes() int { return m.nPfx }

func blockOf(a netip.Addr, c uint32) blockKey {
	if a.Is4() {
		b := a.As4()
		return blockKey{hi: uint64(binary.BigEndian.Uint32(b[:]) &^ 0xff), cust: c}
	}
	b := a.As16()
	return blockKey{hi: binary.BigEndian.Uint64(b[:8]) &^ 0xffff, cust: c, v6: true}
}

// Permitted reports whether customer c may send from src (an unmapped address).
func (m *Matcher) Permitted(c uint32, src netip.Addr) bool {
	k := blockOf(src, c)
	h := (k.hi>>8 ^ k.hi>>24 ^ k.hi>>40 ^ uint64(c)*0x9e3779b97f4a7c15) & (cacheSize - 1)
	e := &m.cache[h]
	if e.verdict == vUnknown || e.key != k {
		*e = cacheEntry{key: k, verdict: m.blockVerdict(k)}
	}
	switch e.verdict {
	case vAllowed:
		return true
	case vDenied:
		return false
	}
	return m.has(c, src, 0)
}

func (m *Matcher) blockVerdict(k blockKey) uint8 {
	var a netip.Addr
	bits := 24
	if k.v6 {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		a, bits = netip.AddrFrom16(b), 48
	} else {
		a = netip.AddrFrom4([4]byte{byte(k.hi >> 24), byte(k.hi >> 16), byte(k.hi >> 8), 0})
	}
	if m.has(k.cust, a, bits) {
		return vAllowed
	}
	if _, ok := m.long[k]; ok {
		return vMixed
	}
	return vDenied
}

// has looks for a tag c on the prefixes covering a/bits (bits 0: the whole address).
func (m *Matcher) has(c uint32, a netip.Addr, bits int) bool {
	if a.Is4() {
		if bits == 0 {
			bits = 32
		}
		m.buf = m.t4.FindTagsAppend(m.buf[:0], key4(netip.PrefixFrom(a, bits)))
	} else {
		if bits == 0 {
			bits = 128
		}
		m.buf = m.t6.FindTagsAppend(m.buf[:0], key6(netip.PrefixFrom(a, bits)))
	}
	for _, t := range m.buf {
		if t == c {
			return true
		}
	}
	return false
}

// Clone returns a Matcher sharing the trees with an empty cache of its own.
func (m *Matcher) Clone() *Matcher {
	c := *m
	c.cache = make([]cacheEntry, cacheSize)
	c.buf = nil
	return &c
}

// ifMap maps an exporter's interfaces to customers.
type ifMap struct {
	byIf map[uint32]int32
	all  int32 // customer of "every interface", -1 if none
}

// mapping builds exporter -> interface -> customer, refusing an interface given to two
// customers (the audit could not say whose traffic it is).
func mapping(customers []Customer) (map[netip.Addr]*ifMap, error) {
	m := map[netip.Addr]*ifMap{}
	for ci, c := range customers {
		for _, in := range c.Interfaces {
			if !in.Exporter.IsValid() {
				return nil, fmt.Errorf("audit: customer %s: interface without an exporter address", c.Name)
			}
			e := in.Exporter.Unmap()
			x := m[e]
			if x == nil {
				x = &ifMap{byIf: map[uint32]int32{}, all: -1}
				m[e] = x
			}
			if in.IfIndex == 0 {
				if x.all >= 0 && x.all != int32(ci) {
					return nil, fmt.Errorf("audit: every interface of exporter %s is given to both %s and %s", e, customers[x.all].Name, c.Name)
				}
				x.all = int32(ci)
				continue
			}
			if o, ok := x.byIf[in.IfIndex]; ok && o != int32(ci) {
				return nil, fmt.Errorf("audit: exporter %s ifindex %d is given to both %s and %s", e, in.IfIndex, customers[o].Name, c.Name)
			}
			x.byIf[in.IfIndex] = int32(ci)
		}
	}
	return m, nil
}

// customerOf returns the customer index of a record, or -1.
func (x *ifMap) customerOf(ifIndex uint32) int32 {
	if c, ok := x.byIf[ifIndex]; ok {
		return c
	}
	return x.all
}

// offKey is an offending source block of a customer.
type offKey struct {
	hi, lo uint64
	cust   uint32
	v6     bool
}

func offenderOf(src netip.Addr, c uint32) offKey {
	if src.Is4() {
		b := src.As4()
		return offKey{hi: uint64(binary.BigEndian.Uint32(b[:]) &^ 0xff), cust: c}
	}
	b := src.As16()
	return offKey{hi: binary.BigEndian.Uint64(b[:8]) &^ 0xffff, cust: c, v6: true}
}

func (k offKey) prefix() netip.Prefix {
	if !k.v6 {
		v := uint32(k.hi)
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 24)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	return netip.PrefixFrom(netip.AddrFrom16(b), 48)
}

// scaled multiplies by the sampling rate, saturating instead of wrapping.
func scaled(v uint64, rate uint32) uint64 {
	if rate <= 1 {
		return v
	}
	if v > ^uint64(0)/uint64(rate) {
		return ^uint64(0)
	}
	return v * uint64(rate)
}
