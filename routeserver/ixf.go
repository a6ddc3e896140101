package routeserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/routing"
)

// ErrIXF is wrapped by errors about an IX-F member export that cannot be used.
var ErrIXF = errors.New("invalid IX-F member export")

// MaxIXFSize bounds an IX-F member export file.
const MaxIXFSize = 64 << 20

// IXFMember is one network of an IX-F member export (JSON schema 0.6 to 1.0): its ASN,
// name, and per connection and VLAN the router addresses, AS-SET (as_macro) and
// max-prefix of each family.
type IXFMember struct {
	ASN       routing.ASN
	Name      string
	Addresses []netip.Addr
	// ASSets are the distinct as_macro values that are set names, in file order.
	ASSets []string
	// MaxPrefix4/6 are the largest max_prefix given per family (0: none).
	MaxPrefix4, MaxPrefix6 int
	// Notes are what was ignored (an as_macro that is not a set name, a bad address).
	Notes []string
}

type ixfFamily struct {
	Address   string `json:"address"`
	ASMacro   string `json:"as_macro"`
	MaxPrefix int    `json:"max_prefix"`
}

type ixfDoc struct {
	Version    string `json:"version"`
	MemberList *[]struct {
		ASNum          uint32 `json:"asnum"`
		Name           string `json:"name"`
		ConnectionList []struct {
			IXPID    int `json:"ixp_id"`
			VLANList []struct {
				VLANID int        `json:"vlan_id"`
				IPv4   *ixfFamily `json:"ipv4"`
				IPv6   *ixfFamily `json:"ipv6"`
			} `json:"vlan_list"`
		} `json:"connection_list"`
	} `json:"member_list"`
}

// LoadIXF reads an IX-F member export file.
func LoadIXF(path string) ([]IXFMember, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("routeserver: --ixf: %w", err)
	}
	defer f.Close()
	ms, err := DecodeIXF(io.LimitReader(f, MaxIXFSize))
	if err != nil {
		return nil, fmt.Errorf("routeserver: --ixf %s: %w", path, err)
	}
	return ms, nil
}

// DecodeIXF parses an IX-F member export. Members are merged by ASN (a network with
// several connections is one member with all their addresses), in file order.
func DecodeIXF(r io.Reader) ([]IXFMember, error) {
	var doc ixfDoc
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIXF, err)
	}
	if doc.MemberList == nil {
		return nil, fmt.Errorf("%w: no member_list", ErrIXF)
	}
	var out []IXFMember
	byASN := map[routing.ASN]int{}
	for i, m := range *doc.MemberList {
		if m.ASNum == 0 {
			return nil, fmt.Errorf("%w: member %d has no asnum", ErrIXF, i)
		}
		asn := routing.ASN(m.ASNum)
		j, ok := byASN[asn]
		if !ok {
			j = len(out)
			byASN[asn] = j
			out = append(out, IXFMember{ASN: asn, Name: m.Name})
		}
		mb := &out[j]
		for _, c := range m.ConnectionList {
			for _, v := range c.VLANList {
				for fam, fv := range map[int]*ixfFamily{4: v.IPv4, 6: v.IPv6} {
					if fv == nil {
						continue
					}
					if fv.Address != "" {
						a, err := netip.ParseAddr(fv.Address)
						switch {
						case err != nil || a.Zone() != "":
							mb.Notes = append(mb.Notes, fmt.Sprintf("%s: address %q ignored (not an IP address)", asn, fv.Address))
						case a.Is4() != (fam == 4) || a.Is4In6():
							mb.Notes = append(mb.Notes, fmt.Sprintf("%s: address %s ignored (not IPv%d)", asn, a, fam))
						case !slices.Contains(mb.Addresses, a):
							mb.Addresses = append(mb.Addresses, a)
						}
					}
					if s := fv.ASMacro; s != "" {
						if config.ValidSetName(s) {
							if !slices.Contains(mb.ASSets, s) {
								mb.ASSets = append(mb.ASSets, s)
							}
						} else {
							mb.Notes = append(mb.Notes, fmt.Sprintf("%s: as_macro %q ignored (not an AS-SET or ASN)", asn, s))
						}
					}
					if fv.MaxPrefix < 0 {
						return nil, fmt.Errorf("%w: %s: negative max_prefix", ErrIXF, asn)
					}
					if fam == 4 {
						mb.MaxPrefix4 = max(mb.MaxPrefix4, fv.MaxPrefix)
					} else {
						mb.MaxPrefix6 = max(mb.MaxPrefix6, fv.MaxPrefix)
					}
				}
			}
		}
	}
	for i := range out {
		slices.SortFunc(out[i].Addresses, func(a, b netip.Addr) int { return a.Compare(b) })
		slices.Sort(out[i].Notes)
	}
	return out, nil
}

// AddIXFMembers adds the IX-F members to cfg as route-server members named AS<asn>,
// with the config's defaults and the export's max-prefix as their own. A network the
// config already lists (by ASN) keeps the config's entry; one without an address is
// skipped. It returns one note per skipped member and per ignored value.
func AddIXFMembers(cfg *config.File, ms []IXFMember) []string {
	var notes []string
	have := map[routing.ASN]bool{}
	names := map[string]bool{}
	for _, m := range cfg.Members {
		have[m.ASN] = true
		names[m.Name] = true
	}
	for _, c := range cfg.Customers {
		names[c.Name] = true
	}
	for _, m := range ms {
		notes = append(notes, m.Notes...)
		if have[m.ASN] {
			notes = append(notes, fmt.Sprintf("%s: in the config and the IX-F export; the config's entry is used", m.ASN))
			continue
		}
		if len(m.Addresses) == 0 {
			notes = append(notes, fmt.Sprintf("%s: no router address in the IX-F export, skipped", m.ASN))
			continue
		}
		name := m.ASN.String()
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s_%d", m.ASN, i)
		}
		names[name] = true
		mb := config.Member{Name: name, ASN: m.ASN, Addresses: slices.Clone(m.Addresses), Knobs: cfg.Defaults}
		if len(m.ASSets) > 0 {
			mb.ASSets, mb.ASSetFrom = slices.Clone(m.ASSets), "ixf"
		}
		mb.OwnMaxPrefix = config.MaxPrefixes{IPv4: m.MaxPrefix4, IPv6: m.MaxPrefix6, Action: cfg.Defaults.MaxPrefix.Action}
		if m.MaxPrefix4 > 0 {
			mb.Knobs.MaxPrefix.IPv4 = m.MaxPrefix4
		}
		if m.MaxPrefix6 > 0 {
			mb.Knobs.MaxPrefix.IPv6 = m.MaxPrefix6
		}
		cfg.Members = append(cfg.Members, mb)
		have[m.ASN] = true
	}
	return notes
}
