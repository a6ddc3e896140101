package render

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bgpfilter/bgpfilter/policy"
)

// TestSharedCacheSameOutput: the export sets of the example customers, built once and
// shared (policy.ExportDocumentFrom) and rendered through a SharedCache, give every
// vendor's output byte for byte what the per-customer build (policy.ExportDocument,
// rendered with the plain templates, no cache) gives. The reference is the unshared
// path, which never substitutes a name; the renders run concurrently, as generate's
// workers do.
func TestSharedCacheSameOutput(t *testing.T) {
	docs, _ := exampleDocs(t, noOriginBinding)
	// Every customer's export set is the same (own prefixes plus every customer's
	// filter): share the first one's, after checking that premise.
	var sets [2]*policy.ExportSet
	for _, ds := range docs {
		for fi, d := range ds[2:] {
			if sets[fi] == nil {
				sets[fi] = &policy.ExportSet{Family: d.Family, Objects: d.Prefixes.Objects, Entries: d.Prefixes.Entries}
			} else if !reflect.DeepEqual(sets[fi].Entries, d.Prefixes.Entries) || !reflect.DeepEqual(sets[fi].Objects, d.Prefixes.Objects) {
				t.Fatalf("%s: export set differs from another customer's", d.Name)
			}
		}
	}
	if len(sets[0].Entries) == 0 || len(docs) < 2 {
		t.Fatal("the example customers share no IPv4 export entries: the test would not share anything")
	}
	cache := NewSharedCache()
	for _, vendor := range PolicyVendors {
		var wg sync.WaitGroup
		for name, ds := range docs {
			own := []*policy.Document{ds[0], ds[1], policy.ExportDocumentFrom(ds[0], sets[0]), policy.ExportDocumentFrom(ds[1], sets[1])}
			want, err := RenderPolicy(vendor, ds, Options{})
			if err != nil {
				t.Fatalf("%s %s: %v", vendor, name, err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 2 { // the second run is served from the cache
					got, err := RenderPolicy(vendor, own, Options{Shared: cache})
					if err != nil {
						t.Errorf("%s %s shared: %v", vendor, name, err)
						return
					}
					if !bytes.Equal(got.Text, want.Text) {
						t.Errorf("%s %s: shared rendering differs from the plain one:\n%s", vendor, name, firstDiff(want.Text, got.Text))
						return
					}
					if bytes.IndexByte(got.Text, 0) >= 0 {
						t.Errorf("%s %s: the shared name placeholder leaked into the output", vendor, name)
					}
				}
			}()
		}
		wg.Wait()
	}
	if n := len(cache.texts); n != 2*len(PolicyVendors) {
		t.Errorf("%d shared renderings cached, want one per vendor and family (%d)", n, 2*len(PolicyVendors))
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %q\n+ %q", i+1, al[i], bl[i])
		}
	}
	return "lengths differ"
}
