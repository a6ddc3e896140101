package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/bgpfilter/bgpfilter/internal/bgpq4"
	"github.com/bgpfilter/bgpfilter/policy"
)

// BGPQ4Job is a run of the bgpq4 drop-in: bgpq4's arguments and environment, the
// data of IRR (or, when UseHost, the server bgpq4's -h names) and optionally RPKI
// filtering of the IRR answers.
type BGPQ4Job struct {
	Args []string
	Env  []string
	// UseHost takes the IRR server from bgpq4's -h (and IRRD_HOST) instead of IRR.
	UseHost                   bool
	IRR                       IRRSpec
	RPKI                      RPKISpec
	RPKIPolicy, RPKIPolicyEnv string
	Stdout, Stderr            io.Writer
	Logger                    *slog.Logger
}

// Run runs bgpq4 and records the run in sum (which the caller finishes). A non-zero
// bgpq4 status is returned as WithCode(status, ErrQuiet): bgpq4 printed its message.
func (j *BGPQ4Job) Run(ctx context.Context, sum *Summary) error {
	if code, done := bgpq4.Check(j.Args, j.Env, j.Stdout, j.Stderr); done {
		return bgpq4Exit(code)
	}
	rin, err := OpenRPKIPolicy(ctx, j.RPKI, j.RPKIPolicy, j.RPKIPolicyEnv)
	if err != nil {
		return err
	}
	sum.SetRPKI(rin)
	var src *IRR
	if j.UseHost {
		host := bgpq4.Host(j.Args, j.Env)
		sum.IRR.Servers, sum.IRR.Files = []string{"whois://" + host}, nil
		src, err = OpenIRRHost(ctx, j.IRR, host)
	} else {
		src, err = OpenIRR(ctx, j.IRR)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	sum.SetIRR(ctx, src)
	h := rin.Hooks()
	if h.Validator == nil {
		code, res := bgpq4.RunResult(ctx, j.Args, j.Env, src.Q, j.Stdout, j.Stderr)
		record(sum, code, res)
		return bgpq4Exit(code)
	}
	rq := policy.NewRPKIQuerier(src.Q, h.Validator, h.DropInvalid, h.ROAAdd)
	code, res := bgpq4.RunResult(ctx, j.Args, j.Env, rq, j.Stdout, j.Stderr)
	record(sum, code, res)
	dropped, added := rq.Dropped(), rq.Added()
	sum.RPKI.DroppedInvalid, sum.RPKI.ROAAdded = len(dropped), len(added)
	for _, d := range dropped {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("dropped RPKI-invalid %s origin %s", d.Prefix, d.Origin))
	}
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(dropped) > 0 {
		log.Warn("dropped RPKI-invalid route objects", "count", len(dropped), "policy", rin.Policy.String())
	}
	for _, d := range dropped {
		log.Debug("dropped RPKI-invalid route object", "prefix", d.Prefix, "origin", d.Origin.String(), "roas", strings.Join(d.Reasons, "; "))
	}
	for _, a := range added {
		log.Debug("added ROA prefix", "prefix", a.Prefix, "origin", a.Origin.String())
	}
	return bgpq4Exit(code)
}

// record puts what bgpq4 printed in the summary: its objects and, after a successful
// run, the number of entries.
func record(sum *Summary, code int, res bgpq4.Result) {
	sum.Objects = res.Objects
	if code == 0 && res.Entries >= 0 {
		sum.SetEntries(res.Entries)
	}
}

func bgpq4Exit(code int) error {
	if code == 0 {
		return nil
	}
	return WithCode(code, ErrQuiet)
}
