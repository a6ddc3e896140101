package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/debug"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/audit"
	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/flow"
	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/internal/metrics"
	"github.com/bgpfilter/bgpfilter/pipeline"
)

func flowAuditCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "flow-audit",
		Usage: "check NetFlow/IPFIX/sFlow records against each customer's permitted source addresses (MANRS Action 2)",
		UsageText: "bgpfilter [--irr SPEC] flow-audit --config FILE --listen ADDR [--sflow-listen ADDR] [--report DIR] [--interval D] [--metrics ADDR]\n" +
			"   bgpfilter [--irr SPEC] flow-audit --config FILE --once --pcap FILE --report-json FILE",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Usage: "the customers (interfaces with exporter and ifindex; sav.extra_prefixes)", Required: true},
			&ucli.StringSliceFlag{Name: "listen", Usage: "UDP ADDR:PORT for NetFlow v5/v9 and IPFIX (repeatable)"},
			&ucli.StringSliceFlag{Name: "sflow-listen", Usage: "UDP ADDR:PORT for sFlow v5 (repeatable)"},
			&ucli.DurationFlag{Name: "interval", Value: time.Minute, Usage: "report interval"},
			&ucli.StringFlag{Name: "report", Usage: "directory for the interval reports (flow-audit-TIME.json and latest.json)"},
			&ucli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on http://ADDR/metrics"},
			&ucli.BoolFlag{Name: "once", Usage: "audit a capture (--pcap) and exit"},
			&ucli.StringFlag{Name: "pcap", Usage: "with --once: a pcap file of export datagrams"},
			&ucli.StringFlag{Name: "report-json", Usage: "with --once: where to write the report"},
			&ucli.IntFlag{Name: "max-sessions", Value: flow.DefaultLimits.MaxSessions, Usage: "exporter sessions (address+port) whose templates are kept"},
			&ucli.IntFlag{Name: "max-templates", Value: flow.DefaultLimits.MaxTemplates, Usage: "templates per exporter session"},
			&ucli.IntFlag{Name: "max-offenders", Value: audit.DefaultLimits.MaxOffenders, Usage: "offending /24 and /48 entries per interval"},
			&ucli.IntFlag{Name: "top", Value: audit.DefaultLimits.TopOffenders, Usage: "offending prefixes listed per customer"},
		},
		Action: runFlowAudit,
	}
}

func runFlowAudit(c *ucli.Context) error {
	once := c.Bool("once")
	switch {
	case once && (c.String("pcap") == "" || c.String("report-json") == ""):
		return exitErr(ExitUsage, errors.New("flow-audit: --once needs --pcap FILE and --report-json FILE"))
	case !once && len(c.StringSlice("listen"))+len(c.StringSlice("sflow-listen")) == 0:
		return exitErr(ExitUsage, errors.New("flow-audit: give --listen or --sflow-listen (or --once --pcap FILE)"))
	case !once && c.String("report") == "" && c.String("metrics") == "":
		return exitErr(ExitUsage, errors.New("flow-audit: give --report DIR or --metrics ADDR (where results go)"))
	case c.Duration("interval") < time.Second:
		return exitErr(ExitUsage, errors.New("flow-audit: --interval must be at least 1s"))
	}
	cfg, err := config.Load(c.String("config"))
	if err != nil {
		if errors.Is(err, config.ErrInvalid) {
			return exitErr(ExitUsage, fmt.Errorf("flow-audit: %w", err))
		}
		return exitErr(ExitData, fmt.Errorf("flow-audit: %w", err))
	}
	customers, err := auditCustomers(c, cfg)
	if err != nil {
		return err
	}
	// pipeline.OpenIRR raised the GC target for one-shot commands; a collector runs for long
	if !once && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	col, err := audit.NewCollector(customers,
		audit.Limits{MaxOffenders: c.Int("max-offenders"), TopOffenders: c.Int("top")},
		flow.Limits{MaxSessions: c.Int("max-sessions"), MaxTemplates: c.Int("max-templates")}, time.Now())
	if err != nil {
		return exitErr(ExitUsage, fmt.Errorf("flow-audit: %w", err))
	}
	log := logger(c)
	log.Info("flow-audit: customers loaded", "customers", len(customers), "permitted_prefixes", col.Prefixes())
	if once {
		return flowAuditOnce(c, col)
	}
	return flowAuditServe(c, col)
}

// auditCustomers turns the config's customers into the audit's input: the permitted
// sources are pipeline.PermittedSources, the same computation generate's SAV configs
// use. Customers without an interface that names an exporter are not
// audited.
func auditCustomers(c *ucli.Context, cfg *config.File) ([]audit.Customer, error) {
	spec := irrSpec(c)
	if len(cfg.IRR) > 0 && !c.IsSet("irr") {
		spec.Specs = cfg.IRR
	}
	if len(cfg.Sources) > 0 && !c.IsSet("sources") {
		spec.Sources = cfg.Sources
	}
	var out []audit.Customer
	var todo []*config.Customer
	for i := range cfg.Customers {
		cu := &cfg.Customers[i]
		ac := audit.Customer{Name: cu.Name}
		for _, in := range cu.Interfaces {
			if !in.Exporter.IsValid() {
				continue
			}
			if in.HasIfIndex && in.IfIndex == 0 {
				return nil, exitErr(ExitUsage, fmt.Errorf("flow-audit: customer %s interface %s: ifindex 0 is no interface (leave ifindex out for every interface of the exporter)", cu.Name, in.Name))
			}
			ac.Interfaces = append(ac.Interfaces, audit.Interface{Exporter: in.Exporter, IfIndex: in.IfIndex})
		}
		if len(ac.Interfaces) == 0 {
			continue
		}
		out = append(out, ac)
		todo = append(todo, cu)
	}
	if len(out) == 0 {
		return nil, exitErr(ExitUsage, fmt.Errorf("flow-audit: %s: no customer has an interface with an exporter", cfg.Path))
	}
	src, err := pipeline.OpenIRR(c.Context, spec)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	q, res := src.Q, src.Resolver(spec)
	for i, cu := range todo {
		ps, err := pipeline.PermittedSources(c.Context, q, res, cu)
		if err != nil {
			return nil, exitErr(exitCode(err, ExitUnavailable), fmt.Errorf("flow-audit: %w", err))
		}
		out[i].Prefixes = ps
		if len(out[i].Prefixes) == 0 {
			logger(c).Warn("flow-audit: customer has no permitted prefixes: all its traffic counts as spoofed", "customer", cu.Name)
		}
	}
	return out, nil
}

func flowAuditOnce(c *ucli.Context, col *audit.Collector) error {
	f, err := os.Open(c.String("pcap"))
	if err != nil {
		return exitErr(ExitData, fmt.Errorf("flow-audit: %w", err))
	}
	defer f.Close()
	n, err := audit.ReplayPcap(col, f)
	if err != nil {
		return exitErr(ExitData, fmt.Errorf("flow-audit: %s: %w", c.String("pcap"), err))
	}
	b, err := audit.MarshalReport(col.Report(time.Now()))
	if err != nil {
		return exitErr(ExitData, err)
	}
	if err := atomicfile.WriteFile(c.String("report-json"), b, 0o644); err != nil {
		return exitErr(ExitUnavailable, fmt.Errorf("flow-audit: %w", err))
	}
	logger(c).Info("flow-audit: capture audited", "datagrams", n, "report", c.String("report-json"))
	return nil
}

func flowAuditServe(c *ucli.Context, col *audit.Collector) error {
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	log := logger(c)
	var conns []net.PacketConn
	closeAll := func() {
		for _, pc := range conns {
			pc.Close()
		}
	}
	for _, a := range append(c.StringSlice("listen"), c.StringSlice("sflow-listen")...) {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			closeAll()
			return exitErr(ExitUsage, fmt.Errorf("flow-audit: listen address %q: %w", a, err))
		}
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			closeAll()
			return exitErr(ExitUnavailable, fmt.Errorf("flow-audit: %w", err))
		}
		pc.SetReadBuffer(4 << 20)
		conns = append(conns, pc)
		fmt.Fprintf(c.App.ErrWriter, "flow-audit: listening on udp %s\n", pc.LocalAddr())
	}
	if addr := c.String("metrics"); addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return exitErr(ExitUnavailable, fmt.Errorf("flow-audit: metrics: %w", err))
		}
		reg := metrics.NewRegistry()
		audit.RegisterMetrics(reg, col)
		mux := http.NewServeMux()
		mux.Handle("/metrics", reg.Handler())
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		go hs.Serve(mln)
		defer func() {
			sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer scancel()
			hs.Shutdown(sctx)
		}()
		fmt.Fprintf(c.App.ErrWriter, "flow-audit: metrics on http://%s/metrics\n", mln.Addr())
	}
	done := make(chan error, 1)
	if dir := c.String("report"); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			closeAll()
			return exitErr(ExitUsage, fmt.Errorf("flow-audit: --report %s is not a directory", dir))
		}
		go func() { done <- audit.ReportEvery(ctx, col, dir, c.Duration("interval"), log) }()
	} else {
		done <- nil
	}
	audit.Serve(ctx, col, log, conns...)
	cancel()
	if err := <-done; err != nil {
		return exitErr(ExitUnavailable, fmt.Errorf("flow-audit: %w", err))
	}
	log.Info("flow-audit stopped")
	return nil
}
