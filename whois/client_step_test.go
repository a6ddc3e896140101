package whois

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// TestClientRepliesOutOfStep: a surplus reply anywhere in a pipelined batch — in the
// first window of a batch longer than checkEvery, after the last query, after a
// check's own answer, in the handshake — fails the call with ErrUnavailable and says
// the replies were out of step; the same call against the healthy server succeeds.
func TestClientRepliesOutOfStep(t *testing.T) {
	asns := make([]routing.ASN, 0, 600)
	for a := routing.ASN(64496); len(asns) < 600; a++ {
		asns = append(asns, a)
	}
	tests := []struct {
		name  string
		fault whoisfault.Fault
		asns  []routing.ASN
	}{
		{"duplicate in the first window of 600", whoisfault.Fault{Kind: whoisfault.Duplicate, Query: "!gas64497"}, asns},
		{"extra D in the last window of 600", whoisfault.Fault{Kind: whoisfault.ExtraD, Query: "!gas65090"}, asns},
		{"extra C after the last query", whoisfault.Fault{Kind: whoisfault.ExtraC, Query: "!gas65536"}, []routing.ASN{64496, 65536}},
		{"extra C after every check", whoisfault.Fault{Kind: whoisfault.ExtraC, Query: "!v"}, []routing.ASN{64496}},
		{"duplicate check answer", whoisfault.Fault{Kind: whoisfault.Duplicate, Query: "!v"}, []routing.ASN{64496}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := whoisfault.Start(t, testData(false), whoisfault.Fault{})
			gc := NewClient(good.Addr(), fastOpts())
			defer gc.Close()
			want, err := gc.Routes(context.Background(), nil, tt.asns, false)
			if err != nil || len(want) != len(tt.asns) {
				t.Fatalf("healthy server: %d answers, %v", len(want), err)
			}

			srv := whoisfault.Start(t, testData(false), tt.fault)
			c := NewClient(srv.Addr(), fastOpts())
			defer c.Close()
			// Two calls: a surplus reply after a batch's last check may only be
			// seen by the next batch on the connection.
			calls := 0
			for i := 0; i < 2 && err == nil; i++ {
				calls++
				_, err = c.Routes(context.Background(), nil, tt.asns, false)

			}
			if err == nil {
				t.Fatalf("no error after two calls")
			}
			if !errors.Is(err, irr.ErrUnavailable) || !strings.Contains(err.Error(), "out of step") || !strings.Contains(err.Error(), srv.Addr()) {
				t.Fatalf("err = %v; want ErrUnavailable, \"out of step\" and the server", err)
			}
			t.Logf("%s: call %d: %v", tt.fault, calls, err)
		})
	}
}
