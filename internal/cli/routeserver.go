package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routeserver"
	"github.com/bgpfilter/bgpfilter/routing"
)

// routeServerCommand is `bgpfilter route-server --config rs.yml --out DIR` (issue 9).
func routeServerCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "route-server",
		Usage: "IXP route-server configuration (BIRD 2, and FRR for what FRR can express) from a member list",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Required: true, Usage: "route-server config `FILE` (YAML: rs, members, defaults)"},
			&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, Usage: "write bird.conf, frr.conf and summary.json into `DIR` (atomically)"},
			&ucli.StringSliceFlag{Name: "ixf", Usage: "add the members of an IX-F member export JSON `FILE`; repeatable"},
			&ucli.StringSliceFlag{Name: "peeringdb", Usage: "PeeringDB API net page `FILE` (JSON, gz ok): AS-SETs, max-prefix, never-via-route-servers; repeatable"},
			&ucli.BoolFlag{Name: "check", Usage: "run bird -p -c on the new bird.conf before installing it (when bird is installed)"},
			&ucli.Float64Flag{Name: "shrink-guard", Value: -1, Usage: "refuse to replace the config when the members' prefix entries shrink by more than this share (default: the config's shrink_guard)"},
			&ucli.StringFlag{Name: "template-dir", Usage: "override built-in templates from `DIR` (DIR/bird/rs.tmpl, DIR/frr/rs.tmpl)"},
		},
		Action: runRouteServer,
	}
}

// rsSummary is DIR/summary.json of a route-server run.
type rsSummary struct {
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

func runRouteServer(c *ucli.Context) error {
	start := time.Now()
	out := c.String("out")
	sum := &rsSummary{Command: "route-server", Config: c.String("config")}
	err := routeServer(c, out, sum)
	sum.DurationMS = time.Since(start).Milliseconds()
	sum.Status, sum.ExitCode = "ok", ExitOK
	if err != nil {
		sum.Status, sum.ExitCode, sum.Error = "error", exitCode(err, ExitUsage), err.Error()
	}
	if out != "" {
		if b, jerr := json.MarshalIndent(sum, "", "  "); jerr == nil {
			if st, serr := os.Stat(out); serr == nil && st.IsDir() {
				if werr := atomicfile.WriteFile(filepath.Join(out, "summary.json"), append(b, '\n'), 0o644); werr != nil && err == nil {
					err = exitErr(ExitUnavailable, fmt.Errorf("route-server: summary.json: %w", werr))
				}
			}
		}
	}
	return err
}

func routeServer(c *ucli.Context, out string, sum *rsSummary) error {
	ctx := c.Context
	log := logger(c)
	cfg, err := config.Load(c.String("config"))
	if err != nil {
		if errors.Is(err, config.ErrInvalid) {
			return exitErr(ExitUsage, fmt.Errorf("route-server: %w", err))
		}
		return exitErr(ExitUnavailable, fmt.Errorf("route-server: %w", err))
	}
	if cfg.RS == nil {
		return exitErr(ExitUsage, fmt.Errorf("route-server: %s has no rs section", cfg.Path))
	}
	for _, path := range c.StringSlice("ixf") {
		ms, err := routeserver.LoadIXF(path)
		if err != nil {
			return exitErr(ExitData, err)
		}
		sum.Notes = append(sum.Notes, routeserver.AddIXFMembers(cfg, ms)...)
	}
	neverVia := map[routing.ASN]bool{}
	if files := append(slices.Clone(cfg.PeeringDB), c.StringSlice("peeringdb")...); len(files) > 0 {
		nets, err := peeringdb.Load(files)
		if err != nil {
			return exitErr(ExitData, fmt.Errorf("route-server: %w", err))
		}
		pdb := make(map[routing.ASN]config.PeeringDBNet, len(nets))
		for a, n := range nets {
			pdb[a] = config.PeeringDBNet{IRRASSet: n.IRRASSet, Prefixes4: n.Prefixes4, Prefixes6: n.Prefixes6}
			neverVia[a] = n.NeverViaRS
		}
		sum.Notes = append(sum.Notes, cfg.ApplyPeeringDB(pdb)...)
	}
	if len(cfg.Members) == 0 {
		return exitErr(ExitUsage, fmt.Errorf("route-server: no members in %s (members: or --ixf)", cfg.Path))
	}
	// The config's sources unless the command line names others.
	if !c.IsSet("irr") {
		for _, s := range cfg.IRR {
			if err := c.Set("irr", s); err != nil {
				return exitErr(ExitUsage, err)
			}
		}
	}
	if !c.IsSet("sources") && len(cfg.Sources) > 0 {
		if err := c.Set("sources", strings.Join(cfg.Sources, ",")); err != nil {
			return exitErr(ExitUsage, err)
		}
	}
	if !c.IsSet("rpki") && cfg.RPKI != "" {
		if err := c.Set("rpki", cfg.RPKI); err != nil {
			return exitErr(ExitUsage, err)
		}
	}
	tb, err := openRPKI(ctx, c)
	if err != nil {
		return err
	}
	q, err := openIRR(c)
	if err != nil {
		return err
	}
	defer closeIRR(q)
	in := routeserver.Inputs{Policy: policy.Inputs{Querier: q, Resolver: &irr.Resolver{Q: q, Sources: sourceList(c)}}, NeverVia: neverVia}
	if tb != nil {
		in.RPKI, in.Policy.Validator, in.Policy.ROAs = tb, tb, tb
	}
	rs, err := routeserver.Build(ctx, cfg, in)
	if err != nil {
		if errors.Is(err, config.ErrInvalid) {
			return exitErr(ExitUsage, err)
		}
		return exitErr(policyExitCode(err), err)
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
		b, err := render.RouteServer(vendor, render.Options{TemplateDir: c.String("template-dir")}, rs)
		if err != nil {
			return exitErr(ExitUsage, fmt.Errorf("route-server: %w", err))
		}
		files[vendor+".conf"] = b
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return exitErr(ExitUnavailable, fmt.Errorf("route-server: --out: %w", err))
	}
	// Shrink guard: against the previous run's summary.
	guard := cfg.Defaults.ShrinkGuard
	if g := c.Float64("shrink-guard"); g >= 0 {
		guard = g
	}
	if prev, err := os.ReadFile(filepath.Join(out, "summary.json")); err == nil && guard < 1 {
		var p rsSummary
		if json.Unmarshal(prev, &p) == nil && p.Status == "ok" {
			for _, f := range []struct {
				fam       int
				was, isNo int
			}{{4, p.Entries4, sum.Entries4}, {6, p.Entries6, sum.Entries6}} {
				if f.was > 0 && float64(f.was-f.isNo) > guard*float64(f.was) {
					return exitErr(ExitGuard, fmt.Errorf("route-server: the members' IPv%d prefix entries shrank from %d to %d (more than %.0f%%): not replacing %s (--shrink-guard 1 to force)",
						f.fam, f.was, f.isNo, guard*100, out))
				}
			}
		}
	}
	if c.Bool("check") {
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
			fmt.Fprintf(c.App.Writer, "%s: unchanged\n", path)
		} else {
			if err := atomicfile.WriteFile(path, files[n], 0o644); err != nil {
				return exitErr(ExitUnavailable, fmt.Errorf("route-server: %w", err))
			}
			sum.Changed = append(sum.Changed, n)
			fmt.Fprintf(c.App.Writer, "%s: written (%d bytes)\n", path, len(files[n]))
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
		return exitErr(ExitUnavailable, errors.New("route-server: --check: bird is not installed"))
	}
	dir, err := os.MkdirTemp("", "bgpfilter-rs-check")
	if err != nil {
		return exitErr(ExitUnavailable, err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		return exitErr(ExitUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, bird, "-p", "-c", path).CombinedOutput(); err != nil {
		return exitErr(ExitGuard, fmt.Errorf("route-server: --check: bird -p refused the new bird.conf (nothing replaced): %v: %s", err, strings.TrimSpace(string(b))))
	}
	return nil
}
