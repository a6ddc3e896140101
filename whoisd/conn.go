package whoisd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgpfilter/bgpfilter/whois"
)

// event is what the reader tells the processor, in stream order.
type event uint8

const (
	evQuery   event = iota // a query line
	evEOF                  // the client closed its side (or the read failed)
	evIdle                 // nothing received and nothing in progress for the idle timeout
	evTooLong              // a line over MaxLineLen
	evStop                 // the server is shutting down
)

type item struct {
	ev   event
	line string
}

// itemOverhead is what a queued query costs besides its bytes (queue slot, string
// header), so that a flood of empty-ish queries is bounded too.
const itemOverhead = 64

// lingerTime bounds how long a closing connection drains unread input after its last
// reply, so that closing with unread data does not reset the connection and destroy
// the reply in flight. It is generous because a client that sent a 1 MB line on a busy
// machine may still be pushing it; the drain is bounded in bytes as well (1 MiB).
const lingerTime = 2 * time.Second

// Reasons a connection ends, for the metrics and logs.
const (
	closeEOF       = "eof"
	closeQuit      = "quit"
	closeOneShot   = "single_query"
	closeIdle      = "idle"
	closeTooLong   = "line_too_long"
	closeWriteFail = "write_failed"
	closeShutdown  = "shutdown"
	closeAborted   = "aborted"
)

// conn is one client connection: a reader goroutine queues query lines (bounded by
// MaxPendingBytes) while serve answers them in order, so reading never waits for a
// client to read its replies.
type conn struct {
	s      *Server
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	log    *slog.Logger
	q      lineQueue
	ctx    context.Context
	cancel context.CancelFunc

	idle     atomic.Int64 // idle timeout in ns ("!t")
	active   atomic.Int64 // last query read or answered, unix ns
	busy     atomic.Bool  // a query is being answered or replies flushed
	stopping atomic.Bool  // shutdown: stop reading

	partial    []byte // a line being read across read timeouts
	persistent bool
	sources    []string // selected by "!s" / "-s"; nil means the default list
	scratch    []byte   // one object's text while an object answer is written
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.base)
	c := &conn{
		s:      s,
		nc:     nc,
		br:     bufio.NewReaderSize(nc, 4096),
		bw:     bufio.NewWriterSize(nc, s.opt.WriteBufferSize),
		log:    s.log.With("remote", nc.RemoteAddr().String()),
		ctx:    ctx,
		cancel: cancel,
	}
	c.q.init(s.opt.MaxPendingBytes, s.m.pending)
	c.idle.Store(int64(s.opt.IdleTimeout))
	c.touch()
	return c
}

// touch records activity for the idle timeout.
func (c *conn) touch() { c.active.Store(time.Now().UnixNano()) }

// idleDeadline is when the connection becomes idle if nothing happens.
func (c *conn) idleDeadline() time.Time {
	return time.Unix(0, c.active.Load()).Add(time.Duration(c.idle.Load()))
}

// stopReading makes the reader stop at the next line boundary; the queries read so
// far are still answered.
func (c *conn) stopReading() {
	c.stopping.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// abort closes the connection at once.
func (c *conn) abort() {
	c.cancel()
	c.nc.Close()
}

func (c *conn) serve() {
	c.log.Debug("whois-server: connection opened")
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		c.readLoop()
	}()
	reason, graceful := c.processLoop()
	c.s.m.closed.WithLabelValues(reason).Inc()
	c.log.Debug("whois-server: connection closed", "reason", reason)
	if graceful {
		// Half-close, then let the reader drain what the client still sends for a
		// moment, so the kernel does not answer unread input with a reset that
		// could destroy our last reply.
		if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
		}
		c.stopping.Store(true)
		c.nc.SetReadDeadline(time.Now().Add(lingerTime))
		c.cancel()
		<-readerDone
		c.nc.SetReadDeadline(time.Now().Add(lingerTime))
		io.Copy(io.Discard, io.LimitReader(c.nc, 1<<20))
	} else {
		c.cancel()
	}
	c.nc.Close()
	<-readerDone
	c.q.release()
}

// readLoop reads query lines into the queue until EOF, an error, an over-long line,
// the idle timeout or a shutdown.
func (c *conn) readLoop() {
	for {
		if c.stopping.Load() {
			c.q.push(c.ctx, item{ev: evStop})
			return
		}
		c.nc.SetReadDeadline(c.idleDeadline())
		if c.stopping.Load() {
			// stopReading ran between the check above and our deadline: make
			// sure its immediate deadline wins.
			c.nc.SetReadDeadline(time.Now())
		}
		line, err := c.readLine()
		if err != nil {
			var ne net.Error
			switch {
			case c.stopping.Load():
				c.q.push(c.ctx, item{ev: evStop})
				return
			case errors.As(err, &ne) && ne.Timeout():
				if c.q.len() > 0 || c.busy.Load() || time.Now().Before(c.idleDeadline()) {
					// The client waits for answers still being computed, or "!t"
					// or an answer moved the deadline while we were reading.
					c.touch()
					continue
				}
				c.q.push(c.ctx, item{ev: evIdle})
			case errors.Is(err, whois.ErrLineTooLong):
				c.q.push(c.ctx, item{ev: evTooLong})
			default:
				c.q.push(c.ctx, item{ev: evEOF})
			}
			return
		}
		if strings.TrimSpace(line) == "" {
			continue // IRRd ignores empty lines
		}
		c.touch()
		if err := c.q.push(c.ctx, item{ev: evQuery, line: line}); err != nil {
			return
		}
	}
}

// readLine reads one line of at most MaxLineLen bytes. Unlike whois.ReadQueryLine it
// keeps a partial line across read timeouts. A last line cut by EOF is returned.
func (c *conn) readLine() (string, error) {
	max := c.s.opt.MaxLineLen
	for {
		chunk, err := c.br.ReadSlice('\n')
		if len(chunk) > 0 {
			// Bytes of a line are activity, even before its newline: a long line (or a
			// short one on a busy machine) may arrive in pieces over more than the idle
			// timeout. A client silent mid-line is still idle one timeout later.
			c.touch()
		}
		n := len(c.partial) + len(chunk)
		if err == nil {
			n--
		}
		if n > max {
			c.partial = nil
			return "", whois.ErrLineTooLong
		}
		switch {
		case err == nil:
			line := string(c.partial) + string(chunk[:len(chunk)-1])
			c.partial = c.partial[:0]
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			c.partial = append(c.partial, chunk...)
		default:
			c.partial = append(c.partial, chunk...)
			if errors.Is(err, io.EOF) && len(c.partial) > 0 {
				line := string(c.partial)
				c.partial = c.partial[:0]
				return line, nil
			}
			return "", err
		}
	}
}

// processLoop answers queued queries in order. It returns why the connection ends and
// whether it may be closed gracefully (all replies written).
func (c *conn) processLoop() (reason string, graceful bool) {
	for {
		it, ok := c.q.pop(c.ctx)
		if !ok {
			return closeAborted, false
		}
		switch it.ev {
		case evEOF:
			return closeEOF, c.flush() == nil
		case evStop:
			return closeShutdown, c.flush() == nil
		case evIdle:
			return closeIdle, c.flush() == nil
		case evTooLong:
			c.setWriteDeadline()
			c.s.m.errors.WithLabelValues(whois.KindInvalid.String()).Inc()
			c.log.Warn("whois-server: query line too long, closing", "max", c.s.opt.MaxLineLen)
			whois.WriteF(c.bw, fmt.Sprintf("Query line too long (limit %d bytes)", c.s.opt.MaxLineLen))
			return closeTooLong, c.flush() == nil
		}
		c.busy.Store(true)
		keep, err := c.handle(it.line)
		if err == nil && (c.q.len() == 0 || !keep) {
			err = c.flush()
		}
		c.busy.Store(false)
		c.touch()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.log.Warn("whois-server: client does not read its replies, dropping it", "write_timeout", c.s.opt.WriteTimeout)
			} else {
				c.log.Debug("whois-server: write failed", "err", err)
			}
			return closeWriteFail, false
		}
		if !keep {
			if c.persistent {
				return closeQuit, true
			}
			return closeOneShot, true
		}
	}
}

func (c *conn) setWriteDeadline() {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opt.WriteTimeout))
}

func (c *conn) flush() error {
	if c.bw.Buffered() == 0 {
		return nil
	}
	c.setWriteDeadline()
	return c.bw.Flush()
}

// lineQueue is a FIFO of reader events bounded by the bytes of its queries. Events
// other than queries are never refused: they end the stream.
type lineQueue struct {
	mu    sync.Mutex
	items []item
	head  int
	bytes int
	max   int
	ready chan struct{} // an item was added
	space chan struct{} // an item was removed
	gauge interface{ Add(float64) }
}

func (q *lineQueue) init(max int, gauge interface{ Add(float64) }) {
	q.max = max
	q.gauge = gauge
	q.ready = make(chan struct{}, 1)
	q.space = make(chan struct{}, 1)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (q *lineQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// push appends it, waiting while a query would exceed the byte budget (a single
// query always fits into an empty queue). It fails only when ctx ends.
func (q *lineQueue) push(ctx context.Context, it item) error {
	cost := 0
	if it.ev == evQuery {
		cost = len(it.line) + itemOverhead
	}
	for {
		q.mu.Lock()
		if cost == 0 || q.bytes+cost <= q.max || len(q.items) == q.head {
			if q.head > 0 && q.head >= len(q.items)/2 {
				// Reclaim the consumed front before growing.
				n := copy(q.items, q.items[q.head:])
				clear(q.items[n:])
				q.items, q.head = q.items[:n], 0
			}
			q.items = append(q.items, it)
			q.bytes += cost
			q.gauge.Add(float64(cost))
			q.mu.Unlock()
			signal(q.ready)
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release drops what is still queued when the connection ends.
func (q *lineQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.gauge.Add(-float64(q.bytes))
	q.items, q.head, q.bytes = nil, 0, 0
}

// pop removes the oldest item, waiting for one; ok is false when ctx ends first.
func (q *lineQueue) pop(ctx context.Context) (it item, ok bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			it = q.items[q.head]
			q.items[q.head] = item{}
			q.head++
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
				if cap(q.items) > 1024 {
					q.items = nil // give a burst's backing array back
				}
			}
			if it.ev == evQuery {
				q.bytes -= len(it.line) + itemOverhead
				q.gauge.Add(-float64(len(it.line) + itemOverhead))
			}
			q.mu.Unlock()
			signal(q.space)
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return item{}, false
		}
	}
}
