// Package cli wires bgpfilter's commands: flags to option structs, errors to exit codes.
// It holds no routing logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	ucli "github.com/urfave/cli/v2"
)

// Exit codes of the command-line contract (../shared/DESIGN.md).
const (
	ExitOK          = 0
	ExitUsage       = 1
	ExitData        = 2 // bad input, object not found
	ExitUnavailable = 3 // source unavailable or timeout
	ExitGuard       = 4 // a safety guard refused to write
)

// NewApp builds the bgpfilter application. Tests build a fresh one per case and pass
// buffers for stdout and stderr.
func NewApp(stdout, stderr io.Writer) *ucli.App {
	return &ucli.App{
		Name:                   "bgpfilter",
		Usage:                  "route filters from IRR and RPKI data (MANRS actions 1-4)",
		Writer:                 stdout,
		ErrWriter:              stderr,
		UseShortOptionHandling: true,
		HideVersion:            true,
		Flags:                  append(append(globalFlags(), remoteFlags()...), rpkiFlags()...),
		ExitErrHandler:         func(*ucli.Context, error) {},
		Commands: []*ucli.Command{
			prefixListCommand(),
			asPathCommand(),
			expandCommand(),
			bgpq4Command(),
			whoisServerCommand(),
			rpkiCommand(),
			mirrorCommand(),
			irrSnapshotCommand(),
			reportCommand(),
		},
	}
}

func globalFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringSliceFlag{Name: "irr", EnvVars: []string{"BGPFILTER_IRR"},
			Usage: "IRR data: whois://HOST[:PORT], an RPSL file, a .gz file or a directory; repeatable, first match wins (default whois://whois.radb.net)"},
		&ucli.StringFlag{Name: "sources", EnvVars: []string{"BGPFILTER_SOURCES"},
			Usage: "IRR source names in priority order, e.g. RIPE,ARIN,RADB"},
		&ucli.StringFlag{Name: "rpki", EnvVars: []string{"BGPFILTER_RPKI"},
			Usage: "VRPs/ASPAs: rpki-client or Routinator JSON/CSV file, or rtr://HOST:PORT"},
		&ucli.DurationFlag{Name: "timeout", EnvVars: []string{"BGPFILTER_TIMEOUT"}, Value: 30 * time.Second,
			Usage: "per-query timeout"},
		&ucli.BoolFlag{Name: "strict", EnvVars: []string{"BGPFILTER_STRICT"},
			Usage: "fail on the first malformed RPSL object instead of skipping it"},
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, EnvVars: []string{"BGPFILTER_QUIET"}, Usage: "only errors on stderr"},
		&ucli.BoolFlag{Name: "verbose", EnvVars: []string{"BGPFILTER_VERBOSE"}, Usage: "debug logging"},
		&ucli.StringFlag{Name: "log-format", EnvVars: []string{"BGPFILTER_LOG_FORMAT"}, Value: "text", Usage: "text or json"},
	}
}

// Run executes the app with args (args[0] is the program name) and returns the exit
// code. It is main's only call.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := NewApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	code := ExitUsage
	var ec ucli.ExitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "bgpfilter:", msg)
	}
	return code
}

// exitErr attaches an exit code to err; the message is printed once by Run.
func exitErr(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }
func (e *codedError) ExitCode() int { return e.code }

// logger builds the stderr logger from the global flags.
func logger(c *ucli.Context) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case c.Bool("quiet"):
		level = slog.LevelError
	case c.Bool("verbose"):
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.String("log-format") == "json" {
		return slog.New(slog.NewJSONHandler(c.App.ErrWriter, opts))
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, opts))
}
