package render

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// exportSets returns the shared export sets of docs (exampleDocs' map: import and
// export documents of each customer), after checking that every customer's export
// documents hold the same set, the premise of the shared file.
func exportSets(t testing.TB, docs map[string][]*policy.Document) []*policy.ExportSet {
	t.Helper()
	var sets [2]*policy.ExportSet
	for _, ds := range docs {
		for _, d := range ds {
			if d == nil || d.Direction != policy.Export {
				continue
			}
			fi := d.Family / 6
			if sets[fi] == nil {
				sets[fi] = &policy.ExportSet{Family: d.Family, Objects: d.Prefixes.Objects, Entries: d.Prefixes.Entries}
			} else if !reflect.DeepEqual(sets[fi].Entries, d.Prefixes.Entries) || !reflect.DeepEqual(sets[fi].Objects, d.Prefixes.Objects) {
				t.Fatalf("%s: export set differs from another customer's", d.Name)
			}
		}
	}
	if sets[0] == nil || sets[1] == nil {
		t.Fatal("no export documents")
	}
	return sets[:]
}

// exportText renders the shared export file of docs for vendor (what generate writes
// to _export/VENDOR.conf).
func exportText(t testing.TB, vendor string, docs map[string][]*policy.Document) string {
	t.Helper()
	out, err := RenderExport(vendor, exportSets(t, docs), Options{})
	if err != nil {
		t.Fatalf("%s export set: %v", vendor, err)
	}
	return string(out.Text)
}

// TestRenderExport: the shared export file of every vendor holds each entry of the
// example customers' export set under the fixed names, and the customers' own files
// hold none of the set's entries that are not also in their own lists (they name the
// shared set instead); bad input is refused.
func TestRenderExport(t *testing.T) {
	docs, _ := exampleDocs(t, noOriginBinding)
	sets := exportSets(t, docs)
	if len(sets[0].Entries) < 3 || len(docs) < 2 {
		t.Fatal("the example export set is too small to show anything")
	}
	for _, vendor := range PolicyVendors {
		text := exportText(t, vendor, docs)
		for _, s := range sets {
			name := policy.ExportSetName(s.Family)
			if !strings.Contains(text, name) {
				t.Errorf("%s: no %s in the shared file", vendor, name)
			}
			for _, e := range s.Entries {
				if !strings.Contains(text, e.Prefix.String()) {
					t.Errorf("%s: export entry %s missing from the shared file", vendor, e.PrefixRange)
				}
			}
		}
		for cust, ds := range docs {
			out, err := RenderPolicy(vendor, ds, Options{})
			if err != nil {
				t.Fatal(err)
			}
			own := map[string]bool{}
			for _, d := range ds[:2] {
				for _, e := range d.Prefixes.Entries {
					own[e.Prefix.String()] = true
				}
				for _, b := range d.BogonPrefixes.Entries {
					own[b.Prefix.String()] = true
				}
			}
			n := 0
			for _, s := range sets {
				if !strings.Contains(string(out.Text), policy.ExportSetName(s.Family)) {
					t.Errorf("%s %s: the export policy does not name %s", vendor, cust, policy.ExportSetName(s.Family))
				}
				for _, e := range s.Entries {
					if p := e.Prefix.String(); !own[p] {
						n++
						if strings.Contains(string(out.Text), p) {
							t.Errorf("%s %s: the customer's file holds export entry %s (a copy of the shared set)", vendor, cust, p)
						}
					}
				}
			}
			if n == 0 {
				t.Errorf("%s %s: every export entry is the customer's own: the test shows nothing", vendor, cust)
			}
		}
	}

	// An empty set renders (nothing is announced) with a warning; bad sets are refused.
	for _, vendor := range PolicyVendors {
		out, err := RenderExport(vendor, []*policy.ExportSet{{Family: 4}, sets[1]}, Options{})
		if err != nil {
			t.Fatalf("%s empty set: %v", vendor, err)
		}
		if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "empty IPv4 export set") {
			t.Errorf("%s empty set: warnings %q", vendor, out.Warnings)
		}
		v6in4 := &policy.ExportSet{Family: 4, Entries: []policy.Entry{{PrefixRange: routing.PrefixRange{Prefix: mustPrefix("2001:db8::/32"), Min: 32, Max: 32}}}}
		for what, bad := range map[string][]*policy.ExportSet{
			"family 5": {{Family: 5}}, "IPv4 twice": {sets[0], sets[0]}, "IPv6 entry in IPv4": {v6in4}, "none": {nil},
		} {
			if _, err := RenderExport(vendor, bad, Options{}); err == nil {
				t.Errorf("%s: %s: rendered", vendor, what)
			}
		}
	}
	// An export document that names another set than the shared one is refused: its
	// policy would match an object no file defines.
	ds := docs["cust_one"]
	odd := *ds[2]
	odd.Prefixes.Name = "cust_one_OUT_PFX_V4"
	if _, err := RenderPolicy("bird", []*policy.Document{ds[0], ds[1], &odd, ds[3]}, Options{}); err == nil || !strings.Contains(err.Error(), policy.ExportSetName(4)) {
		t.Errorf("an export document with its own set name: %v", err)
	}
}

// liveExport renders the shared export file of the live tests' sessions for vendor.
func liveExport(t testing.TB, vendor string, sessions map[string]*policy.SessionDocuments) string {
	t.Helper()
	docs := map[string][]*policy.Document{}
	for name, d := range sessions {
		docs[name] = []*policy.Document{d.Import4, d.Import6, d.Export4, d.Export6}
	}
	return exportText(t, vendor, docs)
}

// liveExportFile writes liveExport to DIR/_export/VENDOR.conf, where generate puts
// it, and returns the path.
func liveExportFile(t testing.TB, dir, vendor string, sessions map[string]*policy.SessionDocuments) string {
	t.Helper()
	p := filepath.Join(dir, "_export", vendor+".conf")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(liveExport(t, vendor, sessions)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
