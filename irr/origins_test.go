package irr

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// TestOriginRoutesModel runs random adds and deletes on one origin list, across the
// switch from linear search to the prefix index, against a map.
func TestOriginRoutesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var o originRoutes
	model := map[pkey]textRef{}
	for step := 0; step < 20000; step++ {
		p, _ := netip.AddrFrom4([4]byte{192, 0, 2, byte(r.IntN(100))}).Prefix(32)
		k := toKey(p)
		i := o.find(k)
		want, inModel := model[k]
		if (i >= 0) != inModel || inModel && o.refs[i] != want {
			t.Fatalf("step %d: find(%v) = %d, model has %v", step, p, i, inModel)
		}
		switch {
		case i >= 0 && r.IntN(2) == 0:
			o.del(i)
			delete(model, k)
		case i < 0:
			ref := textRef{n: uint32(step)}
			o.add(k, ref)
			model[k] = ref
		}
		if len(o.keys) != len(model) || len(o.refs) != len(model) {
			t.Fatalf("step %d: %d keys, %d refs, model %d", step, len(o.keys), len(o.refs), len(model))
		}
		if o.pos != nil && len(o.pos) != len(o.keys) {
			t.Fatalf("step %d: index has %d entries for %d keys", step, len(o.pos), len(o.keys))
		}
	}
	if o.pos == nil {
		t.Fatal("the list never reached the indexed form")
	}
}

// TestManyRoutesOneOrigin adds, replaces and deletes route objects of one origin
// (more than linearMax) through the Index API and checks the answers of every query
// that reads routes.
func TestManyRoutesOneOrigin(t *testing.T) {
	ctx := context.Background()
	const n = 3 * linearMax
	route := func(i int, descr string) string {
		return fmt.Sprintf("route: 198.51.%d.0/24\ndescr: %s\norigin: AS64500\nsource: TEST\n\n", i, descr)
	}
	var text strings.Builder
	text.WriteString("as-set: AS-MANY\nmembers: AS64500\nsource: TEST\n\n")
	for i := 0; i < n; i++ {
		text.WriteString(route(i, "first"))
	}
	for i := 0; i < n; i += 3 { // loaded twice: the later object replaces the first
		text.WriteString(route(i, "second"))
	}
	path := filepath.Join(t.TempDir(), "many.db")
	if err := os.WriteFile(path, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := Load(ctx, []string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Prefix]string{}
	for i := 0; i < n; i++ {
		want[netip.MustParsePrefix(fmt.Sprintf("198.51.%d.0/24", i))] = map[bool]string{true: "second", false: "first"}[i%3 == 0]
	}
	check := func(stage string) {
		t.Helper()
		var wantList []netip.Prefix
		for p := range want {
			wantList = append(wantList, p)
		}
		slices.SortFunc(wantList, routing.ComparePrefix)
		got, found, err := ix.SetPrefixes(ctx, nil, "AS-MANY", false)
		if err != nil || !found || !slices.Equal(got, wantList) {
			t.Fatalf("%s: SetPrefixes = %d prefixes (found %v, err %v), want %d", stage, len(got), found, err, len(wantList))
		}
		routes, err := ix.Routes(ctx, nil, []routing.ASN{64500}, false)
		if err != nil || !slices.Equal(routes[0], wantList) {
			t.Fatalf("%s: Routes = %v, %v", stage, routes, err)
		}
		if st := ix.Stats(); st["route"] != len(want) {
			t.Fatalf("%s: Stats = %v, want %d routes", stage, st, len(want))
		}
		for p, descr := range want {
			objs := ix.Lookup(nil, p.String())
			if len(objs) != 1 || objs[0].Get("descr") != descr {
				t.Fatalf("%s: Lookup(%s) = %d objects, want one with descr %s", stage, p, len(objs), descr)
			}
			if src := ix.RouteSources(p, 64500); !slices.Equal(src, []string{"TEST"}) {
				t.Fatalf("%s: RouteSources(%s) = %v", stage, p, src)
			}
		}
		if rs := ix.FindRoutes(nil, netip.MustParsePrefix("198.51.0.0/16"), AllMoreSpecific); len(rs) != len(want) {
			t.Fatalf("%s: FindRoutes = %d routes, want %d", stage, len(rs), len(want))
		}
	}
	check("after load")

	// Delete every other route, replace some of the rest, then delete all.
	for i := 0; i < n; i += 2 {
		objs := parseObjects(t, route(i, "x"))
		if err := ix.Delete(objs[0]); err != nil {
			t.Fatalf("delete %d: %v", i, err)
		}
		delete(want, netip.MustParsePrefix(fmt.Sprintf("198.51.%d.0/24", i)))
	}
	for i := 1; i < n; i += 4 {
		if err := ix.Add(parseObjects(t, route(i, "third"))[0]); err != nil {
			t.Fatal(err)
		}
		want[netip.MustParsePrefix(fmt.Sprintf("198.51.%d.0/24", i))] = "third"
	}
	check("after deletes and replacements")
	for p := range want {
		if err := ix.Delete(parseObjects(t, fmt.Sprintf("route: %s\norigin: AS64500\nsource: TEST\n", p))[0]); err != nil {
			t.Fatal(err)
		}
	}
	if st := ix.Stats(); st["route"] != 0 {
		t.Fatalf("routes left: %v", st)
	}
	if err := ix.Delete(parseObjects(t, route(1, "gone"))[0]); err == nil {
		t.Fatal("deleting a deleted route succeeded")
	}
	if len(ix.srcs["TEST"].origin[0]) != 0 {
		t.Fatal("origin list left after deleting every route")
	}
}
