package rpki

import (
	"testing"
)

// Valid JSON in shapes the relying parties do not write but JSON allows.
func TestParseJSONShapes(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		vrps   string // first VRP
		n      int
		aspas  int
		format string
	}{
		{"whitespace and key order", " \r\n{ \"roas\" :\t[ { \"ta\":\"x\" , \"maxLength\" : 24 ,\"prefix\":\"192.0.2.0/24\",\"asn\":64496 } ] }\n",
			"192.0.2.0/24-24 AS64496 (x)", 1, 0, "json"},
		{"unknown nested members are skipped", `{"x":{"a":[1,{"b":"]}"}],"c":null},"roas":[{"asn":1,"prefix":"192.0.2.0/24","maxLength":24,"extra":{"k":[true,false,-1.5e3]},"ta":"t"}]}`,
			"192.0.2.0/24-24 AS1 (t)", 1, 0, "json"},
		{"escaped strings", `{"roas":[{"asn":"AS1","prefix":"192.0.2.0\/24","maxLength":24,"ta":"a\"b\u00e9"}]}`,
			"192.0.2.0/24-24 AS1 (a\"bé)", 1, 0, "json"},
		{"integral float maxLength, string ASN without AS", `{"roas":[{"asn":"64496","prefix":"2001:db8::/32","maxLength":4.8e1}]}`,
			"2001:db8::/32-48 AS64496", 1, 0, "json"},
		{"missing maxLength means the prefix length", `{"roas":[{"asn":1,"prefix":"198.51.100.0/22"}]}`,
			"198.51.100.0/22-22 AS1", 1, 0, "json"},
		{"null members", `{"metadata":null,"roas":null,"aspas":null,"provider_authorizations":null}`, "", 0, 0, "json"},
		{"routinator aspas", `{"aspas":[{"customer":"AS64496","providers":["AS64497","AS64498"]}]}`, "", 0, 1, "json"},
		{"rpki-client metadata", `{"metadata":{"buildtime":"2026-01-02T03:04:05Z","elapsedtime":"478"},"roas":[]}`, "", 0, 0, "rpki-client-json"},
		{"BOM", "\ufeff{\"roas\":[]}", "", 0, 0, "json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// AllowEmpty: the empty shapes are about parsing here; the refusal of
			// empty input without it is TestEmptyInputRefused.
			tb, err := Parse([]byte(c.in), c.name, Options{AllowEmpty: true})
			if err != nil {
				t.Fatal(err)
			}
			v := tb.VRPs()
			if len(v) != c.n || len(tb.ASPAs()) != c.aspas || tb.Metadata().Format != c.format {
				t.Fatalf("got %d VRPs %v, %d ASPAs, format %s", len(v), v, len(tb.ASPAs()), tb.Metadata().Format)
			}
			if c.n > 0 && v[0].String() != c.vrps {
				t.Errorf("VRP %q, want %q", v[0].String(), c.vrps)
			}
		})
	}
}
