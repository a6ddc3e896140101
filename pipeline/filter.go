package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/routing"
)

// FilterJob is what a prefix-list or as-path job has in common: the objects, the
// sources, the rendering and where the result and the summary go.
type FilterJob struct {
	// Command names the job in messages and the summary ("prefix-list", "as-path").
	Command string
	Objects []string
	IRR     IRRSpec
	RPKI    RPKISpec
	// RPKIPolicy is the --rpki-policy value ("" when not given) and RPKIPolicyEnv
	// the value of $BGPFILTER_RPKI_POLICY (see ResolvePolicy).
	RPKIPolicy, RPKIPolicyEnv string
	// Format is a render format; Name the list name ("" derives one from Objects).
	Format, Name               string
	TemplateFile, TemplateDir  string
	FailOnMissing, FailOnEmpty bool
	// Explain, when set, receives the provenance of every entry.
	Explain io.Writer
	Output  Output
	// SummaryPath is the --summary-json file ("" for none).
	SummaryPath string
	// MaxDepth and MaxSize bound the expansion (irr.Resolver; 0: default depth, no
	// size limit).
	MaxDepth, MaxSize int
	Logger            *slog.Logger
}

// resolver is the source's resolver with the job's expansion limits.
func (j *FilterJob) resolver(src *IRR) *irr.Resolver {
	r := src.Resolver(j.IRR)
	r.MaxDepth, r.MaxSize = j.MaxDepth, j.MaxSize
	return r
}

func (j *FilterJob) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Logger
}

func (j *FilterJob) warn(warnings []string) {
	for _, w := range warnings {
		j.logger().Warn(w)
	}
}

// FailSummary writes the failure summary of a job that could not start (err was found
// while reading its flags) and returns err. No summary is written over the output
// file (see Summary.Guard).
func FailSummary(path, output, command string, objects []string, spec IRRSpec, err error) error {
	s := NewSummary(path, command, objects, spec)
	if gerr := s.Guard(output); gerr != nil {
		return gerr
	}
	return s.Finish(err)
}

// filterInputs are what prefix-list and as-path open before building a filter.
type filterInputs struct {
	r    *render.Renderer
	name string
	rpki RPKIInput
	irr  *IRR
}

// open loads the renderer and settles the list name, loads the RPKI data and opens
// the IRR source, recording the last two in sum. The caller closes in.irr.
func (j *FilterJob) open(ctx context.Context, sum *Summary) (*filterInputs, error) {
	r, name, err := NewRenderer(j.Command, j.Format, j.Name, j.TemplateFile, j.TemplateDir, j.Objects)
	if err != nil {
		return nil, err
	}
	rin, err := OpenRPKIPolicy(ctx, j.RPKI, j.RPKIPolicy, j.RPKIPolicyEnv)
	if err != nil {
		return nil, err
	}
	sum.SetRPKI(rin)
	src, err := OpenIRR(ctx, j.IRR)
	if err != nil {
		return nil, err
	}
	sum.SetIRR(ctx, src)
	return &filterInputs{r: r, name: name, rpki: rin, irr: src}, nil
}

// NewRenderer loads the templates for format and settles the list name: name, or one
// derived from the objects. An invalid --name is a usage error, an underivable name
// the data's (exit 2, naming the objects).
func NewRenderer(command, format, name, templateFile, templateDir string, objects []string) (*render.Renderer, string, error) {
	if format == "" {
		return nil, "", WithCode(ExitUsage, fmt.Errorf("%s: --format is required (%s)", command, strings.Join(render.Formats(), ", ")))
	}
	r, err := render.New(format, render.Options{TemplateFile: templateFile, TemplateDir: templateDir})
	if err != nil {
		return nil, "", WithCode(ExitUsage, fmt.Errorf("%s: %w", command, err))
	}
	if name == "" {
		name = render.DefaultName(format, objects)
		if err := render.ValidateName(format, name); err != nil {
			return nil, "", WithCode(ExitData, fmt.Errorf("%s: no valid list name can be derived from %s: %w; use --name",
				command, quoteList(objects), err))
		}
	} else if err := render.ValidateName(format, name); err != nil {
		return nil, "", WithCode(ExitUsage, fmt.Errorf("%s: --name: %w", command, err))
	}
	return r, name, nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// PrefixListJob builds, renders and writes one prefix filter.
type PrefixListJob struct {
	FilterJob
	Family                              int // 4 or 6
	MaxLength, MoreSpecifics, MinLength int
	Aggregate                           bool
}

// Run runs the job and writes its summary; the error carries the exit code.
func (j *PrefixListJob) Run(ctx context.Context) error {
	sum := NewSummary(j.SummaryPath, j.Command, j.Objects, j.IRR)
	if err := sum.Guard(j.Output.Path); err != nil {
		return err
	}
	out, err := j.run(ctx, sum)
	return sum.FinishOutput(j.Output, j.Command, out, err)
}

func (j *PrefixListJob) run(ctx context.Context, sum *Summary) ([]byte, error) {
	if len(j.Objects) == 0 {
		return nil, WithCode(ExitUsage, fmt.Errorf("%s: no OBJECT given", j.Command))
	}
	if j.Family != 4 && j.Family != 6 {
		return nil, WithCode(ExitUsage, fmt.Errorf("%s: address family %d", j.Command, j.Family))
	}
	sum.Family = j.Family
	in, err := j.open(ctx, sum)
	if err != nil {
		return nil, err
	}
	defer in.irr.Close()
	opt := policy.Options{
		Name: in.name, Family: j.Family,
		MaxLength: j.MaxLength, MoreSpecifics: j.MoreSpecifics, MinLength: j.MinLength,
		Aggregate: j.Aggregate, FailOnMissing: j.FailOnMissing, Logger: j.logger(),
	}
	var counter *countingValidator
	if h := in.rpki.Hooks(); h.Validator != nil {
		counter = &countingValidator{v: h.Validator}
		opt.Validator, opt.DropInvalid, opt.ROAAdd, opt.ROAMaxLength = counter, h.DropInvalid, h.ROAAdd, h.ROAMaxLength
	}
	pf, err := policy.BuildPrefixFilter(ctx, in.irr.Q, j.resolver(in.irr), j.Objects, opt)
	if err != nil {
		return nil, WithCode(ExitCode(err, ExitData), fmt.Errorf("%s: %w", j.Command, err))
	}
	if pf.Empty() {
		pf.Warnings = append(pf.Warnings, emptyWarning(j.Command, j.Objects))
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
	j.warn(pf.Warnings)
	out, err := in.r.PrefixList(pf)
	if err != nil {
		code := ExitCode(err, ExitUsage)
		// A range the format cannot hold is the data's fault when the user asked for
		// no ranges (a route-set member with ^n-m); with -A/-R/-r or roa-add it is the
		// flags'.
		if errors.Is(err, render.ErrUnsupported) && !j.Aggregate && j.MoreSpecifics == 0 &&
			j.MinLength == 0 && opt.ROAAdd == nil {
			code = ExitData
		}
		return nil, WithCode(code, fmt.Errorf("%s: %w", j.Command, err))
	}
	if pf.Empty() && j.FailOnEmpty {
		return nil, WithCode(ExitData, fmt.Errorf("%s: --fail-on-empty: the filter for %s is empty", j.Command, strings.Join(j.Objects, " ")))
	}
	if j.Explain != nil {
		if err := pf.Explain(j.Explain); err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("%s: --explain: %w", j.Command, err))
		}
	}
	sum.SetEntries(len(pf.Entries))
	return out, nil
}

// ASPathJob builds, renders and writes one origin / AS-path filter.
type ASPathJob struct {
	FilterJob
	// PeerAS, when set, is the AS every path must start with.
	PeerAS routing.ASN
	// KeepPrivate keeps the private and reserved origins bgpq4 drops.
	KeepPrivate bool
}

// Run runs the job and writes its summary; the error carries the exit code.
func (j *ASPathJob) Run(ctx context.Context) error {
	sum := NewSummary(j.SummaryPath, j.Command, j.Objects, j.IRR)
	if err := sum.Guard(j.Output.Path); err != nil {
		return err
	}
	out, err := j.run(ctx, sum)
	return sum.FinishOutput(j.Output, j.Command, out, err)
}

func (j *ASPathJob) run(ctx context.Context, sum *Summary) ([]byte, error) {
	if len(j.Objects) == 0 {
		return nil, WithCode(ExitUsage, fmt.Errorf("%s: no OBJECT given", j.Command))
	}
	in, err := j.open(ctx, sum)
	if err != nil {
		return nil, err
	}
	defer in.irr.Close()
	res := j.resolver(in.irr)
	af, err := policy.BuildASPathFilter(ctx, res, j.Objects, policy.ASPathOptions{
		Name: in.name, PeerAS: j.PeerAS, FailOnMissing: j.FailOnMissing,
	})
	if err != nil {
		return nil, WithCode(ExitCode(err, ExitData), fmt.Errorf("%s: %w", j.Command, err))
	}
	var dropWarnings []string
	if !j.KeepPrivate {
		dropWarnings = dropSpecialOrigins(af)
	}
	if h := in.rpki.Hooks(); h.Validator != nil && h.DropInvalid {
		drops, err := policy.DropInvalidOrigins(ctx, in.irr.Q, res.Sources, af, h.Validator)
		if err != nil {
			return nil, WithCode(ExitCode(err, ExitData), fmt.Errorf("%s: %w", j.Command, err))
		}
		for _, d := range drops {
			sum.RPKI.DroppedOrigins = append(sum.RPKI.DroppedOrigins, d.Origin.String())
			sum.RPKI.DroppedInvalid += len(d.Routes)
		}
		if j.Explain != nil {
			explainOriginDrops(j.Explain, drops)
		}
	}
	af.Warnings = append(af.Warnings, dropWarnings...)
	if af.Empty() {
		af.Warnings = append(af.Warnings, emptyWarning(j.Command, j.Objects))
	}
	sum.Warnings = af.Warnings
	j.warn(af.Warnings)
	out, err := in.r.ASPath(af)
	if err != nil {
		return nil, WithCode(ExitCode(err, ExitUsage), fmt.Errorf("%s: %w", j.Command, err))
	}
	if af.Empty() && j.FailOnEmpty {
		return nil, WithCode(ExitData, fmt.Errorf("%s: --fail-on-empty: the filter for %s is empty", j.Command, strings.Join(j.Objects, " ")))
	}
	sum.SetEntries(len(af.Origins))
	return out, nil
}

// explainOriginDrops writes one block per origin RPKI removed: its invalid route
// objects and the ROAs that make them invalid (quoted: ROA text holds TA names).
func explainOriginDrops(w io.Writer, drops []policy.OriginDrop) {
	for _, d := range drops {
		fmt.Fprintf(w, "# removed origin %s: every route object is RPKI-invalid\n", d.Origin)
		for _, r := range d.Routes {
			fmt.Fprintf(w, "  %s rpki: invalid\n", r)
			for _, why := range r.Reasons {
				fmt.Fprintf(w, "    %s\n", strconv.Quote(why))
			}
		}
	}
}

// SpecialASN reports whether bgpq4 (1.16, bgpq_expander_add_as) drops a as not a real
// origin unless -p is given: AS_TRANS 23456, 64496-65551 (documentation, 16-bit private,
// 65535 and 32-bit documentation) and 4200000000 and up (32-bit private, 4294967295).
// AS0 is kept, as bgpq4 keeps it.
func SpecialASN(a routing.ASN) bool {
	return a == 23456 || a >= 64496 && a <= 65551 || a >= 4200000000
}

// dropSpecialOrigins removes the origins bgpq4 would drop from af and returns the warning
// that says how many and which (the first ten), or nothing when none was dropped. A
// native filter thereby permits the same origins as bgpq4 on the same data.
func dropSpecialOrigins(af *policy.ASPathFilter) []string {
	kept := af.Origins[:0]
	var dropped []string
	for _, a := range af.Origins {
		if SpecialASN(a) {
			dropped = append(dropped, a.String())
			continue
		}
		kept = append(kept, a)
	}
	af.Origins = kept
	if len(dropped) == 0 {
		return nil
	}
	list := dropped
	if len(list) > 10 {
		list = append(list[:10:10], "...")
	}
	return []string{fmt.Sprintf("dropped %d private or reserved origin ASNs (as bgpq4 does; --keep-private keeps them): %s",
		len(dropped), strings.Join(list, " "))}
}

// emptyWarning says that a native filter has no entries: it then denies everything,
// which is right for a customer with nothing registered but is also what a wrong
// --sources or object name gives, so it is never silent.
func emptyWarning(cmd string, objects []string) string {
	return fmt.Sprintf("the %s filter for %s is empty: it denies everything (--fail-on-empty makes this an error)",
		cmd, strings.Join(objects, " "))
}
