package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routeserver"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// RouteServerJob builds an IXP route server's configuration (issue 9): the config
// file's members (and those of IX-F exports), their filters from the IRR and RPKI
// data, rendered for BIRD 2 (and FRR where it can), written atomically into Out with
// a summary.json, behind a shrink guard and optionally bird -p.
type RouteServerJob struct {
	Config string
	Out    string
	// IXF are IX-F member export files; PeeringDB net pages (added to the config's).
	IXF, PeeringDB []string
	// Check runs bird -p -c on the new bird.conf before it replaces the old one.
	Check bool
	// ShrinkGuard < 0 means the config's shrink_guard.
	ShrinkGuard float64
	TemplateDir string
	// IRR and RPKI are the command line's; with IRRGiven / RPKI.Spec empty the config
	// file's irr, sources and rpki keys are used.
	IRR      IRRSpec
	IRRGiven bool
	RPKI     RPKISpec
	Stdout   io.Writer
	Logger   *slog.Logger
}

// RouteServerSummary is OUT/summary.json of a route-server run (written also when
// the run fails).
type RouteServerSummary struct {
	Command    string   `json:"command"`
	Config     string   `json:"config"`
	Status     string   `json:"status"`
	ExitCode   int      `json:"exit_code"`
	Error      string   `json:"error,omitempty"`
	Members    int      `json:"members"`
	Sessions4  int      `json:"sessions_ipv4"`
	Sessions6  int      `json:"sessions_ipv6"`
	Entries4   int      `json:"prefix_entries_ipv4"`
	Entries6   int      `json:"prefix_entries_ipv6"`
	ROV        string   `json:"rov,omitempty"`
	ASPA       bool     `json:"aspa"`
	Files      []string `json:"files,omitempty"`
	Changed    []string `json:"changed,omitempty"`
	Checked    bool     `json:"checked_by_bird"`
	Warnings   []string `json:"warnings,omitempty"`
	Notes      []string `json:"notes,omitempty"`
	DurationMS int64    `json:"duration_ms"`
}

// Run runs the job; the error carries the exit code.
func (j *RouteServerJob) Run(ctx context.Context) error {
	start := time.Now()
	sum := &RouteServerSummary{Command: "route-server", Config: j.Config}
	err := j.run(ctx, sum)
	sum.DurationMS = time.Since(start).Milliseconds()
	sum.Status, sum.ExitCode = "ok", ExitOK
	if err != nil {
		sum.Status, sum.ExitCode, sum.Error = "error", ExitCode(err, ExitUsage), err.Error()
	}
	if j.Out != "" {
		if b, jerr := json.MarshalIndent(sum, "", "  "); jerr == nil {
			if st, serr := os.Stat(j.Out); serr == nil && st.IsDir() {
				if werr := atomicfile.WriteFile(filepath.Join(j.Out, "summary.json"), append(b, '\n'), 0o644); werr != nil && err == nil {
					err = WithCode(ExitUnavailable, fmt.Errorf("route-server: summary.json: %w", werr))
				}
			}
		}
	}
	return err
}

func (j *RouteServerJob) run(ctx context.Context, sum *RouteServerSummary) error {
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := j.Out
	cfg, err := config.Load(j.Config)
	if err != nil {
		if errors.Is(err, config.ErrInvalid) {
			return WithCode(ExitUsage, fmt.Errorf("route-server: %w", err))
		}
		return WithCode(ExitUnavailable, fmt.Errorf("route-server: %w", err))
	}
	if cfg.RS == nil {
		return WithCode(ExitUsage, fmt.Errorf("route-server: %s has no rs section", cfg.Path))
	}
	for _, path := range j.IXF {
		ms, err := routeserver.LoadIXF(path)
		if err != nil {
			return WithCode(ExitData, err)
		}
		sum.Notes = append(sum.Notes, routeserver.AddIXFMembers(cfg, ms)...)
	}
	neverVia := map[routing.ASN]bool{}
	if files := append(slices.Clone(cfg.PeeringDB), j.PeeringDB...); len(files) > 0 {
		nets, err := peeringdb.Load(files)
		if err != nil {
			return WithCode(ExitData, fmt.Errorf("route-server: %w", err))
		}
		for a, n := range nets {
			neverVia[a] = n.NeverViaRS
		}
		sum.Notes = append(sum.Notes, cfg.ApplyPeeringDB(nets)...)
	}
	if len(cfg.Members) == 0 {
		return WithCode(ExitUsage, fmt.Errorf("route-server: no members in %s (members: or --ixf)", cfg.Path))
	}
	// The config's sources unless the command line names others.
	spec := j.IRR
	if !j.IRRGiven && len(cfg.IRR) > 0 {
		spec.Specs = slices.Clone(cfg.IRR)
	}
	if len(spec.Sources) == 0 && len(cfg.Sources) > 0 {
		spec.Sources = slices.Clone(cfg.Sources)
	}
	rspec := j.RPKI
	if !rspec.Given() && cfg.RPKI != "" {
		rspec.Spec = cfg.RPKI
	}
	var tb *rpki.Table
	if rspec.Given() {
		if tb, err = OpenRPKI(ctx, rspec); err != nil {
			return err
		}
	}
	src, err := OpenIRR(ctx, spec)
	if err != nil {
		return err
	}
	defer src.Close()
	in := routeserver.Inputs{Policy: policy.Inputs{Querier: src.Q, Resolver: src.Resolver(spec)}, NeverVia: neverVia}
	if tb != nil {
		in.RPKI, in.Policy.Validator, in.Policy.ROAs = tb, tb, tb
	}
	rs, err := routeserver.Build(ctx, cfg, in)
	if err != nil {
		if errors.Is(err, config.ErrInvalid) {
			return WithCode(ExitUsage, err)
		}
		return WithCode(ExitCode(err, ExitData), err)
	}
	for _, w := range rs.Warnings {
		log.Warn(w)
	}
	sum.Warnings, sum.Members, sum.ROV, sum.ASPA = rs.Warnings, len(rs.Members), rs.ROV, rs.ASPA
	for _, m := range rs.Members {
		sum.Sessions4 += len(m.V4.Sessions)
		sum.Sessions6 += len(m.V6.Sessions)
		sum.Entries4 += len(m.V4.Import.Prefixes.Entries)
		sum.Entries6 += len(m.V6.Import.Prefixes.Entries)
	}
	files := map[string][]byte{}
	for _, vendor := range render.RouteServerVendors {
		b, err := render.RouteServer(vendor, render.Options{TemplateDir: j.TemplateDir}, rs)
		if err != nil {
			return WithCode(ExitUsage, fmt.Errorf("route-server: %w", err))
		}
		files[vendor+".conf"] = b
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return WithCode(ExitUnavailable, fmt.Errorf("route-server: --out: %w", err))
	}
	// Shrink guard: against the previous run's summary.
	guard := cfg.Defaults.ShrinkGuard
	if j.ShrinkGuard >= 0 {
		guard = j.ShrinkGuard
	}
	if prev, err := os.ReadFile(filepath.Join(out, "summary.json")); err == nil && guard < 1 {
		var p RouteServerSummary
		if json.Unmarshal(prev, &p) == nil && p.Status == "ok" {
			for _, f := range []struct {
				fam       int
				was, isNo int
			}{{4, p.Entries4, sum.Entries4}, {6, p.Entries6, sum.Entries6}} {
				if f.was > 0 && float64(f.was-f.isNo) > guard*float64(f.was) {
					return WithCode(ExitGuard, fmt.Errorf("route-server: the members' IPv%d prefix entries shrank from %d to %d (more than %.0f%%): not replacing %s (--shrink-guard 1 to force)",
						f.fam, f.was, f.isNo, guard*100, out))
				}
			}
		}
	}
	if j.Check {
		if err := birdCheck(ctx, files["bird.conf"]); err != nil {
			return err
		}
		sum.Checked = true
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		path := filepath.Join(out, n)
		old, _ := os.ReadFile(path)
		if bytes.Equal(old, files[n]) {
			fmt.Fprintf(j.stdout(), "%s: unchanged\n", path)
		} else {
			if err := atomicfile.WriteFile(path, files[n], 0o644); err != nil {
				return WithCode(ExitUnavailable, fmt.Errorf("route-server: %w", err))
			}
			sum.Changed = append(sum.Changed, n)
			fmt.Fprintf(j.stdout(), "%s: written (%d bytes)\n", path, len(files[n]))
		}
		sum.Files = append(sum.Files, n)
	}
	log.Info("route server built", "summary", rs.Summary())
	return nil
}

// birdCheck has the installed bird parse the configuration (bird -p -c) before it
// replaces the current one; without bird it says so and goes on.
func birdCheck(ctx context.Context, conf []byte) error {
	bird, err := exec.LookPath("bird")
	if err != nil {
		return WithCode(ExitUnavailable, errors.New("route-server: --check: bird is not installed"))
	}
	dir, err := os.MkdirTemp("", "bgpfilter-rs-check")
	if err != nil {
		return WithCode(ExitUnavailable, err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		return WithCode(ExitUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, bird, "-p", "-c", path).CombinedOutput(); err != nil {
		return WithCode(ExitGuard, fmt.Errorf("route-server: --check: bird -p refused the new bird.conf (nothing replaced): %v: %s", err, strings.TrimSpace(string(b))))
	}
	return nil
}

func (j *RouteServerJob) stdout() io.Writer {
	if j.Stdout == nil {
		return io.Discard
	}
	return j.Stdout
}
