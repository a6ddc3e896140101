package rpki

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Options control what a Builder (and the loaders) accept.
type Options struct {
	// Now is the time VRP expiry and data age are checked against; zero means
	// time.Now().
	Now time.Time
	// IgnoreExpiry keeps VRPs and ASPAs whose "expires" time has passed.
	IgnoreExpiry bool
	// MaxAge refuses data whose build time is older than this (0 = no limit).
	MaxAge time.Duration
	// TrustAnchors, when not empty, keeps only VRPs from these trust anchors.
	// Names match case-insensitively, also against the TAL file's base name without
	// ".tal" ("tals/ARIN-Pilot.tal" matches "arin-pilot").
	TrustAnchors []string
	// SLURM applies local exceptions (RFC 8416) when the table is built.
	SLURM *SLURM
	// AllowEmpty accepts a table without any VRP. Without it Build refuses one
	// (ErrEmpty): an empty table makes ROV treat every route as NotFound, so a
	// drop-invalid filter would silently drop nothing. Input that holds ASPAs and
	// no VRP at all is accepted either way (an ASPA-only source).
	AllowEmpty bool
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// rec is a VRP while loading: compact, pointer-free, sortable.
type rec struct {
	hi, lo uint64 // address; IPv4 in the top 32 bits of hi
	asn    routing.ASN
	ta     uint16
	bits   uint8
	maxLen uint8
	v6     bool
}

func compareRec(a, b rec) int {
	if a.v6 != b.v6 {
		if !a.v6 {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.bits, b.bits); c != 0 {
		return c
	}
	if c := cmp.Compare(a.asn, b.asn); c != 0 {
		return c
	}
	if c := cmp.Compare(a.maxLen, b.maxLen); c != 0 {
		return c
	}
	return cmp.Compare(a.ta, b.ta)
}

// Builder collects VRPs and ASPAs and builds a Table. It is not safe for concurrent
// use.
type Builder struct {
	opt     Options
	now     int64
	allowTA map[string]bool
	recs    []rec
	taIdx   map[string]uint16
	taNames []string
	aspas   map[routing.ASN]ASPA
	meta    Metadata
	// seenTA counts the valid VRPs read per trust anchor name, before the expiry
	// and trust-anchor filters, so that an empty result can say what was there.
	seenTA map[string]int
	// keys are the top-level JSON members of the input, for the same message.
	keys []string
}

// NewBuilder returns an empty Builder with the given options.
func NewBuilder(opt Options) *Builder {
	b := &Builder{opt: opt, now: opt.now().Unix(), taIdx: map[string]uint16{}, aspas: map[routing.ASN]ASPA{}, seenTA: map[string]int{}}
	if len(opt.TrustAnchors) > 0 {
		b.allowTA = map[string]bool{}
		for _, ta := range opt.TrustAnchors {
			b.allowTA[normTA(ta)] = true
		}
	}
	return b
}

// normTA folds a trust anchor name for allow-list matching.
func normTA(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = path.Base(s)
	return strings.TrimSuffix(s, ".tal")
}

// Grow preallocates room for n more VRPs.
func (b *Builder) Grow(n int) { b.recs = slices.Grow(b.recs, n) }

func (b *Builder) taIndex(ta string) (uint16, error) {
	if i, ok := b.taIdx[ta]; ok {
		return i, nil
	}
	if len(b.taNames) >= 1<<16-1 {
		return 0, fmt.Errorf("too many trust anchors")
	}
	i := uint16(len(b.taNames))
	b.taNames = append(b.taNames, ta)
	b.taIdx[ta] = i
	return i, nil
}

// AddVRP adds one VRP after checking it. Expired VRPs (unless Options.IgnoreExpiry)
// and VRPs outside the trust-anchor allow-list are counted and skipped.
func (b *Builder) AddVRP(v VRP) error {
	if err := v.check(); err != nil {
		return fmt.Errorf("rpki: VRP %s AS%d: %w", v.Prefix, v.ASN, err)
	}
	b.seenTA[v.TA]++
	if v.Expires != 0 && !b.opt.IgnoreExpiry && v.Expires < b.now {
		b.meta.Expired++
		return nil
	}
	if b.allowTA != nil && !b.allowTA[normTA(v.TA)] {
		b.meta.FilteredTA++
		return nil
	}
	ti, err := b.taIndex(v.TA)
	if err != nil {
		return fmt.Errorf("rpki: VRP %s: %w", v, err)
	}
	r := rec{asn: v.ASN, ta: ti, bits: uint8(v.Prefix.Bits()), maxLen: v.MaxLength}
	a := v.Prefix.Addr()
	if a.Is4() {
		x := a.As4()
		r.hi = uint64(binary.BigEndian.Uint32(x[:])) << 32
	} else {
		x := a.As16()
		r.hi, r.lo, r.v6 = binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(x[8:]), true
	}
	b.recs = append(b.recs, r)
	return nil
}

// AddASPA adds an ASPA. Providers for both address families are given separately;
// pass the same list twice for the current (AFI-less) form. A second ASPA for the
// same customer merges its providers into the first.
func (b *Builder) AddASPA(customer routing.ASN, v4, v6 []routing.ASN, expires int64) {
	if expires != 0 && !b.opt.IgnoreExpiry && expires < b.now {
		b.meta.Expired++
		return
	}
	old, ok := b.aspas[customer]
	a := ASPA{Customer: customer, IPv4: sortedUnique(slices.Clone(v4)), IPv6: sortedUnique(slices.Clone(v6)), Expires: expires}
	if ok {
		a.IPv4 = mergeASNs(old.IPv4, a.IPv4)
		a.IPv6 = mergeASNs(old.IPv6, a.IPv6)
		if old.Expires != 0 && (a.Expires == 0 || old.Expires < a.Expires) {
			a.Expires = old.Expires
		}
	}
	b.aspas[customer] = a
}

// SetMetadata records the source description of the data.
func (b *Builder) SetMetadata(source, format string, buildTime time.Time) {
	b.meta.Source, b.meta.Format, b.meta.BuildTime = source, format, buildTime
}

func (r rec) prefix() netip.Prefix {
	if !r.v6 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(r.hi>>32))
		return netip.PrefixFrom(netip.AddrFrom4(a), int(r.bits))
	}
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], r.hi)
	binary.BigEndian.PutUint64(a[8:], r.lo)
	return netip.PrefixFrom(netip.AddrFrom16(a), int(r.bits))
}

// Build applies SLURM, checks the age of the data, sorts and de-duplicates the VRPs
// and loads them into the tries. The Builder must not be used afterwards.
func (b *Builder) Build() (*Table, error) {
	if b.opt.MaxAge > 0 && !b.meta.BuildTime.IsZero() {
		if err := checkFuture(b.meta.Source, "built", b.meta.BuildTime, b.opt.now()); err != nil {
			return nil, err
		}
		if age := b.opt.now().Sub(b.meta.BuildTime); age > b.opt.MaxAge {
			return nil, fmt.Errorf("rpki: %s: %w: built %s ago (at %s), more than the allowed %s",
				b.meta.Source, ErrStale, age.Round(time.Second), b.meta.BuildTime.UTC().Format(time.RFC3339), b.opt.MaxAge)
		}
	}
	slices.SortFunc(b.recs, compareRec)
	b.recs = slices.CompactFunc(b.recs, func(x, y rec) bool { return x == y })
	if b.opt.SLURM != nil {
		if err := b.applySLURM(b.opt.SLURM); err != nil {
			return nil, err
		}
		slices.SortFunc(b.recs, compareRec)
		b.recs = slices.CompactFunc(b.recs, func(x, y rec) bool { return x == y })
	}
	if err := b.checkTrustAnchors(); err != nil {
		return nil, err
	}
	if len(b.recs) == 0 && b.meta.Expired > 0 && b.meta.FilteredTA == 0 && b.meta.FilteredSLURM == 0 && !b.opt.AllowEmpty {
		// Expiry alone emptied the table (otherwise emptyError lists every cause).
		return nil, fmt.Errorf("rpki: %s: %w: all %d VRPs/ASPAs have expired; refusing an empty table (--rpki-ignore-expiry uses them anyway)",
			b.meta.Source, ErrStale, b.meta.Expired)
	}
	if len(b.recs) == 0 && !b.opt.AllowEmpty && (len(b.seenTA) > 0 || len(b.aspas) == 0) {
		// Input of ASPAs only (no VRP at all) is an ASPA source and stays
		// accepted; VRPs that were all filtered away, or no data at all, are not.
		return nil, b.emptyError()
	}
	t := &Table{
		ix4:   newFlatIndex(false),
		ix6:   newFlatIndex(true),
		ents:  make([]entry, 0, len(b.recs)),
		tas:   b.taNames,
		perTA: make([]int, len(b.taNames)),
		aspas: b.aspas,
		meta:  b.meta,
	}
	// The records are sorted by prefix, then ASN: each run of one prefix becomes one
	// group, the prefix's node in the index.
	for i := 0; i < len(b.recs); {
		r := b.recs[i]
		g := group{off: uint32(len(t.ents)), asn: r.asn, bits: r.bits}
		for ; i < len(b.recs) && int(g.n) < maxGroup; i++ {
			x := b.recs[i]
			if x.v6 != r.v6 || x.hi != r.hi || x.lo != r.lo || x.bits != r.bits {
				break
			}
			t.ents = append(t.ents, entry{asn: x.asn, ta: x.ta, maxLen: x.maxLen})
			g.n++
			g.maxMax = max(g.maxMax, x.maxLen)
			t.perTA[x.ta]++
		}
		if !r.v6 {
			t.ix4.add(r.hi, r.lo, g)
			t.n4 += int(g.n)
		} else {
			t.ix6.add(r.hi, r.lo, g)
			t.n6 += int(g.n)
		}
	}
	b.recs = nil
	for _, x := range []*flatIndex{t.ix4, t.ix6} {
		if err := x.finish(); err != nil {
			return nil, fmt.Errorf("rpki: %s: %w", b.meta.Source, err)
		}
		var err error
		if t.runs, err = x.buildRuns(t.ents, t.runs); err != nil {
			return nil, fmt.Errorf("rpki: %s: %w", b.meta.Source, err)
		}
	}
	return t, nil
}
