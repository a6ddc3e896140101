package irr

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/routing"
)

// countingQuerier counts the Members questions per source list and upper-case name.
type countingQuerier struct {
	Querier
	mu sync.Mutex
	n  map[string]int
}

func (c *countingQuerier) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	c.mu.Lock()
	c.n[strings.Join(sources, ",")+"|"+strings.ToUpper(name)]++
	c.mu.Unlock()
	return c.Querier.Members(ctx, sources, name, recursive)
}

// allSetNames returns every as-set and route-set name of ix, sorted.
func allSetNames(ix *Index) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var names []string
	for _, s := range ix.srcs {
		for _, set := range s.sets {
			names = append(names, set.name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// checkMemoSame expands every root list with a plain Resolver and, concurrently from
// several goroutines, with Resolvers sharing one SetMemo; the Expansions (and errors)
// must be identical, field for field, and the memo must have asked each set once.
func checkMemoSame(t *testing.T, ix *Index, sources []string, roots [][]string) {
	t.Helper()
	ctx := context.Background()
	plain := &Resolver{Q: ix, Sources: sources, MaxDepth: 1000}
	cq := &countingQuerier{Querier: ix, n: map[string]int{}}
	memo := NewSetMemo()
	got := make([]*Expansion, len(roots))
	gotErr := make([]error, len(roots))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &Resolver{Q: cq, Sources: sources, MaxDepth: 1000, Memo: memo}
			for i := int(next.Add(1) - 1); i < len(roots); i = int(next.Add(1) - 1) {
				got[i], gotErr[i] = r.Expand(ctx, roots[i]...)
			}
		}()
	}
	wg.Wait()
	compared := 0
	for i, root := range roots {
		want, err := plain.Expand(ctx, root...)
		if fmt.Sprint(err) != fmt.Sprint(gotErr[i]) {
			t.Fatalf("%v: error %v without memo, %v with", root, err, gotErr[i])
		}
		if !reflect.DeepEqual(want, got[i]) {
			t.Fatalf("%v: the memoized expansion differs (-plain +memo):\n%s", root, cmp.Diff(want, got[i],
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })))
		}
		if want != nil {
			compared++
		}
	}
	for k, n := range cq.n {
		if n != 1 {
			t.Fatalf("the memo asked %s %d times", k, n)
		}
	}
	if compared == 0 || len(cq.n) == 0 {
		t.Fatalf("nothing was expanded (%d roots)", len(roots))
	}
}

// TestSetMemoSameExpansionFixtures: every set of the edge fixtures (loops, missing
// members, malformed members, range operators on sets and ASNs, SOURCE:: roots),
// alone, with its source prefix and in pairs, in both source orders.
func TestSetMemoSameExpansionFixtures(t *testing.T) {
	ix := loadEdge(t)
	names := allSetNames(ix)
	var roots [][]string
	for i, n := range names {
		roots = append(roots, []string{n}, []string{"EDGE::" + n}, []string{n, names[(i+3)%len(names)]},
			[]string{n, "AS64496", "192.0.2.0/24^+"})
	}
	for _, sources := range [][]string{nil, {"EDGE"}, {"EDGE", "ALT"}, {"ALT", "EDGE"}} {
		checkMemoSame(t, ix, sources, roots)
	}
}

// TestSetMemoSameExpansionRIPE: every 40th set of the real RIPE as-set dump, and
// pairs of them, against the RIPE-NONAUTH data (the generate benchmark's data).
func TestSetMemoSameExpansionRIPE(t *testing.T) {
	ix, _ := loadRIPE(t)
	names := allSetNames(ix)
	var roots [][]string
	for i := 0; i < len(names); i += 40 {
		roots = append(roots, []string{names[i]})
		if i%400 == 0 {
			roots = append(roots, []string{names[i], names[(i*7)%len(names)]})
		}
	}
	checkMemoSame(t, ix, []string{"RIPE", "RIPE-NONAUTH"}, roots)
}

// failingQuerier fails the first Members question of each set.
type failingQuerier struct {
	Querier
	mu     sync.Mutex
	failed map[string]bool
}

func (f *failingQuerier) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	f.mu.Lock()
	first := !f.failed[strings.ToUpper(name)]
	f.failed[strings.ToUpper(name)] = true
	f.mu.Unlock()
	if first {
		return nil, false, ErrUnavailable
	}
	return f.Querier.Members(ctx, sources, name, recursive)
}

// TestSetMemoForgetsFailures: a failed question is not kept; the next expansion asks
// again and gets the answer.
func TestSetMemoForgetsFailures(t *testing.T) {
	ix := loadEdge(t)
	memo := NewSetMemo()
	r := &Resolver{Q: &failingQuerier{Querier: ix, failed: map[string]bool{}}, Memo: memo}
	ctx := context.Background()
	if _, err := r.Expand(ctx, "AS-L1"); err == nil {
		t.Fatal("the failed question did not fail the expansion")
	}
	e, err := r.Expand(ctx, "AS-L1")
	for err != nil && strings.Contains(err.Error(), ErrUnavailable.Error()) {
		e, err = r.Expand(ctx, "AS-L1") // each nested level fails once
	}
	if err != nil || !slices.Equal(e.ASNs, []routing.ASN{64502, 64503, 64504, 65552}) {
		t.Fatalf("after the failures: %v, %v", e, err)
	}
}
