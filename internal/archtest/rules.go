// Package archtest keeps bgpfilter's shape: dependencies point one way (cli →
// pipeline → features → render → policy → data packages) and vendor syntax lives
// only in templates/ (and internal/bgpq4, the byte-exact bgpq4 drop-in). The rules
// are tables in this file; the tests in this package check the module against them
// with `go list` and go/parser, so a new import or a Fprintf of router text fails CI.
package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Module is the module path the rules are written for.
const Module = "github.com/bgpfilter/bgpfilter"

// Layer ranks. A package may import packages of a lower rank, and packages of its own
// rank only where sameRank allows; nothing may import upwards.
const (
	rankLeaf     = iota // templates, small helpers without module imports
	rankData            // irr, rpki, prefixset, routing, whois, ...
	rankPolicy          // policy: the model and its builders
	rankRender          // render: every vendor text, through templates
	rankFeature         // routeserver, audit, report, flow, config, internal/bgpq4
	rankPipeline        // pipeline: the job layer
	rankCLI             // internal/cli: flags -> job specs
	rankTool            // cmd/*, bench/*: programs
	rankTest            // test helpers: imported by tests only
)

var rankNames = map[int]string{rankLeaf: "leaf", rankData: "data", rankPolicy: "policy", rankRender: "render",
	rankFeature: "feature", rankPipeline: "pipeline", rankCLI: "cli", rankTool: "tool", rankTest: "test-support"}

// layers classifies the module's packages by path (relative to Module); a package
// takes the rank of the longest entry that is its path or a parent of it, so
// rpki/rtr is data like rpki. A package no entry covers fails the test: classify it
// here when you add it.
var layers = map[string]int{
	"templates":           rankLeaf,
	"internal/atomicfile": rankLeaf,
	"internal/pfxkey":     rankLeaf,
	"internal/metrics":    rankLeaf,

	"irr":       rankData,
	"rpki":      rankData,
	"prefixset": rankData,
	"routing":   rankData,
	"whois":     rankData,
	"whoisd":    rankData,
	"mirror":    rankData,
	"irrcache":  rankData,
	"mrt":       rankData,
	"peeringdb": rankData,

	"policy": rankPolicy,
	"render": rankRender,

	"routeserver":    rankFeature,
	"audit":          rankFeature,
	"report":         rankFeature,
	"flow":           rankFeature,
	"internal/bgpq4": rankFeature,
	// config turns the YAML file into policy documents (it imports policy), so it
	// sits above policy; pipeline reads it, render never needs it.
	"config": rankFeature,

	"pipeline":     rankPipeline,
	"internal/cli": rankCLI,

	"cmd":   rankTool,
	"bench": rankTool,

	"internal/peer":       rankTest,
	"internal/whoistest":  rankTest,
	"internal/whoisfault": rankTest,
	"internal/synth":      rankTest,
	"internal/archtest":   rankTest,
	"test":                rankTest,
}

// forbidden are imports that the ranks would allow but the design does not: irr and
// rpki (with their subpackages) do not know each other.
var forbidden = [][2]string{
	{"irr", "rpki"},
	{"rpki", "irr"},
}

// sameRank lists the ranks whose packages may import each other (data packages build
// on each other, e.g. whoisd on whois; features may share code). Elsewhere only a
// package and its own subpackages (render and render/x) may.
var sameRank = map[int]bool{rankData: true, rankFeature: true, rankTest: true, rankTool: true}

// Package is one node of the import graph: its path relative to Module and the
// module packages it imports directly (relative too).
type Package struct {
	Path    string
	Imports []string
}

// rankOf returns the rank of a relative package path, the layers entry that decided
// it, and whether one covers it.
func rankOf(path string) (int, string, bool) {
	best, rank, entry := -1, 0, ""
	for prefix, r := range layers {
		if under(path, prefix) && len(prefix) > best {
			best, rank, entry = len(prefix), r, prefix
		}
	}
	return rank, entry, best >= 0
}

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

// Check returns one message per violation of the rules in pkgs: an unclassified
// package, an import upwards or sideways where not allowed, a forbidden pair, a
// production package importing a test helper. Sorted.
func Check(pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		from, fromEntry, ok := rankOf(p.Path)
		if !ok {
			out = append(out, fmt.Sprintf("%s: not classified: add it to the layers table in internal/archtest/rules.go", p.Path))
			continue
		}
		for _, imp := range p.Imports {
			to, toEntry, ok := rankOf(imp)
			if !ok {
				continue // reported as a package of its own
			}
			for _, f := range forbidden {
				if under(p.Path, f[0]) && under(imp, f[1]) {
					out = append(out, fmt.Sprintf("%s imports %s: %s and %s do not import each other", p.Path, imp, f[0], f[1]))
				}
			}
			switch {
			case to == rankTest && from != rankTest && from != rankTool:
				out = append(out, fmt.Sprintf("%s (%s) imports test helper %s", p.Path, rankNames[from], imp))
			case to == rankTest:
			case from == rankTest || from == rankTool:
				if to == rankCLI && from == rankTest || to == rankTool && !sameRank[from] {
					out = append(out, fmt.Sprintf("%s (%s) imports %s (%s)", p.Path, rankNames[from], imp, rankNames[to]))
				}
			case to > from || to == from && !sameRank[from] && fromEntry != toEntry:
				out = append(out, fmt.Sprintf("%s (%s) imports %s (%s): dependencies point cli → pipeline → features → render → policy → data",
					p.Path, rankNames[from], imp, rankNames[to]))
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
