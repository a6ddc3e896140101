package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// TestHTMLConflictsCapped: the HTML page lists at most HTMLConflictsPerKind conflicts
// of each kind and says how many more there are; a kind under the cap is listed whole
// with no "more" line; the JSON report keeps every conflict.
func TestHTMLConflictsCapped(t *testing.T) {
	const many, few = HTMLConflictsPerKind + 234, 3
	rep := &Report{Conflicts: []Conflict{}, Origins: []Origin{}, Contacts: []Contact{}}
	for i := 0; i < many; i++ {
		p := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i)}), 48)
		rep.Conflicts = append(rep.Conflicts, Conflict{Kind: ConflictNeither, Prefix: p, Origin: routing.ASN(64496)})
	}
	for i := 0; i < few; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i * 64)}), 26)
		rep.Conflicts = append(rep.Conflicts, Conflict{Kind: ConflictRouteInvalid, Prefix: p, Origin: routing.ASN(64497)})
	}
	page, err := Render(rep, "html")
	if err != nil {
		t.Fatal(err)
	}
	rows := func(kind string) int { return bytes.Count(page, []byte(`<tr><td class="l">`+kind+`</td>`)) }
	if got := rows(ConflictNeither); got != HTMLConflictsPerKind {
		t.Errorf("%s rows = %d, want %d", ConflictNeither, got, HTMLConflictsPerKind)
	}
	if got := rows(ConflictRouteInvalid); got != few {
		t.Errorf("%s rows = %d, want %d", ConflictRouteInvalid, got, few)
	}
	wantMore := fmt.Sprintf("%s: … and %d more (of %d;", ConflictNeither, many-HTMLConflictsPerKind, many)
	if !strings.Contains(string(page), wantMore) {
		t.Errorf("page lacks %q", wantMore)
	}
	if strings.Count(string(page), `class="more"`) != 1 {
		t.Errorf("want exactly one \"more\" line (the kind under the cap has none)")
	}
	// The first ones are shown: the last listed row is conflict number N-1.
	last := rep.Conflicts[HTMLConflictsPerKind-1].Prefix.String()
	first := rep.Conflicts[HTMLConflictsPerKind].Prefix.String()
	if !bytes.Contains(page, []byte(">"+last+"<")) || bytes.Contains(page, []byte(">"+first+"<")) {
		t.Errorf("the page does not list exactly the first %d conflicts of the kind", HTMLConflictsPerKind)
	}
	js, err := Render(rep, "json")
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ Conflicts []json.RawMessage }
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Conflicts) != many+few {
		t.Errorf("JSON conflicts = %d, want all %d", len(back.Conflicts), many+few)
	}
}
