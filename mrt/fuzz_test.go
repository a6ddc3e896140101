package mrt

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// FuzzReader feeds arbitrary bytes to the decoder: it must never panic or loop, and
// every route it yields must render. The seeds are the first records of the real
// files (truncated and bit-flipped variants come from the fuzzer).
func FuzzReader(f *testing.F) {
	for _, p := range []string{"mrt/ris.bview.ipv4_unicast_add_path.gz", "mrt/ris.bview.ipv6_unicast_add_path.gz",
		"mrt/ris.updates.20160811.1600.gz", "mrt/routeviews.updates.20260222.1530.mrt.gz", "mrt/ris.bview.20020722.2337.gz"} {
		fh, err := os.Open(peer.SharedData(f, p))
		if err != nil {
			f.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			f.Fatal(err)
		}
		b := make([]byte, 4096)
		n, _ := io.ReadFull(zr, b)
		fh.Close()
		f.Add(b[:n])
		f.Add(b[:n/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data))
		for i := 0; i < 100000; i++ {
			r, err := rd.Next()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrMalformed) {
					if !errors.Is(err, ErrMalformed) {
						return
					}
					continue
				}
				t.Fatalf("unexpected error kind: %v", err)
			}
			_ = r.BgpdumpLine()
		}
	})
}

// TestMalformedRecords: a length field that lies is an error naming the record, and
// the reader goes on with the next record.
func TestMalformedRecords(t *testing.T) {
	// BGP4MP_MESSAGE_AS4 whose BGP message claims 4000 bytes, then a valid STATE change.
	bad := []byte{0, 0, 0, 1, 0, 16, 0, 4, 0, 0, 0, 39,
		0, 0, 0xfb, 0xf0, 0, 0, 0xfb, 0xf1, 0, 0, 0, 1, 198, 51, 100, 1, 198, 51, 100, 2}
	bad = append(bad, bytes.Repeat([]byte{0xff}, 16)...)
	bad = append(bad, 0x0f, 0xa0, 2)
	bad = bad[:12+39]
	state := []byte{0, 0, 0, 2, 0, 16, 0, 5, 0, 0, 0, 24,
		0, 0, 0xfb, 0xf0, 0, 0, 0xfb, 0xf1, 0, 0, 0, 1, 198, 51, 100, 1, 198, 51, 100, 2, 0, 1, 0, 6}
	rd := NewReader(bytes.NewReader(append(bad, state...)))
	_, err := rd.Next()
	var re *RecordError
	if !errors.As(err, &re) || re.Offset != 0 {
		t.Fatalf("want a RecordError at offset 0, got %v", err)
	}
	r, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.BgpdumpLine(), "BGP4MP|2|STATE|198.51.100.1|64496|1|6"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	// A truncated body.
	rd = NewReader(bytes.NewReader(state[:20]))
	if _, err := rd.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want ErrUnexpectedEOF, got %v", err)
	}
}
