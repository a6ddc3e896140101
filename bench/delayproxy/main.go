// Command delayproxy is a TCP proxy that delays every byte by a fixed one-way latency
// in each direction, without serialising the connection (a chunk read at t is written
// at t+delay, whatever else is in flight): propagation delay with unbounded bandwidth,
// as `tc netem delay` gives where netem is not available. bench/remote.sh uses it to
// emulate the round-trip time to a remote IRR server.
//
//	go run ./bench/delayproxy -listen 127.0.0.1:4344 -upstream 127.0.0.1:4343 -rtt 20ms
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "delayproxy:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("delayproxy", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := fs.String("upstream", "", "address to forward to")
	rtt := fs.Duration("rtt", 20*time.Millisecond, "round-trip time to add (half in each direction)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *upstream == "" {
		return errors.New("-upstream is required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "delayproxy: %s -> %s, rtt %s\n", ln.Addr(), *upstream, *rtt)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			up, err := net.DialTimeout("tcp", *upstream, 10*time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, "delayproxy:", err)
				return
			}
			defer up.Close()
			var pipes sync.WaitGroup
			pipes.Add(2)
			go func() { defer pipes.Done(); pipe(up, c, *rtt/2) }()
			go func() { defer pipes.Done(); pipe(c, up, *rtt/2) }()
			pipes.Wait()
		}()
	}
}

type chunk struct {
	at   time.Time
	data []byte
}

// pipe copies src to dst, each chunk written delay after it was read. When src ends,
// dst's write side is closed after the last chunk.
func pipe(dst, src net.Conn, delay time.Duration) {
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{at: time.Now(), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		if d := time.Until(c.at.Add(delay)); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.data); err != nil {
			src.Close()
			for range ch {
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		io.Copy(io.Discard, src)
	}
}
