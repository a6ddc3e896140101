package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/pipeline"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

func whoisServerCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "whois-server",
		Usage:     "serve the loaded IRR data over the IRRd whois protocol (bgpq4, whois and IRR tools as clients)",
		UsageText: "bgpfilter --irr FILE... whois-server [--listen ADDR] [--max-conns N] [--max-conns-per-addr N] [--idle-timeout D] [--metrics ADDR]",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "listen", Value: "127.0.0.1:4343", EnvVars: []string{"BGPFILTER_WHOIS_LISTEN"},
				Usage: "TCP address to serve on (IRRd uses port 43)"},
			&ucli.IntFlag{Name: "max-conns", Value: 256, EnvVars: []string{"BGPFILTER_WHOIS_MAX_CONNS"},
				Usage: "maximum concurrent client connections; extra ones are refused"},
			&ucli.IntFlag{Name: "max-conns-per-addr", Value: 32, EnvVars: []string{"BGPFILTER_WHOIS_MAX_CONNS_PER_ADDR"},
				Usage: "maximum concurrent connections from one IP address (0: no limit), so one host cannot hold every slot"},
			&ucli.DurationFlag{Name: "idle-timeout", Value: 30 * time.Second, EnvVars: []string{"BGPFILTER_WHOIS_IDLE_TIMEOUT"},
				Usage: "close a connection idle for this long (an upper bound: clients may lower it with !t, not raise it)"},
			&ucli.DurationFlag{Name: "write-timeout", Value: 30 * time.Second, EnvVars: []string{"BGPFILTER_WHOIS_WRITE_TIMEOUT"},
				Usage: "drop a client that reads none of its replies for this long"},
			&ucli.StringFlag{Name: "metrics", EnvVars: []string{"BGPFILTER_WHOIS_METRICS"},
				Usage: "serve Prometheus metrics on http://ADDR/metrics"},
			&ucli.StringFlag{Name: "mirror", EnvVars: []string{"BGPFILTER_WHOIS_MIRROR"},
				Usage: "serve the IRR mirror in DIR and keep it current while serving (see bgpfilter mirror)"},
		},
		Action: runWhoisServer,
	}
}

func runWhoisServer(c *ucli.Context) error {
	if c.NArg() > 0 {
		return exitErr(ExitUsage, fmt.Errorf("whois-server: unexpected arguments %q", c.Args().Slice()))
	}
	if c.Int("max-conns") <= 0 {
		return exitErr(ExitUsage, errors.New("whois-server: --max-conns must be positive"))
	}
	perAddr := c.Int("max-conns-per-addr")
	if perAddr < 0 {
		return exitErr(ExitUsage, errors.New("whois-server: --max-conns-per-addr must be 0 (no limit) or positive"))
	} else if perAddr == 0 {
		perAddr = -1 // whoisd: no limit
	}
	log := logger(c)
	mirrorDir := c.String("mirror")
	ix, err := loadIndexForServer(c, mirrorDir != "")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if mirrorDir != "" {
		// The mirror loads its objects into ix before returning and then applies each
		// update as one ix.Apply batch, so no query sees a half-applied delta.
		if err := startMirror(ctx, c, ix, mirrorDir); err != nil {
			return err
		}
	}
	if err := applyServerSources(c, ix); err != nil {
		return err
	}

	srv := whoisd.New(ix, whoisd.Options{
		MaxConns:        c.Int("max-conns"),
		MaxConnsPerAddr: perAddr,
		IdleTimeout:     c.Duration("idle-timeout"),
		WriteTimeout:    c.Duration("write-timeout"),
		QueryTimeout:    c.Duration("timeout"),
		Logger:          log,
	})
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return exitErr(ExitUnavailable, fmt.Errorf("whois-server: %w", err))
	}
	if addr := c.String("metrics"); addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return exitErr(ExitUnavailable, fmt.Errorf("whois-server: metrics: %w", err))
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", srv.MetricsHandler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		go hs.Serve(mln)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			hs.Shutdown(sctx)
		}()
		fmt.Fprintf(c.App.ErrWriter, "whois-server: metrics on http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(c.App.ErrWriter, "whois-server: listening on %s\n", ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		return exitErr(ExitUnavailable, err)
	}
	log.Info("whois-server stopped")
	return nil
}

// loadIndexForServer loads the --irr files into an *irr.Index (the server needs the
// index itself, not only an irr.Querier) with the pipeline's one loader, so a corrupt
// snapshot or a malformed object under --strict exits 2 here as in prefix-list. With a
// mirror, no --irr file is needed: the mirror fills an empty index.
func loadIndexForServer(c *ucli.Context, mirror bool) (*irr.Index, error) {
	spec := irrSpec(c)
	spec.Specs = nil
	for _, s := range c.StringSlice("irr") {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				spec.Specs = append(spec.Specs, p)
			}
		}
	}
	ix, err := pipeline.LoadIndex(c.Context, spec, mirror)
	if err != nil {
		return nil, exitErr(exitCode(err, ExitUnavailable), fmt.Errorf("whois-server: %w", err))
	}
	return ix, nil
}

// applyServerSources makes --sources the default source list of the served index.
func applyServerSources(c *ucli.Context, ix *irr.Index) error {
	if err := pipeline.SetIndexSources(ix, pipeline.SplitSources(c.String("sources"))); err != nil {
		return exitErr(exitCode(err, ExitData), fmt.Errorf("whois-server: %w", err))
	}
	return nil
}
