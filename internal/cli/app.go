// Package cli wires bgpfilter's commands: flags to option structs, errors to exit codes.
// It holds no routing logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/mirror"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Exit codes of the command-line contract (../shared/DESIGN.md).
const (
	ExitOK          = 0
	ExitUsage       = 1
	ExitData        = 2 // bad input, object not found
	ExitUnavailable = 3 // source unavailable or timeout
	ExitGuard       = 4 // a safety guard refused to write

	// rpki validate reports the route's state in its exit code so scripts can branch
	// without parsing the output: 0 valid, ExitROVInvalid, ExitROVNotFound. They are
	// above the error codes (1-4) so a failed run is never mistaken for a state.
	ExitROVInvalid  = 10
	ExitROVNotFound = 11
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
		// Without an Action urfave/cli treats an unknown command as a help topic and
		// exits 3 ("source unavailable" here); a typo is a usage error.
		Action: func(c *ucli.Context) error {
			if c.Args().Present() {
				return exitErr(ExitUsage, fmt.Errorf("unknown command %q (see bgpfilter --help)", c.Args().First()))
			}
			return ucli.ShowAppHelp(c)
		},
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
			routeServerCommand(),
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
	code := exitCode(err, ExitUsage)
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "bgpfilter:", msg)
	}
	return code
}

// exitCode is the one mapping from an error to the exit code of the command-line
// contract. An explicit code attached with exitErr wins (the command knew whether the
// user or the data was at fault); otherwise the error's sentinel decides; fallback is
// the code for an error no sentinel classifies (the caller knows what it was doing:
// parsing flags, reading data, talking to a server).
func exitCode(err error, fallback int) int {
	var ce *codedError
	var se *mirror.ServerError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, policy.ErrInvalidOption), errors.Is(err, rpki.ErrInvalidName):
		return ExitUsage
	// A name taken from the data that the vendor cannot hold, an unknown object or a
	// missing member is the data's fault (a --name given by the user is refused with
	// ExitUsage before anything is built).
	case errors.Is(err, render.ErrInvalidName), errors.Is(err, policy.ErrUnknownObject),
		errors.Is(err, policy.ErrMissingMember), errors.Is(err, irr.ErrNotFound):
		return ExitData
	case errors.Is(err, irr.ErrUnavailable), errors.Is(err, irr.ErrUnknownSource),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, mirror.ErrLocked):
		return ExitUnavailable
	case errors.Is(err, mirror.ErrSignature), errors.Is(err, mirror.ErrNRTM4),
		errors.Is(err, mirror.ErrNRTMFormat), errors.Is(err, mirror.ErrSerial),
		errors.Is(err, mirror.ErrObject), errors.As(err, &se), errors.Is(err, os.ErrNotExist):
		return ExitData
	}
	// urfave/cli's own exit errors (help topics) carry 3, which means "source
	// unavailable" here; anything else from the flag parser is a usage error.
	return fallback
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
