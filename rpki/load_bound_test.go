package rpki

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// gzipMember returns one gzip member holding n zero bytes.
func gzipMember(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for i := 0; i < n; i += len(zero) {
		if _, err := zw.Write(zero[:min(len(zero), n-i)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func allocatedBytes(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A gzip file of about 1 MB that expands to 1 GiB (16 members of 64 MiB of zeros) is
// refused with an error naming the bound, having read at most the bound (issue 12 item
// 7: it took 3.5 GB).
func TestLoadGzipBomb(t *testing.T) {
	m := gzipMember(t, 64<<20)
	path := filepath.Join(t.TempDir(), "bomb.json.gz")
	if err := os.WriteFile(path, bytes.Repeat(m, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	n := allocatedBytes(func() { _, err = LoadFile(context.Background(), path, Options{}) })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("LoadFile(%d-byte gzip of 1 GiB) = %v, want ErrTooLarge", 16*len(m), err)
	}
	t.Logf("%v; %d bytes allocated", err, n)
	if n > 3*gzipMinLimit {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
}

// The ISIZE trailer is the writer's claim: a small file that claims 4 GiB is not
// taken at its word (the reader allocated the claimed size up front).
func TestLoadGzipForgedSize(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"roas": [{"asn": 64496, "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "test"}]}`))
	zw.Close()
	data := b.Bytes()
	binary.LittleEndian.PutUint32(data[len(data)-4:], 0xfffffff0)
	path := filepath.Join(t.TempDir(), "forged.json.gz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	n := allocatedBytes(func() { _, err = LoadFile(context.Background(), path, Options{}) })
	if err == nil {
		t.Fatal("a gzip file with a wrong ISIZE was accepted")
	}
	if n > 64<<20 {
		t.Errorf("a %d-byte file claiming 4 GiB made LoadFile allocate %d bytes", len(data), n)
	}
}
