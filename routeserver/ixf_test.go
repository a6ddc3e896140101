package routeserver

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestIXFRealExports reads the BCIX and GR-IX exports and compares every member with a
// plain walk of the same JSON (generic maps, nothing shared with DecodeIXF).
func TestIXFRealExports(t *testing.T) {
	for _, name := range []string{"bcix.json", "gr-ix.json"} {
		path := peer.SharedData(t, "peeringdb/ixf-member-export/"+name)
		got, err := LoadIXF(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		type plain struct {
			addrs []string
			sets  []string
			mp4   int
			mp6   int
		}
		want := map[uint32]*plain{}
		for _, m := range doc["member_list"].([]any) {
			mm := m.(map[string]any)
			asn := uint32(mm["asnum"].(float64))
			p := want[asn]
			if p == nil {
				p = &plain{}
				want[asn] = p
			}
			for _, c := range mm["connection_list"].([]any) {
				for _, v := range c.(map[string]any)["vlan_list"].([]any) {
					for fam, key := range map[int]string{4: "ipv4", 6: "ipv6"} {
						f, ok := v.(map[string]any)[key].(map[string]any)
						if !ok {
							continue
						}
						if a, ok := f["address"].(string); ok && !slices.Contains(p.addrs, a) {
							p.addrs = append(p.addrs, a)
						}
						if s, ok := f["as_macro"].(string); ok && s != "" && !slices.Contains(p.sets, s) {
							p.sets = append(p.sets, s)
						}
						if n, ok := f["max_prefix"].(float64); ok {
							if fam == 4 {
								p.mp4 = max(p.mp4, int(n))
							} else {
								p.mp6 = max(p.mp6, int(n))
							}
						}
					}
				}
			}
		}
		if len(got) != len(want) || len(got) < 20 {
			t.Fatalf("%s: %d members, plain walk %d", name, len(got), len(want))
		}
		for _, g := range got {
			w := want[uint32(g.ASN)]
			var addrs []string
			for _, a := range g.Addresses {
				addrs = append(addrs, a.String())
			}
			slices.Sort(addrs)
			slices.SortFunc(w.addrs, func(a, b string) int {
				return netip.MustParseAddr(a).Compare(netip.MustParseAddr(b))
			})
			var wantAddrs []string
			for _, a := range w.addrs {
				wantAddrs = append(wantAddrs, netip.MustParseAddr(a).String())
			}
			slices.Sort(wantAddrs)
			var sets []string
			for _, s := range w.sets {
				if config.ValidSetName(s) {
					sets = append(sets, s)
				}
			}
			if !slices.Equal(addrs, wantAddrs) || !slices.Equal(g.ASSets, sets) || g.MaxPrefix4 != w.mp4 || g.MaxPrefix6 != w.mp6 {
				t.Errorf("%s %s: got %v %v %d/%d, plain %v %v %d/%d", name, g.ASN, addrs, g.ASSets, g.MaxPrefix4, g.MaxPrefix6, wantAddrs, sets, w.mp4, w.mp6)
			}
		}
	}
}

func TestIXFErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"version":"0.6"}`, `{"member_list":[{"asnum":0}]}`,
		`{"member_list":[{"asnum":64496,"connection_list":[{"vlan_list":[{"ipv4":{"max_prefix":-1}}]}]}]}`} {
		if _, err := DecodeIXF(strings.NewReader(in)); !errors.Is(err, ErrIXF) {
			t.Errorf("%q: %v, want ErrIXF", in, err)
		}
	}
	ms, err := DecodeIXF(strings.NewReader(`{"member_list":[{"asnum":64496,"connection_list":[{"vlan_list":[
		{"ipv4":{"address":"2001:db8::1","as_macro":"not a set!"}},{"ipv6":{"address":"x"}},{"ipv4":{"address":"192.0.2.1","as_macro":"AS-FOO"}}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || len(ms[0].Addresses) != 1 || len(ms[0].Notes) != 3 || !slices.Equal(ms[0].ASSets, []string{"AS-FOO"}) {
		t.Errorf("got %+v", ms)
	}
}

func TestAddIXFMembers(t *testing.T) {
	cfg, err := config.Load("../examples/route-server.yml")
	if err != nil {
		t.Fatal(err)
	}
	ms := []IXFMember{
		{ASN: 64496, Addresses: []netip.Addr{netip.MustParseAddr("192.0.2.200")}},                                             // in the config
		{ASN: 64499, Addresses: []netip.Addr{netip.MustParseAddr("192.0.2.199")}, ASSets: []string{"AS64499"}, MaxPrefix4: 7}, // new
		{ASN: 64500}, // no address
	}
	notes := AddIXFMembers(cfg, ms)
	if len(cfg.Members) != 3 || cfg.Members[2].Name != "AS64499" || cfg.Members[2].Knobs.MaxPrefix.IPv4 != 7 || cfg.Members[2].ASSetFrom != "ixf" {
		t.Fatalf("members %+v", cfg.Members)
	}
	if len(notes) != 2 {
		t.Errorf("notes %q", notes)
	}
	if cfg.Members[0].Addresses[0] != netip.MustParseAddr("192.0.2.101") {
		t.Error("the config's member was replaced")
	}
}

func FuzzDecodeIXF(f *testing.F) {
	f.Add([]byte(`{"member_list":[{"asnum":64496,"connection_list":[{"vlan_list":[{"ipv4":{"address":"192.0.2.1","as_macro":"AS-FOO","max_prefix":10}}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := DecodeIXF(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.ASN == 0 || m.MaxPrefix4 < 0 || m.MaxPrefix6 < 0 {
				t.Fatalf("accepted %+v", m)
			}
			for _, a := range m.Addresses {
				if !a.IsValid() || a.Zone() != "" {
					t.Fatalf("address %v", a)
				}
			}
			for _, s := range m.ASSets {
				if !config.ValidSetName(s) {
					t.Fatalf("set %q", s)
				}
			}
		}
	})
}
