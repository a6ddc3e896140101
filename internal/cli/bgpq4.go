package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/internal/bgpq4"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
)

// errQuiet carries an exit status whose message bgpq4 has already printed.
var errQuiet = errors.New("")

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
	sum := newSummary(c, opts.summary, nil)
	sum.Args = append([]string{}, args...)
	stderr := c.App.ErrWriter
	var captured *tailBuffer
	if opts.summary != "" {
		captured = &tailBuffer{max: 4096}
		stderr = io.MultiWriter(stderr, captured)
	}
	err = runBGPQ4Args(c, args, opts, sum, stderr)
	if err != nil && captured != nil && errors.Is(err, errQuiet) {
		sum.Error = strings.TrimSpace(captured.String())
	}
	return sum.finish(err)
}

func runBGPQ4Args(c *ucli.Context, args []string, opts bgpq4Options, sum *runSummary, stderr io.Writer) error {
	env := os.Environ()
	if code, done := bgpq4.Check(args, env, c.App.Writer, stderr); done {
		return bgpq4Exit(code)
	}
	rt, mode, err := rpkiSetup(c, opts.rpkiPolicy)
	if err != nil {
		return err
	}
	sum.setRPKI(rt, mode)
	var q irr.Querier
	if c.IsSet("irr") {
		q, err = openIRR(c)
	} else {
		host := bgpq4.Host(args, env)
		sum.IRR.Servers, sum.IRR.Files = []string{"whois://" + host}, nil
		q, err = openRemoteHost(c, host)
	}
	if err != nil {
		return err
	}
	defer closeIRR(q)
	sum.setIRR(c.Context, q)
	h := rt.Hooks(mode)
	if h.Validator == nil {
		return bgpq4Exit(bgpq4.Run(c.Context, args, env, q, c.App.Writer, stderr))
	}
	rq := policy.NewRPKIQuerier(q, h.Validator, h.DropInvalid, h.ROAAdd)
	code := bgpq4.Run(c.Context, args, env, rq, c.App.Writer, stderr)
	dropped, added := rq.Dropped(), rq.Added()
	sum.RPKI.DroppedInvalid, sum.RPKI.ROAAdded = len(dropped), len(added)
	for _, d := range dropped {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("dropped RPKI-invalid %s origin %s", d.Prefix, d.Origin))
	}
	log := logger(c)
	if len(dropped) > 0 {
		log.Warn("dropped RPKI-invalid route objects", "count", len(dropped), "policy", mode.String())
	}
	for _, d := range dropped {
		log.Debug("dropped RPKI-invalid route object", "prefix", d.Prefix, "origin", d.Origin.String(), "roas", strings.Join(d.Reasons, "; "))
	}
	for _, a := range added {
		log.Debug("added ROA prefix", "prefix", a.Prefix, "origin", a.Origin.String())
	}
	return bgpq4Exit(code)
}

func bgpq4Exit(code int) error {
	if code == 0 {
		return nil
	}
	return exitErr(code, errQuiet)
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
