package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/rpki"
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
	}
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
	return &ucli.Command{
		Name:      "prefix-list",
		Usage:     "prefix filter for AS-SETs, ASNs, route-sets and prefixes",
		ArgsUsage: "OBJECT... (flags may also follow the objects)",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			objects, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			return runPrefixList(c, objects)
		},
	}
}

func runPrefixList(c *ucli.Context, objects []string) error {
	sum := newSummary(c, c.String("summary-json"), objects)
	return sum.finish(prefixList(c, objects, sum))
}

func prefixList(c *ucli.Context, objects []string, sum *runSummary) error {
	if len(objects) == 0 {
		return exitErr(ExitUsage, errors.New("prefix-list: no OBJECT given"))
	}
	if c.Bool("4") && c.Bool("6") {
		return exitErr(ExitUsage, errors.New("prefix-list: -4 and -6 are exclusive; run twice for both families"))
	}
	family := 4
	if c.Bool("6") {
		family = 6
	}
	sum.Family = family
	in, err := openFilterInputs(c, objects, sum)
	if err != nil {
		return err
	}
	defer closeIRR(in.q)
	opt := policy.Options{
		Name: in.name, Family: family,
		MaxLength: c.Int("max-length"), MoreSpecifics: c.Int("more-specifics"), MinLength: c.Int("min-length"),
		Aggregate: c.Bool("aggregate"), FailOnMissing: c.Bool("fail-on-missing"), Logger: logger(c),
	}
	var counter *countingValidator
	if h := in.rt.Hooks(in.mode); h.Validator != nil {
		counter = &countingValidator{v: h.Validator}
		opt.Validator, opt.DropInvalid, opt.ROAAdd, opt.ROAMaxLength = counter, h.DropInvalid, h.ROAAdd, h.ROAMaxLength
	}
	pf, err := policy.BuildPrefixFilter(c.Context, in.q, in.res, objects, opt)
	if err != nil {
		return exitErr(exitCode(err, ExitData), fmt.Errorf("prefix-list: %w", err))
	}
	if pf.Empty() {
		pf.Warnings = append(pf.Warnings, emptyWarning("prefix-list", objects))
	}
	sum.Warnings = pf.Warnings
	if counter != nil {
		sum.RPKI.DroppedInvalid = int(counter.invalid.Load())
		for _, e := range pf.Entries {
			if len(e.Sources) == 1 && e.Sources[0] == "RPKI" {
				sum.RPKI.ROAAdded++
			}
		}
	}
	warn(c, pf.Warnings)
	out, err := in.r.PrefixList(pf)
	if err != nil {
		code := exitCode(err, ExitUsage)
		// A range the format cannot hold is the data's fault when the user asked for
		// no ranges (a route-set member with ^n-m); with -A/-R/-r or roa-add it is the
		// flags'.
		if errors.Is(err, render.ErrUnsupported) && !c.Bool("aggregate") && c.Int("more-specifics") == 0 &&
			c.Int("min-length") == 0 && opt.ROAAdd == nil {
			code = ExitData
		}
		return exitErr(code, fmt.Errorf("prefix-list: %w", err))
	}
	if pf.Empty() && c.Bool("fail-on-empty") {
		return exitErr(ExitData, fmt.Errorf("prefix-list: --fail-on-empty: the filter for %s is empty", strings.Join(objects, " ")))
	}
	if c.Bool("explain") {
		if err := pf.Explain(c.App.ErrWriter); err != nil {
			return exitErr(ExitUsage, fmt.Errorf("prefix-list: --explain: %w", err))
		}
	}
	if err := writeOutput(c, out); err != nil {
		return err
	}
	sum.setEntries(len(pf.Entries))
	return nil
}

// filterInputs are what prefix-list and as-path open before building a filter.
type filterInputs struct {
	r    *render.Renderer
	name string // the list name (newRenderer)
	rt   *rpki.Table
	mode rpki.Policy
	q    irr.Querier
	res  *irr.Resolver
}

// openFilterInputs loads the renderer and list name (newRenderer), the RPKI data for
// --rpki-policy and the IRR source, and records the last two in sum. The caller
// closes the source with closeIRR(in.q).
func openFilterInputs(c *ucli.Context, objects []string, sum *runSummary) (*filterInputs, error) {
	r, name, err := newRenderer(c, objects)
	if err != nil {
		return nil, err
	}
	rt, mode, err := rpkiSetup(c, c.String("rpki-policy"))
	if err != nil {
		return nil, err
	}
	sum.setRPKI(rt, mode)
	q, err := openIRR(c)
	if err != nil {
		return nil, err
	}
	sum.setIRR(c.Context, q)
	return &filterInputs{r: r, name: name, rt: rt, mode: mode, q: q, res: &irr.Resolver{Q: q, Sources: sourceList(c)}}, nil
}

// newRenderer loads the templates for --format and settles the list name: --name, or
// one derived from the objects; an invalid name is an error naming the objects.
func newRenderer(c *ucli.Context, objects []string) (*render.Renderer, string, error) {
	format := c.String("format")
	if format == "" {
		return nil, "", exitErr(ExitUsage, fmt.Errorf("%s: --format is required (%s)", c.Command.Name, strings.Join(render.Formats(), ", ")))
	}
	r, err := render.New(format, render.Options{TemplateFile: c.String("template"), TemplateDir: c.String("template-dir")})
	if err != nil {
		return nil, "", exitErr(ExitUsage, fmt.Errorf("%s: %w", c.Command.Name, err))
	}
	name := c.String("name")
	if name == "" {
		name = render.DefaultName(format, objects)
		if err := render.ValidateName(format, name); err != nil {
			return nil, "", exitErr(ExitData, fmt.Errorf("%s: no valid list name can be derived from %s: %w; use --name",
				c.Command.Name, quoteList(objects), err))
		}
	} else if err := render.ValidateName(format, name); err != nil {
		return nil, "", exitErr(ExitUsage, fmt.Errorf("%s: --name: %w", c.Command.Name, err))
	}
	return r, name, nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// warn logs non-fatal findings of a build.
func warn(c *ucli.Context, warnings []string) {
	log := logger(c)
	for _, w := range warnings {
		log.Warn(w)
	}
}

// writeOutput writes the rendered bytes to --output (atomically) or stdout.
func writeOutput(c *ucli.Context, out []byte) error {
	if path := c.String("output"); path != "" {
		if err := atomicfile.WriteFile(path, out, 0o644); err != nil {
			return exitErr(ExitUsage, fmt.Errorf("%s: --output: %w", c.Command.Name, err))
		}
		return nil
	}
	if _, err := c.App.Writer.Write(out); err != nil {
		return exitErr(ExitUsage, fmt.Errorf("%s: write: %w", c.Command.Name, err))
	}
	return nil
}

// policyExitCode is exitCode for a build error (kept for callers outside this file):
// an unclassified build error is a data error.
func policyExitCode(err error) int { return exitCode(err, ExitData) }

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
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, exitErr(ExitUsage, fmt.Errorf("%s: %w", c.Command.Name, err))
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
