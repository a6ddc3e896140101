// Package whoisfault is a fault-injection IRRd whois server for tests: it answers the
// "!" queries bgpfilter and bgpq4 send from a small in-memory dataset, and misbehaves
// on purpose on one chosen query (truncates, mis-frames, stalls, drops the connection,
// answers F or garbage). Tests use it to prove that a misbehaving server always ends a
// run with an error, in bounded time, and never with a partial filter.
package whoisfault

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Data is the server's dataset; keys are upper-case.
type Data struct {
	// Sources is the default source list ("!s-lc"); "!s" accepts only these.
	Sources []string
	// NoA makes the server answer "!a" queries as IRRd < 4.1 does (unknown command).
	NoA bool
	// Members answers "!i<set>"; Recursive answers "!i<set>,1".
	Members, Recursive map[string][]string
	// A4 and A6 answer "!a4<set>" / "!a6<set>".
	A4, A6 map[string][]string
	// Routes4 and Routes6 answer "!gas<N>" / "!6as<N>", keyed by N.
	Routes4, Routes6 map[uint32][]string
	// HoldRoutes, when positive, holds back every reply from the first "!g"/"!6"
	// query on a connection until that many "!g"/"!6" queries have arrived: a client
	// that waits for each answer before sending the next query deadlocks.
	HoldRoutes int
	// Delay, when positive, is how long the server takes over each reply (a slow
	// server, so that the queries of concurrent callers queue up).
	Delay time.Duration
}

// Version is the server's answer to "!v" (IRRd answers its version string).
const Version = "IRRd -- version 4.4.4 (whoisfault)"

// Kind is a fault the server injects.
type Kind int

// The faults. Each applies to the first query line equal to Fault.Query (with
// Fault.Query "!n" the handshake's client-name query).
const (
	None         Kind = iota
	Stall             // read on, never answer
	Drop              // close the connection instead of answering
	Truncate          // send the header and half of the data, then close
	ShortLength       // A<len(data)>: the off-by-one IRRd never makes
	LongLength        // A<len(data)+4>
	NoTerminator      // A reply without its "C" line
	FReply            // "F internal error"
	EReply            // "E" (multiple keys)
	GarbageLine       // a line that is no reply at all
	GarbageData       // a well-framed A reply whose data is not prefixes
	WrongFamily       // an IPv6 prefix in a "!g" answer
	HugeLength        // an A header announcing 40 GB
	SlowDrip          // the right reply, one byte every 100 ms
	NotIRRd           // a RIPE-style text banner instead of a reply
	// The out-of-step faults: every frame is well formed, but the number of replies
	// is not the number of queries, so a client that matches replies to queries by
	// order alone hands later queries the answers of earlier ones.
	ExtraD    // an unsolicited "D" before the right reply
	ExtraC    // the right reply, then an unsolicited "C"
	Duplicate // the right reply twice
	// Die is the server going away mid-run: instead of answering it closes every
	// connection and stops listening, so every later connection is refused.
	Die
)

// dataKinds are the faults injected on a data query, in matrix order.
var dataKinds = []Kind{
	Stall, Drop, Truncate, ShortLength, LongLength, NoTerminator, FReply, EReply,
	GarbageLine, GarbageData, WrongFamily, HugeLength, SlowDrip, ExtraD, ExtraC, Duplicate,
}

// OutOfStep reports whether k is one of the faults that add a reply no query asked for.
func (k Kind) OutOfStep() bool { return k == ExtraD || k == ExtraC || k == Duplicate }

var kindNames = map[Kind]string{
	None: "none", Stall: "stall", Drop: "drop", Truncate: "truncate",
	ShortLength: "short-length", LongLength: "long-length", NoTerminator: "no-terminator",
	FReply: "F-reply", EReply: "E-reply", GarbageLine: "garbage-line", GarbageData: "garbage-data",
	WrongFamily: "wrong-family", HugeLength: "huge-length", SlowDrip: "slow-drip", NotIRRd: "not-irrd",
	ExtraD: "extra-D", ExtraC: "extra-C", Duplicate: "duplicate", Die: "die",
}

// String names the fault.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one injected misbehaviour.
type Fault struct {
	Kind Kind
	// Query is the query line that triggers it, e.g. "!gas64500" or "!n".
	Query string
}

// String describes the fault, e.g. "truncate on !gas64500".
func (f Fault) String() string { return f.Kind.String() + " on " + f.Query }

// Faults returns the fault matrix for a run whose data queries include q (a "!g" or
// "!a" query whose answer has data) and whose handshake starts with "!n".
func Faults(q string) []Fault {
	var out []Fault
	for _, k := range dataKinds {
		if k == WrongFamily && !strings.HasPrefix(q, "!g") {
			continue
		}
		out = append(out, Fault{Kind: k, Query: q})
	}
	out = append(out,
		Fault{Kind: Stall, Query: "!n"},
		Fault{Kind: Drop, Query: "!n"},
		Fault{Kind: NotIRRd, Query: "!n"},
		Fault{Kind: ExtraC, Query: "!n"},
		Fault{Kind: GarbageLine, Query: "!s-lc"},
		Fault{Kind: Duplicate, Query: "!s-lc"},
	)
	return out
}

// Server is a running fault-injection server.
type Server struct {
	data  *Data
	fault Fault
	ln    net.Listener

	mu      sync.Mutex
	queries []string
	conns   map[net.Conn]bool
	wg      sync.WaitGroup
	closed  bool
}

// Start listens on 127.0.0.1 on a free port and serves until the test ends.
func Start(t testing.TB, d *Data, f Fault) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("whoisfault: listen: %v", err)
	}
	s := &Server{data: d, fault: f, ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Addr is the listening address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Queries returns the query lines received so far, in order (all connections).
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

// Close stops the server and ends every connection.
func (s *Server) Close() {
	s.die()
	s.wg.Wait()
}

// die stops listening and ends every connection, without waiting for the handlers
// (one of them may be the caller: the Die fault).
func (s *Server) die() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	var held strings.Builder
	routeQueries := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		q := strings.TrimRight(line, "\r\n")
		s.mu.Lock()
		s.queries = append(s.queries, q)
		s.mu.Unlock()
		switch {
		case q == "!!":
			continue
		case q == "!q":
			bw.Flush()
			return
		}
		reply := s.answer(q)
		if s.data.Delay > 0 {
			time.Sleep(s.data.Delay)
		}
		if s.data.HoldRoutes > 0 && (strings.HasPrefix(q, "!g") || strings.HasPrefix(q, "!6")) {
			routeQueries++
		}
		if routeQueries > 0 && routeQueries < s.data.HoldRoutes {
			held.WriteString(reply)
			continue
		}
		if held.Len() > 0 {
			bw.WriteString(held.String())
			held.Reset()
		}
		if s.fault.Kind != None && (q == s.fault.Query || s.fault.Query == "!n" && strings.HasPrefix(q, "!n")) {
			bw.Flush()
			if !s.inject(c, bw, reply) {
				return
			}
			continue
		}
		bw.WriteString(reply)
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

// inject applies the fault; it reports whether the connection goes on.
func (s *Server) inject(c net.Conn, bw *bufio.Writer, reply string) bool {
	data := ""
	if strings.HasPrefix(reply, "A") {
		i := strings.IndexByte(reply, '\n')
		data = reply[i+1 : len(reply)-len("\nC\n")]
	}
	if data == "" && s.fault.Kind != Stall && s.fault.Kind != Drop && s.fault.Kind != SlowDrip && s.fault.Kind != Die {
		data = "192.0.2.0/24"
	}
	switch s.fault.Kind {
	case Stall:
		io.Copy(io.Discard, c) // until the client gives up
		return false
	case Drop:
		return false
	case Die:
		s.die()
		return false
	case Truncate:
		fmt.Fprintf(bw, "A%d\n%s", len(data)+1, data[:len(data)/2])
		bw.Flush()
		return false
	case ShortLength:
		fmt.Fprintf(bw, "A%d\n%s\nC\n", len(data), data)
	case LongLength:
		fmt.Fprintf(bw, "A%d\n%s\nC\n", len(data)+4, data)
	case NoTerminator:
		fmt.Fprintf(bw, "A%d\n%s\n", len(data)+1, data)
	case FReply:
		bw.WriteString("F internal error\n")
	case EReply:
		bw.WriteString("E\n")
	case GarbageLine:
		bw.WriteString("HELLO, this is not a reply\n")
	case GarbageData:
		d := data + " not-a-prefix"
		fmt.Fprintf(bw, "A%d\n%s\nC\n", len(d)+1, d)
	case WrongFamily:
		d := data + " 2001:db8::/32"
		fmt.Fprintf(bw, "A%d\n%s\nC\n", len(d)+1, d)
	case HugeLength:
		bw.WriteString("A40000000000\n")
	case SlowDrip:
		for i := 0; i < len(reply); i++ {
			if _, err := c.Write([]byte{reply[i]}); err != nil {
				return false
			}
			time.Sleep(100 * time.Millisecond)
		}
		return true
	case NotIRRd:
		bw.WriteString("% This is the RIPE Database query service.\n% The objects are in RPSL format.\n\n")
	case ExtraD:
		bw.WriteString("D\n" + reply)
	case ExtraC:
		bw.WriteString(reply + "C\n")
	case Duplicate:
		bw.WriteString(reply + reply)
	}
	return bw.Flush() == nil
}

// answer is the correct reply to q, with IRRd 4 framing and semantics.
func (s *Server) answer(q string) string {
	d := s.data
	switch {
	case strings.HasPrefix(q, "!n"):
		return "C\n"
	case q == "!v":
		return frame(Version)
	case q == "!a" || q == "!a4" || q == "!a6":
		if d.NoA {
			return "F Unrecognised command: a\n"
		}
		return "F Missing required set name for A query\n"
	case q == "!s-lc":
		return frame(strings.Join(d.Sources, ","))
	case strings.HasPrefix(q, "!s"):
		for _, src := range strings.Split(q[2:], ",") {
			if !contains(d.Sources, strings.ToUpper(src)) {
				return "F One or more selected sources are unavailable.\n"
			}
		}
		return "C\n"
	case strings.HasPrefix(q, "!i"):
		name := strings.ToUpper(q[2:])
		m := d.Members
		if n, ok := strings.CutSuffix(name, ",1"); ok {
			name, m = n, d.Recursive
		}
		return frameList(m[name])
	case strings.HasPrefix(q, "!a4") || strings.HasPrefix(q, "!a6"):
		if d.NoA {
			return "F Unrecognised command: a\n"
		}
		m := d.A4
		if q[2] == '6' {
			m = d.A6
		}
		return frameList(m[strings.ToUpper(q[3:])])
	case strings.HasPrefix(q, "!gas") || strings.HasPrefix(q, "!6as"):
		n, err := strconv.ParseUint(q[4:], 10, 32)
		if err != nil {
			return "F Invalid AS number\n"
		}
		m := d.Routes4
		if q[1] == '6' {
			m = d.Routes6
		}
		return frameList(m[uint32(n)])
	}
	return "F Unrecognised command\n"
}

func frameList(items []string) string {
	if len(items) == 0 {
		return "D\n"
	}
	return frame(strings.Join(items, " "))
}

func frame(data string) string {
	if data == "" {
		return "D\n"
	}
	return fmt.Sprintf("A%d\n%s\nC\n", len(data)+1, data)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Refused returns an address on 127.0.0.1 where nothing listens.
func Refused(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("whoisfault: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// BlackHole returns the address of a listener that accepts connections and never
// says a word (the "silent server" that hangs bgpq4 forever).
func BlackHole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("whoisfault: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			go io.Copy(io.Discard, c)
			if ctx.Err() != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	return ln.Addr().String()
}
