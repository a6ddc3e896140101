package rtr

import (
	"context"
	"errors"
	"time"

	"github.com/bgpfilter/bgpfilter/rpki"
)

// Run keeps the session up until ctx ends: a Reset Query first, then a Serial Query
// whenever the cache sends Serial Notify or the refresh interval of the last End of
// Data passes (RFC 8210 §6). Every answer that completes is built into a new Table
// and handed to publish (store it in an atomic.Pointer; Tables are immutable). On
// errors it reconnects after the retry interval. It returns ctx's error.
func (c *Client) Run(ctx context.Context, opt rpki.Options, publish func(*rpki.Table)) error {
	defer c.Close()
	retry := time.Duration(0)
	for {
		if retry > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(retry):
			}
		}
		err := c.Update(ctx) // a Reset Query until the session is synchronised
		if err == nil {
			var t *rpki.Table
			t, err = c.Table(opt)
			if err == nil {
				publish(t)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			c.log().Warn("rtr: update failed", "addr", c.Addr, "err", err)
			c.Close()
			retry = interval(c.timers.Retry, 600)
			if errors.Is(err, ErrNoData) {
				retry = interval(c.timers.Retry, 30)
			}
			continue
		}
		retry = 0
		wctx, cancel := context.WithTimeout(ctx, interval(c.timers.Refresh, 3600))
		_, err = c.WaitNotify(wctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.log().Debug("rtr: waiting for notify failed", "addr", c.Addr, "err", err)
			c.Close()
		}
	}
}

// interval converts a timer from End of Data (seconds; 0 in version 0) with a
// default, bounded to [1 s, 1 day].
func interval(sec uint32, def uint32) time.Duration {
	if sec == 0 {
		sec = def
	}
	return time.Duration(min(max(sec, 1), 86400)) * time.Second
}
