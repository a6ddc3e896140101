package peer

import (
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestRunBGPQ4Errors: a refused connection is bgpq4's own failure (a Result with a
// non-zero exit), a program that cannot be run is an error.
func TestRunBGPQ4Errors(t *testing.T) {
	bin := Require(t, "bgpq4")
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t)) // nothing listens there
	r, err := RunBGPQ4(bin, addr, nil, "AS-X")
	if err != nil || r.Code == 0 || r.Stderr == "" {
		t.Errorf("refused: %+v, %v; want a non-zero exit with a message", r, err)
	}
	if _, err := RunBGPQ4("/nonexistent/bgpq4", addr, nil, "AS-X"); err == nil {
		t.Error("a missing program gave no error")
	}
}

// TestSyncBuffer writes from several goroutines (run with -race).
func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				b.Write([]byte("x\n"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "x\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}
