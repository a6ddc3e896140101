package pipeline

// The shared export set of a generate run. Every customer's export policy
// (NAME_OUT_V4 / NAME_OUT_V6) announces the same prefixes: the own ones (config self)
// plus every customer's filter. generate writes that set once per target, into
// OUT/_export/<target>.conf (no customer can be named "_export": names start with a
// letter), one object per family named policy.ExportSetName; the customers' policies
// refer to it by that name. The set is part of the run like a customer: diffed, in
// summary.json ("export"), under the shrink guard (defaults.shrink_guard), written
// atomically, before the customers' files so that no written customer file ever
// names a set that no file defines.
//
// What it must never do is stop announcing a customer's prefixes upstream because
// the customer's IRR data could not be fetched: a customer whose files are kept is
// announced with its previous filter (its state.json); when even that is unknown
// (state.json damaged too) the previous shared files are kept whole, and the run says
// so (status "kept", exit 3).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routing"
)

// ExportDir is the directory of the shared export files under generate's --out.
const ExportDir = "_export"

// ExportSummary is the shared export set's part of the generate summary.
type ExportSummary struct {
	// Status is "ok", "unchanged", "refused" (shrink guard), "kept" (a kept
	// customer's previous filter is unknown), "unavailable" or "error" (the own
	// prefixes or a target could not be built), or "none" (no customer has a target);
	// every status but ok, unchanged and none keeps the previous files.
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	// Names are the sets' names per family ("ipv4", "ipv6"): what every export
	// policy matches.
	Names   map[string]string `json:"names"`
	Targets []string          `json:"targets"`
	Files   []string          `json:"files"`
	// Entries, Added and Removed count the sets' entries per family against the
	// previous run's.
	Entries map[string]int `json:"entries"`
	Added   map[string]int `json:"added"`
	Removed map[string]int `json:"removed"`
	// PreviousFilters are the customers announced with their previous filter (their
	// files were kept: data unavailable or shrink refused).
	PreviousFilters []string `json:"previous_filters"`
	Warnings        []string `json:"warnings"`
	Error           string   `json:"error,omitempty"`
}

func newExportSummary() *ExportSummary {
	return &ExportSummary{Status: "none", Names: map[string]string{famKeys[4]: policy.ExportSetName(4), famKeys[6]: policy.ExportSetName(6)},
		Targets: []string{}, Files: []string{}, Entries: map[string]int{}, Added: map[string]int{}, Removed: map[string]int{},
		PreviousFilters: []string{}, Warnings: []string{}}
}

// exportSets builds the shared export set of each family (index 0: IPv4, 1: IPv6):
// the own prefixes (config self) plus the customers' import filters of that family.
// generate and explain --export both build it here, so explain evaluates the set the
// routers load.
func exportSets(ctx context.Context, cfg *config.File, in policy.Inputs, imports [2][]*policy.Document) ([2]*policy.ExportSet, []string, error) {
	var sets [2]*policy.ExportSet
	var warnings []string
	for fi, fam := range []int{4, 6} {
		own, warns, err := policy.OwnPrefixes(ctx, in, fmt.Sprintf("SELF_V%d", fam), fam, cfg.Self.ASSets, cfg.Self.Prefixes, cfg.Defaults.RPKIPolicy)
		if err != nil {
			return sets, warnings, fmt.Errorf("self (own prefixes for the export set): %w", err)
		}
		warnings = append(warnings, warns...)
		sets[fi] = policy.NewExportSet(fam, own, imports[fi])
	}
	return sets, warnings, nil
}

// keptDocument is the import document of a customer whose previous files are kept
// (its data could not be fetched, or the shrink guard refused the new filter): its
// previous filter, so that the export set still announces it.
func keptDocument(name string, family int, st customerState) *policy.Document {
	es := st.Entries[famKeys[family]]
	if len(es) == 0 {
		return nil
	}
	d := &policy.Document{Customer: name, Direction: policy.Import, Family: family,
		Prefixes: policy.PrefixSet{Name: name, Family: family, Objects: []string{"previous run"}}}
	for _, e := range es {
		d.Prefixes.Entries = append(d.Prefixes.Entries, policy.Entry{PrefixRange: routing.PrefixRange{Prefix: e.Prefix, Min: e.Min, Max: e.Max}})
	}
	return d
}

// exportTargets are the policy targets of any customer, in config.Targets order.
func exportTargets(cfg *config.File) []string {
	var out []string
	for _, t := range config.Targets {
		for _, c := range cfg.Customers {
			if slices.Contains(c.Knobs.Targets, t) && slices.Contains(render.PolicyVendors, t) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// export builds, checks and writes the shared export files (before any customer's)
// and returns the targets whose shared file neither exists nor was written, with why:
// a customer of such a target must keep its previous files, whose export policies
// do not depend on it.
func (j *GenerateJob) export(ctx context.Context, cfg *config.File, in policy.Inputs, results []built) (*ExportSummary, map[string]error) {
	es := newExportSummary()
	es.Targets = exportTargets(cfg)
	if len(es.Targets) == 0 {
		return es, nil
	}
	dir := filepath.Join(j.Out, ExportDir)
	statePath := filepath.Join(dir, "state.json")
	var paths []string
	for _, t := range es.Targets {
		paths = append(paths, filepath.Join(dir, t+".conf"))
	}
	missing := func(err error) map[string]error {
		out := map[string]error{}
		for i, p := range paths {
			if !fileExists(p) {
				out[es.Targets[i]] = fmt.Errorf("the shared export file %s/%s.conf: %w", ExportDir, es.Targets[i], err)
			}
		}
		return out
	}
	keep := func(status string, code int, err error) (*ExportSummary, map[string]error) {
		es.Status, es.ExitCode, es.Error = status, code, err.Error()
		return es, missing(err)
	}

	// Every customer's filter: the new one, or the previous one of a customer whose
	// files are kept.
	var imports [2][]*policy.Document
	var unknown []string
	for i, r := range results {
		name := cfg.Customers[i].Name
		if r.err == nil && (r.refused == "" || r.prevErr != nil) {
			imports[0], imports[1] = append(imports[0], r.docs.Import4), append(imports[1], r.docs.Import6)
			continue
		}
		if r.prevErr != nil {
			unknown = append(unknown, name)
			continue
		}
		kept := false
		for fi, fam := range []int{4, 6} {
			if d := keptDocument(name, fam, r.prev); d != nil {
				imports[fi] = append(imports[fi], d)
				kept = true
			}
		}
		if kept {
			es.PreviousFilters = append(es.PreviousFilters, name)
		}
	}
	sets, warns, err := exportSets(ctx, cfg, in, imports)
	es.Warnings = append(es.Warnings, warns...)
	if err != nil {
		status, code := "error", ExitCode(err, ExitData)
		if code == ExitUnavailable {
			status = "unavailable"
		}
		return keep(status, code, fmt.Errorf("%w: previous files kept", err))
	}
	prev, prevErr := readState(statePath)
	state := customerState{Entries: map[string][]stateEntry{}}
	for _, s := range sets {
		key := famKeys[s.Family]
		list := make([]stateEntry, len(s.Entries))
		for i, e := range s.Entries {
			list[i] = stateEntry{Prefix: e.Prefix, Min: e.Min, Max: e.Max}
		}
		state.Entries[key] = list
		es.Entries[key] = len(list)
		es.Added[key], es.Removed[key] = setDiff(rangeStrings(prev.Entries[key]), rangeStrings(list))
	}
	if len(unknown) > 0 {
		msg := fmt.Sprintf("customers %s: data unavailable and their previous state.json unreadable: their previous prefixes are unknown", strings.Join(unknown, ", "))
		if anyExists(paths) {
			return keep("kept", ExitUnavailable, errors.New(msg+": the previous shared export files are kept (new and changed customers are not announced until a complete run)"))
		}
		es.Warnings = append(es.Warnings, msg+": there are no previous shared export files, they are written without them")
	}
	guard := cfg.Defaults.ShrinkGuard
	if prevErr != nil {
		msg := fmt.Sprintf("%s: the shrink guard cannot compare the new export set with the last one written", prevErr)
		if !j.Force {
			return keep("refused", ExitGuard, errors.New(msg+": previous files kept (--force replaces them)"))
		}
		es.Warnings = append(es.Warnings, msg+": replaced (--force)")
	}
	for _, fam := range []int{4, 6} {
		key := famKeys[fam]
		before, after := len(prev.Entries[key]), es.Entries[key]
		if guard < 1 && before > 0 && float64(before-after) > guard*float64(before) {
			msg := fmt.Sprintf("%s export set shrank from %d to %d entries (more than the shrink guard's %.0f%%)", key, before, after, guard*100)
			if !j.Force {
				return keep("refused", ExitGuard, errors.New(msg+": previous files kept (--force replaces them)"))
			}
			es.Warnings = append(es.Warnings, msg+": replaced (--force)")
		}
	}

	type file struct {
		path string
		data []byte
	}
	var files []file
	for i, t := range es.Targets {
		out, err := render.RenderExport(t, sets[:], render.Options{})
		if err != nil {
			return keep("error", ExitData, fmt.Errorf("%s: %w", t, err))
		}
		if i == 0 {
			es.Warnings = append(es.Warnings, out.Warnings...)
		}
		files = append(files, file{paths[i], out.Text})
	}
	stateJSON, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return keep("error", ExitUsage, err)
	}
	files = append(files, file{statePath, append(stateJSON, '\n')})
	es.Files = slices.Clone(paths)
	es.Status = "unchanged"
	for _, f := range files {
		old, _ := os.ReadFile(f.path)
		if string(old) == string(f.data) {
			continue
		}
		es.Status = "ok"
		if j.Diff != nil && f.path != statePath {
			rel, _ := filepath.Rel(j.Out, f.path)
			j.diffMu.Lock()
			io.WriteString(j.Diff, UnifiedDiff("a/"+rel, "b/"+rel, old, f.data))
			j.diffMu.Unlock()
		}
	}
	if j.DryRun || es.Status == "unchanged" {
		return es, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return keep("error", ExitUsage, err)
	}
	var staged []*atomicfile.Staged
	for _, f := range files {
		s, err := atomicfile.Stage(f.path, f.data, 0o644)
		if err != nil {
			for _, s := range staged {
				s.Abort()
			}
			return keep("error", ExitUsage, err)
		}
		staged = append(staged, s)
	}
	if err := atomicfile.CommitAll(staged); err != nil {
		for _, s := range staged {
			s.Abort()
		}
		return keep("error", ExitUsage, err)
	}
	return es, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

func anyExists(paths []string) bool {
	return slices.ContainsFunc(paths, fileExists)
}
