package whois

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// bigServer is an IRRd-like server for one client that answers the handshake and
// then every "!i…" with members and every "!a4…"/"!g…" with prefixes: reps copies of
// chunk, written from the one chunk without building the answer, so that the
// allocations a test measures are the client's.
func bigServer(t *testing.T, chunk string, reps int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		bw := bufio.NewWriterSize(nc, 1<<16)
		body := []byte(chunk)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			q := strings.TrimSpace(line)
			switch {
			case q == "!!":
			case q == "!v":
				WriteA(bw, []byte("IRRd -- version 4.4.0"))
			case strings.HasPrefix(q, "!n"), strings.HasPrefix(q, "!s") && q != "!s-lc":
				WriteC(bw)
			case q == "!a":
				WriteF(bw, MsgMissingSetName)
			case q == "!s-lc":
				WriteA(bw, []byte("TEST"))
			case strings.HasPrefix(q, "!i"), strings.HasPrefix(q, "!a"), strings.HasPrefix(q, "!g"):
				WriteAStream(bw, len(body)*reps, func(w io.Writer) error {
					for range reps {
						if _, err := w.Write(body); err != nil {
							return err
						}
					}
					return nil
				})
			default:
				WriteD(bw)
			}
			if br.Buffered() == 0 {
				if bw.Flush() != nil {
					return
				}
			}
		}
	}()
	return ln.Addr().String()
}

// allocated runs f and returns the bytes it allocated (the process's, after a GC).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// The query timeout is generous: these tests bound memory, not time, and a 100 MB
// answer under -race on a loaded 2-core machine took over a minute.
func boundOpts(maxReply int) ClientOptions {
	return ClientOptions{ConnectTimeout: 10 * time.Second, QueryTimeout: 5 * time.Minute, MaxReply: maxReply}
}

// A 100 MB "!i" answer (issue 12 item 7: it took 3.1 GB): with the default MaxReply
// it is refused before any of it is read, and with a limit above it the client holds
// the member strings once (the reply's bytes in one string, 16 bytes per member) and
// not copies of the reply text as well.
func TestClientBigMembersBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB through loopback")
	}
	const chunk = "AS64496 AS64497 AS64498 AS64499 AS64500 AS64501 AS64502 AS64503 AS64504 AS64505 "
	reps := 100_000_000 / len(chunk)
	size := len(chunk) * reps
	members := 10 * reps

	c := NewClient(bigServer(t, chunk, reps), boundOpts(0))
	defer c.Close()
	var err error
	n := allocated(func() { _, _, err = c.Members(context.Background(), nil, "AS-BIG", true) })
	if err == nil || !strings.Contains(err.Error(), "exceeds the limit of 67108864") {
		t.Fatalf("default MaxReply: %d-byte answer: err = %v, want the 64 MiB limit", size, err)
	}
	if n > 4<<20 {
		t.Errorf("refusing a %d-byte answer allocated %d bytes", size, n)
	}

	c2 := NewClient(bigServer(t, chunk, reps), boundOpts(128<<20))
	defer c2.Close()
	var got []string
	n = allocated(func() { got, _, err = c2.Members(context.Background(), nil, "AS-BIG", true) })
	if err != nil || len(got) != members || got[0] != "AS64496" || got[len(got)-1] != "AS64505" {
		t.Fatalf("MaxReply 128 MiB: %d members, err %v", len(got), err)
	}
	limit := uint64(size) + 16*uint64(members) + 8<<20
	t.Logf("%d-byte answer, %d members: %d bytes allocated (bound %d)", size, members, n, limit)
	if n > limit {
		t.Errorf("a %d-byte answer of %d members allocated %d bytes, more than %d (the members once)", size, members, n, limit)
	}
}

// The prefixes of an "!a" answer are parsed into netip values as they arrive, without
// an allocation per prefix, and the reply text is never held.
func TestClientBigPrefixesBounded(t *testing.T) {
	var b strings.Builder
	for i := range 256 {
		b.WriteString(netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, byte(i), 0}), 24).String() + " ")
	}
	chunk := b.String()
	reps := 200 // 51,200 prefixes (the same 256 repeated)
	c := NewClient(bigServer(t, chunk, reps), boundOpts(0))
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Sources(ctx); err != nil { // the handshake
		t.Fatal(err)
	}
	var got []netip.Prefix
	var err error
	allocs := testing.AllocsPerRun(5, func() { got, _, err = c.SetPrefixes(ctx, nil, "AS-BIG", false) })
	if err != nil || len(got) != 256 || got[0] != netip.MustParsePrefix("198.51.0.0/24") {
		t.Fatalf("SetPrefixes: %d prefixes, %v", len(got), err)
	}
	// 51,200 prefixes in 1.2 MB of reply text: the allocations are per call (the
	// batch, the result), not per prefix.
	if allocs > 100 {
		t.Errorf("SetPrefixes of a %d-prefix answer: %.0f allocations per call", 256*reps, allocs)
	}
}

// parsePrefixFast accepts only what netip.ParsePrefix accepts, with the same value.
func FuzzParsePrefixFast(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "0.0.0.0/0", "255.255.255.255/32", "192.0.2.1/33", "192.0.02.0/24",
		"2001:db8::/32", "::/0", "::1/128", "2001:DB8:0:0:0:0:0:1/128", "1::/16", "::ffff:192.0.2.0/120",
		"2001:db8::%eth0/64", "1:2:3:4:5:6:7::/64", "::2:3:4:5:6:7:8/64", "1:2:3:4:5:6:7:8:9/64", "12345::/16",
		"1:::2/64", "1::2::3/64", "/24", "192.0.2.0/", "192.0.2.0/024", "192.0.2.0/-1", "1.2.3/8"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parsePrefixFast(b)
		q, err := netip.ParsePrefix(string(b))
		if ok && (err != nil || p != q) {
			t.Fatalf("parsePrefixFast(%q) = %v; netip: %v, %v", b, p, q, err)
		}
	})
}

// FuzzTokenScanner checks the streamed member parser against strings.Fields on the
// same data, for every split of the data across reads.
func FuzzTokenScanner(f *testing.F) {
	f.Add([]byte("AS1 AS2\tAS-X\n  192.0.2.0/24^+ \n"), uint8(3))
	f.Add([]byte("\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if len(data) == 0 || data[len(data)-1] != '\n' || bytes.ContainsFunc(data, func(r rune) bool { return r >= 0x80 }) {
			return
		}
		var frame bytes.Buffer
		if err := WriteA(&frame, data[:len(data)-1]); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReaderSize(&slowReader{b: frame.Bytes(), n: 1 + int(chunk)%32}, 16)
		rep, err := readReplyMode(r, 1<<20, dataMembers, nil)
		if err != nil {
			t.Fatalf("readReplyMode: %v", err)
		}
		want := strings.Fields(string(data))
		if strings.Join(rep.Members, "|") != strings.Join(want, "|") || len(rep.Members) != len(want) {
			t.Fatalf("members %q, strings.Fields %q", rep.Members, want)
		}
	})
}

// slowReader returns at most n bytes per Read.
type slowReader struct {
	b []byte
	n int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), s.n, len(s.b))
	copy(p, s.b[:k])
	s.b = s.b[k:]
	return k, nil
}
