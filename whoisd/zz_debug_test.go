package whoisd

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

func TestZZHeap(t *testing.T) {
	ix := ripeIndex(t)
	ts := startServer(t, ix, Options{WriteTimeout: 2 * time.Second, MaxPendingBytes: 1 << 20})
	bigSet, bigLen := "", 0
	for _, s := range sampleSets(t, 100) {
		p, _, _ := ix.SetPrefixes(context.Background(), nil, s, false)
		if len(p) > bigLen {
			bigSet, bigLen = s, len(p)
		}
	}
	t.Logf("big %s %d", bigSet, bigLen)
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); hostileNeverReads(ts.addr, "!a4"+bigSet, 20000) }()
	}
	time.Sleep(1500 * time.Millisecond)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("before %d MiB, during %d MiB", m0.HeapAlloc>>20, m.HeapAlloc>>20)
	f, _ := os.Create("/tmp/heap.prof")
	pprof.WriteHeapProfile(f)
	f.Close()
	wg.Wait()
}
