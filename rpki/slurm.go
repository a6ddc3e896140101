package rpki

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"

	"github.com/bgpfilter/bgpfilter/routing"
)

// SLURM holds local exceptions to RPKI data (RFC 8416): filters that remove VRPs
// and assertions that add them, plus the ASPA members of SLURM version 2
// (draft-ietf-sidrops-aspa-slurm).
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
		ASPA []struct {
			Customer *routing.ASN `json:"customerAsid"`
		} `json:"aspaFilters"`
	} `json:"validationOutputFilters"`
	Assertions *struct {
		Prefix []struct {
			Prefix    string       `json:"prefix"`
			ASN       *routing.ASN `json:"asn"`
			MaxLength *int         `json:"maxPrefixLength"`
		} `json:"prefixAssertions"`
		ASPA []struct {
			Customer    *routing.ASN  `json:"customerAsid"`
			ProviderSet []routing.ASN `json:"providerSet"`
			Providers   []routing.ASN `json:"providers"`
		} `json:"aspaAssertions"`
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

// ParseSLURM parses a SLURM document (slurmVersion 1 per RFC 8416, or 2 with ASPA).
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
	if f.Version == nil || (*f.Version != 1 && *f.Version != 2) {
		return nil, fmt.Errorf("slurmVersion must be 1 or 2")
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
	for i, af := range f.Filters.ASPA {
		if af.Customer == nil {
			return nil, fmt.Errorf("aspaFilters[%d]: customerAsid is required", i)
		}
		s.ASPAFilters = append(s.ASPAFilters, *af.Customer)
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
	for i, aa := range f.Assertions.ASPA {
		if aa.Customer == nil {
			return nil, fmt.Errorf("aspaAssertions[%d]: customerAsid is required", i)
		}
		prov := aa.ProviderSet
		if prov == nil {
			prov = aa.Providers
		}
		if len(prov) == 0 {
			return nil, fmt.Errorf("aspaAssertions[%d]: providerSet is required", i)
		}
		p := sortedUnique(slices.Clone(prov))
		s.ASPAAssertions = append(s.ASPAAssertions, ASPA{Customer: *aa.Customer, IPv4: p, IPv6: slices.Clone(p)})
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
