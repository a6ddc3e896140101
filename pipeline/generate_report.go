package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/mrt"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/report"
)

// GenerateReport asks generate for the MANRS readiness page of every customer
// (OUT/NAME/report.html, issue 11) and an index page (OUT/report.html).
type GenerateReport struct {
	// Announcements are the announcement files (MRT, bgpdump -m, pfx2as, RIS dump).
	Announcements []string
}

// writeReports builds and writes the pages from the run's opened sources.
func (j *GenerateJob) writeReports(ctx context.Context, srcs *ConfigSources, log *slog.Logger) error {
	var anns []mrt.Announcement
	for _, path := range j.Report.Announcements {
		if _, err := mrt.ReadAnnouncements(path, nil, func(a mrt.Announcement) {
			a.Path = nil
			anns = append(anns, a)
		}); err != nil {
			return WithCode(ExitData, fmt.Errorf("generate --report: --announcements: %w", err))
		}
	}
	in := srcs.Inputs()
	pol := j.Config.Defaults.RPKIPolicy
	var entries []report.IndexEntry
	for i := range j.Config.Customers {
		c := &j.Config.Customers[i]
		objects := c.ASSets
		if len(objects) == 0 {
			objects = []string{c.ASN.String()}
		}
		opt := report.Options{Objects: objects, Q: srcs.IRR.Q, Index: srcs.IRR.Index, Res: in.Resolver, RPKI: srcs.RPKI, Announcements: anns}
		opt.Filter = func(ctx context.Context, family int) (int, error) {
			po := policy.Options{Name: "REPORT", Family: family, Logger: log}
			if h := srcs.RPKI.Hooks(pol); h.Validator != nil {
				po.Validator, po.DropInvalid, po.ROAAdd, po.ROAMaxLength = h.Validator, h.DropInvalid, h.ROAAdd, h.ROAMaxLength
			}
			pf, err := policy.BuildPrefixFilter(ctx, srcs.IRR.Q, in.Resolver, objects, po)
			if err != nil {
				return 0, err
			}
			return len(pf.Entries), nil
		}
		opt.Drops = func(ctx context.Context, announced []report.Route) ([]report.Drop, error) {
			return reportDrops(ctx, in, objects, pol, announced)
		}
		rep, err := report.Build(ctx, opt)
		if err != nil {
			return WithCode(ExitCode(err, ExitData), fmt.Errorf("generate --report: %s: %w", c.Name, err))
		}
		page, err := report.Render(rep, "html")
		if err != nil {
			return WithCode(ExitUsage, err)
		}
		if err := os.MkdirAll(filepath.Join(j.Out, c.Name), 0o755); err != nil {
			return WithCode(ExitUnavailable, fmt.Errorf("generate --report: %w", err))
		}
		if err := atomicfile.WriteFile(filepath.Join(j.Out, c.Name, "report.html"), page, 0o644); err != nil {
			return WithCode(ExitUnavailable, fmt.Errorf("generate --report: %w", err))
		}
		entries = append(entries, report.IndexEntry{Name: c.Name, Page: c.Name + "/report.html", Report: rep})
	}
	index, err := report.RenderIndex(entries)
	if err != nil {
		return WithCode(ExitUsage, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(j.Out, "report.html"), index, 0o644); err != nil {
		return WithCode(ExitUnavailable, fmt.Errorf("generate --report: %w", err))
	}
	log.Info("generate --report", "pages", len(entries))
	return nil
}
