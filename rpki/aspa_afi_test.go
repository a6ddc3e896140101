package rpki

import (
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// perAFITable: AS64500's ASPA lists AS64501 for IPv4 and AS64502 for IPv6;
// AS64503's lists AS64501 for both.
func perAFITable(t *testing.T) *Table {
	t.Helper()
	b := NewBuilder(Options{})
	b.AddASPA(64500, []routing.ASN{64501}, []routing.ASN{64502}, 0)
	b.AddASPA(64503, []routing.ASN{64501}, []routing.ASN{64501}, 0)
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestVerifyPathPerAFI: per-AFI ASPA data is verified per address family. With
// AFI 0 ("either") a path through an ASPA whose lists differ is not verified with
// the union of both lists (which would call 64501 64500 valid for IPv6 too): when
// the two families agree that is the verdict, when they do not the result is
// unknown and says so.
func TestVerifyPathPerAFI(t *testing.T) {
	tb := perAFITable(t)
	path, err := ParseASPath("64501 64500")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		afi  int
		want ASPAState
	}{{4, ASPAValid}, {6, ASPAInvalid}, {0, ASPAUnknown}} {
		v := tb.VerifyPath(path, VerifyOptions{AFI: tc.afi})
		if v.State != tc.want {
			t.Errorf("AFI %d: %s (%s), want %s", tc.afi, v.State, v.Reason, tc.want)
		}
		if tc.afi == 0 && !strings.Contains(v.Reason, "IPv4 valid") || tc.afi == 0 && !strings.Contains(v.Reason, "IPv6 invalid") {
			t.Errorf("AFI 0 reason %q does not give both families' verdicts", v.Reason)
		}
	}
	// Both families agree: the verdict stands with AFI 0.
	agree, _ := ParseASPath("64502 64500 64503")
	if v := tb.VerifyPath(agree, VerifyOptions{AFI: 0}); v.State != ASPAInvalid {
		t.Errorf("64502 64500 64503 with AFI 0: %s (%s), want invalid (AS64503 lists only AS64501 in both)", v.State, v.Reason)
	}
	if v := tb.VerifyPath(agree, VerifyOptions{AFI: 0}); !strings.Contains(v.Reason, "both address families") {
		t.Errorf("reason %q", v.Reason)
	}
}

// TestPerAFIDiffers lists the customers whose ASPA differs between the families, so
// renderers refuse to merge them.
func TestPerAFIDiffers(t *testing.T) {
	tb := perAFITable(t)
	if got := tb.PerAFIDiffers(nil); !slices.Equal(got, []routing.ASN{64500}) {
		t.Errorf("PerAFIDiffers(all) = %v, want [AS64500]", got)
	}
	if got := tb.PerAFIDiffers([]routing.ASN{64503, 64504}); len(got) != 0 {
		t.Errorf("PerAFIDiffers(64503, 64504) = %v, want none", got)
	}
}
