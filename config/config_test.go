package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

func TestLoadExample(t *testing.T) {
	cfg, err := Load("../examples/bgpfilter.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LocalAS != 64496 || cfg.RouterID != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("local_as/router_id = %v %v", cfg.LocalAS, cfg.RouterID)
	}
	if !slices.Equal(cfg.IRR, []string{filepath.Join("../examples", "irr")}) || cfg.RPKI != filepath.Join("../examples", "rpki/vrps.json") {
		t.Errorf("paths not resolved against the config's directory: %v %q", cfg.IRR, cfg.RPKI)
	}
	for _, p := range append(slices.Clone(cfg.IRR), cfg.RPKI) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("example names a missing file: %v", err)
		}
	}
	if cfg.RTRCache != netip.MustParseAddrPort("192.0.2.10:8282") {
		t.Errorf("rtr_cache = %v", cfg.RTRCache)
	}
	if len(cfg.Customers) != 3 {
		t.Fatalf("%d customers", len(cfg.Customers))
	}
	one, ok := cfg.Customer("cust_one")
	if !ok {
		t.Fatal("cust_one not found")
	}
	if !slices.Equal(one.Knobs.Targets, []string{"bird", "frr"}) || !slices.Equal(cfg.Defaults.Targets, Targets) {
		t.Errorf("targets: customer %v, defaults %v", one.Knobs.Targets, cfg.Defaults.Targets)
	}
	if one.Knobs.MaxPrefix != (MaxPrefixes{IPv4: 100, IPv6: 20, Action: policy.MaxPrefixTeardown}) {
		t.Errorf("max_prefix = %+v", one.Knobs.MaxPrefix)
	}
	if one.Knobs.PrefixLength.IPv4 != (policy.LengthBounds{Min: 8, Max: 27}) || one.Knobs.ShrinkGuard != 0.2 {
		t.Errorf("defaults not inherited: %+v", one.Knobs)
	}
	if len(one.Interfaces) != 1 || one.Interfaces[0].IfIndex != 517 || !one.Interfaces[0].HasIfIndex || one.SAV.Mode != SAVStrict {
		t.Errorf("interfaces/sav = %+v %+v", one.Interfaces, one.SAV)
	}
	spec := cfg.CustomerSpec(one)
	if spec.NeighborASN != 64497 || spec.LocalASN != 64496 || len(spec.Neighbors) != 2 || spec.RPKIPolicy != rpki.PolicyDropInvalid {
		t.Errorf("spec = %+v", spec)
	}
	bogons := policy.ASNRangeSet{Ranges: spec.BogonASNs}
	if _, ok := bogons.Match(64497); ok {
		t.Error("documentation ASN 64497 still a bogon after except_asns")
	}
	if _, ok := bogons.Match(64512); !ok {
		t.Error("private ASN 64512 no longer a bogon")
	}
	peer, _ := cfg.Customer("peer_two")
	if peer.Role != policy.RolePeer || peer.Knobs.PeerlockMode != "list" || len(peer.Knobs.Peerlock) != 3 ||
		peer.Knobs.MaxPrefix.Action != policy.MaxPrefixRestart {
		t.Errorf("peer_two = %+v", peer)
	}
	tr, _ := cfg.Customer("TRANSIT_CUST")
	if tr == nil || !tr.Knobs.OriginBinding || tr.ASSetFrom != "config" || len(tr.ExtraPrefixes) != 1 {
		t.Errorf("transit_cust = %+v", tr)
	}

	bound, err := Parse([]byte("local_as: 64496\ncustomers:\n  - {name: b, asn: 64501, origin_binding: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := bound.Customer("b"); b == nil || !b.Knobs.OriginBinding {
		t.Errorf("origin_binding: true not read: %+v", b)
	}

	rs, err := Load("../examples/route-server.yml")
	if err != nil {
		t.Fatal(err)
	}
	if rs.RS.ASN != 64511 || rs.RS.RejectPolicy != RejectPolicyTag || len(rs.Members) != 2 {
		t.Fatalf("route server = %+v", rs.RS)
	}
	m := rs.Members[1]
	if m.Knobs.MaxASPathLength != 16 || m.Knobs.Rules[policy.RulePeerlock] || rs.Members[0].Knobs.MaxPrefix.IPv4 != 200 {
		t.Errorf("member overrides = %+v", m.Knobs)
	}
	ms := rs.MemberSpec(&m)
	if ms.Role != policy.RoleRSClient || ms.LocalASN != 64511 || !slices.Contains(ms.Disabled, policy.RulePeerlock) {
		t.Errorf("member spec = %+v", ms)
	}
}

const minimal = "local_as: 64496\ncustomers:\n  - name: a\n    asn: 64500\n"

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"unknown top key", "local_as: 64496\nfoo: 1\ncustomers: [{name: a, asn: 1}]\n", []string{`line 2: unknown key "foo"`}},
		{"unknown customer key", minimal + "    colour: red\n", []string{`line 5: customers[0] (a): unknown key "colour"`}},
		{"unknown defaults key", minimal + "defaults:\n  prefix_lenght: {ipv4: [8, 24]}\n", []string{`line 6: defaults: unknown key "prefix_lenght"`}},
		{"unknown nested key", minimal + "    max_prefix: {ipv4: 1, ipv5: 2}\n", []string{`line 5: customers[0] (a).max_prefix: unknown key "ipv5"`}},
		{"unknown rule", minimal + "    rules: {bogon-asns: false}\n", []string{`unknown key "bogon-asns"`}},
		{"accept not switchable", minimal + "    rules: {accept: false}\n", []string{`unknown key "accept"`}},
		{"bad name", "local_as: 1\ncustomers: [{name: 1abc, asn: 1}]\n", []string{`line 2: customers[0].name: invalid name "1abc"`}},
		{"long name", "local_as: 1\ncustomers: [{name: " + strings.Repeat("a", 41) + ", asn: 1}]\n", []string{"at most 40 characters"}},
		{"dash name", "local_as: 1\ncustomers: [{name: a-b, asn: 1}]\n", []string{`invalid name "a-b"`}},
		// Names whose objects could be named like the shared export set (NAME_V4 ...).
		{"export set stem", "local_as: 1\ncustomers: [{name: bgpfilter_Export, asn: 1}]\n", []string{"line 2: customers[0].name: customer name bgpfilter_Export is reserved", "BGPFILTER_EXPORT_V4"}},
		{"export set name", "local_as: 1\ncustomers: [{name: BGPFILTER_EXPORT_V6, asn: 1}]\n", []string{"is reserved", "BGPFILTER_EXPORT_V6"}},
		{"export set root", "local_as: 1\ncustomers: [{name: BGPFILTER, asn: 1}]\n", []string{"is reserved"}},
		{"duplicate name", "local_as: 1\ncustomers:\n  - {name: Acme, asn: 1}\n  - {name: acme, asn: 2}\n", []string{`line 4: customers[1] (acme): name "acme" is used twice (also on line 3)`}},
		{"bad asn", "local_as: 1\ncustomers: [{name: a, asn: AS-FOO}]\n", []string{`line 2: customers[0] (a).asn: invalid AS number "AS-FOO"`}},
		{"asn out of range", "local_as: 4294967296\ncustomers: [{name: a, asn: 1}]\n", []string{"line 1: local_as: invalid AS number \"4294967296\": out of range"}},
		{"as0", "local_as: 1\ncustomers: [{name: a, asn: 0}]\n", []string{"AS0 cannot be a neighbour"}},
		{"missing asn", "local_as: 1\ncustomers: [{name: a}]\n", []string{"missing key asn"}},
		{"missing local_as", "customers: [{name: a, asn: 1}]\n", []string{"local_as: missing"}},
		{"host bits", minimal + "    extra_prefixes: [192.0.2.1/24]\n", []string{`host bits set`}},
		{"bad prefix", minimal + "    exclude_prefixes: [192.0.2.0/33]\n", []string{`invalid prefix "192.0.2.0/33"`}},
		{"bad length range", minimal + "defaults: {prefix_length: {ipv4: [24, 8]}}\n", []string{"minimum 24 is above maximum 8"}},
		{"length over 32", minimal + "defaults: {prefix_length: {ipv4: [8, 33]}}\n", []string{"from 0 to 32"}},
		{"bad role", minimal + "    role: upstream\n", []string{`unknown role "upstream"`}},
		{"rs-client role", minimal + "    role: rs-client\n", []string{"route-server clients go under members"}},
		{"bad action", minimal + "    max_prefix: {ipv4: 1, action: drop}\n", []string{`unknown max-prefix action "drop"`}},
		{"bad rpki policy", minimal + "defaults: {rpki_policy: strict}\n", []string{`unknown RPKI policy "strict"`}},
		{"bad target", minimal + "    targets: [eos]\n", []string{`unknown target "eos"`}},
		{"bad shrink", minimal + "defaults: {shrink_guard: 0.2}\n", []string{"want a percentage"}},
		{"bad peerlock", minimal + "defaults: {peerlock: sometimes}\n", []string{"want default, off or a list of ASNs"}},
		{"partial bogon exception", minimal + "defaults: {bogons: {except_prefixes: [10.1.0.0/16]}}\n", []string{"except 10.0.0.0/8"}},
		{"bad as_set", minimal + "    as_set: [AS-FOO BAR]\n", []string{`invalid AS-SET, route-set or ASN "AS-FOO BAR"`}},
		{"bad rtr", "rtr_cache: rtr.example.net:8282\n" + minimal, []string{"want ADDRESS:PORT"}},
		{"v6 router id", "router_id: 2001:db8::1\n" + minimal, []string{"router ID is an IPv4 address"}},
		{"session without router_id", minimal + "    sessions: [{address: 192.0.2.2}]\n", []string{"router_id: missing"}},
		{"bad port", "router_id: 192.0.2.1\n" + minimal + "    sessions: [{address: 192.0.2.2, port: 0}]\n", []string{"port: want a whole number from 1 to 65535"}},
		{"bad sav", minimal + "    sav: {mode: paranoid}\n", []string{`unknown SAV mode "paranoid"`}},
		{"ifindex without exporter", minimal + "    interfaces: [{name: eth0, ifindex: 3}]\n", []string{"needs the exporter"}},
		{"bad interface", minimal + "    interfaces: [{name: \"eth 0\"}]\n", []string{`invalid name "eth 0"`}},
		{"members without rs", "members: [{name: m, asn: 1, addresses: [192.0.2.1]}]\n", []string{"rs: missing"}},
		{"member without addresses", "rs: {asn: 1, router_id: 192.0.2.1}\nmembers: [{name: m, asn: 1}]\n", []string{"missing key addresses"}},
		{"member override unknown", "rs: {asn: 1, router_id: 192.0.2.1}\nmembers: [{name: m, asn: 1, addresses: [192.0.2.1], overrides: {foo: 1}}]\n", []string{`overrides: unknown key "foo"`}},
		{"nothing to do", "local_as: 1\n", []string{"no customers and no members"}},
		{"not a mapping", "- 1\n- 2\n", []string{"want a mapping"}},
		{"customers not a list", "local_as: 1\ncustomers: {name: a}\n", []string{"customers: want a list"}},
		{"syntax", "local_as: [1\n", []string{"line"}},
		{"two documents", minimal + "---\nlocal_as: 2\n", []string{"a second YAML document"}},
		{"empty", "", []string{"empty file"}},
		{"duplicate key", "local_as: 1\nlocal_as: 2\ncustomers: [{name: a, asn: 1}]\n", []string{`line 2: key "local_as" appears twice (also on line 1)`}},
		{"several problems", "local_as: x\ncustomers: [{name: a, asn: y}]\n", []string{"line 1: local_as", "line 2: customers[0] (a).asn"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseForms(t *testing.T) {
	cfg, err := Parse([]byte(`
local_as: AS64496
irr: whois://whois.example.net
customers:
  - name: a
    asn: as64500
    as_set: RIPE::AS64500:AS-CUST
    extra_prefixes: [198.51.100.0/24^+, "2001:db8::/32^48"]
    bogons: false
    peerlock: off
    shrink_guard: off
    rules: {first-as: false, max-prefix: no}
  - name: b
    asn: 64501
    peerlock: [AS174, 3356-3357]
    bogons: {prefixes: false, except_asns: [64501, 64500-64502]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LocalAS != 64496 || cfg.IRR[0] != "whois://whois.example.net" {
		t.Errorf("forms: %+v", cfg)
	}
	a, b := cfg.Customers[0], cfg.Customers[1]
	if a.ASN != 64500 || a.ASSets[0] != "RIPE::AS64500:AS-CUST" || a.ExtraPrefixes[0].Max != 32 || a.ExtraPrefixes[1].Min != 48 {
		t.Errorf("customer a = %+v", a)
	}
	sa := cfg.CustomerSpec(&a)
	for _, r := range []policy.RuleName{policy.RuleBogonASN, policy.RuleBogonPrefix, policy.RulePeerlock, policy.RuleFirstAS, policy.RuleMaxPrefix} {
		if !slices.Contains(sa.Disabled, r) {
			t.Errorf("rule %s not disabled: %v", r, sa.Disabled)
		}
	}
	if a.Knobs.ShrinkGuard != 1 || sa.BogonASNs != nil {
		t.Errorf("shrink_guard off = %v, bogons %v", a.Knobs.ShrinkGuard, sa.BogonASNs)
	}
	sb := cfg.CustomerSpec(&b)
	if len(b.Knobs.Peerlock) != 2 || b.Knobs.Peerlock[1] != (policy.ASNRange{From: 3356, To: 3357, Reason: "config"}) {
		t.Errorf("peerlock = %v", b.Knobs.Peerlock)
	}
	if got := b.Knobs.Bogons.ExceptASNs; len(got) != 1 || got[0].From != 64500 || got[0].To != 64502 {
		t.Errorf("except_asns not merged: %v", got)
	}
	if !slices.Contains(sb.Disabled, policy.RuleBogonPrefix) || slices.Contains(sb.Disabled, policy.RuleBogonASN) {
		t.Errorf("disabled = %v", sb.Disabled)
	}
}

// ApplyPeeringDB on real PeeringDB net pages: the irr_as_set forms PeeringDB holds
// ("RIPE::AS-X", several names, "AS-X, AS-Y") become set names, and the limits fill
// only what the config leaves open.
func TestApplyPeeringDBReal(t *testing.T) {
	path := "../../shared/data/peeringdb/peeringdb-api/net.page-1.prod.json.gz"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	nets, err := peeringdb.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	for asn, want := range map[routing.ASN][]string{
		9002:  {"RIPE::AS-RETN", "RIPE::AS-RETN6"},
		13649: {"AS-VIAWEST-TRANSIT", "AS-FLEXENTIAL"},
		3320:  {"AS3320:AS-DTAG", "AS3320:AS-DTAG-V6"},
	} {
		n, ok := nets[asn]
		if !ok {
			t.Fatalf("AS%d not in the sample", asn)
		}
		got, bad := parsePDBASSet(n.IRRASSet)
		if !slices.Equal(got, want) || len(bad) > 0 {
			t.Errorf("AS%d %q -> %v (bad %v), want %v", asn, n.IRRASSet, got, bad, want)
		}
	}
	cfg, err := Parse([]byte("local_as: 64496\ncustomers:\n  - {name: retn, asn: 9002}\n  - {name: dtag, asn: 3320, as_set: [AS-OWN], max_prefix: {ipv4: 7}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	notes := cfg.ApplyPeeringDB(nets)
	retn, dtag := cfg.Customers[0], cfg.Customers[1]
	if retn.ASSetFrom != "peeringdb" || !slices.Equal(retn.ASSets, []string{"RIPE::AS-RETN", "RIPE::AS-RETN6"}) ||
		retn.Knobs.MaxPrefix.IPv4 != nets[9002].Prefixes4 || retn.Knobs.MaxPrefix.IPv6 != nets[9002].Prefixes6 {
		t.Errorf("retn = %+v", retn)
	}
	if dtag.ASSets[0] != "AS-OWN" || dtag.Knobs.MaxPrefix.IPv4 != 7 || dtag.Knobs.MaxPrefix.IPv6 != nets[3320].Prefixes6 {
		t.Errorf("dtag = %+v", dtag)
	}
	if len(notes) == 0 {
		t.Error("no notes")
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"../examples/bgpfilter.yml", "../examples/route-server.yml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(minimal + "    bogons: {except_prefixes: [::/0]}\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for i := range cfg.Customers {
			c := &cfg.Customers[i]
			if !validName(c.Name) {
				t.Fatalf("accepted name %q", c.Name)
			}
			_ = cfg.CustomerSpec(c)
		}
		for i := range cfg.Members {
			_ = cfg.MemberSpec(&cfg.Members[i])
		}
	})
}
