package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// exampleBuild loads examples/bgpfilter.yml with its IRR registry and VRPs and builds
// every customer's documents, the way pipeline does.
type exampleBuild struct {
	cfg   *config.File
	table *rpki.Table
	docs  map[string]*policy.SessionDocuments
}

func buildExample(t testing.TB, edit func(*config.File)) *exampleBuild {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load("../examples/bgpfilter.yml")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	ix, _, err := irr.Load(ctx, cfg.IRR, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := rpki.LoadFile(ctx, cfg.RPKI, rpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := policy.Inputs{Querier: ix, Resolver: &irr.Resolver{Q: ix, Sources: cfg.Sources}, Validator: table, ROAs: table}
	b := &exampleBuild{cfg: cfg, table: table, docs: map[string]*policy.SessionDocuments{}}
	var imports4, imports6 []*policy.Document
	for i := range cfg.Customers {
		c := &cfg.Customers[i]
		d, err := policy.BuildSession(ctx, in, cfg.CustomerSpec(c))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		b.docs[c.Name] = d
		imports4, imports6 = append(imports4, d.Import4), append(imports6, d.Import6)
	}
	own4, _, err := policy.OwnPrefixes(ctx, in, "SELF_V4", 4, cfg.Self.ASSets, cfg.Self.Prefixes, cfg.Defaults.RPKIPolicy)
	if err != nil {
		t.Fatal(err)
	}
	own6, _, err := policy.OwnPrefixes(ctx, in, "SELF_V6", 6, cfg.Self.ASSets, cfg.Self.Prefixes, cfg.Defaults.RPKIPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range b.docs {
		d.Export4 = policy.ExportDocument(d.Import4, own4, imports4)
		d.Export6 = policy.ExportDocument(d.Import6, own6, imports6)
	}
	return b
}

func mustPath(t testing.TB, s string) policy.ASPath {
	t.Helper()
	p, err := policy.ParseASPath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildSessionExample(t *testing.T) {
	b := buildExample(t, nil)
	one := b.docs["cust_one"].Import4
	if one.Name != "cust_one_IN_V4" || one.Prefixes.Name != "cust_one_PFX_V4" || one.Origins.Name != "cust_one_ORIGINS" {
		t.Errorf("names: %s %s %s", one.Name, one.Prefixes.Name, one.Origins.Name)
	}
	var got []string
	for _, e := range one.Prefixes.Entries {
		got = append(got, e.PrefixRange.String())
	}
	// examples/irr: AS64497 has route 198.51.100.0/24 (and a ROA for it).
	if !slices.Equal(got, []string{"198.51.100.0/24"}) {
		t.Errorf("cust_one v4 entries = %v", got)
	}
	if e := one.Prefixes.Entries[0]; !slices.Equal(e.Sources, []string{"EXAMPLE"}) || e.ROVSummary() != "valid" {
		t.Errorf("provenance = %+v", e)
	}
	if !slices.Equal(one.Origins.ASNs, []routing.ASN{64497}) {
		t.Errorf("origins = %v", one.Origins.ASNs)
	}
	if one.Session.NeighborASN != 64497 || one.Session.MaxPrefix != (policy.MaxPrefix{Limit: 100, Action: policy.MaxPrefixTeardown}) ||
		len(one.Session.Neighbors) != 1 || !one.Session.RuntimeROV() {
		t.Errorf("session = %+v", one.Session)
	}
	if six := b.docs["cust_one"].Import6; len(six.Session.Neighbors) != 1 || six.Session.MaxPrefix.Limit != 20 {
		t.Errorf("v6 session = %+v", six.Session)
	}
	var names []policy.RuleName
	for _, r := range one.Rules {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, policy.ImportRules()) {
		t.Errorf("rules = %v", names)
	}
	tr := b.docs["transit_cust"].Import4
	got = got[:0]
	for _, e := range tr.Prefixes.Entries {
		got = append(got, e.PrefixRange.String())
	}
	// AS-EXAMPLE-TRANSIT = AS64501 (192.0.2.0/24) + AS65538 (no IPv4 routes), plus the
	// extra 203.0.113.0/24 from the config. 192.0.2.0/24 AS64501 is RPKI-invalid
	// (ROA 192.0.2.0/24-25 AS64496 only) and dropped.
	if !slices.Equal(got, []string{"203.0.113.0/24"}) {
		t.Errorf("transit_cust v4 entries = %v (warnings %v)", got, tr.Warnings)
	}
	if !slices.ContainsFunc(tr.Warnings, func(w string) bool { return strings.Contains(w, "dropped RPKI-invalid 192.0.2.0/24 origin AS64501") }) {
		t.Errorf("warnings = %v", tr.Warnings)
	}
	if _, ok := tr.Peerlock.Match(64501); ok {
		t.Error("neighbour in its own peerlock list")
	}
	peer := b.docs["peer_two"].Import4
	if len(peer.Peerlock.Ranges) != 3 || peer.Session.Role != policy.RolePeer {
		t.Errorf("peer_two peerlock = %v", peer.Peerlock)
	}
	ex := b.docs["peer_two"].Export4
	if ex.Name != "peer_two_OUT_V4" || ex.Direction != policy.Export || len(ex.Prefixes.Entries) == 0 {
		t.Fatalf("export = %+v", ex)
	}
	// Own space (AS-EXAMPLE, RPKI-invalid objects dropped) plus every customer's filter.
	for _, p := range []string{"198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/25"} {
		if len(ex.Prefixes.Match(netip.MustParsePrefix(p))) == 0 {
			t.Errorf("export misses %s", p)
		}
	}
}

func TestEvaluateExample(t *testing.T) {
	b := buildExample(t, nil)
	long := strings.Repeat("64497 ", 33)
	for _, tc := range []struct {
		customer, prefix, path string
		accept                 bool
		rule                   policy.RuleName
		evidence               string
	}{
		{"cust_one", "198.51.100.0/24", "64497", true, policy.RuleAccept, "ROA 198.51.100.0/24-24 AS64497 (ripe)"},
		{"cust_one", "198.51.100.0/24", "64497 64497 64497", true, policy.RuleAccept, ""},
		{"cust_one", "198.51.100.0/24", "64497 0", false, policy.RuleBogonASN, "AS0"},
		{"cust_one", "198.51.100.0/24", "64497 {64512,64497}", false, policy.RuleBogonASN, "AS64512"},
		{"cust_one", "198.51.100.0/24", "64497 4200000001 64497", false, policy.RuleBogonASN, "RFC 6996"},
		{"cust_one", "10.0.0.0/8", "64497", false, policy.RuleBogonPrefix, "RFC 1918"},
		{"cust_one", "0.0.0.0/0", "64497", false, policy.RuleBogonPrefix, "default route"},
		{"cust_one", "198.51.100.0/28", "64497", false, policy.RulePrefixLength, "/28"},
		{"cust_one", "198.51.100.0/25", "64497", false, policy.RuleRPKIInvalid, "invalid"},
		{"cust_one", "198.51.100.0/24", "64497 3356 64497", false, policy.RulePeerlock, "AS3356"},
		{"cust_one", "198.51.100.0/24", long, false, policy.RuleASPathLength, "33"},
		{"cust_one", "198.51.100.0/24", "64498 64497", false, policy.RuleFirstAS, "AS64498"},
		{"cust_one", "198.51.100.0/24", "{64497,64498} 64497", false, policy.RuleASSet, "AS_SET"},
		{"cust_one", "198.51.100.0/24", "64497 {64497} 64497", false, policy.RuleASSet, "{64497}"},
		{"cust_one", "198.51.100.0/24", "64497 {64497,64500} 64497", false, policy.RuleASSet, "RFC 9774"},
		{"cust_one", "203.0.113.64/26", "64497 64499", false, policy.RuleOrigin, "AS64499"},
		{"cust_one", "198.51.100.0/24", "64497 {64497,64500}", false, policy.RuleRPKIInvalid, "AS_SET"}, // rpki-invalid comes first
		{"cust_one", "8.8.8.0/24", "64497", false, policy.RulePrefix, "not in the prefix filter"},
		{"transit_cust", "203.0.113.0/24", "64501", true, policy.RuleAccept, ""},
		{"transit_cust", "192.0.2.0/24", "64501", false, policy.RuleRPKIInvalid, ""},
		// AS64498's only route object, 198.51.100.0/25, is RPKI-invalid (AS64497's ROAs).
		{"peer_two", "198.51.100.0/25", "64498", false, policy.RuleRPKIInvalid, "ROA 198.51.100.0/24-24 AS64497"},
		// peer_two's own peerlock list (174, 1299, 3356) replaces the default.
		{"peer_two", "8.8.8.0/24", "64498 2914 64498", false, policy.RulePrefix, ""},
		{"peer_two", "8.8.8.0/24", "64498 1299 64498", false, policy.RulePeerlock, "AS1299"},
	} {
		doc := b.docs[tc.customer].Import4
		a := policy.Announcement{Prefix: netip.MustParsePrefix(tc.prefix), Path: mustPath(t, tc.path)}.WithROV(b.table)
		d, err := policy.Evaluate(doc, a)
		if err != nil {
			t.Errorf("%s %s %s: %v", tc.customer, tc.prefix, tc.path, err)
			continue
		}
		if d.Accepted() != tc.accept || d.Rule != tc.rule {
			t.Errorf("%s %s [%s] = %s by %s (%s), want accept=%v by %s", tc.customer, tc.prefix, tc.path, d.Action, d.Rule, d.Reason, tc.accept, tc.rule)
			continue
		}
		if tc.evidence != "" && !strings.Contains(evidenceText(d), tc.evidence) {
			t.Errorf("%s %s [%s]: evidence %s lacks %q", tc.customer, tc.prefix, tc.path, evidenceText(d), tc.evidence)
		}
	}
}

func evidenceText(d policy.Decision) string {
	s := d.Reason
	ev := d.Evidence
	if ev.Range != nil {
		s += " | " + ev.Range.String() + " " + ev.Range.Reason
	}
	if ev.Bogon != nil {
		s += " | " + ev.Bogon.Reason
	}
	if ev.ROV != nil {
		s += " | " + ev.ROV.State.String() + " " + strings.Join(ev.ROV.ROAs, ",")
	}
	for _, e := range ev.Entries {
		s += " | " + e.PrefixRange.String() + " " + strings.Join(e.Sources, ",")
	}
	return s
}

func TestEvaluateErrors(t *testing.T) {
	b := buildExample(t, nil)
	doc := b.docs["cust_one"].Import4
	for _, a := range []policy.Announcement{
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Path: policy.Sequence(64497)},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24")},
		{Path: policy.Sequence(64497)},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Path: policy.Sequence(64497)}, // no ROV, RTR cache set
	} {
		if _, err := policy.Evaluate(doc, a); err == nil {
			t.Errorf("Evaluate(%+v) accepted a bad route", a)
		}
	}
}

// A Document survives JSON (vendors' tests and `generate --dump` may store them).
func TestDocumentJSON(t *testing.T) {
	b := buildExample(t, nil)
	for name, d := range b.docs {
		for _, doc := range []*policy.Document{d.Import4, d.Import6, d.Export4, d.Export6} {
			js, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var back policy.Document
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, _ := json.Marshal(&back)
			if string(again) != string(js) {
				t.Errorf("%s %s: JSON round trip differs:\n%s\n%s", name, doc.Name, js, again)
			}
			if !strings.Contains(string(js), `"rpki_policy":"drop-invalid"`) {
				t.Errorf("%s: rpki_policy not as text: %.300s", doc.Name, js)
			}
		}
	}
}

func TestExplainText(t *testing.T) {
	b := buildExample(t, nil)
	doc := b.docs["cust_one"].Import4
	for _, tc := range []struct {
		prefix, path string
		want         []string
	}{
		{"198.51.100.0/24", "64497 3356 64497", []string{"reject\n", "rule:     peerlock", "asn:      AS3356 at position 2", `list:     AS3356 "Lumen (former Level 3)"`,
			"  bogon-asn       passed", "  peerlock        matched"}},
		{"198.51.100.0/24", "64497", []string{"accept\n", "rule:     accept", "entry:    198.51.100.0/24 exact", "sources: EXAMPLE",
			`"ROA 198.51.100.0/24-24 AS64497 (ripe)"`, "  max-prefix      session  limit 100, action teardown"}},
	} {
		a := policy.Announcement{Prefix: netip.MustParsePrefix(tc.prefix), Path: mustPath(t, tc.path)}.WithROV(b.table)
		x, err := policy.Explain(doc, a)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		if err := x.WriteText(&sb); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(sb.String(), w) {
				t.Errorf("explain %s [%s] lacks %q:\n%s", tc.prefix, tc.path, w, sb.String())
			}
		}
		js, _ := json.Marshal(x)
		if !strings.Contains(string(js), `"action":"`+string(x.Action)+`","rule":"`+string(x.Rule)+`"`) {
			t.Errorf("JSON: %s", js)
		}
	}
}

// countingQuerier counts the set lookups a build makes.
type countingQuerier struct {
	irr.Querier
	members atomic.Int64 // the resolver queries in parallel
}

func (c *countingQuerier) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	c.members.Add(1)
	return c.Querier.Members(ctx, sources, name, recursive)
}

// A session expands its objects once for both families and the origin set.
func TestBuildSessionExpandsOnce(t *testing.T) {
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, []string{"../examples/irr"}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	one := &countingQuerier{Querier: ix}
	if _, err := policy.ExpandObjects(ctx, &irr.Resolver{Q: one}, []string{"AS-EXAMPLE"}, false); err != nil {
		t.Fatal(err)
	}
	all := &countingQuerier{Querier: ix}
	spec := policy.SessionSpec{Name: "x", NeighborASN: 64496, ASSets: []string{"AS-EXAMPLE"}, Length4: policy.DefaultLengthV4,
		Length6: policy.DefaultLengthV6, MaxPathLength: 32}
	if _, err := policy.BuildSession(ctx, policy.Inputs{Querier: all, Resolver: &irr.Resolver{Q: all}}, spec); err != nil {
		t.Fatal(err)
	}
	if one.members.Load() == 0 || all.members.Load() != one.members.Load() {
		t.Errorf("session made %d set lookups, one expansion makes %d", all.members.Load(), one.members.Load())
	}
}

func TestDocumentValidate(t *testing.T) {
	b := buildExample(t, nil)
	for _, d := range b.docs {
		for _, doc := range []*policy.Document{d.Import4, d.Import6, d.Export4, d.Export6} {
			if err := doc.Validate(); err != nil {
				t.Error(err)
			}
		}
	}
	base := b.docs["cust_one"].Import4
	for name, breakIt := range map[string]func(d *policy.Document){
		"name":    func(d *policy.Document) { d.Name = "other_IN_V4" },
		"order":   func(d *policy.Document) { d.Rules[0], d.Rules[1] = d.Rules[1], d.Rules[0] },
		"accept":  func(d *policy.Document) { d.Rules[len(d.Rules)-1].Enabled = false },
		"family":  func(d *policy.Document) { d.Prefixes.Entries[0].Prefix = netip.MustParsePrefix("2001:db8::/32") },
		"overlap": func(d *policy.Document) { d.BogonASNs.Ranges = append(d.BogonASNs.Ranges, d.BogonASNs.Ranges[0]) },
		"neighbour": func(d *policy.Document) {
			d.Session.Neighbors = []policy.Neighbor{{Address: netip.MustParseAddr("2001:db8::1")}}
		},
		"objname": func(d *policy.Document) { d.Origins.Name = "bad-name" },
	} {
		doc := *base
		doc.Rules = slices.Clone(base.Rules)
		doc.Prefixes.Entries = slices.Clone(base.Prefixes.Entries)
		doc.BogonASNs.Ranges = slices.Clone(base.BogonASNs.Ranges)
		breakIt(&doc)
		if err := doc.Validate(); !errors.Is(err, policy.ErrInvalidDocument) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}
