package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
)

func expandCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "expand",
		Usage:     "the ASNs (and route-set prefixes) an AS-SET, route-set or ASN expands to",
		ArgsUsage: "OBJECT...",
		Description: "OBJECT is an AS-SET or route-set (optionally SOURCE::NAME, looked up in SOURCE only),\n" +
			"an ASN or a prefix. Unknown member sets, loops and invalid members are reported on stderr; an unknown\n" +
			"root set exits 2.",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "tree", Usage: "print the set tree: by which path each ASN was reached"},
			&ucli.BoolFlag{Name: "json", Usage: "print a JSON object {asns, prefixes, paths, missing, loops, invalid}"},
			&ucli.IntFlag{Name: "max-depth", Value: irr.DefaultMaxDepth, Usage: "maximum set nesting depth"},
			&ucli.IntFlag{Name: "max-size", Usage: "maximum number of ASNs plus prefixes (0: no limit)"},
		},
		Action: runExpand,
	}
}

func runExpand(c *ucli.Context) error {
	if c.NArg() == 0 {
		return exitErr(ExitUsage, errors.New("expand: at least one OBJECT is required"))
	}
	if c.Bool("tree") && c.Bool("json") {
		return exitErr(ExitUsage, errors.New("expand: --tree and --json are exclusive"))
	}
	q, err := openIRR(c)
	if err != nil {
		return err
	}
	defer closeIRR(q)
	r := &irr.Resolver{Q: q, Sources: sourceList(c), MaxDepth: c.Int("max-depth"), MaxSize: c.Int("max-size")}
	e, err := r.Expand(c.Context, c.Args().Slice()...)
	if err != nil {
		return exitErr(exitCode(err, ExitData), err)
	}
	log := logger(c)
	for _, m := range e.Missing {
		log.Warn("member set not found", "set", m.Name, "path", strings.Join(m.Path, " > "))
	}
	for _, l := range e.Loops {
		log.Info("set loop ignored", "path", strings.Join(l, " > "))
	}
	for _, b := range e.Invalid {
		log.Warn("invalid member ignored", "set", b.Set, "member", b.Member, "reason", b.Reason, "path", strings.Join(b.Path, " > "))
	}
	w := c.App.Writer
	switch {
	case c.Bool("json"):
		return writeExpandJSON(w, e)
	case c.Bool("tree"):
		writeExpandTree(w, e, c.Args().Slice())
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
		return exitErr(ExitUnavailable, fmt.Errorf("expand: write: %w", err))
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

// treeText returns s as is when every rune is printable, else quoted with Go escapes
// ("AS-\x1b[31mX" prints as "\"AS-\\x1b[31mX\""), so the tree never carries control
// characters, escape sequences or bidirectional overrides to the terminal.
func treeText(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}
