package whois

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// Defaults of ClientOptions.
const (
	DefaultPort           = "43"
	DefaultConnectTimeout = 10 * time.Second
	DefaultQueryTimeout   = 30 * time.Second
	DefaultMaxReply       = 64 << 20
	DefaultClientName     = "bgpfilter"
)

// idleReconnect is how long a connection may sit unused before the client replaces
// it instead of reusing it: IRRd closes idle persistent connections after 30 s (its
// "!t" default), and a query written into a connection the server is closing would
// fail the run for nothing.
const idleReconnect = 10 * time.Second

// ClientOptions tune a Client. The zero value is usable: every zero field takes the
// default named after it.
type ClientOptions struct {
	// ConnectTimeout bounds the TCP connect and the protocol handshake.
	ConnectTimeout time.Duration
	// QueryTimeout bounds the wait for each reply (and each write), so a silent or
	// stalling server fails a pipelined batch within one QueryTimeout of its last sign
	// of progress.
	QueryTimeout time.Duration
	// Deadline, when not zero, is the whole-run deadline: no network operation of this
	// client outlives it, whatever the callers' contexts say.
	Deadline time.Time
	// MaxReply caps the data of one reply in bytes (default 64 MiB); a longer reply
	// fails before any of it is read. Member and prefix answers are parsed as they
	// arrive, so memory follows the size of the result, not of the reply text.
	MaxReply int
	// Name is sent with "!n" (IRRd logs it).
	Name string
	// Logger receives debug lines (connects, which query path was used). Nil: discard.
	Logger *slog.Logger
	// Dial replaces net.Dialer.DialContext (benchmarks, tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is an IRRd whois ("!" protocol) client that implements irr.Querier. It keeps
// one persistent connection ("!!"), pipelines the queries of a call on it (all written
// before the answers are read, answers matched in order) and checks the framing of
// every reply. A call either returns complete data or an error wrapping
// irr.ErrUnavailable that names the server and the query: it never returns a partial
// answer. A Client is safe for concurrent use; calls are serialised on the connection.
type Client struct {
	addr string
	opt  ClientOptions
	log  *slog.Logger

	mu   sync.Mutex
	conn *clientConn
	// hasA records whether the server answers "!a" queries (probed per connection).
	hasA bool
	// defaults is the server's default source list ("!s-lc" right after connecting).
	defaults []string
	// selected is the source list last set with "!s" on this connection; "" means
	// the server's default selection.
	selected string
	// pf holds the read-ahead of non-recursive "!i" answers (client_prefetch.go).
	pf prefetch
	// check is the server's answer to "!v", learned in the handshake: the known
	// reply every checked batch ends with (client_step.go). Nil before a handshake.
	check []byte
	// lastUsed is when the connection last completed an exchange.
	lastUsed time.Time
	// paths counts which SetPrefixes path was used, for tests and debug output.
	aPath, fallbackPath int
}

var _ irr.Querier = (*Client)(nil)

// ParseServer turns "whois://HOST[:PORT]", "HOST[:PORT]" or "[V6]:PORT" into a dialable
// "host:port" (port 43 by default).
func ParseServer(spec string) (string, error) {
	s := spec
	if i := strings.Index(s, "://"); i >= 0 {
		if !strings.EqualFold(s[:i], "whois") {
			return "", fmt.Errorf("whois: server %q: scheme must be whois://", spec)
		}
		s = s[i+3:]
	}
	s = strings.TrimSuffix(s, "/")
	if s == "" || strings.ContainsAny(s, "/?#@ \t\r\n") {
		return "", fmt.Errorf("whois: server %q: want whois://HOST[:PORT]", spec)
	}
	host, port := s, DefaultPort
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", fmt.Errorf("whois: server %q: unterminated IPv6 literal", spec)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", fmt.Errorf("whois: server %q: want [ADDR]:PORT", spec)
			}
			port = rest[1:]
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return "", fmt.Errorf("whois: server %q: %w", spec, err)
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		if strings.Count(s, ":") > 1 {
			return "", fmt.Errorf("whois: server %q: write IPv6 addresses as [ADDR]:PORT", spec)
		}
		host, port = s[:i], s[i+1:]
	}
	if host == "" {
		return "", fmt.Errorf("whois: server %q: empty host", spec)
	}
	if !strings.Contains(host, ":") {
		for i := 0; i < len(host); i++ {
			b := host[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b == '_') {
				return "", fmt.Errorf("whois: server %q: invalid host name", spec)
			}
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("whois: server %q: invalid port %q", spec, port)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// NewClient returns a client for addr ("host:port", see ParseServer). It connects
// lazily on the first query, and again after a failure.
func NewClient(addr string, opt ClientOptions) *Client {
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = DefaultConnectTimeout
	}
	if opt.QueryTimeout <= 0 {
		opt.QueryTimeout = DefaultQueryTimeout
	}
	if opt.MaxReply <= 0 {
		opt.MaxReply = DefaultMaxReply
	}
	if opt.Name == "" {
		opt.Name = DefaultClientName
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{addr: addr, opt: opt, log: log.With("server", addr)}
}

// Dial parses spec (see ParseServer), connects and runs the handshake, so that a bad
// server is reported before any work starts. bgpq4's "-h host[:port]" maps to
// Dial(ctx, "host:port", opt).
func Dial(ctx context.Context, spec string, opt ClientOptions) (*Client, error) {
	addr, err := ParseServer(spec)
	if err != nil {
		return nil, err
	}
	c := NewClient(addr, opt)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.connectLocked(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Addr returns the server address ("host:port").
func (c *Client) Addr() string { return c.addr }

// String names the client's server for messages: "whois://host:port".
func (c *Client) String() string { return "whois://" + c.addr }

// Identity names the server for cache keys (irrcache): "whois://host:port".
func (c *Client) Identity() string { return c.String() }

// Close ends the session ("!q") and closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	c.conn.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.conn.nc.Write([]byte("!q\n"))
	err := c.conn.nc.Close()
	c.conn = nil
	return err
}

// Sources returns the server's default source list ("!s-lc" after connecting).
func (c *Client) Sources(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ensureLocked(ctx); err != nil {
		return nil, err
	}
	return append([]string(nil), c.defaults...), nil
}

// CheckSources sends "!s<list>"; an F reply gives an error wrapping
// irr.ErrUnknownSource. The selection stays in force for later queries with the same
// list.
func (c *Client) CheckSources(ctx context.Context, sources []string) error {
	if len(sources) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.runLocked(ctx, sources, nil)
	return err
}

// Members sends "!i<name>" or "!i<name>,1". IRRd answers "D" both for a missing and
// for an empty set; the client then asks "!m<class>,<name>" to tell them apart, so
// that found means what it means for the local Index.
func (c *Client) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	if err := checkQueryKey(name); err != nil {
		return nil, false, err
	}
	q := "!i" + name
	if recursive {
		q += ",1"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !recursive {
		return c.membersPrefetchLocked(ctx, sources, name)
	}
	reps, err := c.runLenientLocked(ctx, sources, []string{q}, 0, []dataMode{dataMembers})
	if err != nil {
		return nil, false, err
	}
	return c.membersFound(ctx, sources, name, reps[0])
}

// SetPrefixes sends "!a4<name>" / "!a6<name>" when the server answers "!a" queries
// (probed at connect, as bgpq4 does), and otherwise falls back to "!i<name>,1"
// followed by pipelined "!g"/"!6" queries for the member ASNs. The debug log says
// which path was taken.
func (c *Client) SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	if err := checkQueryKey(name); err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ensureLocked(ctx); err != nil {
		return nil, false, err
	}
	if c.hasA {
		q := "!a4" + name
		if v6 {
			q = "!a6" + name
		}
		c.aPath++
		c.log.Debug("whois: set prefixes via !a", "query", q)
		reps, err := c.runLenientLocked(ctx, sources, []string{q}, 0, []dataMode{prefixMode(v6)})
		if err != nil {
			return nil, false, err
		}
		pfx, found, err := prefixesReply(reps[0], v6)
		if err != nil {
			return nil, false, c.garbage(q, err)
		}
		if !found && setClass(name) == "as-set" {
			found, err = c.existsLocked(ctx, sources, name)
		}
		return pfx, found, err
	}
	if setClass(name) != "as-set" {
		// "!a" looks up as-sets only (IRRd, irr.Index): a route-set is not found.
		return []netip.Prefix{}, false, nil
	}
	c.fallbackPath++
	q := "!i" + name + ",1"
	c.log.Debug("whois: server has no !a; set prefixes via !i,1 + !g/!6", "query", q)
	reps, err := c.runLenientLocked(ctx, sources, []string{q}, 0, []dataMode{dataMembers})
	if err != nil {
		return nil, false, err
	}
	members, found, err := c.membersFound(ctx, sources, name, reps[0])
	if err != nil || !found {
		return []netip.Prefix{}, found, err
	}
	var asns []routing.ASN
	for _, m := range members {
		if a, err := routing.ParseASN(m); err == nil {
			asns = append(asns, a)
		}
	}
	asns = sortUniqASNs(asns)
	routes, err := c.routesLocked(ctx, sources, asns, v6)
	if err != nil {
		return nil, false, err
	}
	var all []netip.Prefix
	for _, r := range routes {
		all = append(all, r...)
	}
	return sortUniqPrefixes(all), true, nil
}

// Routes sends one "!gas<N>" (or "!6as<N>") per ASN, all pipelined on the connection,
// and returns the answers in the order of asns, each sorted and deduplicated.
func (c *Client) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.routesLocked(ctx, sources, asns, v6)
}

func (c *Client) routesLocked(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	if len(asns) == 0 {
		return [][]netip.Prefix{}, nil
	}
	qs := make([]string, len(asns))
	for i, a := range asns {
		if v6 {
			qs[i] = "!6as" + strconv.FormatUint(uint64(a), 10)
		} else {
			qs[i] = "!gas" + strconv.FormatUint(uint64(a), 10)
		}
	}
	reps, err := c.runLenientLocked(ctx, sources, qs, 0, modesOf(len(qs), prefixMode(v6)))
	if err != nil {
		return nil, err
	}
	out := make([][]netip.Prefix, len(asns))
	for i, r := range reps {
		p, _, err := prefixesReply(r, v6)
		if err != nil {
			return nil, c.garbage(qs[i], err)
		}
		out[i] = p
	}
	return out, nil
}

func prefixMode(v6 bool) dataMode {
	if v6 {
		return dataPrefixes6
	}
	return dataPrefixes4
}

// garbage reports a reply whose framing was right but whose content is not what the
// query asks for; the connection is dropped, as it cannot be trusted any more.
func (c *Client) garbage(q string, err error) error {
	c.dropLocked()
	return fmt.Errorf("whois %s: query %q: %w: %w", c.addr, q, irr.ErrUnavailable, err)
}

// checkKey refuses names that would change the meaning of a query line (whitespace,
// control characters, the ",1" separator): they come from IRR data and the command
// line and are never sent as they are.
func checkQueryKey(name string) error {
	if name == "" || len(name) > 1024 {
		return fmt.Errorf("whois: invalid object name %q", name)
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b <= ' ' || b >= 0x7f || b == ',' || b == '!' {
			return fmt.Errorf("whois: invalid object name %q", name)
		}
	}
	return nil
}

// checkSource is checkKey for source names (letters, digits, '-', '_').
func checkSourceName(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("whois: invalid source name %q", s)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
		if !ok {
			return fmt.Errorf("whois: invalid source name %q", s)
		}
	}
	return nil
}
