package rpki

import (
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// aspaTable builds a table from ASPAs given as customer -> providers (both AFIs).
func aspaTable(t *testing.T, m map[routing.ASN][]routing.ASN) *Table {
	t.Helper()
	b := NewBuilder(Options{})
	for c, p := range m {
		b.AddASPA(c, p, p, 0)
	}
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// Test vectors written from the text of draft-ietf-sidrops-aspa-verification
// (sections "Hop-Check Function", "Algorithm for Upstream Paths", "Algorithm for
// Downstream Paths"). Documentation ASNs: O=64500 origin, P=64501, X=64502, Y=64503,
// Z=64504, 64510/64511 unrelated providers, 64505 an AS without ASPA.
func TestVerifyPath(t *testing.T) {
	const O, P, X, Y, Z, N = 64500, 64501, 64502, 64503, 64504, 64505
	tb := aspaTable(t, map[routing.ASN][]routing.ASN{
		O:     {P},
		P:     {64510},
		X:     {Y},
		Y:     {64511},
		Z:     {Y},
		64506: {0}, // AS0: "no providers at all"
		64507: {O},
	})
	cases := []struct {
		name string
		path string
		opt  VerifyOptions
		want ASPAState
	}{
		// Checks before either procedure.
		{"empty path is invalid", "", VerifyOptions{}, ASPAInvalid},
		{"empty path is invalid downstream", "", VerifyOptions{Downstream: true}, ASPAInvalid},
		{"AS_SET is invalid", "64501 {64500,64502}", VerifyOptions{}, ASPAInvalid},
		{"AS_SET is invalid downstream", "64504 64503 {64500}", VerifyOptions{Downstream: true}, ASPAInvalid},
		{"neighbour not first AS is invalid", "64501 64500", VerifyOptions{Neighbor: 64502}, ASPAInvalid},
		{"neighbour check skipped at a route server", "64501 64500", VerifyOptions{Neighbor: 64502, RouteServer: true}, ASPAValid},
		{"neighbour first AS passes", "64501 64500", VerifyOptions{Neighbor: 64501}, ASPAValid},

		// Upstream.
		{"upstream: single AS is valid", "64500", VerifyOptions{}, ASPAValid},
		{"upstream: prepends collapse to one AS", "64500 64500 64500", VerifyOptions{}, ASPAValid},
		{"upstream: single AS without ASPA is valid", "64505", VerifyOptions{}, ASPAValid},
		{"upstream: every hop Provider+ is valid", "64501 64500", VerifyOptions{}, ASPAValid},
		{"upstream: prepended hops still valid", "64501 64501 64500 64500", VerifyOptions{}, ASPAValid},
		{"upstream: Not Provider+ hop is invalid", "64502 64500", VerifyOptions{}, ASPAInvalid},
		{"upstream: No Attestation hop is unknown", "64500 64505", VerifyOptions{}, ASPAUnknown},
		{"upstream: unattested origin hop is unknown", "64510 64501 64500 64505", VerifyOptions{}, ASPAUnknown},
		{"upstream: Not Provider+ beats No Attestation", "64502 64500 64505", VerifyOptions{}, ASPAInvalid},
		{"upstream: leak above unattested hop is invalid", "64502 64501 64500", VerifyOptions{}, ASPAInvalid},
		{"upstream: AS0 ASPA makes any hop Not Provider+", "64500 64506", VerifyOptions{}, ASPAInvalid},
		{"upstream: AS0 ASPA origin alone is valid", "64506", VerifyOptions{}, ASPAValid},

		// Downstream.
		{"downstream: one AS is valid", "64500", VerifyOptions{Downstream: true}, ASPAValid},
		{"downstream: two ASes are valid even Not Provider+", "64502 64500", VerifyOptions{Downstream: true}, ASPAValid},
		{"downstream: pure up-ramp is valid", "64510 64501 64500", VerifyOptions{Downstream: true}, ASPAValid},
		// O -> P (up), P -- Y peer at the apex, Y -> X and X -> ... down: X's provider is Y.
		{"downstream: up, apex peering, down is valid", "64502 64503 64501 64500", VerifyOptions{Downstream: true}, ASPAValid},
		{"downstream: pure down-ramp is valid", "64502 64503 64511", VerifyOptions{Downstream: true}, ASPAValid},
		// O -> P up; P -> X is not P's provider (Not Provider+) and X -> Y is X's
		// provider: route went up again after going down = valley (leak by X).
		{"downstream: valley is invalid", "64504 64503 64502 64501 64500", VerifyOptions{Downstream: true}, ASPAInvalid},
		// P's ASPA and Y's ASPA both exclude 64505: it is proven to be a customer of
		// both, so the route went down and up again = invalid even without its ASPA.
		{"downstream: valley through an AS without ASPA is invalid", "64504 64503 64505 64501 64500", VerifyOptions{Downstream: true}, ASPAInvalid},
		// Up O -> P, then 64505 and 64508 (no ASPAs): no proof of a valley = unknown.
		{"downstream: unattested middle is unknown", "64508 64505 64501 64500", VerifyOptions{Downstream: true}, ASPAUnknown},
		{"downstream: origin without ASPA on a short up-ramp is unknown", "64502 64503 64505 64511", VerifyOptions{Downstream: true}, ASPAUnknown},
		{"downstream: AS0 origin going up is invalid", "64504 64503 64501 64506", VerifyOptions{Downstream: true}, ASPAInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseASPath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got := tb.VerifyPath(p, tc.opt)
			if got.State != tc.want {
				t.Errorf("VerifyPath(%q, %+v) = %s (%s), want %s", tc.path, tc.opt, got.State, got.Reason, tc.want)
			}
			if got.Reason == "" {
				t.Errorf("no reason")
			}
		})
	}
}

func TestHopCheckPerAFI(t *testing.T) {
	b := NewBuilder(Options{})
	b.AddASPA(64500, []routing.ASN{64496}, nil, 0)
	b.AddASPA(64500, nil, []routing.ASN{64497}, 0)
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		prov routing.ASN
		afi  int
		want Hop
	}{
		{64496, 4, ProviderPlus}, {64496, 6, NotProviderPlus}, {64497, 6, ProviderPlus},
		{64497, 4, NotProviderPlus}, {64497, 0, ProviderPlus}, {64498, 0, NotProviderPlus},
	}
	for _, c := range cases {
		if got := tb.HopCheck(64500, c.prov, c.afi); got != c.want {
			t.Errorf("HopCheck(64500, %d, afi %d) = %s, want %s", c.prov, c.afi, got, c.want)
		}
	}
	if got := tb.HopCheck(64499, 64496, 4); got != NoAttestation {
		t.Errorf("no ASPA: %s", got)
	}
}

func TestParseASPath(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"64500 64501", "64500 64501", false},
		{"AS64500,AS64501  as64502", "64500 64501 64502", false},
		{"64500 {64501,64502}", "64500 {64501,64502}", false},
		{"64500 {64501", "", true},
		{"64500 x", "", true},
		{"64500 4294967296", "", true},
		{"", "", false},
	}
	for _, c := range cases {
		p, err := ParseASPath(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseASPath(%q) err = %v", c.in, err)
			continue
		}
		if err == nil && p.String() != c.want {
			t.Errorf("ParseASPath(%q) = %q, want %q", c.in, p.String(), c.want)
		}
	}
}

func FuzzParseASPath(f *testing.F) {
	for _, s := range []string{"64500 64501", "AS1,{2,3} 4", "{", "}{,"} {
		f.Add(s)
	}
	tb := &Table{aspas: map[routing.ASN]ASPA{1: {Customer: 1, IPv4: []routing.ASN{2}, IPv6: []routing.ASN{2}}}}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseASPath(s)
		if err != nil {
			return
		}
		q, err := ParseASPath(p.String())
		if err != nil || q.String() != p.String() {
			t.Fatalf("round trip %q -> %q -> %q (%v)", s, p.String(), q.String(), err)
		}
		for _, down := range []bool{false, true} {
			tb.VerifyPath(p, VerifyOptions{Downstream: down})
		}
	})
}
