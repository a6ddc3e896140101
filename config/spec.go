package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Customer returns the customer named name (exact match first, then ignoring case).
func (f *File) Customer(name string) (*Customer, bool) {
	for i := range f.Customers {
		if f.Customers[i].Name == name {
			return &f.Customers[i], true
		}
	}
	for i := range f.Customers {
		if strings.EqualFold(f.Customers[i].Name, name) {
			return &f.Customers[i], true
		}
	}
	return nil, false
}

// CustomerSpec returns the session spec of customer c for policy.BuildSession.
func (f *File) CustomerSpec(c *Customer) policy.SessionSpec {
	s := knobSpec(c.Knobs)
	s.Name, s.LocalASN, s.RouterID, s.NeighborASN, s.Role = c.Name, f.LocalAS, f.RouterID, c.ASN, c.Role
	s.ASSets = slices.Clone(c.ASSets)
	s.ExtraPrefixes = slices.Clone(c.ExtraPrefixes)
	s.ExcludePrefixes = slices.Clone(c.ExcludePrefixes)
	s.Neighbors = slices.Clone(c.Sessions)
	s.RTRCache = f.RTRCache
	return s
}

// MemberSpec returns the session spec of route-server member m (role rs-client; the
// route server's ASN and router ID are the local ones).
func (f *File) MemberSpec(m *Member) policy.SessionSpec {
	s := knobSpec(m.Knobs)
	s.Name, s.NeighborASN, s.Role = m.Name, m.ASN, policy.RoleRSClient
	if f.RS != nil {
		s.LocalASN, s.RouterID = f.RS.ASN, f.RS.RouterID
	}
	s.ASSets = slices.Clone(m.ASSets)
	for _, a := range m.Addresses {
		s.Neighbors = append(s.Neighbors, policy.Neighbor{Address: a})
	}
	s.RTRCache = f.RTRCache
	return s
}

// knobSpec fills the policy settings of a spec from effective knobs.
func knobSpec(k Knobs) policy.SessionSpec {
	s := policy.SessionSpec{
		MaxPrefix4:         policy.MaxPrefix{Limit: k.MaxPrefix.IPv4, Action: k.MaxPrefix.Action},
		MaxPrefix6:         policy.MaxPrefix{Limit: k.MaxPrefix.IPv6, Action: k.MaxPrefix.Action},
		Length4:            k.PrefixLength.IPv4,
		Length6:            k.PrefixLength.IPv6,
		MaxLength4:         k.MaxLength4,
		MaxLength6:         k.MaxLength6,
		AllowMoreSpecifics: k.AllowMoreSpecifics,
		MaxPathLength:      k.MaxASPathLength,
		RPKIPolicy:         k.RPKIPolicy,
		OriginBinding:      k.OriginBinding,
		Peerlock:           slices.Clone(k.Peerlock),
	}
	if k.Bogons.ASNs {
		s.BogonASNs = policy.RemoveASNs(policy.DefaultBogonASNs(), k.Bogons.ExceptASNs)
	}
	if k.Bogons.Prefixes {
		// Load checked that the exceptions apply to whole entries.
		s.BogonPrefixes4, _ = policy.RemovePrefixes(policy.DefaultBogonPrefixes(4), k.Bogons.ExceptPrefixes)
		s.BogonPrefixes6, _ = policy.RemovePrefixes(policy.DefaultBogonPrefixes(6), k.Bogons.ExceptPrefixes)
	}
	for _, r := range policy.ImportRules() {
		off := r.Switchable() && !k.Rules[r]
		switch r {
		case policy.RuleBogonASN:
			off = off || !k.Bogons.ASNs
		case policy.RuleBogonPrefix:
			off = off || !k.Bogons.Prefixes
		case policy.RulePeerlock:
			off = off || k.PeerlockMode == "off"
		}
		if off {
			s.Disabled = append(s.Disabled, r)
		}
	}
	return s
}

// ApplyPeeringDB fills, for every customer and member, what the config leaves open:
// the AS-SETs from irr_as_set (free text in PeeringDB, usually one or more set names:
// "AS-FOO", "RIPE::AS-FOO AS-BAR", "AS-FOO@RIPE") when it lists none, and each
// family's max-prefix limit
// from info_prefixes4/6 when it sets none itself (PeeringDB's value before the
// defaults' limit, as the anchors order them). It returns one note per change and per
// irr_as_set token it could not use, sorted, for the run's log and summary.
func (f *File) ApplyPeeringDB(nets map[routing.ASN]peeringdb.Net) []string {
	var notes []string
	apply := func(name string, asn routing.ASN, asSets *[]string, from *string, own MaxPrefixes, k *Knobs) {
		n, ok := nets[asn]
		if !ok {
			return
		}
		if len(*asSets) == 0 {
			sets, bad := parsePDBASSet(n.IRRASSet)
			for _, b := range bad {
				notes = append(notes, fmt.Sprintf("%s: PeeringDB irr_as_set of %s: %q is not a set name, ignored", name, asn, b))
			}
			if len(sets) > 0 {
				*asSets, *from = sets, "peeringdb"
				notes = append(notes, fmt.Sprintf("%s: AS-SET %s from PeeringDB", name, strings.Join(sets, " ")))
			}
		}
		if own.IPv4 == 0 && n.Prefixes4 > 0 {
			k.MaxPrefix.IPv4 = n.Prefixes4
			notes = append(notes, fmt.Sprintf("%s: IPv4 max-prefix %d from PeeringDB", name, n.Prefixes4))
		}
		if own.IPv6 == 0 && n.Prefixes6 > 0 {
			k.MaxPrefix.IPv6 = n.Prefixes6
			notes = append(notes, fmt.Sprintf("%s: IPv6 max-prefix %d from PeeringDB", name, n.Prefixes6))
		}
	}
	for i := range f.Customers {
		c := &f.Customers[i]
		apply(c.Name, c.ASN, &c.ASSets, &c.ASSetFrom, c.OwnMaxPrefix, &c.Knobs)
	}
	for i := range f.Members {
		m := &f.Members[i]
		apply(m.Name, m.ASN, &m.ASSets, &m.ASSetFrom, m.OwnMaxPrefix, &m.Knobs)
	}
	slices.Sort(notes)
	return notes
}

// parsePDBASSet splits irr_as_set into set names ("NAME@SOURCE" becomes
// "SOURCE::NAME"); tokens that are not set names are returned in bad.
func parsePDBASSet(s string) (sets, bad []string) {
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' || r == '\n' }) {
		if name, src, ok := strings.Cut(tok, "@"); ok {
			tok = src + "::" + name
		}
		if validSetName(tok) {
			if !slices.Contains(sets, tok) {
				sets = append(sets, tok)
			}
		} else {
			bad = append(bad, tok)
		}
	}
	return sets, bad
}
