package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/bgpfilter/bgpfilter/irr"
)

// ExpandJob prints what objects expand to: ASNs and route-set prefixes, the set tree
// (Tree) or a JSON document (JSON).
type ExpandJob struct {
	Objects           []string
	IRR               IRRSpec
	Tree, JSON        bool
	MaxDepth, MaxSize int
	Stdout            io.Writer
	Logger            *slog.Logger
}

// Run expands the objects and prints the result; the error carries the exit code.
func (j *ExpandJob) Run(ctx context.Context) error {
	if len(j.Objects) == 0 {
		return WithCode(ExitUsage, errors.New("expand: at least one OBJECT is required"))
	}
	if j.Tree && j.JSON {
		return WithCode(ExitUsage, errors.New("expand: --tree and --json are exclusive"))
	}
	src, err := OpenIRR(ctx, j.IRR)
	if err != nil {
		return err
	}
	defer src.Close()
	r := &irr.Resolver{Q: src.Q, Sources: j.IRR.Sources, MaxDepth: j.MaxDepth, MaxSize: j.MaxSize}
	e, err := r.Expand(ctx, j.Objects...)
	if err != nil {
		return WithCode(ExitCode(err, ExitData), err)
	}
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, m := range e.Missing {
		log.Warn("member set not found", "set", m.Name, "path", strings.Join(m.Path, " > "))
	}
	for _, l := range e.Loops {
		log.Info("set loop ignored", "path", strings.Join(l, " > "))
	}
	w := j.Stdout
	switch {
	case j.JSON:
		return writeExpandJSON(w, e)
	case j.Tree:
		writeExpandTree(w, e, j.Objects)
		return nil
	}
	for _, a := range e.ASNs {
		fmt.Fprintln(w, a)
	}
	for _, p := range e.Prefixes {
		fmt.Fprintln(w, p)
	}
	return nil
}

type expandJSON struct {
	ASNs     []uint32            `json:"asns"`
	Prefixes []string            `json:"prefixes"`
	Paths    map[string][]string `json:"paths"`
	Missing  []missingJSON       `json:"missing"`
	Loops    [][]string          `json:"loops"`
}

type missingJSON struct {
	Name string   `json:"name"`
	Path []string `json:"path"`
}

func writeExpandJSON(w io.Writer, e *irr.Expansion) error {
	out := expandJSON{
		ASNs:     make([]uint32, 0, len(e.ASNs)),
		Prefixes: make([]string, 0, len(e.Prefixes)),
		Paths:    make(map[string][]string, len(e.Paths)),
		Missing:  make([]missingJSON, 0, len(e.Missing)),
		Loops:    make([][]string, 0, len(e.Loops)),
	}
	for _, a := range e.ASNs {
		out.ASNs = append(out.ASNs, uint32(a))
		p := e.Paths[a]
		if p == nil {
			p = []string{}
		}
		out.Paths[a.String()] = p
	}
	for _, p := range e.Prefixes {
		out.Prefixes = append(out.Prefixes, p.String())
	}
	for _, m := range e.Missing {
		out.Missing = append(out.Missing, missingJSON{Name: m.Name, Path: m.Path})
	}
	out.Loops = append(out.Loops, e.Loops...)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return WithCode(ExitUnavailable, fmt.Errorf("expand: write: %w", err))
	}
	return nil
}

// writeExpandTree prints each root with its members indented below it; a nested set is
// expanded under the first path that reached it and marked "(see above)" elsewhere.
func writeExpandTree(w io.Writer, e *irr.Expansion, roots []string) {
	nodes := make(map[string]irr.SetNode, len(e.Sets))
	for _, n := range e.Sets {
		k := strings.ToUpper(n.Name)
		if _, ok := nodes[k]; !ok {
			nodes[k] = n
		}
	}
	missing := make(map[string]bool)
	for _, m := range e.Missing {
		missing[strings.ToUpper(m.Name)] = true
	}
	printed := make(map[string]bool)
	var walk func(name string, depth int, onPath map[string]bool)
	walk = func(name string, depth int, onPath map[string]bool) {
		indent := strings.Repeat("  ", depth)
		base, _, _ := irr.SplitRangeOp(name)
		k := strings.ToUpper(base)
		switch {
		case onPath[k]:
			fmt.Fprintf(w, "%s%s (loop)\n", indent, name)
			return
		case missing[k]:
			fmt.Fprintf(w, "%s%s (not found)\n", indent, name)
			return
		case printed[k]:
			fmt.Fprintf(w, "%s%s (see above)\n", indent, name)
			return
		}
		n, ok := nodes[k]
		if !ok {
			fmt.Fprintf(w, "%s%s\n", indent, name)
			return
		}
		printed[k] = true
		fmt.Fprintf(w, "%s%s\n", indent, name)
		onPath[k] = true
		for _, m := range n.Members {
			if irr.IsSetName(m) {
				walk(m, depth+1, onPath)
				continue
			}
			fmt.Fprintf(w, "%s  %s\n", indent, m)
		}
		delete(onPath, k)
	}
	for _, r := range roots {
		name := r
		if _, n, ok := strings.Cut(r, "::"); ok {
			name = n
		}
		if irr.IsSetName(name) {
			walk(name, 0, make(map[string]bool))
			continue
		}
		fmt.Fprintln(w, r)
	}
}
