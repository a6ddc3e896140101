package whois

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// clientConn is one TCP session in IRRd persistent mode.
type clientConn struct {
	nc net.Conn
	br *bufio.Reader
}

// clientWriteChunk is how much of a pipelined batch is written under one write deadline.
const clientWriteChunk = 64 << 10

// ensureLocked connects when there is no live connection.
func (c *Client) ensureLocked(ctx context.Context) error {
	if c.conn != nil && time.Since(c.lastUsed) > idleReconnect {
		c.log.Debug("whois: connection idle; reconnecting", "idle", time.Since(c.lastUsed).Round(time.Second).String())
		c.dropLocked()
	}
	if c.conn != nil {
		return nil
	}
	return c.connectLocked(ctx)
}

// dropLocked closes the connection after a failure; the next call reconnects.
func (c *Client) dropLocked() {
	if c.conn != nil {
		c.conn.nc.Close()
		c.conn = nil
	}
	c.selected = ""
}

// connectLocked dials the server and runs the handshake: "!!" (persistent mode, no
// reply), "!n<name>" (C), a bare "!a" probe (IRRd >= 4.1 answers "F Missing required
// set name for A query"; older servers something else) and "!s-lc" (the default
// sources), all pipelined: one round trip.
func (c *Client) connectLocked(ctx context.Context) error {
	c.dropLocked()
	deadline := time.Now().Add(c.opt.ConnectTimeout)
	if !c.opt.Deadline.IsZero() && c.opt.Deadline.Before(deadline) {
		deadline = c.opt.Deadline
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	dial := c.opt.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	nc, err := dial(dctx, "tcp", c.addr)
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			err = fmt.Errorf("no connection within %s: %w", c.opt.ConnectTimeout, err)
		}
		return fmt.Errorf("whois %s: connect: %w: %w", c.addr, irr.ErrUnavailable, err)
	}
	c.conn = &clientConn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	c.pf.reset()
	c.check = nil
	reps, err := c.exchangeLocked(ctx, "!!\n", handshake(c.opt.Name), c.opt.ConnectTimeout)
	if err != nil {
		c.dropLocked()
		return err
	}
	reps, err = c.learnCheck(reps)
	if err != nil {
		c.dropLocked()
		return err
	}
	hs := handshake(c.opt.Name)[1:]
	if reps[0].Kind != ReplyC {
		c.dropLocked()
		return fmt.Errorf("whois %s: handshake: %w: reply %s to %q: not an IRRd whois server", c.addr, irr.ErrUnavailable, describeReply(reps[0]), hs[0])
	}
	c.hasA = reps[1].Kind == ReplyF && strings.HasPrefix(reps[1].Msg, MsgMissingSetName)
	var defaults []string
	switch reps[2].Kind {
	case ReplyA:
		for _, s := range strings.FieldsFunc(string(reps[2].Data), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			if err := checkSourceName(s); err != nil {
				c.dropLocked()
				return fmt.Errorf("whois %s: query %q: %w: %w", c.addr, hs[2], irr.ErrUnavailable, err)
			}
			defaults = append(defaults, s)
		}
	case ReplyC, ReplyD:
	default:
		c.dropLocked()
		return fmt.Errorf("whois %s: query %q: %w: reply %s", c.addr, hs[2], irr.ErrUnavailable, describeReply(reps[2]))
	}
	c.defaults = defaults
	c.log.Debug("whois: connected", "a_queries", c.hasA, "sources", strings.Join(defaults, ","))
	return nil
}

// runLocked selects sources when the connection's selection differs ("!s<list>", or
// the defaults again for an empty list), then sends qs pipelined and returns their
// replies (A, C or D: an F or E reply to a data query fails the call).
func (c *Client) runLocked(ctx context.Context, sources []string, qs []string) ([]Reply, error) {
	return c.runLenientLocked(ctx, sources, qs, 0, nil)
}

// selection validates sources and returns them as the "!s" argument ("" for the
// server's defaults).
func selection(sources []string) (string, error) {
	if len(sources) == 0 {
		return "", nil
	}
	up := make([]string, len(sources))
	for i, s := range sources {
		if err := checkSourceName(s); err != nil {
			return "", err
		}
		up[i] = strings.ToUpper(s)
	}
	return strings.Join(up, ","), nil
}

// runLenientLocked is runLocked where the last lenient queries are speculative: an F
// or E reply to one of them is returned to the caller instead of failing the call.
// modes (nil: all raw) says how the data of each query's A reply is read.
func (c *Client) runLenientLocked(ctx context.Context, sources []string, qs []string, lenient int, modes []dataMode) ([]Reply, error) {
	want, err := selection(sources)
	if err != nil {
		return nil, err
	}
	if err := c.ensureLocked(ctx); err != nil {
		return nil, err
	}
	all := qs
	sel := ""
	if want != c.selected {
		if want == "" {
			if len(c.defaults) == 0 {
				c.dropLocked()
				return nil, fmt.Errorf("whois %s: %w: server reported no default sources", c.addr, irr.ErrUnavailable)
			}
			sel = "!s" + strings.Join(c.defaults, ",")
		} else {
			sel = "!s" + want
		}
		all = append([]string{sel}, qs...)
		if modes != nil {
			modes = append([]dataMode{dataRaw}, modes...)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	reps, err := c.exchangeModesLocked(ctx, "", all, c.opt.QueryTimeout, modes)
	if err != nil {
		c.dropLocked()
		return nil, err
	}
	if sel != "" {
		r := reps[0]
		reps = reps[1:]
		switch r.Kind {
		case ReplyC:
			c.selected = want
		case ReplyF:
			return nil, fmt.Errorf("whois %s: query %q: %w: %s", c.addr, sel, irr.ErrUnknownSource, r.Msg)
		default:
			c.dropLocked()
			return nil, fmt.Errorf("whois %s: query %q: %w: unexpected reply %s", c.addr, sel, irr.ErrUnavailable, describeReply(r))
		}
	}
	for i, r := range reps {
		switch {
		case r.Kind == ReplyA || r.Kind == ReplyC || r.Kind == ReplyD:
		case i >= len(reps)-lenient && (r.Kind == ReplyF || r.Kind == ReplyE):
		default:
			return nil, fmt.Errorf("whois %s: query %q: %w: server error reply %s", c.addr, qs[i], irr.ErrUnavailable, describeReply(r))
		}
	}
	return reps, nil
}

// exchangeLocked writes preamble and the query lines (all of them, from a goroutine,
// so that neither side blocks on a full socket buffer) while reading one reply per
// query in order. Every reply must arrive within perReply of the previous one, and all
// of it before the whole-run deadline and the context's end.
//
// After the handshake every batch is checked for replies out of step (client_step.go):
// a "!v" goes after every checkEvery queries and after the last one, and its known
// answer must come exactly there, with no bytes before the batch or after it.
func (c *Client) exchangeLocked(ctx context.Context, preamble string, qs []string, perReply time.Duration) ([]Reply, error) {
	return c.exchangeModesLocked(ctx, preamble, qs, perReply, nil)
}

// exchangeModesLocked is exchangeLocked with the data of query i's A reply read as
// modes[i] says (nil: all raw): member and prefix answers are parsed as they stream in
// (reply_stream.go).
func (c *Client) exchangeModesLocked(ctx context.Context, preamble string, qs []string, perReply time.Duration, modes []dataMode) ([]Reply, error) {
	cn := c.conn
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("whois %s: query %q: %w: %w", c.addr, qs[0], irr.ErrUnavailable, err)
	}
	checked := c.check != nil
	if checked && cn.br.Buffered() > 0 {
		cn.nc.Close()
		return nil, c.outOfStep(qs, 0, 0, fmt.Sprintf("%d bytes arrived before the first of them was sent (an unsolicited reply)", cn.br.Buffered()))
	}
	runDeadline := c.opt.Deadline
	if d, ok := ctx.Deadline(); ok && (runDeadline.IsZero() || d.Before(runDeadline)) {
		runDeadline = d
	}
	stop := context.AfterFunc(ctx, func() { cn.nc.Close() })
	defer func() {
		if !stop() && c.conn == cn {
			// The context ended as the exchange finished: the connection is
			// closed, so it must not be reused.
			c.dropLocked()
		}
	}()

	payload := wireBatch(preamble, qs, checked)
	werr := make(chan error, 1)
	go func() {
		for len(payload) > 0 {
			n := min(len(payload), clientWriteChunk)
			cn.nc.SetWriteDeadline(earlier(time.Now().Add(perReply), runDeadline))
			if _, err := cn.nc.Write(payload[:n]); err != nil {
				werr <- err
				return
			}
			payload = payload[n:]
		}
		werr <- nil
	}()

	fail := func(q string, i int, err error) ([]Reply, error) {
		cn.nc.Close()
		<-werr
		return nil, c.failure(ctx, q, i, len(qs), perReply, runDeadline, err)
	}
	reps := make([]Reply, 0, len(qs))
	window := 0 // first query since the last check
	var scratch []netip.Prefix
	for i, q := range qs {
		cn.nc.SetReadDeadline(earlier(time.Now().Add(perReply), runDeadline))
		mode := dataRaw
		if modes != nil {
			mode = modes[i]
		}
		r, err := readReplyMode(cn.br, c.opt.MaxReply, mode, &scratch)
		if err != nil {
			return fail(q, i, err)
		}
		reps = append(reps, r)
		if !checked || !checkAfter(i, len(qs)) {
			continue
		}
		cn.nc.SetReadDeadline(earlier(time.Now().Add(perReply), runDeadline))
		r, err = ReadReply(cn.br, c.opt.MaxReply)
		if err != nil {
			return fail(checkQuery, i, err)
		}
		if !c.isCheck(r) {
			cn.nc.Close()
			<-werr
			return nil, c.outOfStep(qs, window, i+1, fmt.Sprintf("reply %s came where the answer to the %q check after them belongs (an unsolicited or duplicated reply)", describeReply(r), checkQuery))
		}
		window = i + 1
	}
	if checked && cn.br.Buffered() > 0 {
		cn.nc.Close()
		<-werr
		return nil, c.outOfStep(qs, window, len(qs), fmt.Sprintf("%d bytes followed the last reply (an unsolicited or duplicated reply)", cn.br.Buffered()))
	}
	c.lastUsed = time.Now()
	if err := <-werr; err != nil {
		// Every reply arrived, so every query was written: a late write error is
		// harmless, but the connection is not trustworthy any more.
		cn.nc.Close()
		return nil, c.failure(ctx, qs[len(qs)-1], len(qs)-1, len(qs), perReply, runDeadline, err)
	}
	return reps, nil
}

// failure explains why a reply could not be read, naming the server and the query.
func (c *Client) failure(ctx context.Context, q string, i, n int, perReply time.Duration, runDeadline time.Time, err error) error {
	var cause string
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		cause = "canceled: " + context.Cause(ctx).Error()
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		if !runDeadline.IsZero() && !time.Now().Before(runDeadline) {
			cause = "run deadline exceeded"
		} else {
			cause = fmt.Sprintf("no reply within %s (timeout)", perReply)
		}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		cause = "connection closed by the server: " + err.Error()
	default:
		cause = err.Error()
	}
	where := ""
	if n > 1 {
		where = fmt.Sprintf(" (reply %d of %d pipelined)", i+1, n)
	}
	return fmt.Errorf("whois %s: query %q%s: %w: %s", c.addr, q, where, irr.ErrUnavailable, cause)
}

func earlier(t, deadline time.Time) time.Time {
	if !deadline.IsZero() && deadline.Before(t) {
		return deadline
	}
	return t
}

// membersReply reads an "!i" reply: D is "no such set", C an existing empty one.
func membersReply(r Reply) ([]string, bool, error) {
	switch {
	case r.Kind == ReplyD:
		return nil, false, nil
	case r.Kind == ReplyC:
		return []string{}, true, nil
	case r.Data == nil:
		return r.Members, true, nil // streamed
	}
	return strings.Fields(string(r.Data)), true, nil
}

// prefixesOf reads an "!a", "!g" or "!6" reply: whitespace-separated prefixes of one
// family. Anything else is garbage and fails the query.
func prefixesReply(r Reply, v6 bool) ([]netip.Prefix, bool, error) {
	switch r.Kind {
	case ReplyD:
		return []netip.Prefix{}, false, nil
	case ReplyC:
		return []netip.Prefix{}, true, nil
	}
	if r.Data == nil {
		return r.Prefixes, true, nil // streamed: parsed, sorted and checked already
	}
	fields := strings.Fields(string(r.Data))
	out := make([]netip.Prefix, 0, len(fields))
	for _, f := range fields {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %q is not a prefix", errClientData, clientClip(f))
		}
		if p.Addr().Is6() != v6 || p.Addr().Is4In6() {
			return nil, false, fmt.Errorf("%w: %s has the wrong address family", errClientData, p)
		}
		out = append(out, p)
	}
	return sortUniqPrefixes(out), true, nil
}

// sortPrefixes sorts by address, then length, and removes duplicates.
func sortUniqPrefixes(p []netip.Prefix) []netip.Prefix {
	slices.SortFunc(p, clientComparePrefix)
	return slices.Compact(p)
}

func clientComparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func sortUniqASNs(a []routing.ASN) []routing.ASN {
	slices.Sort(a)
	return slices.Compact(a)
}
