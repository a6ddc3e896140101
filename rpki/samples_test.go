package rpki

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Expected counts were computed independently with Python's json/csv modules
// (unique (prefix, maxLength, asn, ta) tuples) on the shared samples.
func TestFormatSamples(t *testing.T) {
	cases := []struct {
		file       string
		format     string
		v4, v6     int
		aspas      int
		spotPrefix string
		spotASN    routing.ASN
	}{
		{"roa_test.rpkiclient2021_json", "rpki-client-json", 22, 48, 0, "1.0.0.0/24", 13335},
		{"roa_test.rpkiclient2023_json", "rpki-client-json", 8, 371, 2, "1.0.0.0/24", 13335},
		{"roa_test.routinator_jsonext", "json", 1, 1, 0, "2c0f:fff0::/32", 37125},
		{"stayrtr.cmd.test.rpki.json", "rpki-client-json", 5, 14, 2, "192.0.2.0/24", 1},
		{"arouteserver.octorpki-validity.json", "json", 1, 0, 0, "98.147.0.0/16", 20001},
		{"arouteserver.rpki-client-expired.json", "rpki-client-json", 1, 0, 0, "1.0.0.0/24", 13335},
		{"routinator.csv.gz", "routinator-csv", 9999, 0, 0, "1.0.0.0/24", 13335},
		{"rpki-client.csv.gz", "rpki-client-csv", 9999, 0, 0, "1.0.0.0/24", 13335},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := peer.SharedData(t, "rpki/format-samples/"+c.file)
			tb, err := LoadFile(context.Background(), path, Options{IgnoreExpiry: true})
			if err != nil {
				t.Fatal(err)
			}
			v4, v6 := tb.Len()
			if v4 != c.v4 || v6 != c.v6 || len(tb.ASPAs()) != c.aspas || tb.Metadata().Format != c.format {
				t.Errorf("got %d+%d VRPs, %d ASPAs, format %s; want %d+%d, %d, %s",
					v4, v6, len(tb.ASPAs()), tb.Metadata().Format, c.v4, c.v6, c.aspas, c.format)
			}
			if st := tb.State(netip.MustParsePrefix(c.spotPrefix), c.spotASN); st != routing.Valid {
				t.Errorf("%s AS%d = %s, want valid", c.spotPrefix, c.spotASN, st)
			}
		})
	}
}

func TestRoutinatorJSONExtTA(t *testing.T) {
	path := peer.SharedData(t, "rpki/format-samples/roa_test.routinator_jsonext")
	tb, err := LoadFile(context.Background(), path, Options{IgnoreExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	// jsonext has no "ta"; it comes from source[0].tal. generatedTime is the build time.
	if got := tb.CountByTA(); got["apnic"] != 1 || got["afrinic"] != 1 {
		t.Errorf("CountByTA = %v", got)
	}
	if bt := tb.Metadata().BuildTime.Format(time.RFC3339); bt != "2025-03-09T21:45:54Z" {
		t.Errorf("build time %s", bt)
	}
}

func TestOctoRPKITAAllowList(t *testing.T) {
	path := peer.SharedData(t, "rpki/format-samples/arouteserver.octorpki-validity.json")
	// "tals/ARIN-Pilot.tal" matches the allow-list entry "arin-pilot".
	tb, err := LoadFile(context.Background(), path, Options{IgnoreExpiry: true, TrustAnchors: []string{"ARIN-Pilot"}})
	if err != nil {
		t.Fatal(err)
	}
	if v4, _ := tb.Len(); v4 != 1 {
		t.Errorf("allow-list dropped the VRP")
	}
}

func TestPrepdevPerAFIASPA(t *testing.T) {
	path := peer.SharedData(t, "rpki/rpki-client_ripe-prepdev_20230504.json.gz")
	tb, err := LoadFile(context.Background(), path, Options{IgnoreExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	if v4, v6 := tb.Len(); v4+v6 != 424223 {
		t.Errorf("VRPs = %d, want 424223", v4+v6)
	}
	if n := len(tb.ASPAs()); n != 6647 {
		t.Errorf("ASPAs = %d, want 6647", n)
	}
	a, ok := tb.ASPA(28)
	if !ok || !slices.Equal(a.IPv4, []routing.ASN{41881, 61036, 204096}) || !slices.Equal(a.IPv6, []routing.ASN{57485, 60637, 204096, 210051}) {
		t.Errorf("ASPA AS28 = %+v", a)
	}
	if h := tb.HopCheck(28, 41881, 4); h != ProviderPlus {
		t.Errorf("AS28 -> AS41881 IPv4 = %s", h)
	}
	if h := tb.HopCheck(28, 41881, 6); h != NotProviderPlus {
		t.Errorf("AS28 -> AS41881 IPv6 = %s", h)
	}
}

func TestSLURM(t *testing.T) {
	slurm := `{
  "slurmVersion": 1,
  "validationOutputFilters": {
    "prefixFilters": [
      { "prefix": "192.0.2.0/24", "comment": "all VRPs in 192.0.2.0/24" },
      { "asn": 64499, "comment": "every VRP of AS64499" },
      { "prefix": "203.0.113.0/24", "asn": 64498, "comment": "prefix and ASN" }
    ],
    "bgpsecFilters": [ { "asn": 64496 } ]
  },
  "locallyAddedAssertions": {
    "prefixAssertions": [
      { "asn": 64496, "prefix": "198.51.100.0/24", "comment": "my route" },
      { "asn": 64496, "prefix": "2001:DB8:1::/48", "maxPrefixLength": 56 }
    ],
    "bgpsecAssertions": []
  }
}`
	s, err := ParseSLURM(strings.NewReader(slurm))
	if err != nil {
		t.Fatal(err)
	}
	// ASPA exceptions can only be given in code (ParseSLURM refuses the draft's
	// members): check that Build applies them.
	s.ASPAFilters = []routing.ASN{64496}
	s.ASPAAssertions = []ASPA{{Customer: 64505, IPv4: []routing.ASN{64496, 64510}, IPv6: []routing.ASN{64496, 64510}}}
	tb := loadFixture(t, Options{SLURM: s})
	cases := []struct {
		prefix string
		origin routing.ASN
		want   routing.ROVState
	}{
		{"192.0.2.0/24", 64496, routing.NotFound},
		{"203.0.113.128/25", 64498, routing.Invalid},
		{"2001:db8:ff00::/40", 64499, routing.Invalid},
		{"198.51.100.0/24", 64496, routing.Valid},
		{"2001:db8:1:ff00::/56", 64496, routing.Valid},
	}
	for _, c := range cases {
		if st := tb.State(netip.MustParsePrefix(c.prefix), c.origin); st != c.want {
			t.Errorf("%s AS%d = %s, want %s", c.prefix, c.origin, st, c.want)
		}
	}
	if _, ok := tb.ASPA(64496); ok {
		t.Errorf("ASPA 64496 not filtered")
	}
	if a, ok := tb.ASPA(64505); !ok || !slices.Equal(a.Providers(), []routing.ASN{64496, 64510}) {
		t.Errorf("ASPA assertion = %+v", a)
	}
	md := tb.Metadata()
	// Filtered: 2 VRPs at 192.0.2.0/24, AS64499's, 203.0.113.128/25 AS64498, ASPA 64496.
	if md.FilteredSLURM != 5 || md.AddedSLURM != 3 {
		t.Errorf("SLURM counts: filtered %d, added %d; want 5, 3", md.FilteredSLURM, md.AddedSLURM)
	}
	if got := tb.CountByTA()[SLURMTA]; got != 2 {
		t.Errorf("slurm VRPs = %d", got)
	}

	// The shared StayRTR SLURM example says "slurmVersion": 2 (with only RFC 8416
	// members): refused, with a message that says what to do (issue 12 item 12).
	path := peer.SharedData(t, "rpki/format-samples/stayrtr.slurm.json")
	if _, err := LoadSLURM(path); err == nil || !strings.Contains(err.Error(), "slurmVersion 2") || !strings.Contains(err.Error(), `"slurmVersion": 1`) {
		t.Errorf("stayrtr slurm (version 2): err = %v, want a refusal of version 2", err)
	}
}

func TestSLURMErrors(t *testing.T) {
	cases := []struct{ name, in string }{
		{"no version", `{"validationOutputFilters":{},"locallyAddedAssertions":{}}`},
		{"version 3", `{"slurmVersion":3,"validationOutputFilters":{},"locallyAddedAssertions":{}}`},
		{"missing members", `{"slurmVersion":1}`},
		{"empty filter", `{"slurmVersion":1,"validationOutputFilters":{"prefixFilters":[{"comment":"x"}]},"locallyAddedAssertions":{}}`},
		{"host bits", `{"slurmVersion":1,"validationOutputFilters":{"prefixFilters":[{"prefix":"192.0.2.1/24"}]},"locallyAddedAssertions":{}}`},
		{"assertion without asn", `{"slurmVersion":1,"validationOutputFilters":{},"locallyAddedAssertions":{"prefixAssertions":[{"prefix":"192.0.2.0/24"}]}}`},
		{"maxPrefixLength too short", `{"slurmVersion":1,"validationOutputFilters":{},"locallyAddedAssertions":{"prefixAssertions":[{"asn":1,"prefix":"192.0.2.0/24","maxPrefixLength":23}]}}`},
		{"not json", `slurm`},
		// RFC 8416 defines version 1 only; 2 is the unfinished ASPA SLURM draft.
		{"version 2", `{"slurmVersion":2,"validationOutputFilters":{},"locallyAddedAssertions":{}}`},
		{"version 2 with ASPA", `{"slurmVersion":2,"validationOutputFilters":{"aspaFilters":[{"customerAsid":1}]},"locallyAddedAssertions":{"aspaAssertions":[{"customerAsid":1,"providerSet":[2]}]}}`},
		{"ASPA members in version 1", `{"slurmVersion":1,"validationOutputFilters":{"aspaFilters":[{"customerAsid":1}]},"locallyAddedAssertions":{}}`},
		{"version 0", `{"slurmVersion":0,"validationOutputFilters":{},"locallyAddedAssertions":{}}`},
	}
	for _, c := range cases {
		if _, err := ParseSLURM(strings.NewReader(c.in)); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
