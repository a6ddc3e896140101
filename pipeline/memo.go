package pipeline

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
)

// memoQuerier answers each distinct IRR question once per run: generate builds
// hundreds of customers whose cones share AS-SETs and origins, and against a whois
// server every repeated question is a round trip. Concurrent askers of the same
// question wait for one answer; failures are not kept (the next asker asks again).
type memoQuerier struct {
	irr.Querier
	mu      sync.Mutex
	members map[string]*memoCall[memberAnswer]
	sets    map[string]*memoCall[setAnswer]
	routes  map[string]*memoCall[[]netip.Prefix]
}

type memberAnswer struct {
	members []string
	found   bool
}

type setAnswer struct {
	prefixes []netip.Prefix
	found    bool
}

type memoCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newMemoQuerier(q irr.Querier) *memoQuerier {
	return &memoQuerier{Querier: q, members: map[string]*memoCall[memberAnswer]{},
		sets: map[string]*memoCall[setAnswer]{}, routes: map[string]*memoCall[[]netip.Prefix]{}}
}

func memoKey(sources []string, parts ...string) string {
	return strings.Join(sources, ",") + "|" + strings.Join(parts, "|")
}

// once returns the answer for key from m, computing it with f when nobody has.
func once[T any](mu *sync.Mutex, m map[string]*memoCall[T], key string, f func() (T, error)) (T, error) {
	mu.Lock()
	if c, ok := m[key]; ok {
		mu.Unlock()
		<-c.done
		return c.val, c.err
	}
	c := &memoCall[T]{done: make(chan struct{})}
	m[key] = c
	mu.Unlock()
	c.val, c.err = f()
	if c.err != nil {
		mu.Lock()
		delete(m, key)
		mu.Unlock()
	}
	close(c.done)
	return c.val, c.err
}

// Members implements irr.Querier.
func (m *memoQuerier) Members(ctx context.Context, sources []string, name string, recursive bool) ([]string, bool, error) {
	a, err := once(&m.mu, m.members, memoKey(sources, strings.ToUpper(name), strconv.FormatBool(recursive)), func() (memberAnswer, error) {
		ms, found, err := m.Querier.Members(ctx, sources, name, recursive)
		return memberAnswer{ms, found}, err
	})
	return slices.Clone(a.members), a.found, err
}

// SetPrefixes implements irr.Querier.
func (m *memoQuerier) SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) ([]netip.Prefix, bool, error) {
	a, err := once(&m.mu, m.sets, memoKey(sources, strings.ToUpper(name), strconv.FormatBool(v6)), func() (setAnswer, error) {
		ps, found, err := m.Querier.SetPrefixes(ctx, sources, name, v6)
		return setAnswer{ps, found}, err
	})
	return slices.Clone(a.prefixes), a.found, err
}

// Routes implements irr.Querier: the origins nobody asked about yet are asked in one
// batch, the others are answered from earlier batches.
func (m *memoQuerier) Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error) {
	out := make([][]netip.Prefix, len(asns))
	fam := strconv.FormatBool(v6)
	var mine []int // indexes of asns this call asks for
	var calls []*memoCall[[]netip.Prefix]
	waits := map[int]*memoCall[[]netip.Prefix]{}
	m.mu.Lock()
	for i, a := range asns {
		key := memoKey(sources, a.String(), fam)
		if c, ok := m.routes[key]; ok {
			waits[i] = c
			continue
		}
		c := &memoCall[[]netip.Prefix]{done: make(chan struct{})}
		m.routes[key] = c
		mine = append(mine, i)
		calls = append(calls, c)
	}
	m.mu.Unlock()
	if len(mine) > 0 {
		ask := make([]routing.ASN, len(mine))
		for k, i := range mine {
			ask[k] = asns[i]
		}
		res, err := m.Querier.Routes(ctx, sources, ask, v6)
		if err == nil && len(res) != len(ask) {
			err = irr.ErrUnavailable
		}
		m.mu.Lock()
		for k, c := range calls {
			if err != nil {
				c.err = err
				delete(m.routes, memoKey(sources, ask[k].String(), fam))
			} else {
				c.val = res[k]
			}
			close(c.done)
		}
		m.mu.Unlock()
		if err != nil {
			return nil, err
		}
		for k, i := range mine {
			out[i] = slices.Clone(res[k])
		}
	}
	for i, c := range waits {
		<-c.done
		if c.err != nil {
			return nil, c.err
		}
		out[i] = slices.Clone(c.val)
	}
	return out, nil
}
