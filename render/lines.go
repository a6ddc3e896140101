package render

import "github.com/bgpfilter/bgpfilter/policy"

// makeLines makes the template lines of entries (see Line).
func makeLines(es []policy.Entry) []Line {
	lines := make([]Line, len(es))
	for i, e := range es {
		lines[i] = Line{Prefix: e.Prefix.String(), Bits: e.Prefix.Bits(), Min: e.Min, Max: e.Max,
			Exact: e.Exact(), HasGE: e.HasGE(), HasLE: e.HasLE()}
	}
	return lines
}
