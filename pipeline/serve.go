package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/mirror"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// WhoisServerJob serves IRR data (local files, a mirror, or both) over the IRRd whois
// protocol until its context ends.
type WhoisServerJob struct {
	// IRR names the files (Specs, local only) and the default source list.
	IRR IRRSpec
	// MirrorDir, when set, is a mirror (package mirror) loaded into the index and kept
	// current while serving.
	MirrorDir string
	Listen    string
	// Metrics, when set, serves Prometheus metrics on http://Metrics/metrics.
	Metrics string
	// Server are whoisd's limits and timeouts (its Logger is set from Logger).
	Server whoisd.Options
	// Stderr receives the "listening on" lines (a test or a script reads the address).
	Stderr io.Writer
	Logger *slog.Logger
}

// Run loads the data and serves it; the error carries the exit code.
func (j *WhoisServerJob) Run(ctx context.Context) error {
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix, err := LoadIndex(ctx, j.IRR, j.MirrorDir != "")
	if err != nil {
		return WithCode(ExitCode(err, ExitUnavailable), fmt.Errorf("whois-server: %w", err))
	}
	if j.MirrorDir != "" {
		// The mirror loads its objects into ix before returning and then applies each
		// update as one ix.Apply batch, so no query sees a half-applied delta.
		if err := StartMirror(ctx, ix, j.MirrorDir, log); err != nil {
			return err
		}
	}
	if err := SetIndexSources(ix, j.IRR.Sources); err != nil {
		return WithCode(ExitCode(err, ExitData), fmt.Errorf("whois-server: %w", err))
	}
	opt := j.Server
	opt.Logger = log
	srv := whoisd.New(ix, opt)
	ln, err := net.Listen("tcp", j.Listen)
	if err != nil {
		return WithCode(ExitUnavailable, fmt.Errorf("whois-server: %w", err))
	}
	stderr := j.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	if j.Metrics != "" {
		mln, err := net.Listen("tcp", j.Metrics)
		if err != nil {
			ln.Close()
			return WithCode(ExitUnavailable, fmt.Errorf("whois-server: metrics: %w", err))
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
		fmt.Fprintf(stderr, "whois-server: metrics on http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(stderr, "whois-server: listening on %s\n", ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		return WithCode(ExitUnavailable, err)
	}
	log.Info("whois-server stopped")
	return nil
}

// StartMirror serves a mirror from a long-running job: it opens the mirror in dir,
// loads its objects into ix (before the caller starts serving) and then keeps ix
// current in a goroutine until ctx ends, each update applied as one batch.
func StartMirror(ctx context.Context, ix *irr.Index, dir string, log *slog.Logger) error {
	m, err := mirror.Open(mirror.Config{Dir: dir, Logger: log, Interval: time.Minute, Timeout: 10 * time.Minute, MaxAge: 24 * time.Hour})
	if err != nil {
		return WithCode(ExitCode(err, ExitUnavailable), err)
	}
	if len(m.Sources()) == 0 {
		m.Close()
		return WithCode(ExitUsage, fmt.Errorf("mirror: %s has no sources; set it up with bgpfilter mirror --source", dir))
	}
	if err := m.Attach(ix); err != nil {
		m.Close()
		return WithCode(ExitData, err)
	}
	log.Info("mirror attached", "dir", dir, "sources", m.Sources())
	go func() {
		m.Run(ctx)
		m.Close()
	}()
	return nil
}

// MirrorJob updates a mirror: once (one round, then a line per source on Stdout) or
// until its context ends.
type MirrorJob struct {
	Config mirror.Config
	Once   bool
	Stdout io.Writer
}

// Run runs the job; the error carries the exit code.
func (j *MirrorJob) Run(ctx context.Context) error {
	m, err := mirror.Open(j.Config)
	if err != nil {
		return WithCode(ExitCode(err, ExitUnavailable), err)
	}
	defer m.Close()
	if len(m.Sources()) == 0 {
		return WithCode(ExitUsage, fmt.Errorf("mirror: %s has no sources; add one with --source", j.Config.Dir))
	}
	if !j.Once {
		if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return WithCode(ExitUnavailable, err)
		}
		return nil
	}
	uerr := m.Update(ctx)
	w := j.Stdout
	if w == nil {
		w = io.Discard
	}
	for _, name := range m.Sources() {
		st, _ := m.State(name)
		switch {
		case st.SessionID != "":
			fmt.Fprintf(w, "%s: nrtm4 session %s version %d, %d objects\n", name, st.SessionID, st.Version, st.Objects)
		default:
			fmt.Fprintf(w, "%s: serial %d, %d objects\n", name, st.Serial, st.Objects)
		}
	}
	if uerr != nil {
		return WithCode(ExitCode(uerr, ExitUnavailable), uerr)
	}
	return nil
}
