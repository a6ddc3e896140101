// Package whoisd is an IRRd-compatible whois server over bgpfilter's in-memory IRR
// data, so that bgpq4, the whois client and other IRR tools can use a local mirror.
//
// It speaks the IRRd 4 "!" protocol and RIPE-style text queries (package whois), with
// IRRd's connection semantics: one query and close, unless the client sends "!!" (or
// "-k"); pipelined queries are answered in order while later ones are still being read,
// so a client that writes thousands of queries before reading (bgpq4 does) never
// deadlocks against our replies. It is hardened for exposure to untrusted clients:
// bounded connections, line length, queued input and buffered output per connection,
// idle and write timeouts, graceful shutdown, and Prometheus metrics on a private
// registry.
package whoisd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/metrics"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/whois"
)

// Backend is the IRR data a Server answers from; *irr.Index implements it. The "!"
// set and route queries go through irr.Querier, so the server has exactly the
// semantics the bgpq4 engine and the native resolver have; plain lookups and "!r"
// route searches use Lookup and FindRoutes. Implementations must be safe for
// concurrent use.
type Backend interface {
	irr.Querier
	// Lookup returns every object whose primary key equals key (routes: the prefix),
	// in source order.
	Lookup(sources []string, key string) []*rpsl.Object
	// FindRoutes returns the route objects related to p as m says.
	FindRoutes(sources []string, p netip.Prefix, m irr.RouteMatch) []irr.Route
}

var _ Backend = (*irr.Index)(nil)

// Options tunes a Server. The zero value of every field means its default.
type Options struct {
	// MaxConns bounds concurrent connections; extra ones get an F reply and are
	// closed. Default 256.
	MaxConns int
	// MaxConnsPerAddr bounds concurrent connections from one remote IP address, so
	// that one host with many silent connections cannot take every MaxConns slot;
	// extra ones get an F reply and are closed. Default 32; negative: no limit.
	MaxConnsPerAddr int
	// MaxLineLen bounds a query line in bytes; a longer line gets an F reply and the
	// connection is closed without buffering the rest. Default whois.MaxQueryLen.
	MaxLineLen int
	// IdleTimeout closes a connection that sent nothing and has nothing in progress
	// for this long (IRRd's default is 30 s). It is an upper bound: "!t" may lower it
	// per connection, never raise it, so a client cannot hold a slot longer than the
	// operator allows. Default 30 s.
	IdleTimeout time.Duration
	// WriteTimeout drops a client that accepts no reply bytes for this long (a client
	// that never reads). Default 30 s.
	WriteTimeout time.Duration
	// QueryTimeout bounds the work on one query. Default 60 s.
	QueryTimeout time.Duration
	// MaxPendingBytes bounds the query bytes read ahead but not answered yet, per
	// connection (each queued query also counts a fixed overhead of 64 bytes). When
	// it is reached the server stops reading from that client until replies drain.
	// Default 8 MiB: about 100,000 pipelined "!g" queries, twice what bgpq4 writes
	// for a 50,000-ASN set before it reads its first answer.
	MaxPendingBytes int
	// WriteBufferSize is the per-connection output buffer. Default 32 KiB.
	WriteBufferSize int
	// MaxObjects bounds the objects of one object-text answer (plain lookups, "!m",
	// "!r" without ",o"). Default 10,000.
	MaxObjects int
	// ShutdownTimeout bounds the graceful shutdown Serve performs when its context
	// is cancelled. Default 10 s.
	ShutdownTimeout time.Duration
	// DisableA makes the server answer every "!a" query as an IRRd before 4.1 does
	// ("F Unrecognised command: a"), so that bgpq4 takes its "!i…,1" + "!g" path.
	// For compatibility tests.
	DisableA bool
	// Version is the text of the "!v" answer. Default "bgpfilter whois-server (IRRd 4 protocol)".
	Version string
	// Logger receives connection and error logs. Default: discard.
	Logger *slog.Logger
	// Registry receives the server's metrics. Default: a new private registry.
	Registry *metrics.Registry
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = 256
	}
	if o.MaxConnsPerAddr == 0 {
		o.MaxConnsPerAddr = 32
	}
	if o.MaxLineLen <= 0 {
		o.MaxLineLen = whois.MaxQueryLen
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 60 * time.Second
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 8 << 20
	}
	if o.WriteBufferSize <= 0 {
		o.WriteBufferSize = 32 << 10
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = 10000
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.Version == "" {
		o.Version = "bgpfilter whois-server (IRRd 4 protocol)"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = metrics.NewRegistry()
	}
	return o
}

// Server serves one Backend over the whois protocol. Create it with New.
type Server struct {
	b   Backend
	opt Options
	log *slog.Logger
	m   *serverMetrics

	// base is the parent of every query context; cancelled when a shutdown gives up
	// waiting, so that backend work stops too.
	base       context.Context
	baseCancel context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	perAddr   map[netip.Addr]int // open connections per remote address
	closing   bool
	wg        sync.WaitGroup // live connections
	shutdown  chan struct{}  // closed when Shutdown starts
	done      chan struct{}  // closed when Shutdown has finished
	active    atomic.Int64
	shutOnce  sync.Once
	shutErr   error
}

// New returns a Server for b.
func New(b Backend, opt Options) *Server {
	opt = opt.withDefaults()
	base, cancel := context.WithCancel(context.Background())
	return &Server{
		b:          b,
		opt:        opt,
		log:        opt.Logger,
		m:          newMetrics(opt.Registry),
		base:       base,
		baseCancel: cancel,
		listeners:  make(map[net.Listener]struct{}),
		conns:      make(map[*conn]struct{}),
		perAddr:    make(map[netip.Addr]int),
		shutdown:   make(chan struct{}),
		done:       make(chan struct{}),
	}
}

// Registry returns the registry holding the server's metrics.
func (s *Server) Registry() *metrics.Registry { return s.opt.Registry }

// MetricsHandler serves the server's metrics in the Prometheus text format.
func (s *Server) MetricsHandler() http.Handler {
	return s.opt.Registry.Handler()
}

// OpenConns returns the number of open client connections.
func (s *Server) OpenConns() int { return int(s.active.Load()) }

// Serve accepts connections on ln until ctx is cancelled, Shutdown is called, or ln
// fails. When ctx is cancelled it shuts down gracefully (in-flight queries finish,
// bounded by Options.ShutdownTimeout) before returning nil. A listener error other
// than the closing itself is returned.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), s.opt.ShutdownTimeout)
			defer cancel()
			s.Shutdown(sctx)
		case <-stop:
		}
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.shutdown:
				if ctx.Err() != nil {
					<-s.done // the shutdown started by ctx: wait for it
				}
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("whois-server: accept", "err", err, "retry", backoff)
				select {
				case <-time.After(backoff):
				case <-s.shutdown:
				}
				continue
			}
			s.mu.Lock()
			delete(s.listeners, ln)
			s.mu.Unlock()
			return fmt.Errorf("whois-server: accept on %s: %w", ln.Addr(), err)
		}
		backoff = 0
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	addr := remoteAddr(nc)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	refuse := ""
	switch {
	case s.active.Load() >= int64(s.opt.MaxConns):
		refuse = "Too many connections, try again later"
		s.log.Warn("whois-server: connection refused: too many connections", "remote", nc.RemoteAddr().String(), "max", s.opt.MaxConns)
	case s.opt.MaxConnsPerAddr > 0 && s.perAddr[addr] >= s.opt.MaxConnsPerAddr:
		refuse = "Too many connections from your address, try again later"
		s.log.Warn("whois-server: connection refused: too many connections from one address", "remote", nc.RemoteAddr().String(), "max_per_addr", s.opt.MaxConnsPerAddr)
	}
	if refuse != "" {
		s.mu.Unlock()
		s.m.rejected.Inc()
		// A fresh socket's send buffer takes this line at once; the deadline only
		// guards against a pathological peer.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		whois.WriteF(nc, refuse)
		nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.perAddr[addr]++
	s.active.Add(1)
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.accepted.Inc()
	s.m.open.Inc()
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		if s.perAddr[addr]--; s.perAddr[addr] <= 0 {
			delete(s.perAddr, addr)
		}
		s.mu.Unlock()
		s.active.Add(-1)
		s.m.open.Dec()
	}()
}

// remoteAddr is the IP address a per-address limit counts nc under (IPv4-mapped
// IPv6 addresses as IPv4); the zero Addr for a connection that is not IP.
func remoteAddr(nc net.Conn) netip.Addr {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// Shutdown stops accepting connections, stops reading new queries, lets every
// connection answer the queries it has already read, and closes it. If ctx ends
// first, the remaining connections are closed at once and ctx's error is returned.
// Later calls wait for the first one and return its result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		close(s.shutdown)
		for ln := range s.listeners {
			ln.Close()
		}
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.stopReading()
		}
		idle := make(chan struct{})
		go func() { s.wg.Wait(); close(idle) }()
		select {
		case <-idle:
		case <-ctx.Done():
			s.shutErr = fmt.Errorf("whois-server: shutdown: %w", ctx.Err())
			s.baseCancel()
			s.mu.Lock()
			for c := range s.conns {
				c.abort()
			}
			s.mu.Unlock()
			<-idle
		}
		s.baseCancel()
		close(s.done)
	})
	<-s.done
	return s.shutErr
}
