package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// MaxStreamBytes caps one NRTMv3 reply.
const MaxStreamBytes = 4 << 30

// ErrUpToDate is returned by FetchNRTM3 when the server has no serial newer than the
// mirror's (it answered a range error whose upper bound is first-1).
var ErrUpToDate = errors.New("NRTM mirror is up to date")

// FetchNRTM3 asks an NRTM server at addr (HOST:PORT) for the updates of source from
// serial first on ("-g SOURCE:3:FIRST-LAST") and returns the checked stream. The
// context bounds the whole exchange; a nil error means a complete stream (%END seen)
// that starts at first with consecutive serials.
func FetchNRTM3(ctx context.Context, addr, source string, first uint64) (*Stream, error) {
	if first == 0 {
		return nil, fmt.Errorf("mirror: nrtm %s %s: first serial must be positive", addr, source)
	}
	if !validAttrName(source) {
		return nil, fmt.Errorf("mirror: nrtm %s: bad source name %q", addr, source)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mirror: nrtm %s: %w", addr, err)
	}
	defer conn.Close()
	// The context alone bounds the exchange: when it ends, the connection's deadline
	// moves to the past and the pending read or write fails.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	q := "-g " + strings.ToUpper(source) + ":3:" + strconv.FormatUint(first, 10) + "-LAST\n"
	if _, err := io.WriteString(conn, q); err != nil {
		return nil, fmt.Errorf("mirror: nrtm %s: send query: %w", addr, ctxErr(ctx, err))
	}
	s, err := ParseNRTM3(io.LimitReader(conn, MaxStreamBytes), Expect{Source: source, First: first})
	if err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			if _, hi, ok := se.Range(); ok && hi == first-1 {
				return nil, ErrUpToDate
			}
		}
		return nil, fmt.Errorf("mirror: nrtm %s %s from %d: %w", addr, source, first, ctxErr(ctx, err))
	}
	return s, nil
}

// ctxErr prefers the context's error when the context ended the exchange.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
