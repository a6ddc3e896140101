package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/mirror"
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
	m, err := mirror.Open(cfg)
	if err != nil {
		return exitErr(exitCode(err, ExitUnavailable), err)
	}
	defer m.Close()
	if len(m.Sources()) == 0 {
		return exitErr(ExitUsage, fmt.Errorf("mirror: %s has no sources; add one with --source", cfg.Dir))
	}
	if !c.Bool("once") {
		if err := m.Run(c.Context); err != nil && !errors.Is(err, context.Canceled) {
			return exitErr(ExitUnavailable, err)
		}
		return nil
	}
	uerr := m.Update(c.Context)
	for _, name := range m.Sources() {
		st, _ := m.State(name)
		switch {
		case st.SessionID != "":
			fmt.Fprintf(c.App.Writer, "%s: nrtm4 session %s version %d, %d objects\n", name, st.SessionID, st.Version, st.Objects)
		default:
			fmt.Fprintf(c.App.Writer, "%s: serial %d, %d objects\n", name, st.Serial, st.Objects)
		}
	}
	if uerr != nil {
		return exitErr(exitCode(uerr, ExitUnavailable), uerr)
	}
	return nil
}

// startMirror serves a mirror from a long-running command: it opens the mirror in
// dir, loads its objects into ix (before the caller starts serving) and then keeps ix
// current in a goroutine until ctx ends, with each update applied as one batch.
// whois-server --mirror DIR calls it after loading --irr data (or with an empty
// irr.NewIndex()) and before applying --sources.
func startMirror(ctx context.Context, c *ucli.Context, ix *irr.Index, dir string) error {
	log := logger(c)
	m, err := mirror.Open(mirror.Config{Dir: dir, Logger: log, Interval: time.Minute, Timeout: 10 * time.Minute, MaxAge: 24 * time.Hour})
	if err != nil {
		return exitErr(exitCode(err, ExitUnavailable), err)
	}
	if len(m.Sources()) == 0 {
		m.Close()
		return exitErr(ExitUsage, fmt.Errorf("mirror: %s has no sources; set it up with bgpfilter mirror --source", dir))
	}
	if err := m.Attach(ix); err != nil {
		m.Close()
		return exitErr(ExitData, err)
	}
	log.Info("mirror attached", "dir", dir, "sources", m.Sources())
	go func() {
		m.Run(ctx)
		m.Close()
	}()
	return nil
}
