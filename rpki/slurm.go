package rpki

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/bgpfilter/bgpfilter/routing"
)

// SLURM holds local exceptions to RPKI data (RFC 8416): filters that remove VRPs
// and assertions that add them. ASPAFilters and ASPAAssertions are for callers
// that build a SLURM in code: ParseSLURM refuses the ASPA members of the
// unfinished ASPA SLURM draft (slurmVersion 2).
type SLURM struct {
	PrefixFilters    []SLURMPrefixFilter
	PrefixAssertions []VRP
	ASPAFilters      []routing.ASN
	ASPAAssertions   []ASPA
}

// SLURMPrefixFilter removes every VRP whose prefix is equal to or more specific than
// Prefix (when set) and whose ASN equals ASN (when HasASN).
type SLURMPrefixFilter struct {
	Prefix netip.Prefix
	ASN    routing.ASN
	HasASN bool
}

// SLURMTA is the trust anchor name given to VRPs added by SLURM assertions.
const SLURMTA = "slurm"

type slurmFile struct {
	Version *int `json:"slurmVersion"`
	Filters *struct {
		Prefix []struct {
			Prefix *string      `json:"prefix"`
			ASN    *routing.ASN `json:"asn"`
		} `json:"prefixFilters"`
		ASPA json.RawMessage `json:"aspaFilters"` // refused when present
	} `json:"validationOutputFilters"`
	Assertions *struct {
		Prefix []struct {
			Prefix    string       `json:"prefix"`
			ASN       *routing.ASN `json:"asn"`
			MaxLength *int         `json:"maxPrefixLength"`
		} `json:"prefixAssertions"`
		ASPA json.RawMessage `json:"aspaAssertions"` // refused when present
	} `json:"locallyAddedAssertions"`
}

// LoadSLURM reads a SLURM file.
func LoadSLURM(path string) (*SLURM, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rpki: slurm: %w", err)
	}
	defer f.Close()
	s, err := ParseSLURM(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("rpki: slurm %s: %w", path, err)
	}
	return s, nil
}

func parseCanonicalPrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if p != p.Masked() {
		return p, fmt.Errorf("prefix %s has host bits set", s)
	}
	if p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return p, fmt.Errorf("prefix %s is not a plain IPv4 or IPv6 prefix", s)
	}
	return p, nil
}

// ParseSLURM parses a SLURM document (slurmVersion 1, RFC 8416).
func ParseSLURM(r io.Reader) (*SLURM, error) {
	var f slurmFile
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	// RFC 8416 defines version 1 only. Version 2 belongs to the ASPA SLURM draft
	// (draft-ietf-sidrops-aspa-slurm), which is not final; no real sample of it was
	// available (StayRTR's example says 2 but holds only version 1 members), so it
	// is refused rather than guessed at.
	switch {
	case f.Version == nil:
		return nil, fmt.Errorf("slurmVersion is missing (RFC 8416 requires 1)")
	case *f.Version == 2:
		return nil, fmt.Errorf("slurmVersion 2 (the ASPA SLURM draft) is not supported: RFC 8416 defines version 1 only; if the file holds only RFC 8416 members, set \"slurmVersion\": 1")
	case *f.Version != 1:
		return nil, fmt.Errorf("slurmVersion %d is not supported: RFC 8416 defines version 1 only", *f.Version)
	}
	// RFC 8416 §3.2: both top-level members are required.
	if f.Filters == nil || f.Assertions == nil {
		return nil, fmt.Errorf("validationOutputFilters and locallyAddedAssertions are required")
	}
	s := &SLURM{}
	for i, pf := range f.Filters.Prefix {
		var flt SLURMPrefixFilter
		if pf.Prefix == nil && pf.ASN == nil {
			return nil, fmt.Errorf("prefixFilters[%d]: needs a prefix, an asn or both", i)
		}
		if pf.Prefix != nil {
			p, err := parseCanonicalPrefix(*pf.Prefix)
			if err != nil {
				return nil, fmt.Errorf("prefixFilters[%d]: %w", i, err)
			}
			flt.Prefix = p
		}
		if pf.ASN != nil {
			flt.ASN, flt.HasASN = *pf.ASN, true
		}
		s.PrefixFilters = append(s.PrefixFilters, flt)
	}
	if f.Filters.ASPA != nil || f.Assertions.ASPA != nil {
		return nil, fmt.Errorf("aspaFilters/aspaAssertions are not RFC 8416 members (they belong to the unsupported ASPA SLURM draft)")
	}
	for i, pa := range f.Assertions.Prefix {
		p, err := parseCanonicalPrefix(pa.Prefix)
		if err != nil {
			return nil, fmt.Errorf("prefixAssertions[%d]: %w", i, err)
		}
		if pa.ASN == nil {
			return nil, fmt.Errorf("prefixAssertions[%d]: asn is required", i)
		}
		ml := p.Bits()
		if pa.MaxLength != nil {
			ml = *pa.MaxLength
		}
		v := VRP{Prefix: p, ASN: *pa.ASN, MaxLength: uint8(ml), TA: SLURMTA}
		if ml < 0 || ml > 128 {
			return nil, fmt.Errorf("prefixAssertions[%d]: maxPrefixLength %d out of range", i, ml)
		}
		if err := v.check(); err != nil {
			return nil, fmt.Errorf("prefixAssertions[%d]: %w", i, err)
		}
		s.PrefixAssertions = append(s.PrefixAssertions, v)
	}
	return s, nil
}

// matches reports whether the filter removes the VRP r.
func (f SLURMPrefixFilter) matches(r rec) bool {
	if f.HasASN && r.asn != f.ASN {
		return false
	}
	if !f.Prefix.IsValid() {
		return true
	}
	p := r.prefix()
	return p.Addr().Is4() == f.Prefix.Addr().Is4() && p.Bits() >= f.Prefix.Bits() && f.Prefix.Contains(p.Addr())
}

// applySLURM runs the filters (RFC 8416 §4.2: filters first, then assertions, and
// assertions are not filtered).
func (b *Builder) applySLURM(s *SLURM) error {
	if len(s.PrefixFilters) > 0 {
		w := 0
		for _, r := range b.recs {
			drop := false
			for _, f := range s.PrefixFilters {
				if f.matches(r) {
					drop = true
					break
				}
			}
			if drop {
				b.meta.FilteredSLURM++
				continue
			}
			b.recs[w] = r
			w++
		}
		b.recs = b.recs[:w]
	}
	for _, c := range s.ASPAFilters {
		if _, ok := b.aspas[c]; ok {
			delete(b.aspas, c)
			b.meta.FilteredSLURM++
		}
	}
	saveAllow := b.allowTA
	b.allowTA = nil // assertions are local data: the TA allow-list does not apply
	defer func() { b.allowTA = saveAllow }()
	for _, v := range s.PrefixAssertions {
		if err := b.AddVRP(v); err != nil {
			return fmt.Errorf("rpki: slurm assertion: %w", err)
		}
		b.meta.AddedSLURM++
	}
	for _, a := range s.ASPAAssertions {
		b.AddASPA(a.Customer, a.IPv4, a.IPv6, 0)
		b.meta.AddedSLURM++
	}
	return nil
}
