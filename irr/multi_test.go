package irr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

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
