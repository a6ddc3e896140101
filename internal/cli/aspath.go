package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

func asPathCommand() *ucli.Command {
	flags := append([]ucli.Flag{
		&ucli.StringFlag{Name: "peer-as", Usage: "every path must start with this `ASN` (AS64496 or 64496)"},
		&ucli.BoolFlag{Name: "keep-private", Usage: "keep private, documentation and reserved origin ASNs " +
			"(23456, 64496-65551, 4200000000 and up), which are dropped by default as bgpq4 does without -p"},
		&ucli.BoolFlag{Name: "explain", Usage: "write the origins RPKI removed, with their invalid route objects and ROAs, to stderr"},
		rpkiPolicyFlag(),
		summaryFlag(),
	}, renderFlags()...)
	return &ucli.Command{
		Name:  "as-path",
		Usage: "origin / AS-path filter for AS-SETs and ASNs",
		Description: "With --rpki (policy drop-invalid or roa-add) an origin is removed when it has route " +
			"objects and every one of them is RPKI-invalid for it: it would announce nothing valid. Origins " +
			"without route objects stay. Removals are warnings on stderr, listed with --explain and in --summary-json.",
		ArgsUsage: "OBJECT... (flags may also follow the objects)",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			objects, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			return runASPath(c, objects)
		},
	}
}

// parsePeerAS accepts "AS64496" or "64496"; AS 0 and AS_TRANS are refused.
func parsePeerAS(s string) (routing.ASN, error) {
	if s == "" {
		return 0, nil
	}
	a, err := routing.ParseASN(s)
	if err != nil {
		a, err = routing.ParseASN("AS" + s)
	}
	if err != nil {
		return 0, fmt.Errorf("--peer-as %q: not an AS number", s)
	}
	if a == 0 || a == 23456 {
		return 0, fmt.Errorf("--peer-as %s: reserved AS number", a)
	}
	return a, nil
}

func runASPath(c *ucli.Context, objects []string) error {
	sum := newSummary(c, c.String("summary-json"), objects)
	return sum.finish(asPath(c, objects, sum))
}

func asPath(c *ucli.Context, objects []string, sum *runSummary) error {
	if len(objects) == 0 {
		return exitErr(ExitUsage, errors.New("as-path: no OBJECT given"))
	}
	peer, err := parsePeerAS(c.String("peer-as"))
	if err != nil {
		return exitErr(ExitUsage, fmt.Errorf("as-path: %w", err))
	}
	in, err := openFilterInputs(c, objects, sum)
	if err != nil {
		return err
	}
	defer closeIRR(in.q)
	af, err := policy.BuildASPathFilter(c.Context, in.res, objects, policy.ASPathOptions{
		Name: in.name, PeerAS: peer, FailOnMissing: c.Bool("fail-on-missing"),
	})
	if err != nil {
		return exitErr(exitCode(err, ExitData), fmt.Errorf("as-path: %w", err))
	}
	var dropWarnings []string
	if !c.Bool("keep-private") {
		dropWarnings = dropSpecialOrigins(af)
	}
	if h := in.rt.Hooks(in.mode); h.Validator != nil && h.DropInvalid {
		drops, err := policy.DropInvalidOrigins(c.Context, in.q, in.res.Sources, af, h.Validator)
		if err != nil {
			return exitErr(exitCode(err, ExitData), fmt.Errorf("as-path: %w", err))
		}
		for _, d := range drops {
			sum.RPKI.DroppedOrigins = append(sum.RPKI.DroppedOrigins, d.Origin.String())
			sum.RPKI.DroppedInvalid += len(d.Routes)
		}
		if c.Bool("explain") {
			explainOriginDrops(c.App.ErrWriter, drops)
		}
	}
	af.Warnings = append(af.Warnings, dropWarnings...)
	if af.Empty() {
		af.Warnings = append(af.Warnings, emptyWarning("as-path", objects))
	}
	sum.Warnings = af.Warnings
	warn(c, af.Warnings)
	out, err := in.r.ASPath(af)
	if err != nil {
		return exitErr(exitCode(err, ExitUsage), fmt.Errorf("as-path: %w", err))
	}
	if af.Empty() && c.Bool("fail-on-empty") {
		return exitErr(ExitData, fmt.Errorf("as-path: --fail-on-empty: the filter for %s is empty", strings.Join(objects, " ")))
	}
	if err := writeOutput(c, out); err != nil {
		return err
	}
	sum.setEntries(len(af.Origins))
	return nil
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

// specialASN reports whether bgpq4 (1.16, bgpq_expander_add_as) drops a as not a real
// origin unless -p is given: AS_TRANS 23456, 64496-65551 (documentation, 16-bit private,
// 65535 and 32-bit documentation) and 4200000000 and up (32-bit private, 4294967295).
// AS0 is kept, as bgpq4 keeps it.
func specialASN(a routing.ASN) bool {
	return a == 23456 || a >= 64496 && a <= 65551 || a >= 4200000000
}

// dropSpecialOrigins removes the origins bgpq4 would drop from af and returns the warning
// that says how many and which (the first ten), or nothing when none was dropped. A
// native filter thereby permits the same origins as bgpq4 on the same data.
func dropSpecialOrigins(af *policy.ASPathFilter) []string {
	kept := af.Origins[:0]
	var dropped []string
	for _, a := range af.Origins {
		if specialASN(a) {
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
