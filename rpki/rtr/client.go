package rtr

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// Errors callers branch on.
var (
	// ErrNoData means the cache has no data yet (Error Report code 2); try later.
	ErrNoData = errors.New("rtr: cache has no data available")
	// ErrCacheReset means the cache cannot answer a Serial Query; Update then falls
	// back to a Reset Query by itself.
	ErrCacheReset = errors.New("rtr: cache reset")
)

// CacheError is an Error Report received from the cache.
type CacheError struct {
	Code uint16
	Text string
}

// Error implements error.
func (e *CacheError) Error() string {
	return fmt.Sprintf("rtr: cache reported error %d: %s", e.Code, e.Text)
}

// Unwrap maps "no data available" to ErrNoData.
func (e *CacheError) Unwrap() error {
	if e.Code == ErrNoDataAvailable {
		return ErrNoData
	}
	return nil
}

// TA is the trust anchor name given to VRPs learnt over RTR, which carries none.
const TA = "rtr"

type vrpKey struct {
	prefix netip.Prefix
	maxLen uint8
	asn    uint32
}

type aspaKey struct {
	customer uint32
	afi      uint8 // 4, 6, or 0 for the AFI-less layout
}

// Client is an RTR session with one cache. It is not safe for concurrent use.
type Client struct {
	// Addr is the cache's HOST:PORT.
	Addr string
	// MaxVersion is the highest protocol version to offer; 0 means 2 unless V0Only.
	MaxVersion uint8
	// V0Only restricts the session to RFC 6810 (version 0).
	V0Only bool
	// Timeout bounds each query and its answer (default 30s).
	Timeout time.Duration
	// Logger receives debug messages (default: discard).
	Logger *slog.Logger

	conn    net.Conn
	rd      *bufio.Reader
	buf     []byte
	version uint8
	session uint16
	serial  uint32
	synced  bool
	vrps    map[vrpKey]struct{}
	aspas   map[aspaKey][]uint32
	timers  EndOfData
	notify  bool
}

// Version returns the negotiated protocol version.
func (c *Client) Version() uint8 { return c.version }

// Serial returns the serial number of the current data.
func (c *Client) Serial() uint32 { return c.serial }

// Session returns the cache's session ID.
func (c *Client) Session() uint16 { return c.session }

// Timers returns the End of Data PDU of the last answer (refresh/retry/expire).
func (c *Client) Timers() EndOfData { return c.timers }

func (c *Client) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

// Close ends the session.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

func (c *Client) dial(ctx context.Context) error {
	c.Close()
	d := net.Dialer{Timeout: c.timeout()}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("rtr: dial %s: %w", c.Addr, err)
	}
	c.conn, c.rd = conn, bufio.NewReaderSize(conn, 64<<10)
	return nil
}

// Reset connects if needed and loads the full data set with a Reset Query,
// negotiating the protocol version down from MaxVersion when the cache asks for it
// (RFC 8210 §7).
func (c *Client) Reset(ctx context.Context) error {
	ver := c.MaxVersion
	switch {
	case c.V0Only:
		ver = 0
	case ver == 0:
		ver = 2
	}
	if c.synced {
		ver = c.version
	}
	for {
		if c.conn == nil {
			if err := c.dial(ctx); err != nil {
				return err
			}
		}
		c.version = ver
		err := c.exchange(ctx, ResetQuery{Version: ver}, true)
		var ve *versionError
		if errors.As(err, &ve) && ve.offer < ver {
			c.log().Debug("rtr: cache wants a lower version", "addr", c.Addr, "from", ver, "to", ve.offer)
			ver = ve.offer
			c.Close()
			continue
		}
		if err != nil {
			c.Close()
		}
		return err
	}
}

// Update asks for the changes since the last serial (Serial Query). When the cache
// answers with Cache Reset, or the session is not synchronised, it does a Reset.
func (c *Client) Update(ctx context.Context) error {
	if !c.synced {
		return c.Reset(ctx)
	}
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return err
		}
	}
	err := c.exchange(ctx, SerialQuery{Version: c.version, Session: c.session, Serial: c.serial}, false)
	if err == nil {
		return nil
	}
	c.log().Debug("rtr: serial query failed, resetting", "addr", c.Addr, "err", err)
	c.Close()
	return c.Reset(ctx)
}

// WaitNotify waits until the cache sends a Serial Notify or ctx ends. It reports
// whether a notify arrived (one received during the last answer counts).
func (c *Client) WaitNotify(ctx context.Context) (bool, error) {
	if c.notify {
		c.notify = false
		return true, nil
	}
	if c.conn == nil {
		return false, fmt.Errorf("rtr: not connected")
	}
	if ctx.Err() != nil {
		return false, nil
	}
	c.conn.SetReadDeadline(time.Time{}) // before AfterFunc, which may run at once
	conn := c.conn
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		p, err := c.read()
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		switch p := p.(type) {
		case SerialNotify:
			c.log().Debug("rtr: serial notify", "serial", p.Serial)
			return true, nil
		case ErrorReport:
			return false, &CacheError{Code: p.Code, Text: p.Text}
		default:
			return false, fmt.Errorf("rtr: unexpected PDU type %d while idle", p.Type())
		}
	}
}

type versionError struct{ offer uint8 }

func (e *versionError) Error() string { return fmt.Sprintf("rtr: cache offers version %d", e.offer) }

func (c *Client) read() (PDU, error) {
	hdr, err := c.rd.Peek(HeaderLength)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("rtr: %s closed the connection: %w", c.Addr, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("rtr: read from %s: %w", c.Addr, err)
	}
	n, err := PeekLength(hdr)
	if err != nil {
		return nil, err
	}
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	b := c.buf[:n]
	if _, err := io.ReadFull(c.rd, b); err != nil {
		return nil, fmt.Errorf("rtr: read from %s: %w", c.Addr, err)
	}
	p, _, err := Decode(b)
	if err != nil {
		c.sendError(ErrCorruptData, b, err.Error())
		return nil, err
	}
	return p, nil
}

func (c *Client) sendError(code uint16, pdu []byte, text string) {
	if c.conn == nil {
		return
	}
	if len(pdu) > 1024 {
		pdu = pdu[:1024]
	}
	c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	c.conn.Write(ErrorReport{Version: c.version, Code: code, PDU: pdu, Text: text}.Append(nil))
}

// exchange sends a query and applies the answer up to End of Data. With reset, the
// answer replaces the data; otherwise it is a delta. Nothing changes on error.
func (c *Client) exchange(ctx context.Context, q PDU, reset bool) error {
	deadline := time.Now().Add(c.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetDeadline(deadline)
	conn := c.conn
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.conn.Write(q.Append(nil)); err != nil {
		return fmt.Errorf("rtr: send to %s: %w", c.Addr, err)
	}
	vrps := map[vrpKey]struct{}{}
	aspas := map[aspaKey][]uint32{}
	if !reset {
		vrps = maps.Clone(c.vrps)
		aspas = maps.Clone(c.aspas)
	}
	started := false
	for {
		p, err := c.read()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("rtr: %s: %w", c.Addr, ctx.Err())
			}
			return err
		}
		if v := pduVersion(p); v != c.version {
			// A cache that only speaks a lower version answers with it (RFC 8210 §7).
			if !started && v < c.version && reset {
				if e, ok := p.(ErrorReport); ok && e.Code == ErrUnsupportedVersion {
					return &versionError{offer: v}
				}
				if _, ok := p.(CacheResponse); ok {
					c.log().Debug("rtr: cache answered with a lower version", "version", v)
					c.version = v
				} else {
					return fmt.Errorf("rtr: cache answered version %d PDU type %d to a version %d query", v, p.Type(), c.version)
				}
			} else if _, ok := p.(ErrorReport); !ok {
				c.sendError(ErrUnexpectedVersion, p.Append(nil), "unexpected protocol version")
				return fmt.Errorf("rtr: PDU type %d with version %d in a version %d session", p.Type(), v, c.version)
			}
		}
		switch p := p.(type) {
		case SerialNotify:
			c.notify = true
		case CacheResponse:
			if started {
				return fmt.Errorf("rtr: second Cache Response")
			}
			if !reset && p.Session != c.session {
				return fmt.Errorf("rtr: session changed from %d to %d", c.session, p.Session)
			}
			started = true
			c.session = p.Session
		case Prefix:
			if !started {
				return fmt.Errorf("rtr: prefix PDU before Cache Response")
			}
			k := vrpKey{prefix: p.Prefix, maxLen: p.MaxLen, asn: p.ASN}
			_, have := vrps[k]
			if p.Flags&1 == 1 {
				if have {
					c.sendError(ErrDuplicateAnnounce, p.Append(nil), "duplicate announcement")
					return fmt.Errorf("rtr: duplicate announcement of %s-%d AS%d", p.Prefix, p.MaxLen, p.ASN)
				}
				vrps[k] = struct{}{}
			} else {
				if !have {
					c.sendError(ErrWithdrawUnknown, p.Append(nil), "withdrawal of unknown record")
					return fmt.Errorf("rtr: withdrawal of unknown %s-%d AS%d", p.Prefix, p.MaxLen, p.ASN)
				}
				delete(vrps, k)
			}
		case ASPA:
			if !started {
				return fmt.Errorf("rtr: ASPA PDU before Cache Response")
			}
			k := aspaKey{customer: p.Customer, afi: p.AFI}
			if p.Flags&1 == 1 {
				aspas[k] = p.Providers
			} else if cur, ok := aspas[k]; ok && (len(p.Providers) == 0 || slices.Equal(cur, p.Providers)) {
				// A withdrawal names the record it removes (draft-8210bis-10 repeats
				// the providers); StayRTR may send the announcement of a replacement
				// before the withdrawal of the old record, which must not remove it.
				delete(aspas, k)
			}
		case RouterKey:
			// BGPsec keys are not used by bgpfilter.
		case EndOfData:
			if !started {
				return fmt.Errorf("rtr: End of Data before Cache Response")
			}
			if p.Session != c.session {
				// RFC 8210 §5.8: End of Data repeats the session of the Cache
				// Response; a different one means the data belongs to neither.
				c.sendError(ErrCorruptData, p.Append(nil), "End of Data session differs from Cache Response")
				return fmt.Errorf("rtr: End of Data has session %d, the Cache Response had %d", p.Session, c.session)
			}
			c.vrps, c.aspas = vrps, aspas
			c.serial, c.session, c.timers, c.synced = p.Serial, p.Session, p, true
			c.log().Debug("rtr: end of data", "addr", c.Addr, "version", c.version, "serial", p.Serial, "vrps", len(vrps), "aspas", len(aspas))
			return nil
		case CacheReset:
			return ErrCacheReset
		case ErrorReport:
			if p.Code == ErrUnsupportedVersion && reset && !started && p.Version < c.version {
				return &versionError{offer: p.Version}
			}
			return &CacheError{Code: p.Code, Text: p.Text}
		default:
			return fmt.Errorf("rtr: unexpected PDU type %d", p.Type())
		}
	}
}

func pduVersion(p PDU) uint8 {
	switch p := p.(type) {
	case SerialNotify:
		return p.Version
	case SerialQuery:
		return p.Version
	case ResetQuery:
		return p.Version
	case CacheResponse:
		return p.Version
	case Prefix:
		return p.Version
	case EndOfData:
		return p.Version
	case CacheReset:
		return p.Version
	case RouterKey:
		return p.Version
	case ErrorReport:
		return p.Version
	case ASPA:
		return p.Version
	}
	return 0
}

// Table builds an rpki.Table from the current data. VRPs get the trust anchor name
// "rtr"; opt.TrustAnchors therefore should be empty.
func (c *Client) Table(opt rpki.Options) (*rpki.Table, error) {
	if !c.synced {
		return nil, fmt.Errorf("rtr: no data from %s yet", c.Addr)
	}
	b := rpki.NewBuilder(opt)
	b.Grow(len(c.vrps))
	for k := range c.vrps {
		if err := b.AddVRP(rpki.VRP{Prefix: k.prefix, MaxLength: k.maxLen, ASN: routing.ASN(k.asn), TA: TA}); err != nil {
			return nil, err
		}
	}
	for k, p := range c.aspas {
		prov := make([]routing.ASN, len(p))
		for i, a := range p {
			prov[i] = routing.ASN(a)
		}
		cust := routing.ASN(k.customer)
		switch k.afi {
		case 4:
			b.AddASPA(cust, prov, nil, 0)
		case 6:
			b.AddASPA(cust, nil, prov, 0)
		default:
			b.AddASPA(cust, prov, prov, 0)
		}
	}
	b.SetMetadata("rtr://"+c.Addr, fmt.Sprintf("rtr-v%d", c.version), time.Time{})
	return b.Build()
}

// Fetch connects to the cache at addr, loads the full data set and returns it as a
// Table.
func Fetch(ctx context.Context, addr string, opt rpki.Options, logger *slog.Logger) (*rpki.Table, error) {
	c := &Client{Addr: addr, MaxVersion: 2, Logger: logger}
	if d, ok := ctx.Deadline(); ok {
		c.Timeout = time.Until(d)
	}
	defer c.Close()
	if err := c.Reset(ctx); err != nil {
		return nil, err
	}
	return c.Table(opt)
}
