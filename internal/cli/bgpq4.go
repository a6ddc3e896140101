package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// errQuiet carries an exit status whose message has already been printed.
var errQuiet = pipeline.ErrQuiet

// bgpq4Command is the bgpq4 drop-in: bgpq4's own flags after the command name, data
// from the global --irr (or, like bgpq4, from the server named by -h).
func bgpq4Command() *ucli.Command {
	return &ucli.Command{
		Name:      "bgpq4",
		Usage:     "bgpq4-compatible filter generator (same flags, same output bytes as bgpq4 1.16)",
		ArgsUsage: "[--rpki-policy POLICY] [--summary-json FILE] [bgpq4 flags] OBJECT... [EXCEPT OBJECT...]",
		Description: "Runs bgpq4's expansion and printers. With --irr the IRR data comes from local " +
			"RPSL files and the run behaves as bgpq4 against a current IRRd (which answers !a); " +
			"without --irr, -h host[:port] names the whois server as in bgpq4. Exit statuses " +
			"and stdout bytes are bgpq4's.\n\n" +
			"bgpfilter's own options come first, before any bgpq4 flag:\n" +
			"   --rpki-policy POLICY  with the global --rpki: ignore, drop-invalid (the default with --rpki) or\n" +
			"                         roa-add (env BGPFILTER_RPKI_POLICY, used only with --rpki). The IRR answers are filtered as an\n" +
			"                         RPKI-aware IRRd (rr.ntt.net) does on the server: route objects whose prefix is\n" +
			"                         RPKI-invalid for their origin are dropped; roa-add adds each expanded origin's\n" +
			"                         ROA prefixes that have no route object, as exact prefixes (bgpq4's queries\n" +
			"                         carry no length ranges; the native prefix-list command permits up to\n" +
			"                         maxLength). as-set members and route-set prefixes are not changed.\n" +
			"   --summary-json FILE   write a JSON run summary (atomically, also on failure).\n" +
			"Without --rpki the output is exactly bgpq4's.",
		SkipFlagParsing: true,
		Action:          runBGPQ4,
	}
}

// bgpq4Options are the bgpfilter options the bgpq4 command takes before bgpq4's flags.
type bgpq4Options struct {
	rpkiPolicy string // "" when not given
	summary    string
}

// splitBGPQ4Args takes bgpfilter's leading options off args ("--rpki-policy X",
// "--rpki-policy=X", "--summary-json F", "--summary-json=F"; bgpq4 itself has no
// long options) and returns the rest, bgpq4's arguments, unchanged.
func splitBGPQ4Args(args []string) (bgpq4Options, []string, error) {
	var o bgpq4Options
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(args[0], "=")
		var dst *string
		switch name {
		case "--rpki-policy":
			dst = &o.rpkiPolicy
		case "--summary-json":
			dst = &o.summary
		default:
			return o, args, nil
		}
		args = args[1:]
		if !hasValue {
			if len(args) == 0 {
				return o, nil, fmt.Errorf("%s needs a value", name)
			}
			value, args = args[0], args[1:]
		}
		if strings.TrimSpace(value) == "" {
			return o, nil, fmt.Errorf("%s needs a value", name)
		}
		*dst = value
	}
	return o, args, nil
}

func runBGPQ4(c *ucli.Context) error {
	opts, args, err := splitBGPQ4Args(c.Args().Slice())
	if err != nil {
		return exitErr(ExitUsage, fmt.Errorf("bgpq4: %w", err))
	}
	sum := pipeline.NewSummary(opts.summary, c.Command.Name, nil, irrSpec(c))
	sum.Args = append([]string{}, args...)
	stderr := c.App.ErrWriter
	var captured *tailBuffer
	if opts.summary != "" {
		captured = &tailBuffer{max: 4096}
		stderr = io.MultiWriter(stderr, captured)
	}
	job := &pipeline.BGPQ4Job{Args: args, Env: os.Environ(), UseHost: !c.IsSet("irr"),
		IRR: irrSpec(c), RPKI: rpkiSpec(c), RPKIPolicy: opts.rpkiPolicy, RPKIPolicyEnv: rpkiPolicyEnvValue(),
		Stdout: c.App.Writer, Stderr: stderr, Logger: logger(c)}
	err = job.Run(c.Context, sum)
	if err != nil && captured != nil && errors.Is(err, errQuiet) {
		sum.SetQuietError(strings.TrimSpace(captured.String()))
	}
	return sum.Finish(err)
}

// tailBuffer keeps the last max bytes written to it (bgpq4's stderr for the summary).
type tailBuffer struct {
	max int
	buf bytes.Buffer
}

// Write implements io.Writer.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

// String returns the kept bytes.
func (t *tailBuffer) String() string { return t.buf.String() }
