package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irrcache"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routing"
)

// GenerateJob renders every customer of a config for each of its targets into
// Out/<customer>/<target>.conf, and the export set every customer's export policy
// announces once per target into Out/_export/<target>.conf (export.go), safe for a
// nightly pipeline: the IRR and RPKI data are
// opened once and shared, customers are built by a bounded worker pool, each
// customer's files are replaced together or not at all, a filter that shrank more
// than the customer's shrink guard allows is refused (exit 4) unless Force, a
// customer whose data could not be fetched keeps its previous files without blocking
// the others (exit 3), and Out/summary.json says what happened to every customer,
// written atomically on success and on failure.
type GenerateJob struct {
	Config *config.File
	// IRR and RPKI are the flag specs (timeouts, cache); the config's irr, sources
	// and rpki keys win unless IRRFromFlags / RPKIFromFlags (see OpenConfigSources).
	IRR                         IRRSpec
	RPKI                        RPKISpec
	IRRFromFlags, RPKIFromFlags bool
	// Out is the output directory.
	Out string
	// Jobs bounds the customers built at the same time (0: the number of CPUs).
	Jobs int
	// Diff, when set, receives a unified diff of every changed file.
	Diff io.Writer
	// DryRun writes nothing: the diff goes to Diff, the summary to Stdout.
	DryRun bool
	// Force replaces filters the shrink guard would refuse.
	Force  bool
	Stdout io.Writer
	// Bar, when set, is told after each customer how many of total are done (a
	// terminal progress bar); without it each customer is one log line.
	Bar    func(done, total int)
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Report, when set, also writes the MANRS readiness pages (generate_report.go).
	Report *GenerateReport

	diffMu sync.Mutex // one file's diff at a time on Diff
}

// GenerateSummary is Out/summary.json.
type GenerateSummary struct {
	// Status is "ok", "stale" (ok, but some IRR answers came from the cache),
	// "incomplete" (some customers kept their previous files) or "error" (nothing
	// could be built).
	Status      string            `json:"status"`
	ExitCode    int               `json:"exit_code"`
	GeneratedAt time.Time         `json:"generated_at"`
	Config      string            `json:"config"`
	DryRun      bool              `json:"dry_run,omitempty"`
	IRR         SummaryIRR        `json:"irr"`
	RPKI        *GenerateRPKI     `json:"rpki"`
	Customers   []CustomerSummary `json:"customers"`
	// Export is the shared export set (Out/_export).
	Export   *ExportSummary `json:"export"`
	Warnings []string       `json:"warnings"`
	Error    string         `json:"error,omitempty"`
}

// GenerateRPKI is the RPKI part of the generate summary.
type GenerateRPKI struct {
	Source    string     `json:"source"`
	VRPs      int        `json:"vrps"`
	BuildTime *time.Time `json:"build_time,omitempty"`
	// AgeSeconds is the data's age at generation time (from its build time).
	AgeSeconds *int64 `json:"age_seconds,omitempty"`
}

// CustomerSummary is one customer's entry of the generate summary.
type CustomerSummary struct {
	Name string `json:"name"`
	// Status is "ok", "unchanged", "refused" (shrink guard, previous files kept),
	// "unavailable" (IRR/RPKI data could not be fetched, previous files kept) or
	// "error" (bad data or a rendering refused, previous files kept).
	Status   string   `json:"status"`
	ExitCode int      `json:"exit_code"`
	Targets  []string `json:"targets"`
	Files    []string `json:"files"`
	// Entries, Added and Removed count prefix-filter entries per family ("ipv4",
	// "ipv6") against the previous run's.
	Entries  map[string]int `json:"entries"`
	Added    map[string]int `json:"added"`
	Removed  map[string]int `json:"removed"`
	Sources  []string       `json:"sources"`
	Warnings []string       `json:"warnings"`
	Error    string         `json:"error,omitempty"`
}

// customerState is Out/<customer>/state.json: the entries of the last written filter,
// for added/removed and the shrink guard of the next run.
type customerState struct {
	Entries map[string][]stateEntry `json:"entries"` // "ipv4"/"ipv6" -> the filter's ranges
}

// stateEntry is one prefix range of a written filter.
type stateEntry struct {
	Prefix   netip.Prefix `json:"prefix"`
	Min, Max int
}

func (e stateEntry) String() string {
	return routing.PrefixRange{Prefix: e.Prefix, Min: e.Min, Max: e.Max}.String()
}

// rangeStrings returns the entries in RPSL form, sorted.
func rangeStrings(es []stateEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.String()
	}
	sort.Strings(out)
	return out
}

var famKeys = map[int]string{4: "ipv4", 6: "ipv6"}

// generateWriters bounds the customers whose files are being written (staged and
// fsynced) beside the --jobs customers rendering.
const generateWriters = 16

// savKey is the state.json and summary key of a customer's permitted SAV sources.
const savKey = "sav"

// savTargets are the SAV outputs of every customer with sav: the config does not say
// which vendor each interface's device runs, so each target gets the interfaces its
// syntax can name (render.RenderSAV) and a comment names the device.
func savTargets() []string { return render.SAVTargets }

// Run generates everything and returns the run's error (with its exit code): nil when
// every customer was written or unchanged.
func (j *GenerateJob) Run(ctx context.Context) error {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := j.Config
	sum := &GenerateSummary{Status: "ok", GeneratedAt: now().UTC(), Config: cfg.Path, DryRun: j.DryRun,
		Customers: []CustomerSummary{}, Export: newExportSummary(), Warnings: []string{}}
	specs, sources := j.IRR.Specs, j.IRR.Sources
	if !j.IRRFromFlags && len(cfg.IRR) > 0 {
		specs = SplitSpecs(cfg.IRR)
	}
	if len(sources) == 0 {
		sources = cfg.Sources
	}
	sum.IRR.Sources = slices.Clone(sources)
	for _, sp := range specs {
		if IsRemote(sp) {
			sum.IRR.Servers = append(sum.IRR.Servers, sp)
		} else {
			sum.IRR.Files = append(sum.IRR.Files, sp)
		}
	}
	for _, c := range cfg.Customers {
		sum.Customers = append(sum.Customers, CustomerSummary{Name: c.Name, Status: "error", Targets: slices.Clone(c.Knobs.Targets),
			Files: []string{}, Entries: map[string]int{}, Added: map[string]int{}, Removed: map[string]int{}, Sources: []string{}, Warnings: []string{}})
	}
	if !j.DryRun {
		if err := os.MkdirAll(j.Out, 0o755); err != nil {
			return WithCode(ExitUsage, fmt.Errorf("generate: --out: %w", err))
		}
	}
	err := j.run(ctx, sum, now, log)
	return j.finish(sum, err)
}

// finish settles the run's status and exit code, writes the summary and returns the
// run's error.
func (j *GenerateJob) finish(sum *GenerateSummary, runErr error) error {
	code := ExitOK
	if runErr != nil {
		code = ExitCode(runErr, ExitUsage)
		sum.Status, sum.Error = "error", runErr.Error()
		for i := range sum.Customers {
			if sum.Customers[i].Error == "" {
				sum.Customers[i].Error = "not built: " + runErr.Error()
				sum.Customers[i].ExitCode = code
			}
		}
	} else {
		// The exit code says the worst that happened: data missing (3) before a
		// refused shrink (4) before bad data (2).
		worst := map[int]bool{}
		for _, c := range sum.Customers {
			worst[c.ExitCode] = true
		}
		if sum.Export != nil {
			worst[sum.Export.ExitCode] = true
		}
		for _, c := range []int{ExitUnavailable, ExitGuard, ExitData, ExitUsage} {
			if worst[c] {
				code = c
				break
			}
		}
		if code != ExitOK {
			sum.Status = "incomplete"
			runErr = WithCode(code, fmt.Errorf("generate: %s", incompleteMessage(sum)))
		} else if len(sum.IRR.Stale) > 0 {
			sum.Status = "stale"
		}
	}
	sum.ExitCode = code
	if sum.IRR.Stale == nil {
		sum.IRR.Stale = []irrcache.StaleUse{}
	}
	if sum.IRR.Sources == nil {
		sum.IRR.Sources = []string{}
	}
	sum.mergeWarnings()
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return WithCode(ExitUsage, fmt.Errorf("generate: summary: %w", err))
	}
	b = append(b, '\n')
	if j.DryRun {
		if j.Stdout != nil {
			j.Stdout.Write(b)
		}
		return runErr
	}
	if err := writeStaged(filepath.Join(j.Out, "summary.json"), b); err != nil {
		if runErr == nil {
			return WithCode(ExitUsage, fmt.Errorf("generate: summary.json: %w", err))
		}
	}
	return runErr
}

func incompleteMessage(sum *GenerateSummary) string {
	var names []string
	for _, c := range sum.Customers {
		if c.ExitCode != ExitOK {
			names = append(names, c.Name+" ("+c.Status+")")
		}
	}
	msg := fmt.Sprintf("%d of %d customers kept their previous files: %v", len(names), len(sum.Customers), names)
	if e := sum.Export; e != nil && e.ExitCode != ExitOK {
		msg += fmt.Sprintf("; the shared export files were kept (%s): %s", e.Status, e.Error)
	}
	return msg
}

// built is one customer's build result and what the run decided about it.
type built struct {
	docs *policy.SessionDocuments
	// sav are the customer's permitted sources (PermittedSources) when it has sav.
	sav  []netip.Prefix
	err  error
	prev customerState // the previous run's state.json
	// prevErr says why the previous state.json could not be read (it is damaged):
	// the shrink guard has nothing to compare the new filter with.
	prevErr error
	// refused is the shrink guard's message when it refused the new filter; warn
	// its message when --force overrode it.
	refused, warn string
}

func (j *GenerateJob) run(ctx context.Context, sum *GenerateSummary, now func() time.Time, log *slog.Logger) error {
	cfg := j.Config
	srcs, err := OpenConfigSources(ctx, cfg, j.IRR, j.IRRFromFlags, j.RPKI, j.RPKIFromFlags)
	if err != nil {
		return err
	}
	defer srcs.Close()
	for _, n := range srcs.PeeringDBNotes {
		log.Info(n)
	}
	src, rt := srcs.IRR, srcs.RPKI
	if rt != nil {
		md := rt.Metadata()
		n4, n6 := rt.Len()
		sum.RPKI = &GenerateRPKI{Source: md.Source, VRPs: n4 + n6}
		if !md.BuildTime.IsZero() {
			bt := md.BuildTime.UTC()
			age := int64(now().Sub(bt) / time.Second)
			sum.RPKI.BuildTime, sum.RPKI.AgeSeconds = &bt, &age
		}
	}
	if len(sum.IRR.Sources) == 0 {
		sum.IRR.Sources = slices.Clone(src.Sources)
	}
	in := srcs.Inputs()
	if src.Index == nil {
		// A whois server: customers sharing AS-SETs and origins ask once. (A local
		// index answers at memory speed and knows each route's source, which the
		// wrapper would hide.)
		mq := newMemoQuerier(src.Q)
		res := *in.Resolver
		res.Q = mq
		in.Querier, in.Resolver = mq, &res
	}

	// Phase 1: every customer's import documents, in parallel.
	results := make([]built, len(cfg.Customers))
	jobs := j.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, jobs)
	for i := range cfg.Customers {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			c := &cfg.Customers[i]
			docs, err := policy.BuildSession(ctx, in, cfg.CustomerSpec(c))
			results[i] = built{docs: docs, err: err}
			if err == nil && c.SAV != nil {
				results[i].sav, results[i].err = PermittedSources(ctx, in.Querier, in.Resolver, c)
			}
		}(i)
	}
	wg.Wait()

	// Phase 2: the shrink guard, then the shared export set: it needs the
	// operator's own prefixes and every customer's filter (the previous one of a
	// customer whose files are kept, so the set never loses its prefixes).
	for i := range results {
		c := &cfg.Customers[i]
		results[i].prev, results[i].prevErr = readState(filepath.Join(j.Out, c.Name, "state.json"))
		switch r := &results[i]; {
		case r.err == nil && r.prevErr != nil:
			// Without the last filter's entries the guard cannot tell an emptied
			// filter from a good one: refuse, as for a shrink, until --force.
			msg := fmt.Sprintf("%s: the shrink guard cannot compare the new filter with the last one written", r.prevErr)
			if j.Force {
				r.warn = msg + ": replaced (--force)"
			} else {
				r.refused = msg + ": previous files kept (--force replaces them)"
			}
		case r.err == nil:
			r.refused, r.warn = shrinkCheck(c, *r, j.Force)
		}
	}
	// The export files are written before any customer's: a customer's new export
	// policies name the shared sets. A customer of a target whose shared file is
	// neither there nor written keeps its previous files.
	var missing map[string]error
	sum.Export, missing = j.export(ctx, cfg, in, results)
	if e := sum.Export; j.Bar == nil && e.Status != "none" {
		log.Info("export set", "status", e.Status, "ipv4", e.Entries["ipv4"], "ipv6", e.Entries["ipv6"], "targets", len(e.Targets))
	}
	for i := range results {
		if results[i].err != nil {
			continue
		}
		for _, t := range cfg.Customers[i].Knobs.Targets {
			if err := missing[t]; err != nil {
				results[i].err = err
				break
			}
		}
	}
	exports := [2]*policy.ExportSet{{Family: 4}, {Family: 6}}

	// Every document is built: bound the heap for the rendering's garbage (irr.go).
	boundBatchHeap()

	// Phase 3: render each customer, jobs at a time (CPU-bound), and write it: the
	// staged writes wait for fsyncs, not CPU, so up to generateWriters more customers
	// are being written while the next ones render.
	done := 0
	var mu sync.Mutex
	cpu := make(chan struct{}, jobs)
	inflight := make(chan struct{}, jobs+generateWriters)
	for i := range cfg.Customers {
		wg.Add(1)
		inflight <- struct{}{}
		go func(i int) {
			defer func() { <-inflight; wg.Done() }()
			cpu <- struct{}{}
			rendered := sync.OnceFunc(func() { <-cpu })
			defer rendered()
			cs := j.customer(&cfg.Customers[i], results[i], exports, rendered)
			mu.Lock()
			sum.Customers[i] = cs
			done++
			if j.Bar != nil {
				j.Bar(done, len(cfg.Customers))
			} else {
				log.Info("generate", "customer", cs.Name, "status", cs.Status, "ipv4", cs.Entries["ipv4"], "ipv6", cs.Entries["ipv6"],
					"done", fmt.Sprintf("%d/%d", done, len(cfg.Customers)))
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if j.Report != nil && !j.DryRun {
		if err := j.writeReports(ctx, srcs, log); err != nil {
			return err
		}
	}
	sum.IRR.Stale = src.StaleUses()
	if n := len(sum.IRR.Stale); n > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("STALE IRR DATA: %d answers served from the cache because every IRR server failed", n))
	}
	return ctx.Err()
}

// customer renders and writes one customer; its previous files stay unless every
// target could be rendered and the shrink guard allows the new filter.
// rendered is called once the files are rendered, before they are written.
func (j *GenerateJob) customer(c *config.Customer, b built, exports [2]*policy.ExportSet, rendered func()) CustomerSummary {
	cs := CustomerSummary{Name: c.Name, Targets: slices.Clone(c.Knobs.Targets), Files: []string{},
		Entries: map[string]int{}, Added: map[string]int{}, Removed: map[string]int{}, Sources: []string{}, Warnings: []string{}}
	fail := func(err error, fallback int) CustomerSummary {
		cs.ExitCode = ExitCode(err, fallback)
		cs.Status = "error"
		if cs.ExitCode == ExitUnavailable {
			cs.Status = "unavailable"
		}
		cs.Error = err.Error()
		return cs
	}
	if b.err != nil {
		return fail(b.err, ExitData)
	}
	docs := b.docs
	// The export policies name the shared set (written by export.go); its entries
	// and warnings are the export summary's, not the customer's.
	docs.Export4 = policy.ExportDocumentFrom(docs.Import4, exports[0])
	docs.Export6 = policy.ExportDocumentFrom(docs.Import6, exports[1])
	docs.Export4.Warnings, docs.Export6.Warnings = nil, nil
	dir := filepath.Join(j.Out, c.Name)
	prev := b.prev
	state := customerState{Entries: map[string][]stateEntry{}}
	sources := map[string]bool{}
	seen := map[string]bool{}
	for _, d := range []*policy.Document{docs.Import4, docs.Import6} {
		// What the IRR data made the build ignore (invalid members, emptied ranges,
		// missing sets) goes to stderr too, once per customer, not only to the summary.
		for _, w := range d.Warnings {
			if !seen[w] && j.Logger != nil {
				j.Logger.Warn(w, "customer", c.Name)
			}
			seen[w] = true
		}
		key := famKeys[d.Family]
		var list []stateEntry
		for _, e := range d.Prefixes.Entries {
			list = append(list, stateEntry{Prefix: e.Prefix, Min: e.Min, Max: e.Max})
			for _, s := range e.Sources {
				sources[s] = true
			}
		}
		state.Entries[key] = list
		cs.Entries[key] = len(list)
		cs.Added[key], cs.Removed[key] = setDiff(rangeStrings(prev.Entries[key]), rangeStrings(list))
		cs.Warnings = append(cs.Warnings, d.Warnings...)
	}
	if c.SAV != nil {
		list := make([]stateEntry, len(b.sav))
		for i, p := range b.sav {
			list[i] = stateEntry{Prefix: p, Min: p.Bits(), Max: p.Bits()}
		}
		state.Entries[savKey] = list
		cs.Entries[savKey] = len(list)
		cs.Added[savKey], cs.Removed[savKey] = setDiff(rangeStrings(prev.Entries[savKey]), rangeStrings(list))
	}
	for s := range sources {
		cs.Sources = append(cs.Sources, s)
	}
	sort.Strings(cs.Sources)

	if b.refused != "" {
		cs.Status, cs.ExitCode, cs.Error = "refused", ExitGuard, b.refused
		return cs
	}
	if b.warn != "" {
		cs.Warnings = append(cs.Warnings, b.warn)
	}

	all := []*policy.Document{docs.Import4, docs.Import6, docs.Export4, docs.Export6}
	type file struct {
		path string
		data []byte
	}
	var files []file
	for _, target := range c.Knobs.Targets {
		out, err := render.RenderPolicy(target, all, render.Options{})
		if err != nil {
			return fail(fmt.Errorf("%s: %w", target, err), ExitData)
		}
		cs.Warnings = append(cs.Warnings, out.Warnings...)
		files = append(files, file{filepath.Join(dir, target+".conf"), out.Text})
	}
	if c.SAV != nil {
		in := render.SAVInput{Name: c.Name, Mode: c.SAV.Mode, Sources: b.sav}
		for _, it := range c.Interfaces {
			in.Interfaces = append(in.Interfaces, render.SAVInterface{Device: it.Device, Name: it.Name})
		}
		for _, target := range savTargets() {
			out, err := render.RenderSAV(target, in)
			if err != nil {
				return fail(fmt.Errorf("%s SAV: %w", target, err), ExitData)
			}
			cs.Warnings = append(cs.Warnings, out.Warnings...)
			files = append(files, file{filepath.Join(dir, target+"-sav.conf"), out.Text})
		}
	}
	stateJSON, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return fail(err, ExitUsage)
	}
	files = append(files, file{filepath.Join(dir, "state.json"), append(stateJSON, '\n')})

	changed := false
	for _, f := range files {
		old, _ := os.ReadFile(f.path)
		if string(old) == string(f.data) {
			continue
		}
		changed = true
		if j.Diff != nil && filepath.Base(f.path) != "state.json" {
			rel, _ := filepath.Rel(j.Out, f.path)
			d := UnifiedDiff("a/"+rel, "b/"+rel, old, f.data)
			j.diffMu.Lock()
			io.WriteString(j.Diff, d)
			j.diffMu.Unlock()
		}
	}
	for _, f := range files[:len(files)-1] {
		cs.Files = append(cs.Files, f.path)
	}
	cs.Status = "ok"
	if !changed {
		cs.Status = "unchanged"
	}
	if j.DryRun || !changed {
		return cs
	}
	rendered()
	// Stage every file of the customer, then rename them all: a failure leaves the
	// previous set whole.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err, ExitUsage)
	}
	var staged []*atomicfile.Staged
	abort := func() {
		for _, s := range staged {
			s.Abort()
		}
	}
	for _, f := range files {
		s, err := atomicfile.Stage(f.path, f.data, 0o644)
		if err != nil {
			abort()
			return fail(err, ExitUsage)
		}
		staged = append(staged, s)
	}
	if err := atomicfile.CommitAll(staged); err != nil {
		abort()
		return fail(err, ExitUsage)
	}
	return cs
}

// shrinkCheck applies the customer's shrink guard: a family's filter that lost more
// than the configured share of the entries last written is refused (the message), or
// with force replaced with a warning.
func shrinkCheck(c *config.Customer, b built, force bool) (refused, warn string) {
	guard := c.Knobs.ShrinkGuard
	if guard >= 1 {
		return "", ""
	}
	type count struct {
		key   string
		after int
	}
	counts := []count{{famKeys[4], len(b.docs.Import4.Prefixes.Entries)}, {famKeys[6], len(b.docs.Import6.Prefixes.Entries)}}
	if c.SAV != nil {
		counts = append(counts, count{savKey, len(b.sav)})
	}
	for _, n := range counts {
		key := n.key
		before, after := len(b.prev.Entries[key]), n.after
		if before > 0 && float64(before-after) > guard*float64(before) {
			msg := fmt.Sprintf("%s filter shrank from %d to %d entries (more than the shrink guard's %.0f%%)", key, before, after, guard*100)
			if !force {
				return msg + ": previous files kept (--force replaces them)", ""
			}
			warn = msg + ": replaced (--force)"
		}
	}
	return "", warn
}

// readState reads a customer's state.json. A missing one is an empty state (a first
// run: nothing to compare with); a damaged or unreadable one is an empty state and an
// error naming it, so that the shrink guard is not silently disarmed.
func readState(path string) (customerState, error) {
	var st customerState
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = nil
	case err != nil:
		err = fmt.Errorf("previous %s is unreadable: %w", path, err)
	default:
		if jerr := json.Unmarshal(b, &st); jerr != nil {
			st, err = customerState{}, fmt.Errorf("previous %s is damaged: %w", path, jerr)
		}
	}
	if st.Entries == nil {
		st.Entries = map[string][]stateEntry{}
	}
	return st, err
}

// setDiff counts the entries of b not in a (added) and of a not in b (removed); both
// are sorted.
func setDiff(a, b []string) (added, removed int) {
	i, k := 0, 0
	for i < len(a) || k < len(b) {
		switch {
		case k >= len(b) || i < len(a) && a[i] < b[k]:
			removed++
			i++
		case i >= len(a) || b[k] < a[i]:
			added++
			k++
		default:
			i++
			k++
		}
	}
	return added, removed
}

// GenerateFailed writes Out/summary.json for a run that could not start (the config
// could not be loaded) and returns err.
func GenerateFailed(out, configPath string, dryRun bool, stdout io.Writer, err error) error {
	j := &GenerateJob{Config: &config.File{Path: configPath}, Out: out, DryRun: dryRun, Stdout: stdout}
	sum := &GenerateSummary{GeneratedAt: time.Now().UTC(), Config: configPath, DryRun: dryRun, Customers: []CustomerSummary{}, Export: newExportSummary(), Warnings: []string{}}
	if !dryRun {
		if merr := os.MkdirAll(out, 0o755); merr != nil {
			return err
		}
	}
	return j.finish(sum, err)
}
