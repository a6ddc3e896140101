package peeringdb

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestLoadRealPages reads the two real anonymous net pages and compares every record
// with a plain decode of the same files into generic maps.
func TestLoadRealPages(t *testing.T) {
	paths := []string{peer.SharedData(t, "peeringdb/peeringdb-api/net.page-1.prod.json.gz"),
		peer.SharedData(t, "peeringdb/peeringdb-api/net.page-2.prod.json.gz")}
	got, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	want := map[routing.ASN]map[string]any{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var page struct{ Data []map[string]any }
		if err := json.NewDecoder(zr).Decode(&page); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, n := range page.Data {
			want[routing.ASN(n["asn"].(float64))] = n
		}
	}
	if len(got) != len(want) || len(got) < 400 {
		t.Fatalf("%d networks, plain decode %d", len(got), len(want))
	}
	never := 0
	for a, w := range want {
		g := got[a]
		if g.IRRASSet != w["irr_as_set"] || g.NeverViaRS != w["info_never_via_route_servers"] ||
			float64(g.Prefixes4) != num(w["info_prefixes4"]) || float64(g.Prefixes6) != num(w["info_prefixes6"]) || g.Name != w["name"] {
			t.Errorf("AS%d: got %+v, plain %v", a, g, w)
		}
		if g.NeverViaRS {
			never++
		}
	}
	if never == 0 {
		t.Error("no network with info_never_via_route_servers: the sample has some")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"meta":{}}`, `{"data":[{"asn":0}]}`, `{"data":[{"asn":"x"}]}`, `{"data":[{"asn":1,"info_prefixes4":-1}]}`} {
		if _, err := Decode(strings.NewReader(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: err %v, want ErrFormat", in, err)
		}
	}
	if _, err := Load([]string{"/nonexistent/net.json"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/net.json") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"data":[{"asn":64496,"irr_as_set":"AS-X","info_prefixes4":10,"info_never_via_route_servers":true}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		nets, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, n := range nets {
			if n.ASN == 0 || n.Prefixes4 < 0 || n.Prefixes6 < 0 {
				t.Fatalf("accepted %+v", n)
			}
		}
	})
}

// num is a JSON number, or 0 for null (PeeringDB leaves unknown counts null).
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestDecodeReportFields: the fields the MANRS report shows come from the one loader:
// website, policy_url, and the poc_set count as Contacts (a "contacts" key in the page
// is not PeeringDB's and is ignored).
func TestDecodeReportFields(t *testing.T) {
	nets, err := Decode(strings.NewReader(`{"data": [
		{"asn": 64496, "name": "Example", "website": "https://example.net", "policy_url": "https://example.net/peering",
		 "contacts": 99, "poc_set": [{"role": "NOC"}, {"role": "Policy"}]},
		{"asn": 64497, "name": "Ids", "poc_set": [1, 2, 3]},
		{"asn": 64498, "name": "Anonymous"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Net{
		{ASN: 64496, Name: "Example", Website: "https://example.net", PolicyURL: "https://example.net/peering", Contacts: 2},
		{ASN: 64497, Name: "Ids", Contacts: 3},
		{ASN: 64498, Name: "Anonymous"},
	}
	if len(nets) != len(want) {
		t.Fatalf("got %d nets, want %d", len(nets), len(want))
	}
	for i := range want {
		if nets[i] != want[i] {
			t.Errorf("net %d = %+v, want %+v", i, nets[i], want[i])
		}
	}
}
