package policy_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// rpkiFixture loads testdata/rpki.db (AS-RPKI: AS64500, AS64501, AS-RPKI-SUB >
// AS64502, AS64503) and testdata/rpki-vrps.json.
func rpkiFixture(t testing.TB) (*irr.Index, *rpki.Table) {
	t.Helper()
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, []string{"testdata/rpki.db"}, irr.LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := rpki.LoadFile(ctx, "testdata/rpki-vrps.json", rpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ix, tb
}

func pfxs(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(s))
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func newRQ(ix irr.Querier, tb *rpki.Table, p rpki.Policy) *policy.RPKIQuerier {
	h := tb.Hooks(p)
	return policy.NewRPKIQuerier(ix, h.Validator, h.DropInvalid, h.ROAAdd)
}

func TestRPKIQuerierRoutes(t *testing.T) {
	ix, tb := rpkiFixture(t)
	ctx := context.Background()
	asns := []routing.ASN{64500, 64501, 64502, 64503}
	cases := []struct {
		name   string
		policy rpki.Policy
		v6     bool
		want   [][]netip.Prefix
	}{
		// IRR only: every route object.
		{"ignore v4", rpki.PolicyIgnore, false, [][]netip.Prefix{
			pfxs("192.0.2.0/25", "192.0.2.0/26"), pfxs("198.51.100.0/24"), pfxs(), pfxs("192.0.2.128/25")}},
		// 192.0.2.0/26 AS64500 is longer than the ROA's maxLength 25; 198.51.100.0/24
		// AS64501 is covered by a ROA for AS64510 (wrong origin); 192.0.2.0/25 is
		// valid; 192.0.2.128/25 is not covered (not-found) and stays.
		{"drop-invalid v4", rpki.PolicyDropInvalid, false, [][]netip.Prefix{
			pfxs("192.0.2.0/25"), pfxs(), pfxs(), pfxs("192.0.2.128/25")}},
		{"drop-invalid v6", rpki.PolicyDropInvalid, true, [][]netip.Prefix{
			pfxs("2001:db8:100::/48"), pfxs(), pfxs(), pfxs("2001:db8:200::/48")}},
		// roa-add: AS64502 has ROAs but no route objects; AS64500's IPv4 ROA prefix
		// has a route object already and is not repeated, its IPv6 /40 has none.
		{"roa-add v4", rpki.PolicyROAAdd, false, [][]netip.Prefix{
			pfxs("192.0.2.0/25"), pfxs(), pfxs("203.0.113.0/24"), pfxs("192.0.2.128/25")}},
		{"roa-add v6", rpki.PolicyROAAdd, true, [][]netip.Prefix{
			pfxs("2001:db8:100::/40", "2001:db8:100::/48"), pfxs(), pfxs("2001:db8:300::/48"), pfxs("2001:db8:200::/48")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			orig, err := ix.Routes(ctx, nil, asns, c.v6)
			if err != nil {
				t.Fatal(err)
			}
			snapshot := make([][]netip.Prefix, len(orig))
			for i := range orig {
				snapshot[i] = slices.Clone(orig[i])
			}
			rq := newRQ(ix, tb, c.policy)
			got, err := rq.Routes(ctx, nil, asns, c.v6)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if d := cmp.Diff(snapshot, orig, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
				t.Errorf("the wrapped answer was modified:\n%s", d)
			}
		})
	}
}

func TestRPKIQuerierSetPrefixesAndReport(t *testing.T) {
	ix, tb := rpkiFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		policy rpki.Policy
		want   []netip.Prefix
	}{
		{rpki.PolicyIgnore, pfxs("192.0.2.0/25", "192.0.2.0/26", "192.0.2.128/25", "198.51.100.0/24")},
		{rpki.PolicyDropInvalid, pfxs("192.0.2.0/25", "192.0.2.128/25")},
		{rpki.PolicyROAAdd, pfxs("192.0.2.0/25", "192.0.2.128/25", "203.0.113.0/24")},
	} {
		rq := newRQ(ix, tb, c.policy)
		got, found, err := rq.SetPrefixes(ctx, nil, "AS-RPKI", false)
		if err != nil || !found || !slices.Equal(got, c.want) {
			t.Errorf("%s: !aAS-RPKI = %v %v %v, want %v", c.policy, got, found, err, c.want)
		}
		if c.policy == rpki.PolicyIgnore {
			// The wrapper computes "!a" itself; without RPKI it must equal the Index.
			raw, _, _ := ix.SetPrefixes(ctx, nil, "AS-RPKI", false)
			if !slices.Equal(got, raw) {
				t.Errorf("ignore: %v, index %v", got, raw)
			}
		}
		// A route-set and an unknown set pass through to the wrapped Querier.
		for _, name := range []string{"RS-RPKI", "AS-NOPE"} {
			got, found, err := rq.SetPrefixes(ctx, nil, name, false)
			raw, rawFound, _ := ix.SetPrefixes(ctx, nil, name, false)
			if err != nil || found != rawFound || !slices.Equal(got, raw) {
				t.Errorf("%s: !a%s = %v %v %v, index %v %v", c.policy, name, got, found, err, raw, rawFound)
			}
		}
		var dropped []string
		for _, d := range rq.Dropped() {
			dropped = append(dropped, d.String()+": "+strings.Join(d.Reasons, ", "))
		}
		var added []string
		for _, a := range rq.Added() {
			added = append(added, a.String())
		}
		var wantDropped, wantAdded []string
		if c.policy != rpki.PolicyIgnore {
			wantDropped = []string{"192.0.2.0/26 AS64500: ROA 192.0.2.0/25-25 AS64500 (ripe)",
				"198.51.100.0/24 AS64501: ROA 198.51.100.0/24-24 AS64510 (arin)"}
		}
		if c.policy == rpki.PolicyROAAdd {
			wantAdded = []string{"203.0.113.0/24 AS64502"}
		}
		if !slices.Equal(dropped, wantDropped) || !slices.Equal(added, wantAdded) {
			t.Errorf("%s: dropped %q (want %q), added %q (want %q)", c.policy, dropped, wantDropped, added, wantAdded)
		}
	}
}

// shortRoutes answers Routes with one answer too few.
type shortRoutes struct{ *irr.Index }

func (s shortRoutes) Routes(ctx context.Context, src []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	r, err := s.Index.Routes(ctx, src, asns, v6)
	return r[:len(r)-1], err
}

func TestRPKIQuerierShortAnswer(t *testing.T) {
	ix, tb := rpkiFixture(t)
	rq := newRQ(shortRoutes{ix}, tb, rpki.PolicyDropInvalid)
	if _, _, err := rq.SetPrefixes(context.Background(), nil, "AS-RPKI", false); err == nil || !strings.Contains(err.Error(), "answers for") {
		t.Errorf("short answer accepted: %v", err)
	}
	if _, err := policy.DropInvalidOrigins(context.Background(), shortRoutes{ix}, nil,
		&policy.ASPathFilter{Origins: []routing.ASN{64500, 64501}}, tb); err == nil {
		t.Error("DropInvalidOrigins accepted a short answer")
	}
}

func TestDropInvalidOrigins(t *testing.T) {
	ix, tb := rpkiFixture(t)
	ctx := context.Background()
	for _, peerAS := range []routing.ASN{0, 64501, 64500} {
		f, err := policy.BuildASPathFilter(ctx, &irr.Resolver{Q: ix}, []string{"AS-RPKI"}, policy.ASPathOptions{PeerAS: peerAS})
		if err != nil {
			t.Fatal(err)
		}
		drops, err := policy.DropInvalidOrigins(ctx, ix, nil, f, tb)
		if err != nil {
			t.Fatal(err)
		}
		// AS64501's only route object is invalid: dropped. AS64500 has one valid and
		// one invalid route, AS64503 only not-found ones, AS64502 none: kept.
		if !slices.Equal(f.Origins, []routing.ASN{64500, 64502, 64503}) {
			t.Errorf("peer %s: origins %v", peerAS, f.Origins)
		}
		if len(drops) != 1 || drops[0].Origin != 64501 || len(drops[0].Routes) != 1 ||
			drops[0].Routes[0].String() != "198.51.100.0/24 AS64501" ||
			!slices.Equal(drops[0].Routes[0].Reasons, []string{"ROA 198.51.100.0/24-24 AS64510 (arin)"}) {
			t.Errorf("drops %+v", drops)
		}
		if !slices.Contains(f.Warnings, "dropped origin AS64501: all 1 route objects are RPKI-invalid") {
			t.Errorf("warnings %q", f.Warnings)
		}
		if want := peerAS == 64500; f.PeerIsMember != want {
			t.Errorf("peer %s: PeerIsMember %v", peerAS, f.PeerIsMember)
		}
	}
	f := &policy.ASPathFilter{Origins: []routing.ASN{64501}}
	if drops, err := policy.DropInvalidOrigins(ctx, ix, nil, f, nil); err != nil || drops != nil || len(f.Origins) != 1 {
		t.Errorf("nil validator changed the filter: %v %v %v", drops, err, f.Origins)
	}
}

// TestROAAddMaxLength: with roa-add a ROA-only prefix permits the lengths up to the
// ROA's maxLength, and carries its ROA and trust anchor as provenance. The range
// implies lossless aggregation (as a route-set range does), so the two IRR /25s fold
// into one entry that keeps the provenance of both.
func TestROAAddMaxLength(t *testing.T) {
	ix, tb := rpkiFixture(t)
	h := tb.Hooks(rpki.PolicyROAAdd)
	f, err := policy.BuildPrefixFilter(context.Background(), ix, &irr.Resolver{Q: ix}, []string{"AS-RPKI"}, policy.Options{
		Family: 4, Validator: h.Validator, DropInvalid: h.DropInvalid, ROAAdd: h.ROAAdd, ROAMaxLength: h.ROAMaxLength,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range f.Entries {
		got = append(got, e.Prefix.String()+" "+e.Range()+" "+e.ROVSummary()+" "+strings.Join(e.Sources, ",")+" "+strings.Join(e.ROVReasons, ","))
	}
	want := []string{
		"192.0.2.0/24 ge 25 le 25 mixed ALT,RPKI,RPKITEST ROA 192.0.2.0/25-25 AS64500 (ripe)",
		"203.0.113.0/24 le 25 valid RPKI ROA 203.0.113.0/24-25 AS64502 (apnic)",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if tb.ROAMaxLength(netip.MustParsePrefix("203.0.113.0/24"), 64502) != 25 ||
		tb.ROAMaxLength(netip.MustParsePrefix("203.0.113.0/24"), 64500) != 0 ||
		tb.ROAMaxLength(netip.MustParsePrefix("203.0.113.0/25"), 64502) != 0 {
		t.Error("Table.ROAMaxLength")
	}
}

// membersOnly hides the optional interfaces of a Querier (irr.ASNQuerier), as a
// remote whois server has none: the ASNs come from Members as strings.
type membersOnly struct{ irr.Querier }

// TestRPKIQuerierASNPath: the wrapper's "!a" from the index's ASN answers
// (irr.ASNQuerier) equals its "!a" from the strings of Members, with the same drops
// and additions, for as-sets, a nested as-set, a route-set and an unknown name; and
// SetASNs is passed through unchanged.
func TestRPKIQuerierASNPath(t *testing.T) {
	ix, tb := rpkiFixture(t)
	ctx := context.Background()
	for _, p := range []rpki.Policy{rpki.PolicyIgnore, rpki.PolicyDropInvalid, rpki.PolicyROAAdd} {
		for _, name := range []string{"AS-RPKI", "AS-RPKI-SUB", "RS-RPKI", "AS-NOPE"} {
			for _, v6 := range []bool{false, true} {
				a, b := newRQ(ix, tb, p), newRQ(membersOnly{ix}, tb, p)
				ga, fa, ea := a.SetPrefixes(ctx, nil, name, v6)
				gb, fb, eb := b.SetPrefixes(ctx, nil, name, v6)
				if ea != nil || eb != nil || fa != fb || !slices.Equal(ga, gb) ||
					fmt.Sprint(a.Dropped()) != fmt.Sprint(b.Dropped()) || fmt.Sprint(a.Added()) != fmt.Sprint(b.Added()) {
					t.Errorf("%s !a%s v6 %v: ASN path %v %v %v (dropped %v), strings %v %v %v (dropped %v)",
						p, name, v6, ga, fa, ea, a.Dropped(), gb, fb, eb, b.Dropped())
				}
			}
		}
	}
	rq := newRQ(ix, tb, rpki.PolicyDropInvalid)
	got, ok, err := rq.SetASNs(ctx, nil, "AS-RPKI")
	want, wok, _ := ix.SetASNs(ctx, nil, "AS-RPKI")
	if err != nil || !ok || !wok || !slices.Equal(got, want) || len(got) != 4 {
		t.Errorf("SetASNs(AS-RPKI) = %v %v %v, index %v", got, ok, err, want)
	}
}
