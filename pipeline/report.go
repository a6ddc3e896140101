package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/bgpfilter/bgpfilter/mrt"
	"github.com/bgpfilter/bgpfilter/peeringdb"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/report"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// ReportJob builds and writes the MANRS readiness report for a set of objects.
type ReportJob struct {
	Objects                   []string
	Format                    string // text, json or html
	Announcements             []string
	PeeringDB                 []string
	IRR                       IRRSpec
	RPKI                      RPKISpec
	RPKIPolicy, RPKIPolicyEnv string
	Output                    Output
	Logger                    *slog.Logger
}

// Run builds the report and writes it; the error carries the exit code.
func (j *ReportJob) Run(ctx context.Context) error {
	if len(j.Objects) == 0 {
		return WithCode(ExitUsage, errors.New("report: no OBJECT given"))
	}
	if j.Format != "text" && j.Format != "json" && j.Format != "html" {
		return WithCode(ExitUsage, fmt.Errorf("report: --format %q: want text, json or html", j.Format))
	}
	rin, err := OpenRPKIPolicy(ctx, j.RPKI, j.RPKIPolicy, j.RPKIPolicyEnv)
	if err != nil {
		return err
	}
	var anns []mrt.Announcement
	for _, path := range j.Announcements {
		var n atomic.Int64
		prog, done := j.IRR.progress("reading "+path, &n, "routes")
		_, err := mrt.ReadAnnouncements(path, prog, func(a mrt.Announcement) {
			a.Path = nil // the report needs prefix and origin only
			anns = append(anns, a)
			n.Add(1)
		})
		done()
		if err != nil {
			return WithCode(ExitData, fmt.Errorf("report: --announcements: %w", err))
		}
	}
	var pdb map[routing.ASN]peeringdb.Net
	if len(j.PeeringDB) > 0 {
		if pdb, err = peeringdb.Load(j.PeeringDB); err != nil {
			return WithCode(ExitData, fmt.Errorf("report: --peeringdb: %w", err))
		}
	}
	src, err := OpenIRR(ctx, j.IRR)
	if err != nil {
		return err
	}
	defer src.Close()
	res := src.Resolver(j.IRR)
	opt := report.Options{Objects: j.Objects, Q: src.Q, Index: src.Index, Res: res, RPKI: rin.Table, Announcements: anns, PeeringDB: pdb}
	opt.Filter = func(ctx context.Context, family int) (int, error) {
		po := policy.Options{Name: "REPORT", Family: family, Logger: j.Logger}
		if h := rin.Hooks(); h.Validator != nil {
			po.Validator, po.DropInvalid, po.ROAAdd, po.ROAMaxLength = h.Validator, h.DropInvalid, h.ROAAdd, h.ROAMaxLength
		}
		pf, err := policy.BuildPrefixFilter(ctx, src.Q, res, j.Objects, po)
		if err != nil {
			return 0, err
		}
		return len(pf.Entries), nil
	}
	opt.Drops = func(ctx context.Context, announced []report.Route) ([]report.Drop, error) {
		in := policy.Inputs{Querier: src.Q, Resolver: res, Validator: rin.Hooks().Validator}
		if rin.Table != nil {
			in.ROAs = rin.Table
		}
		return reportDrops(ctx, in, j.Objects, rin.Policy, announced)
	}
	rep, err := report.Build(ctx, opt)
	if err != nil {
		return WithCode(ExitCode(err, ExitData), err)
	}
	out, err := report.Render(rep, j.Format)
	if err != nil {
		return WithCode(ExitUsage, err)
	}
	return j.Output.Write("report", out)
}

// reportDrops evaluates every announced route of the cone against the import document
// the cone would get (policy.BuildSession with the default rules, the same Evaluate as
// explain) and returns the rejected ones with the deciding rule. The announcement files
// give the origin only (pfx2as) or a path seen elsewhere (MRT), not the path a session
// with the customer would carry, so the path rules (first-as, as-path-length, peerlock)
// are left out and each route is evaluated with the path "ORIGIN".
func reportDrops(ctx context.Context, in policy.Inputs, objects []string, pol rpki.Policy, announced []report.Route) ([]report.Drop, error) {
	spec := policy.SessionSpec{Name: "REPORT", Role: policy.RoleCustomer, ASSets: objects,
		Length4: policy.DefaultLengthV4, Length6: policy.DefaultLengthV6, MaxPathLength: policy.DefaultMaxPathLength,
		RPKIPolicy: pol, BogonASNs: policy.DefaultBogonASNs(), BogonPrefixes4: policy.DefaultBogonPrefixes(4),
		BogonPrefixes6: policy.DefaultBogonPrefixes(6),
		Disabled:       []policy.RuleName{policy.RuleFirstAS, policy.RuleASPathLength, policy.RulePeerlock}}
	if a, err := routing.ParseASN(strings.ToUpper(objects[0])); err == nil && len(objects) == 1 {
		spec.NeighborASN = a
	}
	docs, err := policy.BuildSession(ctx, in, spec)
	if err != nil {
		return nil, err
	}
	var out []report.Drop
	for _, r := range announced {
		doc := docs.Import4
		if r.Prefix.Addr().Is6() {
			doc = docs.Import6
		}
		d, err := policy.Evaluate(doc, policy.Announcement{Prefix: r.Prefix, Path: policy.Sequence(r.Origin)}.WithROV(in.Validator))
		if err != nil {
			continue // a route no router would evaluate (bad prefix) is not a drop of this filter
		}
		if !d.Accepted() {
			out = append(out, report.Drop{Route: r, Rule: string(d.Rule)})
		}
	}
	return out, nil
}
