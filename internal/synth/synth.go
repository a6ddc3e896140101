// Package synth generates a deterministic synthetic IRR registry in RPSL, shaped like
// the benchmark data of bgpq4's performance study: one AS-BIG with nested sub-sets,
// ASNs spread over the sub-sets round-robin and /24 (and /48) routes spread over the
// ASNs round-robin. Same Params, same bytes.
package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Params sizes the registry. FirstASN defaults to 131072 (outside every range bgpq4
// treats as private or documentation) and Source to "SYNTH"; SubSets defaults to 1.
type Params struct {
	ASNs     int
	Routes   int // IPv4 /24 route objects
	V6Routes int // IPv6 /48 route6 objects
	SubSets  int
	FirstASN uint32 // no irr import: irr's own benchmarks use this package
	Source   string
}

// Root is the name of the top-level as-set.
const Root = "AS-BIG"

// SubSetName returns the name of sub-set i (0-based).
func SubSetName(i int) string { return fmt.Sprintf("AS-BIG-%d", i+1) }

func (p *Params) defaults() error {
	if p.ASNs <= 0 {
		return errors.New("synth: ASNs must be positive")
	}
	if p.Routes < 0 || p.V6Routes < 0 || p.Routes > 1<<24 || p.V6Routes > 1<<24 {
		return errors.New("synth: route counts out of range")
	}
	if p.SubSets <= 0 {
		p.SubSets = 1
	}
	if p.SubSets > p.ASNs {
		p.SubSets = p.ASNs
	}
	if p.FirstASN == 0 {
		p.FirstASN = 131072
	}
	if p.Source == "" {
		p.Source = "SYNTH"
	}
	if uint64(p.FirstASN)+uint64(p.ASNs) > 4200000000 {
		return errors.New("synth: ASN range reaches the private 32-bit range")
	}
	return nil
}

// ASN returns the i-th ASN of the registry (0-based).
func (p Params) ASN(i int) uint32 {
	if p.FirstASN == 0 {
		p.FirstASN = 131072
	}
	return p.FirstASN + uint32(i)
}

// Route4 returns the i-th IPv4 route: consecutive /24s from 1.0.0.0.
func Route4(i int) netip.Prefix {
	v := uint32(0x01000000) + uint32(i)<<8
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
}

// Route6 returns the i-th IPv6 route: consecutive /48s from 2a00::/48.
func Route6(i int) netip.Prefix {
	var b [16]byte
	b[0], b[1] = 0x2a, 0x00
	b[2], b[3], b[4], b[5] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return netip.PrefixFrom(netip.AddrFrom16(b), 48)
}

// Write writes the registry to w.
func Write(w io.Writer, p Params) error {
	if err := p.defaults(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "mntner:         SYNTH-MNT\nauth:           PGPKEY-00000000\nmnt-by:         SYNTH-MNT\nsource:         %s\n\n", p.Source)
	fmt.Fprintf(bw, "as-set:         %s\ndescr:          synthetic registry root\n", Root)
	for i := 0; i < p.SubSets; i++ {
		fmt.Fprintf(bw, "members:        %s\n", SubSetName(i))
	}
	fmt.Fprintf(bw, "mnt-by:         SYNTH-MNT\nsource:         %s\n\n", p.Source)
	for s := 0; s < p.SubSets; s++ {
		fmt.Fprintf(bw, "as-set:         %s\n", SubSetName(s))
		for i := s; i < p.ASNs; i += p.SubSets {
			fmt.Fprintf(bw, "members:        AS%d\n", p.ASN(i))
		}
		fmt.Fprintf(bw, "mnt-by:         SYNTH-MNT\nsource:         %s\n\n", p.Source)
	}
	for i := 0; i < p.Routes; i++ {
		fmt.Fprintf(bw, "route:          %s\norigin:         AS%d\nmnt-by:         SYNTH-MNT\nsource:         %s\n\n",
			Route4(i), p.ASN(i%p.ASNs), p.Source)
	}
	for i := 0; i < p.V6Routes; i++ {
		fmt.Fprintf(bw, "route6:         %s\norigin:         AS%d\nmnt-by:         SYNTH-MNT\nsource:         %s\n\n",
			Route6(i), p.ASN(i%p.ASNs), p.Source)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("synth: write: %w", err)
	}
	return nil
}
