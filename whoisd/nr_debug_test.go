package whoisd

import (
	"testing"
	"time"
)

func TestNRDebug(t *testing.T) {
	ts := startServer(t, ripeIndex(t), Options{WriteTimeout: 2 * time.Second, MaxPendingBytes: 1 << 20})
	start := time.Now()
	ok := hostileNeverReads(ts.addr, 200000)
	t.Logf("dropped=%v after %v; write_failed=%v open=%d", ok, time.Since(start), counterValue(t, ts.Server, "bgpfilter_whois_connections_closed_total", "write_failed"), ts.OpenConns())
}
