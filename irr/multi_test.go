package irr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/routing"
)

// scripted is a Querier whose every call returns err (or fixed data), counting calls.
type scripted struct {
	name  string
	err   error
	calls int
}

func (s *scripted) Sources(context.Context) ([]string, error) {
	s.calls++
	return []string{s.name}, s.err
}
func (s *scripted) CheckSources(context.Context, []string) error { s.calls++; return s.err }
func (s *scripted) Members(_ context.Context, _ []string, name string, _ bool) ([]string, bool, error) {
	s.calls++
	if s.err != nil {
		return nil, false, s.err
	}
	return []string{s.name + ":" + name}, true, nil
}
func (s *scripted) SetPrefixes(context.Context, []string, string, bool) ([]netip.Prefix, bool, error) {
	s.calls++
	return nil, s.err == nil, s.err
}
func (s *scripted) Routes(_ context.Context, _ []string, asns []routing.ASN, _ bool) ([][]netip.Prefix, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return make([][]netip.Prefix, len(asns)), nil
}

func TestFailover(t *testing.T) {
	down := fmt.Errorf("whois a:43: query %q: %w: connection refused", "!iAS-X", ErrUnavailable)
	tests := []struct {
		name       string
		errs       []error
		wantFrom   string
		wantErr    error
		wantCalls  []int // after two Members calls
		wantFailed int
	}{
		{name: "first healthy", errs: []error{nil, nil}, wantFrom: "a", wantCalls: []int{2, 0}},
		{name: "first down", errs: []error{down, nil}, wantFrom: "b", wantCalls: []int{1, 2}, wantFailed: 1},
		{name: "all down", errs: []error{down, down}, wantErr: ErrUnavailable, wantCalls: []int{1, 1}, wantFailed: 2},
		{name: "unknown source is an answer", errs: []error{ErrUnknownSource, nil}, wantErr: ErrUnknownSource, wantCalls: []int{2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			qs := []*scripted{{name: "a", err: tt.errs[0]}, {name: "b", err: tt.errs[1]}}
			f := NewFailover(slog.New(slog.NewTextHandler(&logBuf, nil)),
				Server{Name: "whois://a:43", Q: qs[0]}, Server{Name: "whois://b:43", Q: qs[1]})
			var m []string
			var err error
			for i := 0; i < 2; i++ {
				m, _, err = f.Members(context.Background(), []string{"RIPE"}, "AS-X", true)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || len(m) != 1 || !strings.HasPrefix(m[0], tt.wantFrom+":") {
				t.Fatalf("Members = %v, %v; want from %s", m, err, tt.wantFrom)
			}
			for i, q := range qs {
				if q.calls != tt.wantCalls[i] {
					t.Errorf("server %s called %d times, want %d", q.name, q.calls, tt.wantCalls[i])
				}
			}
			if got := len(f.Failed()); got != tt.wantFailed {
				t.Errorf("Failed() has %d servers, want %d", got, tt.wantFailed)
			}
			if tt.wantFailed > 0 && !strings.Contains(logBuf.String(), "skipping it for the rest of the run") {
				t.Errorf("no warning logged: %s", logBuf.String())
			}
			if tt.name == "all down" {
				msg := err.Error()
				for _, w := range []string{"whois://a:43", "whois://b:43", "!iAS-X,1 [RIPE]", "every IRR server failed"} {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q does not mention %q", msg, w)
					}
				}
			}
		})
	}
}

func TestFailoverCanceledRunDoesNotBlameServer(t *testing.T) {
	q := &scripted{name: "a", err: fmt.Errorf("x: %w", ErrUnavailable)}
	f := NewFailover(nil, Server{Name: "a", Q: q})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Routes(ctx, nil, []routing.ASN{1}, false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if len(f.Failed()) != 0 {
		t.Fatal("server marked failed although the run was canceled")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ got, want string }{
		{DescribeMembers(nil, "AS-X", true), "!iAS-X,1 [default sources]"},
		{DescribeMembers([]string{"ripe", "RADB"}, "AS-X", false), "!iAS-X [RIPE,RADB]"},
		{DescribeSetPrefixes([]string{"RIPE"}, "AS-X", true), "!a6AS-X [RIPE]"},
		{DescribeRoutes(nil, []routing.ASN{64496, 64497, 64498}, false), "!gas64496 (+2 more) [default sources]"},
		{DescribeRoutes(nil, []routing.ASN{64496}, true), "!6as64496 [default sources]"},
		{DescribeRoutes(nil, nil, true), "!6 (no ASNs) [default sources]"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// serialSlow is a Querier that, like whois.Client, serialises its calls on one
// connection and fails each with a timeout after wait, or sooner when its context ends.
type serialSlow struct {
	mu    sync.Mutex
	wait  time.Duration
	calls atomic.Int32
}

func (s *serialSlow) fail(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("whois slow:43: %w: %w", ErrUnavailable, err)
	}
	select {
	case <-time.After(s.wait):
		return fmt.Errorf("whois slow:43: %w: no reply within %s (timeout)", ErrUnavailable, s.wait)
	case <-ctx.Done():
		return fmt.Errorf("whois slow:43: %w: %w", ErrUnavailable, ctx.Err())
	}
}

func (s *serialSlow) Sources(ctx context.Context) ([]string, error) { return nil, s.fail(ctx) }
func (s *serialSlow) CheckSources(ctx context.Context, _ []string) error {
	return s.fail(ctx)
}
func (s *serialSlow) Members(ctx context.Context, _ []string, _ string, _ bool) ([]string, bool, error) {
	return nil, false, s.fail(ctx)
}
func (s *serialSlow) SetPrefixes(ctx context.Context, _ []string, _ string, _ bool) ([]netip.Prefix, bool, error) {
	return nil, false, s.fail(ctx)
}
func (s *serialSlow) Routes(ctx context.Context, _ []string, _ []routing.ASN, _ bool) ([][]netip.Prefix, error) {
	return nil, s.fail(ctx)
}

// TestFailoverConcurrentOneTimeout: eight concurrent queries hit a first server that
// times out. The first timeout skips it for the run: the queries waiting on it are
// cancelled and answered by the second server at once, so the run pays one timeout
// (not one per query, serialised) and logs one warning (issue 12 item 16).
func TestFailoverConcurrentOneTimeout(t *testing.T) {
	const wait = 300 * time.Millisecond
	slow := &serialSlow{wait: wait}
	good := &lockedScripted{s: scripted{name: "b"}}
	var logBuf syncBuffer
	f := NewFailover(slog.New(slog.NewTextHandler(&logBuf, nil)),
		Server{Name: "whois://slow:43", Q: slow}, Server{Name: "whois://b:43", Q: good})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m, _, err := f.Members(context.Background(), nil, fmt.Sprintf("AS-X%d", i), false)
			if err == nil && (len(m) != 1 || !strings.HasPrefix(m[0], "b:")) {
				err = fmt.Errorf("answer %v not from the second server", m)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := strings.Count(logBuf.String(), "skipping it for the rest of the run"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logBuf.String())
	}
	if el > 2*wait {
		t.Errorf("8 concurrent queries took %s: more than one %s timeout", el, wait)
	}
	if got := len(f.Failed()); got != 1 {
		t.Errorf("Failed() = %d servers", got)
	}
	t.Logf("8 concurrent queries, first server timing out after %s: done in %s, %d calls reached it", wait, el.Round(time.Millisecond), slow.calls.Load())
}

// lockedScripted is scripted, safe for concurrent calls.
type lockedScripted struct {
	mu sync.Mutex
	s  scripted
}

func (l *lockedScripted) Sources(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Sources(ctx)
}
func (l *lockedScripted) CheckSources(ctx context.Context, s []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.CheckSources(ctx, s)
}
func (l *lockedScripted) Members(ctx context.Context, s []string, n string, r bool) ([]string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Members(ctx, s, n, r)
}
func (l *lockedScripted) SetPrefixes(ctx context.Context, s []string, n string, v6 bool) ([]netip.Prefix, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetPrefixes(ctx, s, n, v6)
}
func (l *lockedScripted) Routes(ctx context.Context, s []string, a []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Routes(ctx, s, a, v6)
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
