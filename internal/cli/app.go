// Package cli wires bgpfilter's commands: flags to the job specs of package pipeline,
// which runs the jobs, and the job's error to the exit code (pipeline.ExitCode). It
// opens no source and holds no routing logic of its own.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// Exit codes of the command-line contract (../shared/DESIGN.md); pipeline defines them.
const (
	ExitOK          = pipeline.ExitOK
	ExitUsage       = pipeline.ExitUsage
	ExitData        = pipeline.ExitData
	ExitUnavailable = pipeline.ExitUnavailable
	ExitGuard       = pipeline.ExitGuard
	ExitROVInvalid  = pipeline.ExitROVInvalid
	ExitROVNotFound = pipeline.ExitROVNotFound
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
		Flags:                  cachedNames(append(append(globalFlags(), remoteFlags()...), rpkiFlags()...)),
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
			generateCommand(),
			flowAuditCommand(),
			explainCommand(),
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
	app.Metadata = map[string]any{argsKey: args}
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

// exitCode is pipeline.ExitCode, the one mapping from an error to an exit code.
func exitCode(err error, fallback int) int { return pipeline.ExitCode(err, fallback) }

// exitErr attaches an exit code to err (pipeline.WithCode); Run prints the message once.
func exitErr(code int, err error) error { return pipeline.WithCode(code, err) }

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
