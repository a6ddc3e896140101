package cli

import (
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// generateCommand is `bgpfilter generate --config FILE --out DIR` (issue 7 item 4).
func generateCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "generate",
		Usage:     "render every customer × target of a config into DIR/<customer>/<target>.conf, with DIR/summary.json",
		ArgsUsage: " ",
		Description: "IRR and RPKI data come from the config (irr, sources, rpki) unless --irr/--rpki are given;\n" +
			"the global timeout and cache flags apply. Each customer's files are replaced together or not\n" +
			"at all. Exit 0 when every customer was written or unchanged; 3 when a customer's data could\n" +
			"not be fetched (its previous files are kept, the others are written), 4 when the shrink\n" +
			"guard refused a filter (kept; --force replaces it), 2 for bad data, 1 for a bad config.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "the YAML config `FILE`"},
			&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR`"},
			&ucli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "customers built at the same time (default: the number of CPUs)"},
			&ucli.BoolFlag{Name: "diff", Usage: "print a unified diff of every changed file on stdout"},
			&ucli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "write nothing: print the diff (with --diff) and the summary"},
			&ucli.BoolFlag{Name: "force", Usage: "replace filters the shrink guard refuses"},
			&ucli.BoolFlag{Name: "report", Usage: "also write the MANRS readiness page of every customer (DIR/NAME/report.html) and an index (DIR/report.html)"},
			&ucli.StringSliceFlag{Name: "announcements", Usage: "with --report: announced routes, MRT/bgpdump -m/pfx2as/RIS dump `FILE` (gz ok); repeatable"},
		},
		Action: runGenerate,
	}
}

func runGenerate(c *ucli.Context) error {
	path, out := c.String("config"), c.String("out")
	switch {
	case c.NArg() > 0:
		return exitErr(ExitUsage, fmt.Errorf("generate: unexpected argument %q", c.Args().First()))
	case path == "":
		return exitErr(ExitUsage, errors.New("generate: --config FILE is required"))
	case out == "" && !c.Bool("dry-run"):
		return exitErr(ExitUsage, errors.New("generate: --out DIR is required"))
	case c.Int("jobs") < 0:
		return exitErr(ExitUsage, errors.New("generate: --jobs must not be negative"))
	}
	cfg, err := pipeline.LoadConfig(path)
	if err != nil {
		return pipeline.GenerateFailed(out, path, c.Bool("dry-run"), c.App.Writer, exitErr(ExitUsage, fmt.Errorf("generate: %w", err)))
	}
	job := &pipeline.GenerateJob{Config: cfg, IRR: irrSpec(c), IRRFromFlags: c.IsSet("irr"), RPKI: rpkiSpec(c), RPKIFromFlags: c.IsSet("rpki"),
		Out: out, Jobs: c.Int("jobs"),
		DryRun: c.Bool("dry-run"), Force: c.Bool("force"), Stdout: c.App.Writer, Logger: logger(c)}
	if c.Bool("diff") {
		job.Diff = c.App.Writer
	}
	if c.Bool("report") {
		job.Report = &pipeline.GenerateReport{Announcements: c.StringSlice("announcements")}
	} else if len(c.StringSlice("announcements")) > 0 {
		return exitErr(ExitUsage, errors.New("generate: --announcements needs --report"))
	}
	if !c.Bool("quiet") {
		job.Bar = pipeline.TerminalBar(c.App.ErrWriter)
	}
	return job.Run(c.Context)
}
