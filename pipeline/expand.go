package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	for _, b := range e.Invalid {
		log.Warn("invalid member ignored", "set", b.Set, "member", b.Member, "reason", b.Reason, "path", strings.Join(b.Path, " > "))
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
	Invalid  []invalidJSON       `json:"invalid"`
}

type invalidJSON struct {
	Set    string   `json:"set"`
	Member string   `json:"member"`
	Reason string   `json:"reason"`
	Path   []string `json:"path"`
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
		Invalid:  make([]invalidJSON, 0, len(e.Invalid)),
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
	for _, b := range e.Invalid {
		out.Invalid = append(out.Invalid, invalidJSON{Set: b.Set, Member: b.Member, Reason: b.Reason, Path: b.Path})
	}
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
	// Set names and members come from the IRR data: escape anything that is not a
	// printable character, so an escape sequence in a name cannot reach the terminal.
	out := func(indent, s, note string) { fmt.Fprintf(w, "%s%s%s\n", indent, treeText(s), note) }
	var walk func(name string, depth int, onPath map[string]bool)
	walk = func(name string, depth int, onPath map[string]bool) {
		indent := strings.Repeat("  ", depth)
		base, _, _ := irr.SplitRangeOp(name)
		k := strings.ToUpper(base)
		switch {
		case onPath[k]:
			out(indent, name, " (loop)")
			return
		case missing[k]:
			out(indent, name, " (not found)")
			return
		case printed[k]:
			out(indent, name, " (see above)")
			return
		}
		n, ok := nodes[k]
		if !ok {
			out(indent, name, "")
			return
		}
		printed[k] = true
		out(indent, name, "")
		onPath[k] = true
		for _, m := range n.Members {
			if irr.IsSetName(m) {
				walk(m, depth+1, onPath)
				continue
			}
			out(indent+"  ", m, "")
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
		out("", r, "")
	}
}

// treeText returns s as is when every rune is printable, else quoted with Go escapes,
// so the tree never carries control characters, escape sequences or bidirectional
// overrides from IRR data to the terminal.
func treeText(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}
