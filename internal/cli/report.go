package cli

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/mrt"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/report"
	"github.com/bgpfilter/bgpfilter/routing"
)

// reportCommand is `bgpfilter report OBJECT...`: the MANRS readiness report (issue 11).
func reportCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringSliceFlag{Name: "announcements", Aliases: []string{"a"},
			Usage: "announced routes: MRT RIB/updates, bgpdump -m text, pfx2as or RIS whois dump `FILE` (gz ok); repeatable"},
		&ucli.StringFlag{Name: "format", Aliases: []string{"F"}, Value: "text", Usage: "text, json or html"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` atomically instead of stdout"},
		&ucli.StringSliceFlag{Name: "peeringdb", Usage: "PeeringDB API net page `FILE` (JSON, gz ok); repeatable"},
		rpkiPolicyFlag(),
	}
	return &ucli.Command{
		Name:      "report",
		Usage:     "MANRS readiness report (IRR/RPKI coverage, conflicts, contacts) for ASNs or AS-SETs",
		ArgsUsage: "OBJECT...",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			objects, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			return runReport(c, objects)
		},
	}
}

func runReport(c *ucli.Context, objects []string) error {
	if len(objects) == 0 {
		return exitErr(ExitUsage, errors.New("report: no OBJECT given"))
	}
	format := c.String("format")
	if format != "text" && format != "json" && format != "html" {
		return exitErr(ExitUsage, fmt.Errorf("report: --format %q: want text, json or html", format))
	}
	rt, mode, err := rpkiSetup(c, c.String("rpki-policy"))
	if err != nil {
		return err
	}
	var anns []mrt.Announcement
	for _, path := range c.StringSlice("announcements") {
		var n atomic.Int64
		prog, done := countProgress(c, "reading "+path, &n, "routes")
		_, err := mrt.ReadAnnouncements(path, prog, func(a mrt.Announcement) {
			a.Path = nil // the report needs prefix and origin only
			anns = append(anns, a)
			n.Add(1)
		})
		done()
		if err != nil {
			return exitErr(ExitData, fmt.Errorf("report: --announcements: %w", err))
		}
	}
	var pdb map[routing.ASN]report.PDBNet
	if files := c.StringSlice("peeringdb"); len(files) > 0 {
		if pdb, err = report.LoadPeeringDB(files); err != nil {
			return exitErr(ExitData, fmt.Errorf("report: --peeringdb: %w", err))
		}
	}
	q, err := openIRR(c)
	if err != nil {
		return err
	}
	defer closeIRR(q)
	ix, _ := q.(*irr.Index)
	res := &irr.Resolver{Q: q, Sources: sourceList(c)}
	opt := report.Options{Objects: objects, Q: q, Index: ix, Res: res, RPKI: rt, Announcements: anns, PeeringDB: pdb}
	opt.Filter = func(ctx context.Context, family int) (int, error) {
		po := policy.Options{Name: "REPORT", Family: family, Logger: logger(c)}
		if h := rt.Hooks(mode); h.Validator != nil {
			po.Validator, po.DropInvalid, po.ROAAdd, po.ROAMaxLength = h.Validator, h.DropInvalid, h.ROAAdd, h.ROAMaxLength
		}
		pf, err := policy.BuildPrefixFilter(ctx, q, res, objects, po)
		if err != nil {
			return 0, err
		}
		return len(pf.Entries), nil
	}
	// opt.Drops stays nil: the per-route "which rule drops it" needs the explain model.
	rep, err := report.Build(c.Context, opt)
	if err != nil {
		return exitErr(policyExitCode(err), err)
	}
	out, err := report.Render(rep, format)
	if err != nil {
		return exitErr(ExitUsage, err)
	}
	if path := c.String("output"); path != "" {
		if err := atomicfile.WriteFile(path, out, 0o644); err != nil {
			return exitErr(ExitUsage, fmt.Errorf("report: --output: %w", err))
		}
		return nil
	}
	_, err = c.App.Writer.Write(out)
	return err
}
