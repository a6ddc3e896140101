package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irrcache"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// summaryFlag is --summary-json of prefix-list and as-path (the bgpq4 command takes it
// as a leading option, see bgpq4.go).
func summaryFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "summary-json", Usage: "write a machine-readable run summary to `FILE` " +
		"(atomically, also when the run fails): status, exit code, entries, IRR sources and stale cache use, RPKI counts"}
}

// rpkiPolicyFlag is --rpki-policy of prefix-list and as-path.
func rpkiPolicyFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "rpki-policy",
		Usage: "IRR ∩ RPKI: ignore, drop-invalid (drop RPKI-invalid route objects) or roa-add (also accept the " +
			"ROA prefixes, up to maxLength, of expanded origins); default drop-invalid with --rpki, ignore without " +
			"(env " + rpkiPolicyEnv + ", used only with --rpki)"}
}

// runSummary is the JSON document of --summary-json.
type runSummary struct {
	Status   string       `json:"status"` // "ok" or "error"
	ExitCode int          `json:"exit_code"`
	Command  string       `json:"command"`
	Args     []string     `json:"args,omitempty"` // bgpq4: its arguments
	Objects  []string     `json:"objects"`
	Family   int          `json:"family,omitempty"`
	Entries  *int         `json:"entries"` // prefix entries or origins; null for bgpq4 and failed runs
	IRR      summaryIRR   `json:"irr"`
	RPKI     *summaryRPKI `json:"rpki"` // null without --rpki
	Warnings []string     `json:"warnings"`
	Error    string       `json:"error,omitempty"`

	path string
	q    irr.Querier
}

type summaryIRR struct {
	Sources []string            `json:"sources"`
	Servers []string            `json:"servers,omitempty"`
	Files   []string            `json:"files,omitempty"`
	Stale   []irrcache.StaleUse `json:"stale"`
}

type summaryRPKI struct {
	Policy string `json:"policy"`
	Source string `json:"source"`
	VRPs   int    `json:"vrps"`
	// DroppedInvalid counts the RPKI-invalid route objects dropped.
	DroppedInvalid int `json:"dropped_invalid"`
	// ROAAdded counts, for prefix-list, the entries whose only source is a ROA; for
	// bgpq4 the ROA prefixes added to route answers.
	ROAAdded int `json:"roa_added"`
	// DroppedOrigins is set by as-path: origins whose route objects are all invalid.
	DroppedOrigins []string `json:"dropped_origins,omitempty"`
}

// newSummary starts the summary of one run; with path "" finish writes nothing and
// only returns the run's error. A summary is written once the command's own flags
// have been parsed: a flag urfave/cli itself refuses leaves no summary.
func newSummary(c *ucli.Context, path string, objects []string) *runSummary {
	s := &runSummary{path: path, Command: c.Command.Name, Objects: slices.Clone(objects)}
	if s.Objects == nil {
		s.Objects = []string{}
	}
	s.IRR.Sources = sourceList(c)
	for _, spec := range irrSpecs(c) {
		if isRemoteSpec(spec) {
			s.IRR.Servers = append(s.IRR.Servers, spec)
		} else {
			s.IRR.Files = append(s.IRR.Files, spec)
		}
	}
	return s
}

// setIRR records the Querier whose stale cache use the summary reports, and the
// default source list of local data.
func (s *runSummary) setIRR(ctx context.Context, q irr.Querier) {
	s.q = q
	if ix, ok := q.(*irr.Index); ok && len(s.IRR.Sources) == 0 {
		s.IRR.Sources, _ = ix.Sources(ctx)
	}
}

// setRPKI records the RPKI data and policy of the run.
func (s *runSummary) setRPKI(t *rpki.Table, p rpki.Policy) {
	if t == nil {
		return
	}
	n4, n6 := t.Len()
	s.RPKI = &summaryRPKI{Policy: p.String(), Source: t.Metadata().Source, VRPs: n4 + n6}
}

// setEntries records the number of entries of the output.
func (s *runSummary) setEntries(n int) { s.Entries = &n }

// finish completes the summary with the run's outcome and writes it atomically. It
// returns runErr, or a usage error when only writing the summary failed.
func (s *runSummary) finish(runErr error) error {
	if s == nil || s.path == "" {
		return runErr
	}
	s.Status, s.ExitCode = "ok", ExitOK
	if runErr != nil {
		s.Status, s.ExitCode = "error", ExitUsage
		s.ExitCode = exitCode(runErr, ExitUsage)
		if msg := runErr.Error(); msg != "" {
			s.Error = msg
		} else if s.Error == "" {
			s.Error = fmt.Sprintf("exit status %d", s.ExitCode)
		}
		s.Entries = nil
	}
	if s.q != nil {
		s.IRR.Stale = irrStaleUses(s.q)
	}
	if s.IRR.Stale == nil {
		s.IRR.Stale = []irrcache.StaleUse{}
	}
	if n := len(s.IRR.Stale); n > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("STALE IRR DATA: %d answers served from the cache because every IRR server failed", n))
	}
	if s.IRR.Sources == nil {
		s.IRR.Sources = []string{}
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		err = atomicfile.WriteFile(s.path, append(b, '\n'), 0o644)
	}
	if err != nil && runErr == nil {
		return exitErr(ExitUsage, fmt.Errorf("%s: --summary-json: %w", s.Command, err))
	}
	return runErr
}

// rpkiPolicyEnv names the environment variable with the default --rpki-policy.
const rpkiPolicyEnv = "BGPFILTER_RPKI_POLICY"

// rpkiSetup loads --rpki and settles the RPKI policy from flagValue (the
// --rpki-policy value, "" when not given), else $BGPFILTER_RPKI_POLICY, else the
// default. The table is nil without --rpki; an explicit --rpki-policy other than
// ignore then is a usage error, while the environment variable is not (it is meant
// to be set once for runs with and without RPKI data).
func rpkiSetup(c *ucli.Context, flagValue string) (*rpki.Table, rpki.Policy, error) {
	value, name := strings.TrimSpace(flagValue), "--rpki-policy"
	if value == "" {
		value, name = strings.TrimSpace(os.Getenv(rpkiPolicyEnv)), rpkiPolicyEnv
	}
	p, err := rpki.ParsePolicy(value)
	if err != nil {
		return nil, 0, exitErr(ExitUsage, fmt.Errorf("%s: %w", name, err))
	}
	if strings.TrimSpace(c.String("rpki")) == "" {
		if flagValue != "" && p != rpki.PolicyIgnore {
			return nil, 0, exitErr(ExitUsage, fmt.Errorf("--rpki-policy %s needs --rpki", p))
		}
		return nil, rpki.PolicyIgnore, nil
	}
	t, err := openRPKI(c.Context, c)
	if err != nil {
		return nil, 0, err
	}
	return t, p, nil
}

// countingValidator counts the "invalid" answers of a validator (the prefix-list
// builder drops exactly those with drop-invalid and roa-add).
type countingValidator struct {
	v       policy.RouteValidator
	invalid atomic.Int64
}

// Validate implements policy.RouteValidator.
func (c *countingValidator) Validate(p netip.Prefix, origin routing.ASN) (routing.ROVState, []string) {
	st, why := c.v.Validate(p, origin)
	if st == routing.Invalid {
		c.invalid.Add(1)
	}
	return st, why
}
