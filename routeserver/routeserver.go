// Package routeserver builds an IXP route server's configuration from a member list
// (MANRS for IXPs, Action 1). Every member is a session of role rs-client of the same
// policy model generate uses (policy.BuildSession on config.MemberSpec): its import
// documents hold the IRR ∩ RPKI prefix set, the origin set and the hygiene rules. On
// top of them the route server adds what only a route server does: the next-hop
// check, never-via-route-servers ASNs, RFC 7999 blackholing, ASPA, reject-reason
// communities and announce control on export. Build returns a vendor-neutral Config;
// the BIRD 2 and FRR texts are templates (templates/bird/rs.tmpl,
// templates/frr/rs.tmpl) rendered through package render.
package routeserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Euro-IX reject reasons (large community RS_AS:1101:N) the route server tags
// filtered routes with, so that a looking glass shows why a route was filtered.
const (
	ReasonGeneric        = 0  // ASPA invalid: Euro-IX has no code of its own for it
	ReasonPrefixTooLong  = 1  // prefix-length, longer than the window
	ReasonPrefixTooShort = 2  // prefix-length, shorter than the window
	ReasonBogonPrefix    = 3  // bogon-prefix
	ReasonBogonASN       = 4  // bogon-asn
	ReasonPathTooLong    = 5  // as-path-length
	ReasonFirstAS        = 7  // first-as
	ReasonNextHop        = 8  // next-hop
	ReasonPrefix         = 9  // prefix (also a blackhole outside the member's prefixes)
	ReasonOrigin         = 10 // origin
	ReasonRPKIInvalid    = 13 // rpki-invalid
	ReasonTransitFree    = 14 // peerlock (transit-free ASN), never-via-route-servers ASN
)

// RS-only rule names (the model's rules keep theirs).
const (
	RuleNextHop  policy.RuleName = "next-hop"
	RuleNeverVia policy.RuleName = "never-via-route-servers"
	RuleASPA     policy.RuleName = "aspa"
)

// Reason is one reject reason as the rendered config documents it.
type Reason struct {
	Code int
	Rule policy.RuleName
	Text string
}

// Reasons lists the reject reasons in code order.
func Reasons() []Reason {
	return []Reason{
		{ReasonGeneric, RuleASPA, "ASPA upstream verification invalid"},
		{ReasonPrefixTooLong, policy.RulePrefixLength, "prefix length too long"},
		{ReasonPrefixTooShort, policy.RulePrefixLength, "prefix length too short"},
		{ReasonBogonPrefix, policy.RuleBogonPrefix, "bogon prefix"},
		{ReasonBogonASN, policy.RuleBogonASN, "bogon ASN in the AS path"},
		{ReasonPathTooLong, policy.RuleASPathLength, "AS path too long"},
		{ReasonFirstAS, policy.RuleFirstAS, "first AS is not the peer's"},
		{ReasonNextHop, RuleNextHop, "next hop is not the peer's"},
		{ReasonPrefix, policy.RulePrefix, "prefix not in the IRR/RPKI filter"},
		{ReasonOrigin, policy.RuleOrigin, "origin AS not in the AS-SET"},
		{ReasonRPKIInvalid, policy.RuleRPKIInvalid, "RPKI invalid"},
		{ReasonTransitFree, policy.RulePeerlock, "transit-free or never-via-route-servers ASN in the AS path"},
	}
}

// ROA is one row of a static ROA table.
type ROA struct {
	Prefix    netip.Prefix
	MaxLength int
	ASN       routing.ASN
}

// Session is one BGP session of a member: one address of one family.
type Session struct {
	// Name is the protocol name (MEMBER_4_1, MEMBER_6_1, ...).
	Name    string
	Address netip.Addr
	Family  int
}

// Family is a member's filtering of one address family.
type Family struct {
	Family int
	// Import is the member's import document of this family (the model's rules).
	Import *policy.Document
	// Export is the export filter's name (announce control).
	Export string
	// NextHops are the addresses a route's next hop may be (next-hop rule).
	NextHops []netip.Addr
	// Blackhole is the blackhole prefix set: every prefix-set entry widened to /32
	// (/128), named MEMBER_BH_V4/6.
	BlackholeName string
	Blackhole     []routing.PrefixRange
	// NeverVia are the never-via-route-servers ASNs, the member's own removed.
	NeverViaName string
	NeverVia     []routing.ASN
	Sessions     []Session
}

// Member is one route-server client.
type Member struct {
	Name string
	ASN  routing.ASN
	// ASSetFrom says where the AS-SETs came from ("config", "peeringdb", "ixf", "").
	ASSets    []string
	ASSetFrom string
	V4, V6    *Family
}

// Config is a route server's configuration, vendor-neutral.
type Config struct {
	ASN      routing.ASN
	RouterID netip.Addr
	// RejectPolicy is config.RejectPolicyReject or config.RejectPolicyTag.
	RejectPolicy string
	Session      config.RSSession
	// NextHop is the next-hop policy (config.NextHopAuthorized, ...).
	NextHop string
	// Blackhole4/6 are the next hops of blackhole routes; invalid: off.
	Blackhole4, Blackhole6 netip.Addr
	// ROV is config.ROVRTR, config.ROVStatic or config.ROVOff; RTR the cache of rtr.
	ROV  string
	RTR  netip.AddrPort
	ROA4 []ROA
	ROA6 []ROA
	// ASPA is set when ASPA verification is rendered (asked for and BIRD >= 2.16).
	ASPA        bool
	ASPAs       []rpki.ASPA
	BIRDVersion string
	Members     []*Member
	Reasons     []Reason
	// Warnings of the build (per member, sorted).
	Warnings []string
}

// RS16 reports whether the route server's ASN fits a standard community.
func (c *Config) RS16() bool { return c.ASN <= 65535 }

// Inputs are what Build needs besides the config file.
type Inputs struct {
	Policy policy.Inputs
	// RPKI, when set, is the VRP/ASPA table (static ROA table, ASPA table).
	RPKI *rpki.Table
	// NeverVia are the PeeringDB networks flagged info_never_via_route_servers.
	NeverVia map[routing.ASN]bool
	// Parallel bounds the members built at once (0: 2).
	Parallel int
}

// Build builds the route server's configuration for every member of cfg.
func Build(ctx context.Context, cfg *config.File, in Inputs) (*Config, error) {
	if cfg.RS == nil {
		return nil, fmt.Errorf("routeserver: the config has no rs section: %w", config.ErrInvalid)
	}
	if len(cfg.Members) == 0 {
		return nil, fmt.Errorf("routeserver: no members (in the config or from --ixf): %w", config.ErrInvalid)
	}
	rs := cfg.RS
	out := &Config{ASN: rs.ASN, RouterID: rs.RouterID, RejectPolicy: rs.RejectPolicy, Session: rs.Session,
		NextHop: rs.NextHop, Blackhole4: rs.BlackholeNextHop4, Blackhole6: rs.BlackholeNextHop6,
		BIRDVersion: rs.BIRDVersion, Reasons: Reasons()}
	switch out.ROV = rs.ROV; {
	case out.ROV == "" && cfg.RTRCache.IsValid():
		out.ROV = config.ROVRTR
	case out.ROV == "" && in.RPKI != nil:
		out.ROV = config.ROVStatic
	case out.ROV == "":
		out.ROV = config.ROVOff
	}
	switch out.ROV {
	case config.ROVRTR:
		if !cfg.RTRCache.IsValid() {
			return nil, fmt.Errorf("routeserver: rs.rov rtr needs rtr_cache: %w", config.ErrInvalid)
		}
		out.RTR = cfg.RTRCache
	case config.ROVStatic:
		if in.RPKI == nil {
			return nil, fmt.Errorf("routeserver: rs.rov static needs RPKI data (rpki or --rpki): %w", config.ErrInvalid)
		}
		for _, v := range in.RPKI.VRPs() {
			r := ROA{Prefix: v.Prefix, MaxLength: int(v.MaxLength), ASN: v.ASN}
			if v.Prefix.Addr().Is4() {
				out.ROA4 = append(out.ROA4, r)
			} else {
				out.ROA6 = append(out.ROA6, r)
			}
		}
		out.ROA4, out.ROA6 = uniqueROAs(out.ROA4), uniqueROAs(out.ROA6)
	}
	if rs.ASPA {
		switch {
		case !config.BIRDAtLeast(rs.BIRDVersion, 2, 16):
			out.Warnings = append(out.Warnings, fmt.Sprintf("rs.aspa: BIRD %s has no ASPA (2.16 or later has): ASPA verification skipped", rs.BIRDVersion))
		case in.RPKI == nil:
			out.Warnings = append(out.Warnings, "rs.aspa: no RPKI data with ASPAs: ASPA verification skipped")
		default:
			out.ASPA, out.ASPAs = true, in.RPKI.ASPAs()
		}
	}
	neverVia := rs.NeverVia(in.NeverVia)
	slices.Sort(neverVia)
	neverVia = slices.Compact(neverVia)

	members := make([]*Member, len(cfg.Members))
	g, gctx := errgroup.WithContext(ctx)
	limit := in.Parallel
	if limit <= 0 {
		limit = 2
	}
	g.SetLimit(limit)
	var mu sync.Mutex // out.Warnings
	for i := range cfg.Members {
		m := &cfg.Members[i]
		g.Go(func() error {
			spec := cfg.MemberSpec(m)
			docs, err := policy.BuildSession(gctx, in.Policy, spec)
			var note string
			if errors.Is(err, policy.ErrUnknownObject) && len(spec.ASSets) > 0 && m.ASSetFrom != "config" {
				// An AS-SET from an IX-F export or PeeringDB that the IRR data lacks is
				// the member's data problem, not the run's: filter on its ASN alone (as
				// arouteserver falls back to AS<n>) and say so. A set the config names
				// is the operator's and stays an error.
				note = fmt.Sprintf("%s: AS-SET %s (from %s) not in the IRR data: filtered on %s alone", m.Name, strings.Join(spec.ASSets, " "), m.ASSetFrom, m.ASN)
				spec.ASSets = nil
				docs, err = policy.BuildSession(gctx, in.Policy, spec)
			}
			if err != nil {
				return fmt.Errorf("routeserver: member %s (%s): %w", m.Name, m.ASN, err)
			}
			mb := &Member{Name: m.Name, ASN: m.ASN, ASSets: slices.Clone(spec.ASSets), ASSetFrom: m.ASSetFrom}
			if len(spec.ASSets) == 0 {
				mb.ASSetFrom = ""
			}
			mb.V4 = family(out, cfg, m, docs.Import4, neverVia)
			mb.V6 = family(out, cfg, m, docs.Import6, neverVia)
			members[i] = mb
			mu.Lock()
			if note != "" {
				out.Warnings = append(out.Warnings, note)
			}
			for _, d := range []*policy.Document{docs.Import4, docs.Import6} {
				dropped := 0
				for _, w := range d.Warnings {
					if strings.HasPrefix(w, "dropped RPKI-invalid ") {
						dropped++ // one line per member and family, not per route object
						continue
					}
					out.Warnings = append(out.Warnings, fmt.Sprintf("%s IPv%d: %s", m.Name, d.Family, w))
				}
				if dropped > 0 {
					out.Warnings = append(out.Warnings, fmt.Sprintf("%s IPv%d: dropped %d RPKI-invalid route objects", m.Name, d.Family, dropped))
				}
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out.Members = members
	sort.Strings(out.Warnings)
	out.Warnings = slices.Compact(out.Warnings)
	return out, nil
}

func uniqueROAs(rs []ROA) []ROA {
	slices.SortFunc(rs, func(a, b ROA) int {
		if c := routing.ComparePrefix(a.Prefix, b.Prefix); c != 0 {
			return c
		}
		if a.MaxLength != b.MaxLength {
			return a.MaxLength - b.MaxLength
		}
		return int(int64(a.ASN) - int64(b.ASN))
	})
	return slices.Compact(rs)
}

// family fills a member's filtering of doc's family.
func family(c *Config, cfg *config.File, m *config.Member, doc *policy.Document, neverVia []routing.ASN) *Family {
	f := &Family{Family: doc.Family, Import: doc, Export: policy.PolicyName(m.Name, policy.Export, doc.Family)}
	is4 := doc.Family == 4
	n := 0
	for _, a := range m.Addresses {
		if a.Is4() == is4 {
			n++
			f.Sessions = append(f.Sessions, Session{Name: fmt.Sprintf("%s_%d_%d", m.Name, doc.Family, n), Address: a, Family: doc.Family})
		}
	}
	switch c.NextHop {
	case config.NextHopSameAS:
		for _, o := range cfg.Members {
			if o.ASN == m.ASN {
				for _, a := range o.Addresses {
					if a.Is4() == is4 && !slices.Contains(f.NextHops, a) {
						f.NextHops = append(f.NextHops, a)
					}
				}
			}
		}
	default:
		for _, s := range f.Sessions {
			f.NextHops = append(f.NextHops, s.Address)
		}
	}
	slices.SortFunc(f.NextHops, func(a, b netip.Addr) int { return a.Compare(b) })
	maxBits := 32
	if !is4 {
		maxBits = 128
	}
	f.BlackholeName = fmt.Sprintf("%s_BH_V%d", m.Name, doc.Family)
	seen := map[netip.Prefix]bool{}
	for _, e := range doc.Prefixes.Entries {
		if !seen[e.Prefix] {
			seen[e.Prefix] = true
			f.Blackhole = append(f.Blackhole, routing.PrefixRange{Prefix: e.Prefix, Min: e.Prefix.Bits(), Max: maxBits})
		}
	}
	f.NeverViaName = m.Name + "_NEVER_VIA"
	for _, a := range neverVia {
		if a != m.ASN {
			f.NeverVia = append(f.NeverVia, a)
		}
	}
	return f
}

// Rules returns the import rules of f in evaluation order as the templates render
// them: the model's document rules with the route-server rules inserted (next-hop
// first, never-via-route-servers after peerlock, ASPA after rpki-invalid).
func (f *Family) Rules(c *Config) []policy.Rule {
	var out []policy.Rule
	add := func(n policy.RuleName, on bool, note string) {
		out = append(out, policy.Rule{Name: n, Enabled: on, Action: policy.Reject, Note: note})
	}
	add(RuleNextHop, c.NextHop != config.NextHopOff, map[bool]string{true: "next_hop " + c.NextHop, false: "disabled in the config (rs.next_hop off)"}[c.NextHop != config.NextHopOff])
	for _, r := range f.Import.Rules {
		switch r.Name {
		case policy.RuleRPKIInvalid:
			if r.Enabled && c.ROV == config.ROVOff {
				r.Note = "no ROA table (rs.rov off): applied at generation time through the prefix set"
			} else if r.Enabled {
				r.Note = "roa_check against the " + c.ROV + " ROA table"
			}
			out = append(out, r)
			add(RuleASPA, c.ASPA, map[bool]string{true: "ASPA upstream verification (BIRD >= 2.16)", false: "off (rs.aspa, BIRD >= 2.16)"}[c.ASPA])
		case policy.RuleASSet:
			if r.Enabled {
				r.Enabled, r.Note = false, "not applied by the route server yet (no reject reason code for it): routes with an AS_SET are judged by the other rules"
			}
			out = append(out, r)
		case policy.RulePeerlock:
			out = append(out, r)
			add(RuleNeverVia, len(f.NeverVia) > 0, map[bool]string{true: "", false: "no never-via-route-servers ASNs"}[len(f.NeverVia) > 0])
		default:
			out = append(out, r)
		}
	}
	return out
}

// BlackholeNextHop returns the blackhole next hop of the family; invalid: off.
func (f *Family) BlackholeNextHop(c *Config) netip.Addr {
	if f.Family == 4 {
		return c.Blackhole4
	}
	return c.Blackhole6
}

// Summary is a short description of the build for the run's summary.
func (c *Config) Summary() string {
	n4, n6 := 0, 0
	for _, m := range c.Members {
		n4 += len(m.V4.Sessions)
		n6 += len(m.V6.Sessions)
	}
	return fmt.Sprintf("%d members, %d IPv4 and %d IPv6 sessions, reject policy %s, ROV %s, %s", len(c.Members), n4, n6,
		c.RejectPolicy, c.ROV, strings.TrimSpace(map[bool]string{true: "ASPA on", false: "ASPA off"}[c.ASPA]))
}
