package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/mirror"
	"github.com/bgpfilter/bgpfilter/pipeline"
)

func mirrorCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "mirror",
		Usage: "keep a local IRR mirror current with NRTMv3 / NRTMv4 updates",
		Description: `The mirror directory holds, per source, the current objects (SOURCE.db) and
state.json (serial, NRTMv4 session and version, update locations). The first run
of a source loads --dump (download it with your own cron job) at --serial, or an
NRTMv4 snapshot; later runs apply updates. Configuration is remembered, so
"bgpfilter mirror --dir DIR" alone updates every configured source, and
"bgpfilter whois-server --mirror DIR" serves the mirror while updating it.`,
		ArgsUsage: " ",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "dir", Required: true, Usage: "mirror directory"},
			&ucli.StringFlag{Name: "source", Usage: "IRR source to add or reconfigure, e.g. RIPE"},
			&ucli.StringFlag{Name: "dump", Usage: "RPSL dump (plain or .gz) loaded when the source has no data yet"},
			&ucli.Uint64Flag{Name: "serial", Usage: "NRTMv3 serial of --dump (e.g. from RIPE.CURRENTSERIAL)"},
			&ucli.BoolFlag{Name: "reload", Usage: "load --dump even if the source already has data"},
			&ucli.StringFlag{Name: "nrtm3", Usage: "NRTMv3 server HOST:PORT (queried with -g SOURCE:3:FIRST-LAST)"},
			&ucli.StringFlag{Name: "nrtm4", Usage: "NRTMv4 Update Notification File: https:// or file:// URL, or a directory"},
			&ucli.StringFlag{Name: "nrtm4-key", Usage: "file with the NRTMv4 signing public key (PEM or base64)"},
			&ucli.BoolFlag{Name: "once", Usage: "run one update round and exit"},
			&ucli.DurationFlag{Name: "interval", Value: time.Minute, Usage: "time between update rounds"},
			&ucli.DurationFlag{Name: "nrtm4-max-age", Value: 24 * time.Hour, Usage: "refuse NRTMv4 notifications older than this (0: no limit)"},
			&ucli.DurationFlag{Name: "update-timeout", Value: 10 * time.Minute, Usage: "bound on one source's update"},
		},
		Action: runMirror,
	}
}

func runMirror(c *ucli.Context) error {
	if c.NArg() > 0 {
		return exitErr(ExitUsage, fmt.Errorf("mirror: unexpected argument %q", c.Args().First()))
	}
	cfg := mirror.Config{
		Dir:      c.String("dir"),
		Reload:   c.Bool("reload"),
		Interval: c.Duration("interval"),
		Timeout:  c.Duration("update-timeout"),
		MaxAge:   c.Duration("nrtm4-max-age"),
		Logger:   logger(c),
	}
	if src := c.String("source"); src != "" {
		sc := mirror.SourceConfig{
			Name:       src,
			Dump:       c.String("dump"),
			DumpSerial: c.Uint64("serial"),
			NRTM3:      c.String("nrtm3"),
			NRTM4:      c.String("nrtm4"),
		}
		if sc.NRTM3 != "" {
			if _, _, err := net.SplitHostPort(sc.NRTM3); err != nil {
				return exitErr(ExitUsage, fmt.Errorf("mirror: --nrtm3 %q: want HOST:PORT", sc.NRTM3))
			}
		}
		if f := c.String("nrtm4-key"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return exitErr(ExitUsage, fmt.Errorf("mirror: --nrtm4-key: %w", err))
			}
			sc.NRTM4Key = string(b)
		}
		if sc.NRTM4 != "" && sc.NRTM4Key == "" {
			return exitErr(ExitUsage, errors.New("mirror: --nrtm4 needs --nrtm4-key"))
		}
		if sc.Dump != "" && sc.NRTM3 != "" && sc.DumpSerial == 0 {
			return exitErr(ExitUsage, errors.New("mirror: --dump with --nrtm3 needs --serial"))
		}
		cfg.Sources = append(cfg.Sources, sc)
	} else if c.IsSet("dump") || c.IsSet("nrtm3") || c.IsSet("nrtm4") || c.IsSet("nrtm4-key") {
		return exitErr(ExitUsage, errors.New("mirror: --dump/--nrtm3/--nrtm4 need --source"))
	}
	job := &pipeline.MirrorJob{Config: cfg, Once: c.Bool("once"), Stdout: c.App.Writer}
	return job.Run(c.Context)
}
