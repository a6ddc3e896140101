package pcap

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, LinkRaw)
	if err != nil {
		t.Fatal(err)
	}
	src4, dst4 := netip.MustParseAddrPort("192.0.2.1:2055"), netip.MustParseAddrPort("127.0.0.1:9995")
	src6, dst6 := netip.MustParseAddrPort("[2001:db8::1]:6343"), netip.MustParseAddrPort("[::1]:6343")
	ts := time.Unix(1700000000, 123000).UTC()
	w.WriteUDP(ts, src4, dst4, []byte("hello"))
	w.WriteUDP(ts, src6, dst6, []byte("world!"))
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []Datagram{{ts, src4, dst4, []byte("hello")}, {ts, src6, dst6, []byte("world!")}} {
		d, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if d.Src != want.Src || d.Dst != want.Dst || string(d.Payload) != string(want.Payload) || !d.Time.Equal(want.Time) {
			t.Errorf("got %+v, want %+v", d, want)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func TestBadFiles(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, LinkEthernet)
	w.WritePacket(time.Unix(0, 0), make([]byte, 60))
	good := buf.Bytes()
	huge := bytes.Clone(good)
	huge[24+8], huge[24+9], huge[24+10] = 0xff, 0xff, 0xff // captured length 16M
	for name, b := range map[string][]byte{
		"empty":          nil,
		"pcapng":         {0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"truncated body": good[:len(good)-10],
		"huge length":    huge,
	} {
		r, err := NewReader(bytes.NewReader(b))
		if err == nil {
			_, err = r.Next()
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
	// a non-UDP packet is skipped, not an error
	r, _ := NewReader(bytes.NewReader(good))
	if _, err := r.Next(); err != io.EOF || r.Skipped != 1 {
		t.Errorf("non-IP frame: %v, skipped %d", err, r.Skipped)
	}
}

// FuzzReader: any file gives datagrams, io.EOF or ErrFormat, never a panic, and no
// payload longer than the record.
func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, LinkRaw)
	w.WriteUDP(time.Unix(1, 0), netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("127.0.0.1:2"), []byte("x"))
	f.Add(buf.Bytes())
	for _, link := range []uint32{LinkEthernet, LinkLinuxSLL, LinkSLL2, LinkNull, LinkIPv4} {
		var b bytes.Buffer
		w, _ := NewWriter(&b, link)
		w.WritePacket(time.Unix(1, 0), make([]byte, 80))
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("header error %v does not wrap ErrFormat", err)
			}
			return
		}
		for i := 0; i < 10000; i++ {
			d, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("error %v does not wrap ErrFormat", err)
				}
				return
			}
			if len(d.Payload) > MaxSnapLen || !d.Src.IsValid() {
				t.Fatalf("bad datagram %+v", d)
			}
		}
	})
}
