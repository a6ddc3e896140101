package rpki

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bgpfilter/bgpfilter/routing"
)

// draftVerify is a second, independent implementation of AS_PATH verification,
// written straight from the text of draft-ietf-sidrops-aspa-verification (sections
// "Hop-Check Function", "Algorithm for Upstream Paths", "Algorithm for Downstream
// Paths"), sharing no code with VerifyPath: its own ASPA map, its own hop check,
// the ramps computed as the draft defines them (smallest/largest index), not as
// loops that stop early. spas maps a customer AS to its set of provider ASes (AS0
// included as listed; the draft: AS0 is never a provider). path is as received,
// the most recently added AS first; each element is one AS or an AS_SET.
func draftVerify(spas map[uint32]map[uint32]bool, path [][]uint32, isSet []bool, downstream bool, neighbor uint32, rs bool) ASPAState {
	const (
		noAttestation = "No Attestation"
		providerPlus  = "Provider+"
		notProvider   = "Not Provider+"
	)
	hop := func(x, y uint32) string {
		s, ok := spas[x]
		if !ok {
			return noAttestation
		}
		if y != 0 && s[y] {
			return providerPlus
		}
		return notProvider
	}
	// An empty AS_PATH or one with an AS_SET: Invalid.
	if len(path) == 0 {
		return ASPAInvalid
	}
	for _, set := range isSet {
		if set {
			return ASPAInvalid
		}
	}
	// Prepends are collapsed; AS(1) is the origin, AS(N) the neighbour.
	var rev []uint32 // rev[0] = AS(N)
	for _, seg := range path {
		if len(rev) == 0 || rev[len(rev)-1] != seg[0] {
			rev = append(rev, seg[0])
		}
	}
	// The most recently added AS must be the neighbour, except at a transparent
	// route server.
	if neighbor != 0 && !rs && rev[0] != neighbor {
		return ASPAInvalid
	}
	N := len(rev)
	AS := func(i int) uint32 { return rev[N-i] }

	if !downstream {
		if N == 1 {
			return ASPAValid
		}
		for i := 1; i < N; i++ {
			if hop(AS(i), AS(i+1)) == notProvider {
				return ASPAInvalid
			}
		}
		for i := 1; i < N; i++ {
			if hop(AS(i), AS(i+1)) == noAttestation {
				return ASPAUnknown
			}
		}
		return ASPAValid
	}

	if N <= 2 {
		return ASPAValid
	}
	// max_up_ramp: the smallest i with hop(AS(i), AS(i+1)) = Not Provider+, else N.
	// min_up_ramp: the smallest i with hop(AS(i), AS(i+1)) != Provider+, else N.
	maxUp, minUp := N, N
	for i := N - 1; i >= 1; i-- { // downwards, so the last assignment is the smallest i
		h := hop(AS(i), AS(i+1))
		if h == notProvider {
			maxUp = i
		}
		if h != providerPlus {
			minUp = i
		}
	}
	// max_down_ramp: N-j+1 for the largest j with hop(AS(j), AS(j-1)) = Not
	// Provider+, else N; min_down_ramp likewise for hop != Provider+.
	maxDown, minDown := N, N
	for j := 2; j <= N; j++ { // upwards, so the last assignment is the largest j
		h := hop(AS(j), AS(j-1))
		if h == notProvider {
			maxDown = N - j + 1
		}
		if h != providerPlus {
			minDown = N - j + 1
		}
	}
	if maxUp+maxDown < N {
		return ASPAInvalid
	}
	if minUp+minDown < N {
		return ASPAUnknown
	}
	return ASPAValid
}

// TestVerifyPathAgainstDraftOracle runs VerifyPath and draftVerify on 60,000
// generated cases: random per-AFI ASPA data over 10 ASes (some without ASPA, some
// AS0-only, IPv4 and IPv6 lists differing), random paths of 0 to 8 hops with
// prepends, AS_SETs now and then, both directions, with and without a neighbour
// check, at a route server or not, for AFI 4 and 6. Every verdict must agree.
func TestVerifyPathAgainstDraftOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2026))
	const base = 64496
	states := map[string]int{}
	for round := 0; round < 120; round++ {
		b := NewBuilder(Options{})
		spas := map[int]map[uint32]map[uint32]bool{4: {}, 6: {}}
		for c := uint32(base); c < base+10; c++ {
			if rng.IntN(4) == 0 {
				continue // no ASPA
			}
			var v4, v6 []routing.ASN
			pick := func() []routing.ASN {
				if rng.IntN(6) == 0 {
					return []routing.ASN{0}
				}
				var out []routing.ASN
				for p := uint32(base); p < base+10; p++ {
					if p != c && rng.IntN(3) == 0 {
						out = append(out, routing.ASN(p))
					}
				}
				return out
			}
			v4 = pick()
			if rng.IntN(2) == 0 {
				v6 = v4
			} else {
				v6 = pick()
			}
			b.AddASPA(routing.ASN(c), v4, v6, 0)
			for afi, list := range map[int][]routing.ASN{4: v4, 6: v6} {
				m := map[uint32]bool{}
				for _, p := range list {
					m[uint32(p)] = true
				}
				spas[afi][c] = m
			}
		}
		tb, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 500; k++ {
			n := rng.IntN(9)
			var path ASPath
			var raw [][]uint32
			var sets []bool
			for len(raw) < n {
				a := uint32(base + rng.IntN(11)) // base+10 has no ASPA and is no provider
				if rng.IntN(40) == 0 {
					set := []uint32{a, uint32(base + rng.IntN(10))}
					raw, sets = append(raw, set), append(sets, true)
					path = append(path, PathSegment{ASNs: []routing.ASN{routing.ASN(set[0]), routing.ASN(set[1])}, Set: true})
					continue
				}
				for r := rng.IntN(3); r >= 0 && len(raw) < n; r-- { // prepends
					raw, sets = append(raw, []uint32{a}), append(sets, false)
					path = append(path, PathSegment{ASNs: []routing.ASN{routing.ASN(a)}})
				}
			}
			var neighbor uint32
			if len(raw) > 0 && rng.IntN(3) == 0 {
				neighbor = raw[0][0]
				if rng.IntN(3) == 0 {
					neighbor = uint32(base + rng.IntN(11))
				}
			}
			rs := rng.IntN(5) == 0
			down := rng.IntN(2) == 0
			afi := 4 + 2*rng.IntN(2)
			want := draftVerify(spas[afi], raw, sets, down, neighbor, rs)
			got := tb.VerifyPath(path, VerifyOptions{Downstream: down, Neighbor: routing.ASN(neighbor), RouteServer: rs, AFI: afi})
			if got.State != want {
				t.Fatalf("path %q (downstream %v, neighbor %d, rs %v, AFI %d): VerifyPath %s (%s), the draft %s\nASPAs: %v",
					path, down, neighbor, rs, afi, got.State, got.Reason, want, spas[afi])
			}
			states[fmt.Sprintf("%v/%s", down, want)]++
		}
	}
	t.Logf("verdicts (downstream/state): %v", states)
	for _, k := range []string{"false/valid", "false/invalid", "false/unknown", "true/valid", "true/invalid", "true/unknown"} {
		if states[k] < 100 {
			t.Errorf("only %d generated cases end %s: the generator does not cover every outcome", states[k], k)
		}
	}
}
