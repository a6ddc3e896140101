package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/pipeline"
	"github.com/bgpfilter/bgpfilter/render"
)

// renderFlags are shared by prefix-list and as-path.
func renderFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "format", Aliases: []string{"F"},
			Usage: "output format: " + strings.Join(render.Formats(), ", ")},
		&ucli.StringFlag{Name: "name", Aliases: []string{"l"},
			Usage: "list name (default: derived from the objects; validated per vendor)"},
		&ucli.StringFlag{Name: "template", Usage: "use this template `FILE` for the output"},
		&ucli.StringFlag{Name: "template-dir", Usage: "override built-in templates from `DIR` (DIR/<vendor>/*.tmpl)"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"},
			Usage: "write to `FILE` atomically (kept unchanged on any error) instead of stdout"},
		&ucli.BoolFlag{Name: "fail-on-missing", Usage: "fail when a member set does not exist (default: warn)"},
		&ucli.BoolFlag{Name: "fail-on-empty", Usage: "fail (exit 2, --output untouched) when the filter has no entries (default: warn)"},
		&ucli.IntFlag{Name: "max-depth", Value: irr.DefaultMaxDepth, Usage: "maximum set nesting depth (deeper: exit 2)"},
		&ucli.IntFlag{Name: "max-size", Usage: "maximum number of ASNs plus prefixes an object may expand to (more: exit 2; 0: no limit)"},
	}
}

// argsKey is the app metadata key of the arguments Run was given.
const argsKey = "bgpfilter.args"

// rawFlag returns the value of the last "--name VALUE" or "--name=VALUE" (one or two
// dashes, any of names) in args, or "".
func rawFlag(args []string, names ...string) string {
	var v string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		for _, n := range names {
			for _, p := range []string{"-" + n, "--" + n} {
				switch {
				case a == p && i+1 < len(args):
					v = args[i+1]
				case strings.HasPrefix(a, p+"="):
					v = a[len(p)+1:]
				}
			}
		}
	}
	return v
}

// filterCommand finishes the definition of prefix-list and as-path: flags may follow
// the objects (permuteArgs), and a flag refused before or after them still writes the
// failure summary (--summary-json) instead of leaving the previous run's in place.
func filterCommand(cmd *ucli.Command, run func(*ucli.Context, []string) error) *ucli.Command {
	cmd.OnUsageError = func(c *ucli.Context, err error, _ bool) error {
		// urfave/cli keeps none of the flags it parsed before the refused one: the
		// summary and output paths are read from the raw arguments.
		err = exitErr(ExitUsage, fmt.Errorf("%s: %w", cmd.Name, err))
		args, _ := c.App.Metadata[argsKey].([]string)
		return pipeline.FailSummary(rawFlag(args, "summary-json"), rawFlag(args, "output", "o"), cmd.Name, nil, irrSpec(c), err)
	}
	cmd.Action = func(c *ucli.Context) error {
		objects, err := permuteArgs(c, cmd.Flags)
		if err != nil {
			return failSummary(c, objects, err)
		}
		return run(c, objects)
	}
	return cmd
}

func prefixListCommand() *ucli.Command {
	flags := append([]ucli.Flag{
		&ucli.BoolFlag{Name: "4", Usage: "IPv4 (the default family)"},
		&ucli.BoolFlag{Name: "6", Usage: "IPv6"},
		&ucli.BoolFlag{Name: "aggregate", Aliases: []string{"A"}, Usage: "lossless aggregation (bgpq4 -A)"},
		&ucli.IntFlag{Name: "max-length", Aliases: []string{"m"}, Usage: "drop input prefixes longer than `M` (bgpq4 -m)"},
		&ucli.IntFlag{Name: "more-specifics", Aliases: []string{"R"}, Usage: "permit more-specifics up to length `R` (bgpq4 -R)"},
		&ucli.IntFlag{Name: "min-length", Aliases: []string{"r"}, Usage: "permit lengths from `L` on only (bgpq4 -r)"},
		&ucli.BoolFlag{Name: "explain", Usage: "write the provenance of every entry (set path, route object source, ROA and trust anchor) to stderr"},
		rpkiPolicyFlag(),
		summaryFlag(),
	}, renderFlags()...)
	return filterCommand(&ucli.Command{
		Name:      "prefix-list",
		Usage:     "prefix filter for AS-SETs, ASNs, route-sets and prefixes",
		ArgsUsage: "OBJECT... (flags may also follow the objects)",
		Flags:     flags,
	}, runPrefixList)
}

// filterJob turns the flags shared by prefix-list and as-path into the job spec.
func filterJob(c *ucli.Context, objects []string) pipeline.FilterJob {
	j := pipeline.FilterJob{
		Command: c.Command.Name, Objects: objects,
		IRR: irrSpec(c), RPKI: rpkiSpec(c),
		RPKIPolicy: c.String("rpki-policy"), RPKIPolicyEnv: rpkiPolicyEnvValue(),
		Format: c.String("format"), Name: c.String("name"),
		TemplateFile: c.String("template"), TemplateDir: c.String("template-dir"),
		FailOnMissing: c.Bool("fail-on-missing"), FailOnEmpty: c.Bool("fail-on-empty"),
		Output:      pipeline.Output{Path: c.String("output"), Stdout: c.App.Writer},
		SummaryPath: c.String("summary-json"),
		MaxDepth:    c.Int("max-depth"), MaxSize: c.Int("max-size"),
		Logger: logger(c),
	}
	if c.Bool("explain") {
		j.Explain = c.App.ErrWriter
	}
	return j
}

func runPrefixList(c *ucli.Context, objects []string) error {
	job := &pipeline.PrefixListJob{FilterJob: filterJob(c, objects), Family: 4,
		MaxLength: c.Int("max-length"), MoreSpecifics: c.Int("more-specifics"), MinLength: c.Int("min-length"),
		Aggregate: c.Bool("aggregate")}
	if c.Bool("4") && c.Bool("6") {
		return failSummary(c, objects, exitErr(ExitUsage, errors.New("prefix-list: -4 and -6 are exclusive; run twice for both families")))
	}
	if c.Bool("6") {
		job.Family = 6
	}
	return job.Run(c.Context)
}

// failSummary writes the failure summary (--summary-json) of a run that failed while
// its flags were read, and returns err.
func failSummary(c *ucli.Context, objects []string, err error) error {
	return pipeline.FailSummary(c.String("summary-json"), c.String("output"), c.Command.Name, objects, irrSpec(c), err)
}

// permuteArgs lets command flags follow the operands, as bgpq4 users type them
// ("prefix-list AS-FOO -6 --format bird"): urfave/cli stops at the first operand, so the
// remaining arguments are parsed here with the command's own flag definitions and the
// flags found are set on c. "--" ends flag parsing; "-6A" splits into boolean flags.
func permuteArgs(c *ucli.Context, flags []ucli.Flag) ([]string, error) {
	args := c.Args().Slice()
	if len(args) == 0 {
		return nil, nil
	}
	fs := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	primary := make(map[string]string) // alias -> the name c knows the value by
	for _, f := range flags {
		for _, n := range f.Names() {
			primary[n] = f.Names()[0]
		}
		if err := f.Apply(fs); err != nil {
			return nil, exitErr(ExitUsage, fmt.Errorf("%s: %w", c.Command.Name, err))
		}
	}
	args = splitShortBools(fs, args)
	var objects []string
	var parseErr error
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			// The flags parsed so far are still set on c (below), so that the caller's
			// failure summary goes to a --summary-json given after the objects.
			parseErr = exitErr(ExitUsage, fmt.Errorf("%s: %w", c.Command.Name, err))
			break
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			objects = append(objects, rest[1:]...)
			break
		}
		objects = append(objects, rest[0])
		args = rest[1:]
	}
	var setErr error
	done := make(map[string]bool) // aliases share one value: set it once
	fs.Visit(func(f *flag.Flag) {
		if done[primary[f.Name]] {
			return
		}
		done[primary[f.Name]] = true
		for _, v := range flagValues(f.Value) {
			if err := c.Set(primary[f.Name], v); err != nil && setErr == nil {
				setErr = exitErr(ExitUsage, fmt.Errorf("%s: -%s: %w", c.Command.Name, f.Name, err))
			}
		}
	})
	if parseErr != nil {
		return objects, parseErr
	}
	return objects, setErr
}

// flagValues returns the values to hand to c.Set one by one. A repeatable flag's
// String() is the "[a b]" rendering of its slice, which c.Set would take as one more
// text value; its elements are set one by one instead (each Set appends, so values
// given before OBJECT are kept).
func flagValues(v flag.Value) []string {
	switch s := v.(type) {
	case *ucli.StringSlice:
		return s.Value()
	case *ucli.IntSlice:
		return stringsOf(s.Value())
	case *ucli.Int64Slice:
		return stringsOf(s.Value())
	case *ucli.UintSlice:
		return stringsOf(s.Value())
	case *ucli.Uint64Slice:
		return stringsOf(s.Value())
	case *ucli.Float64Slice:
		return stringsOf(s.Value())
	}
	return []string{v.String()}
}

func stringsOf[T any](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// splitShortBools turns "-6A" into "-6", "-A" when every letter is a boolean flag.
func splitShortBools(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && !strings.Contains(a, "=") {
			ok := true
			for _, ch := range a[1:] {
				f := fs.Lookup(string(ch))
				if f == nil {
					ok = false
					break
				}
				bf, isBool := f.Value.(interface{ IsBoolFlag() bool })
				if !isBool || !bf.IsBoolFlag() {
					ok = false
					break
				}
			}
			if ok {
				for _, ch := range a[1:] {
					out = append(out, "-"+string(ch))
				}
				continue
			}
		}
		out = append(out, a)
	}
	return out
}
