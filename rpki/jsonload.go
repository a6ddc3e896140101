package rpki

import (
	"net/netip"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
)

// parseJSON reads relying-party JSON into b: the "roas" array (rpki-client,
// Routinator json/jsonext, StayRTR/OctoRPKI/Cloudflare), "aspas" (current
// rpki-client: customer_asid + providers) and "provider_authorizations" (rpki-client
// 8.x: per-AFI lists), and the build time from "metadata". Other members
// (bgpsec_keys, nonfunc_cas, ...) are skipped. Nothing is reserved from the input's
// size: the VRPs grow as they are read, so memory follows them, not the file.
func parseJSON(s *scanner, b *Builder) (format string, built time.Time, err error) {
	format = "json"
	err = s.object(func(key []byte) error {
		b.noteKey(key)
		switch string(key) {
		case "metadata":
			if s.isNull() {
				return nil
			}
			return s.object(func(k []byte) error {
				switch string(k) {
				case "buildtime", "generatedTime":
					if s.peek() != '"' {
						return s.skip()
					}
					v, err := s.str()
					if err != nil {
						return err
					}
					t, err := time.Parse(time.RFC3339, string(v))
					if err != nil {
						return s.errf("metadata.%s: %v", k, err)
					}
					built = t
					if string(k) == "buildtime" {
						format = "rpki-client-json"
					}
					return nil
				case "generated":
					if s.peek() == '"' {
						return s.skip()
					}
					n, err := s.number()
					if err != nil {
						return err
					}
					if built.IsZero() && n > 0 {
						built = time.Unix(n, 0).UTC()
					}
					return nil
				}
				return s.skip()
			})
		case "roas":
			return s.array(func() error { return parseVRP(s, b) })
		case "aspas":
			return s.array(func() error { return parseASPA(s, b, 0) })
		case "provider_authorizations":
			if s.isNull() {
				return nil
			}
			return s.object(func(k []byte) error {
				switch string(k) {
				case "ipv4":
					return s.array(func() error { return parseASPA(s, b, 4) })
				case "ipv6":
					return s.array(func() error { return parseASPA(s, b, 6) })
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return format, built, err
	}
	if !s.end() {
		return format, built, s.errf("trailing data after the JSON object")
	}
	if s.err != nil {
		return format, built, s.eof() // e.g. a gzip checksum error after the document
	}
	return format, built, nil
}

func parsePrefixBytes(b []byte) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(string(b))
	if err != nil {
		return p, err
	}
	return p, nil
}

func parseVRP(s *scanner, b *Builder) error {
	var (
		v                     VRP
		haveP, haveA, haveMax bool
		maxLen                int64
	)
	err := s.object(func(k []byte) error {
		switch string(k) {
		case "prefix":
			raw, err := s.str()
			if err != nil {
				return err
			}
			p, err := parsePrefixBytes(raw)
			if err != nil {
				return s.errf("roa prefix: %v", err)
			}
			v.Prefix, haveP = p, true
		case "asn":
			n, err := s.asn()
			if err != nil {
				return err
			}
			v.ASN, haveA = n, true
		case "maxLength":
			n, err := s.number()
			if err != nil {
				return err
			}
			maxLen, haveMax = n, true
		case "ta":
			raw, err := s.str()
			if err != nil {
				return err
			}
			v.TA = b.internTA(raw)
		case "expires":
			n, err := s.number()
			if err != nil {
				return err
			}
			v.Expires = n
		case "source":
			// Routinator jsonext: [{"type":"roa","tal":"apnic",...}]; take the first tal.
			return s.array(func() error {
				return s.object(func(k2 []byte) error {
					if string(k2) == "tal" && v.TA == "" {
						raw, err := s.str()
						if err != nil {
							return err
						}
						v.TA = b.internTA(raw)
						return nil
					}
					return s.skip()
				})
			})
		default:
			return s.skip()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !haveP || !haveA {
		return s.errf("roa without prefix or asn")
	}
	if !haveMax {
		maxLen = int64(v.Prefix.Bits())
	}
	if maxLen < 0 || maxLen > 128 {
		return s.errf("roa %s: maxLength %d out of range", v.Prefix, maxLen)
	}
	v.MaxLength = uint8(maxLen)
	if err := b.AddVRP(v); err != nil {
		return s.errf("%v", err)
	}
	return nil
}

// parseASPA reads {"customer_asid": N, "providers": [...], "expires": T}. afi is 4 or
// 6 for the per-AFI form, 0 for the current form (providers for both families).
// Entries of the older form may be written as "AS64496" strings or carry an
// "afiLimit"; both are accepted.
func parseASPA(s *scanner, b *Builder, afi int) error {
	var (
		cust     routing.ASN
		haveCust bool
		prov     []routing.ASN
		expires  int64
	)
	err := s.object(func(k []byte) error {
		switch string(k) {
		case "customer_asid", "customer":
			n, err := s.asn()
			cust, haveCust = n, true
			return err
		case "providers":
			l, err := s.asnList()
			prov = l
			return err
		case "expires":
			n, err := s.number()
			expires = n
			return err
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	if !haveCust {
		return s.errf("aspa without customer_asid")
	}
	switch afi {
	case 4:
		b.AddASPA(cust, prov, nil, expires)
	case 6:
		b.AddASPA(cust, nil, prov, expires)
	default:
		b.AddASPA(cust, prov, prov, expires)
	}
	return nil
}

// internTA returns the trust anchor name, reusing the string of a known name.
func (b *Builder) internTA(raw []byte) string {
	if i, ok := b.taIdx[string(raw)]; ok {
		return b.taNames[i]
	}
	return string(raw)
}
