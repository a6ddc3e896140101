package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irrcache"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Summary is the JSON run summary (--summary-json) of one filter job. It is written
// atomically when the job ends, also when it fails.
type Summary struct {
	Status   string       `json:"status"` // "ok", "stale" (ok, but on stale IRR answers) or "error"
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

	path        string
	irr         *IRR
	stderr      string // SetQuietError
	staleWarned bool
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

// Guard refuses an output path that names the summary's file (also through another
// spelling, a symlink or a hard link): writing one would destroy the other. The
// summary is then not written either, and the error is a usage error.
func (s *Summary) Guard(output string) error {
	if s == nil || s.path == "" || output == "" || !sameFile(s.path, output) {
		return nil
	}
	s.path = ""
	return WithCode(ExitUsage, fmt.Errorf("%s: --output and --summary-json name the same file (%s)", s.Command, output))
}

// sameFile reports whether two paths name one file: the same cleaned absolute path,
// the same target after symlinks, or (both existing) the same inode.
func sameFile(a, b string) bool {
	abs := func(p string) string {
		if q, err := filepath.Abs(p); err == nil {
			p = q
		}
		if q, err := filepath.EvalSymlinks(p); err == nil {
			p = q
		}
		return filepath.Clean(p)
	}
	if abs(a) == abs(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// complete fills in the run's outcome and returns the summary's JSON. A run that
// succeeded on stale IRR answers has the status "stale", so that a pipeline checking
// the status cannot take it for a fresh run.
func (s *Summary) complete(runErr error) ([]byte, error) {
	s.Status, s.ExitCode, s.Error = "ok", ExitOK, ""
	if runErr != nil {
		s.Status = "error"
		s.ExitCode = ExitCode(runErr, ExitUsage)
		if msg := runErr.Error(); msg != "" {
			s.Error = msg
		} else if s.stderr != "" {
			s.Error = s.stderr
		} else {
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
		if runErr == nil {
			s.Status = "stale"
		}
		if !s.staleWarned {
			s.staleWarned = true
			s.Warnings = append(s.Warnings, fmt.Sprintf("STALE IRR DATA: %d answers served from the cache because every IRR server failed", n))
		}
	}
	if s.IRR.Sources == nil {
		s.IRR.Sources = []string{}
	}
	s.Warnings = mergeWarnings("", s.Warnings)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// SetQuietError is the message for a run whose error carries none (ErrQuiet: the
// program printed it already, e.g. bgpq4's stderr).
func (s *Summary) SetQuietError(msg string) { s.stderr = msg }

// Finish completes the summary with the run's outcome and writes it atomically. It
// returns runErr, or a usage error when only writing the summary failed.
func (s *Summary) Finish(runErr error) error {
	if s == nil || s.path == "" {
		return runErr
	}
	b, err := s.complete(runErr)
	if err == nil {
		err = writeStaged(s.path, b)
	}
	if err != nil && runErr == nil {
		return WithCode(ExitUsage, fmt.Errorf("%s: --summary-json: %w", s.Command, err))
	}
	return runErr
}

// FinishOutput ends a job that produced data for o: on success it stages the output
// and the summary in temporary files, renames the summary and then the output, so a
// summary that cannot be written leaves the previous output untouched, and an output
// that cannot be renamed ends with a failure summary. On runErr only the failure
// summary is written. It returns the job's error (with its exit code).
func (s *Summary) FinishOutput(o Output, what string, data []byte, runErr error) error {
	if runErr != nil {
		return s.Finish(runErr)
	}
	if o.Path == "" {
		return s.Finish(o.Write(what, data))
	}
	out, err := atomicfile.Stage(o.Path, data, 0o644)
	if err != nil {
		return s.Finish(WithCode(ExitUsage, fmt.Errorf("%s: --output: %w", what, err)))
	}
	if s != nil && s.path != "" {
		b, err := s.complete(nil)
		var st *atomicfile.Staged
		if err == nil {
			st, err = atomicfile.Stage(s.path, b, 0o644)
		}
		if err == nil {
			err = st.Commit()
		}
		if err != nil {
			out.Abort()
			return WithCode(ExitUsage, fmt.Errorf("%s: --summary-json: %w", s.Command, err))
		}
	}
	if err := out.Commit(); err != nil {
		return s.Finish(WithCode(ExitUsage, fmt.Errorf("%s: --output: %w", what, err)))
	}
	return nil
}

func writeStaged(path string, data []byte) error {
	st, err := atomicfile.Stage(path, data, 0o644)
	if err != nil {
		return err
	}
	return st.Commit()
}

// mergeWarnings returns ws with each distinct message once, in the order of its first
// occurrence. The renderers repeat a document's warnings for every target, prefixed
// with the document's name ("acme_IN_V4: …"), and the build reports them once more
// without a name; a pipeline reading summary.json wants each fact once. A warning
// whose first word (up to ": ") is the name of one of the customer's documents
// (customer+"_…", no spaces) is folded into its message, and the names it applies
// to follow the message in brackets, in the order they appeared:
// "empty IPv4 prefix filter: every route is rejected [acme_IN_V4]". With customer ""
// only exact repeats are removed.
func mergeWarnings(customer string, ws []string) []string {
	out := []string{}
	var order []string
	docs := map[string][]string{}
	for _, w := range ws {
		msg, doc := w, ""
		if customer != "" {
			if name, rest, ok := strings.Cut(w, ": "); ok && rest != "" &&
				strings.HasPrefix(name, customer+"_") && !strings.ContainsAny(name, " \t") {
				msg, doc = rest, name
			}
		}
		list, seen := docs[msg]
		if !seen {
			order = append(order, msg)
		}
		if doc != "" && !slices.Contains(list, doc) {
			list = append(list, doc)
		}
		docs[msg] = list
	}
	for _, msg := range order {
		if list := docs[msg]; len(list) > 0 {
			msg += " [" + strings.Join(list, ", ") + "]"
		}
		out = append(out, msg)
	}
	return out
}

// mergeWarnings dedupes the run's and every customer's warnings (mergeWarnings).
func (sum *GenerateSummary) mergeWarnings() {
	sum.Warnings = mergeWarnings("", sum.Warnings)
	for i := range sum.Customers {
		c := &sum.Customers[i]
		c.Warnings = mergeWarnings(c.Name, c.Warnings)
	}
}
