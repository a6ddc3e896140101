package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

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
	spec := irrSpec(c)
	spec.Specs = nil // no default server: the server serves local files only
	for _, s := range c.StringSlice("irr") {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				spec.Specs = append(spec.Specs, p)
			}
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	job := &pipeline.WhoisServerJob{IRR: spec, MirrorDir: c.String("mirror"), Listen: c.String("listen"), Metrics: c.String("metrics"),
		Server: whoisd.Options{
			MaxConns:        c.Int("max-conns"),
			MaxConnsPerAddr: perAddr,
			IdleTimeout:     c.Duration("idle-timeout"),
			WriteTimeout:    c.Duration("write-timeout"),
			QueryTimeout:    c.Duration("timeout"),
		},
		Stderr: c.App.ErrWriter, Logger: logger(c)}
	return job.Run(ctx)
}
