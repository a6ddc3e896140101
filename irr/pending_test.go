package irr

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// heldRoutesDB writes a registry whose plain route objects (the fast path's) repeat
// prefixes and origins: within a flush, across flushes, replacing a multi-origin
// object and a route with member-of (both indexed by the general path), in two
// sources and both families, with other objects between them.
func heldRoutesDB(t *testing.T, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	plain := func(b *strings.Builder, p string, origin int, src string) {
		class := "route:          "
		if strings.Contains(p, ":") {
			class = "route6:         "
		}
		fmt.Fprintf(b, "%s%s\norigin:         AS%d\nsource:         %s\n\n", class, p, origin, src)
	}
	var b strings.Builder
	b.WriteString("as-set:         AS-HELD\nmembers:        AS64496, AS64497\nsource:         TEST\n\n")
	b.WriteString("route:          192.0.2.0/24\norigin:         AS64496\norigin:         AS64497\nsource:         TEST\n\n")
	b.WriteString("route:          198.51.100.0/24\norigin:         AS64498\nmember-of:      RS-HELD\nmnt-by:         M\nsource:         TEST\n\n")
	for i := range 3000 {
		p := fmt.Sprintf("10.%d.%d.0/24", r.IntN(4), r.IntN(40))
		if r.IntN(8) == 0 {
			p = fmt.Sprintf("2001:db8:%x::/48", r.IntN(30))
		}
		src := "TEST"
		if r.IntN(5) == 0 {
			src = "ALT"
		}
		plain(&b, p, 64496+r.IntN(6), src)
		switch i % 500 {
		case 100:
			plain(&b, "192.0.2.0/24", 64497, "TEST") // replaces the multi-origin object
		case 200:
			plain(&b, "198.51.100.0/24", 64498, "TEST") // replaces the member-of route
		case 300:
			b.WriteString("aut-num:        AS64496\nmember-of:      AS-HELD\nmnt-by:         M\nsource:         TEST\n\n")
		case 400:
			b.WriteString("route:          10.0.0.0/24\norigin:         AS64496\norigin:         AS64499\nsource:         TEST\n\n")
		}
	}
	path := filepath.Join(t.TempDir(), "held.db")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHeldRoutesMatchSerial: with every bound on the held routes (one route, a few,
// more than the file has) and chunk size, the parallel load, which holds plain routes
// back and appends them an origin at a time, equals the serial load, which indexes
// every object as it comes; on a registry where many held routes replace others (so
// flushes take the one-by-one path) and one where none does.
func TestHeldRoutesMatchSerial(t *testing.T) {
	defer func(n int) { pendingMax = n }(pendingMax)
	paths := []string{heldRoutesDB(t, 1), heldRoutesDB(t, 2)}
	distinct := filepath.Join(t.TempDir(), "distinct.db")
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "route:          10.%d.%d.0/24\norigin:         AS%d\nsource:         TEST\n\n", i/256, i%256, 64496+i%7)
	}
	if err := os.WriteFile(distinct, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{1, 7, 500, 1 << 18} {
		pendingMax = max
		for _, chunk := range []int{0, 4096} {
			for _, p := range append(paths, distinct) {
				loadBoth(t, []string{p}, LoadOptions{}, chunk)
			}
			loadBoth(t, append(paths, distinct), LoadOptions{}, chunk)
		}
	}
}

// TestAppendGroups: the grouped append takes routes that repeat nothing, and declines
// (changing nothing) a batch with a repeated prefix and origin or one already indexed.
func TestAppendGroups(t *testing.T) {
	ix := NewIndex()
	s := ix.source("TEST", true)
	srcs := []*source{s}
	route := func(p string, origin int) pendRoute {
		k, ok := parseV4Fast([]byte(p))
		if !ok {
			t.Fatalf("parseV4Fast(%q)", p)
		}
		return pendRoute{rk: routeKey{p: k, origin: routing.ASN(origin)}}
	}
	batch := []pendRoute{route("192.0.2.0/24", 1), route("198.51.100.0/24", 2), route("203.0.113.0/24", 1)}
	if !ix.appendGroups(batch, srcs) || s.nroutes[0] != 3 || len(s.origin[0]) != 2 || len(s.origin[0][1].keys) != 2 {
		t.Fatalf("distinct routes: %d routes, %d origins", s.nroutes[0], len(s.origin[0]))
	}
	if s.origin[0][1].keys[0] != batch[0].rk.p || s.origin[0][1].keys[1] != batch[2].rk.p {
		t.Error("an origin's routes are not in file order")
	}
	for _, bad := range [][]pendRoute{
		{route("192.0.2.0/25", 3), route("192.0.2.0/25", 3)},
		{route("192.0.2.0/25", 3), route("192.0.2.0/24", 1)},
	} {
		if ix.appendGroups(bad, srcs) || s.nroutes[0] != 3 || len(s.origin[0]) != 2 {
			t.Errorf("batch %v: taken or changed the index (%d routes, %d origins)", bad, s.nroutes[0], len(s.origin[0]))
		}
	}
	many := make([]pendRoute, 0, 100)
	for i := range 100 {
		many = append(many, route(fmt.Sprintf("10.0.%d.0/24", i), 9))
	}
	many = append(many, route("10.0.5.0/24", 9))
	if ix.appendGroups(many, srcs) {
		t.Error("a group of 101 with a repeated prefix was taken")
	}
	if !ix.appendGroups(many[:100], srcs) || len(s.origin[0][9].keys) != 100 || s.origin[0][9].find(many[50].rk.p) != 50 {
		t.Error("a group of 100 distinct routes was not appended in order")
	}
}

// TestRadixOrder: the order is sorted by group key and stable.
func TestRadixOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	p := make([]pendRoute, 5000)
	for i := range p {
		p[i] = pendRoute{rk: routeKey{origin: routing.ASN(r.IntN(300) << (8 * r.IntN(3)))}, src: uint16(r.IntN(3))}
		p[i].rk.p.V6 = r.IntN(2) == 0
	}
	order := radixOrder(p)
	for i := 1; i < len(order); i++ {
		a, b := groupKey(&p[order[i-1]]), groupKey(&p[order[i]])
		if a > b || a == b && order[i-1] > order[i] {
			t.Fatalf("position %d: key %x (index %d) before %x (index %d)", i, a, order[i-1], b, order[i])
		}
	}
}
