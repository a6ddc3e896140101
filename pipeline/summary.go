package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irrcache"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Summary is the JSON run summary (--summary-json) of one filter job. It is written
// atomically when the job ends, also when it fails.
type Summary struct {
	Status   string       `json:"status"` // "ok" or "error"
	ExitCode int          `json:"exit_code"`
	Command  string       `json:"command"`
	Args     []string     `json:"args,omitempty"` // bgpq4: its arguments
	Objects  []string     `json:"objects"`
	Family   int          `json:"family,omitempty"`
	Entries  *int         `json:"entries"` // prefix entries or origins; null for failed runs
	IRR      SummaryIRR   `json:"irr"`
	RPKI     *SummaryRPKI `json:"rpki"` // null without RPKI data
	Warnings []string     `json:"warnings"`
	Error    string       `json:"error,omitempty"`

	path string
	irr  *IRR
}

// SummaryIRR is the IRR part of a summary.
type SummaryIRR struct {
	Sources []string            `json:"sources"`
	Servers []string            `json:"servers,omitempty"`
	Files   []string            `json:"files,omitempty"`
	Stale   []irrcache.StaleUse `json:"stale"`
}

// SummaryRPKI is the RPKI part of a summary.
type SummaryRPKI struct {
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

// NewSummary starts the summary of one run of command; with path "" Finish writes
// nothing and only returns the run's error.
func NewSummary(path, command string, objects []string, spec IRRSpec) *Summary {
	s := &Summary{path: path, Command: command, Objects: slices.Clone(objects)}
	if s.Objects == nil {
		s.Objects = []string{}
	}
	s.IRR.Sources = slices.Clone(spec.Sources)
	for _, sp := range spec.Specs {
		if IsRemote(sp) {
			s.IRR.Servers = append(s.IRR.Servers, sp)
		} else {
			s.IRR.Files = append(s.IRR.Files, sp)
		}
	}
	return s
}

// SetIRR records the opened source whose stale cache use the summary reports, and the
// default source list of local data.
func (s *Summary) SetIRR(_ context.Context, src *IRR) {
	s.irr = src
	if len(s.IRR.Sources) == 0 && src != nil {
		s.IRR.Sources = slices.Clone(src.Sources)
	}
}

// SetRPKI records the RPKI data and policy of the run.
func (s *Summary) SetRPKI(in RPKIInput) {
	if in.Table == nil {
		return
	}
	n4, n6 := in.Table.Len()
	s.RPKI = &SummaryRPKI{Policy: in.Policy.String(), Source: in.Table.Metadata().Source, VRPs: n4 + n6}
}

// SetRPKITable is SetRPKI for a table and policy.
func (s *Summary) SetRPKITable(t *rpki.Table, p rpki.Policy) {
	s.SetRPKI(RPKIInput{Table: t, Policy: p})
}

// SetEntries records the number of entries of the output.
func (s *Summary) SetEntries(n int) { s.Entries = &n }

// Finish completes the summary with the run's outcome and writes it atomically. It
// returns runErr, or a usage error when only writing the summary failed.
func (s *Summary) Finish(runErr error) error {
	if s == nil || s.path == "" {
		return runErr
	}
	s.Status, s.ExitCode = "ok", ExitOK
	if runErr != nil {
		s.Status = "error"
		s.ExitCode = ExitCode(runErr, ExitUsage)
		if msg := runErr.Error(); msg != "" {
			s.Error = msg
		} else if s.Error == "" {
			s.Error = fmt.Sprintf("exit status %d", s.ExitCode)
		}
		s.Entries = nil
	}
	if s.irr != nil {
		s.IRR.Stale = s.irr.StaleUses()
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
		return WithCode(ExitUsage, fmt.Errorf("%s: --summary-json: %w", s.Command, err))
	}
	return runErr
}
