package bgpq4

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// stringsOnly hides every optional interface of a Querier (irr.ASNQuerier,
// irr.KeyQuerier, irr.RouteKeyQuerier): the engine then takes the paths of a remote
// server, the ASNs of "!i<set>,1" as strings sorted as strings, "!g" answers as
// prefixes per ASN.
type stringsOnly struct{ irr.Querier }

// refusedDB holds an as-set whose refused ASNs (bgpq4 1.16 without -p) sort
// differently as numbers and as strings: the messages must come in string order.
const refusedDB = `as-set:   AS-REFUSED
members:  AS4200000000, AS64496, AS65551, AS23456, AS-REFUSED-SUB, AS64511
source:   TEST

as-set:   AS-REFUSED-SUB
members:  AS65536, AS4200000001, AS64496
source:   TEST

route:    192.0.2.0/24
origin:   AS64496
source:   TEST

route6:   2001:db8::/32
origin:   AS65536
source:   TEST
`

// TestASNPathMatchesStringPath: every generator and option that expands as-sets gives
// the same exit status, stdout and stderr bytes with the index's ASN answers
// (irr.ASNQuerier) and route keys (irr.RouteKeyQuerier, client-side recursion) as
// with the strings of Members and the prefixes of Routes, which the appendix goldens
// and the real-bgpq4 tests check; on the appendix fixture and on a set of refused
// ASNs, each read from RPSL and from a snapshot.
func TestASNPathMatchesStringPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "refused.db")
	if err := os.WriteFile(p, []byte(refusedDB), 0o644); err != nil {
		t.Fatal(err)
	}
	refused, _, err := irr.Load(context.Background(), []string{p}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	snapOf := func(ix *irr.Index) *irr.Index {
		var b bytes.Buffer
		if err := ix.WriteSnapshot(&b); err != nil {
			t.Fatal(err)
		}
		s, err := irr.ReadSnapshot(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	app := loadAppendix(t)
	gens := [][]string{nil, {"-6"}, {"-f", "1000"}, {"-f", "64496"}, {"-G", "2000"}, {"-H", "1000"}, {"-t"}, {"-t", "-j"},
		{"-t", "-b"}, {"-f", "1000", "-J"}, {"-f", "1000", "-j"}, {"-f", "1000", "-W", "2"}, {"-w", "-6", "-f", "1000"}, {"-w", "-6", "-G", "2000"}, {"-w", "-f", "1000"},
		{"-p", "-f", "1000"}, {"-p", "-t"}, {"-L", "1", "-t"}, {"-S", "RADB", "-t"},
		{"-L", "1"}, {"-L", "2", "-6"}, {"-L", "1", "-A"}, {"-w", "-L", "1"}, {"-w", "-6", "-L", "2"}, {"-m", "24", "-L", "1"}, {"-p", "-L", "1"}}
	fixtures := []struct {
		name string
		ix   *irr.Index
		sets [][]string
	}{
		{"appendix", app, [][]string{{"AS-TEST"}, {"AS-CHILD"}, {"AS-LOOP"}, {"AS-EMPTY"}, {"AS-UNKNOWN"}, {"AS1000:AS-CUSTOMERS"},
			{"AS-TEST", "AS-CHILD", "AS65001"}, {"AS-TEST", "EXCEPT", "AS-CHILD"}, {"RS-TEST"}, {"RIPE::AS-TEST"}, {"AS-TEST", "AS4000"},
			{"RADB::AS-TEST", "AS1000"}, {"AS1000", "AS2000", "AS4000"}}},
		{"appendix snapshot", snapOf(app), [][]string{{"AS-TEST"}, {"AS-CHILD"}, {"AS-LOOP"}, {"AS-TEST", "AS4000"},
			{"AS-TEST", "EXCEPT", "AS-CHILD"}, {"RIPE::AS-TEST"}}},
		{"refused", refused, [][]string{{"AS-REFUSED"}, {"AS-REFUSED-SUB"}, {"AS-REFUSED", "AS64500"}}},
		{"refused snapshot", snapOf(refused), [][]string{{"AS-REFUSED"}}},
	}
	refusals := 0
	for _, fx := range fixtures {
		for _, g := range gens {
			for _, objs := range fx.sets {
				args := append(slices.Clone(g), objs...)
				var o1, e1, o2, e2 bytes.Buffer
				c1 := Run(context.Background(), args, nil, fx.ix, &o1, &e1)
				c2 := Run(context.Background(), args, nil, stringsOnly{fx.ix}, &o2, &e2)
				if c1 != c2 || o1.String() != o2.String() || e1.String() != e2.String() {
					t.Errorf("%s: bgpq4 %s: ASN path exit %d, string path %d\n--- ASN path:\n%s%s--- string path:\n%s%s",
						fx.name, strings.Join(args, " "), c1, c2, o1.String(), e1.String(), o2.String(), e2.String())
				}
				if strings.Count(e1.String(), "Invalid AS number") > 2 {
					refusals++
				}
			}
		}
	}
	if refusals == 0 {
		t.Error("no run refused several ASNs: the message order was not compared")
	}
}

// TestASNSet runs random inserts, removals, merges of sorted lists and reads of the
// sorted list against a map.
func TestASNSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		var s asnSet
		model := map[uint32]bool{}
		for op := 0; op < 60; op++ {
			a := uint32(rng.IntN(40))
			switch rng.IntN(5) {
			case 0, 1:
				s.insert(a)
				model[a] = true
			case 2:
				s.remove(a)
				delete(model, a)
			case 3:
				var in []routing.ASN
				for k := rng.IntN(8); k > 0; k-- {
					in = append(in, routing.ASN(rng.IntN(40)))
				}
				slices.Sort(in)
				in = slices.Compact(in)
				u := make([]uint32, len(in))
				for i, x := range in {
					u[i] = uint32(x)
					model[uint32(x)] = true
				}
				s.merge(u)
			default:
				var want []uint32
				for x := range model {
					want = append(want, x)
				}
				slices.Sort(want)
				if got := s.sorted(); !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
					t.Fatalf("round %d op %d: sorted() = %v, want %v", round, op, got, want)
				}
			}
		}
	}
}
