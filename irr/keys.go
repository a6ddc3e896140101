package irr

import (
	"context"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
)

// KeyQuerier is implemented by Queriers that can answer SetPrefixes as sorted,
// distinct keys (pfxkey.List) without building a netip.Prefix per prefix: the local
// Index and snapshots (whose route sections hold such keys), the whois client (which
// parses the reply straight into them) and the wrappers that pass the call on. An
// "!a4" answer of a large as-set is a million prefixes; as keys it costs 8 bytes each
// and nothing to sort or scan again on its way to the prefix set.
type KeyQuerier interface {
	// SetPrefixKeys is SetPrefixes with the answer as keys of family v6. The caller
	// owns the returned slices.
	SetPrefixKeys(ctx context.Context, sources []string, name string, v6 bool) (keys pfxkey.List, found bool, err error)
}

// SetPrefixKeys asks q for the "!a4"/"!a6" answer as keys: through KeyQuerier when q
// implements it, otherwise through SetPrefixes (converted, sorted, deduplicated). Both
// give the same prefixes.
func SetPrefixKeys(ctx context.Context, q Querier, sources []string, name string, v6 bool) (pfxkey.List, bool, error) {
	if kq, ok := q.(KeyQuerier); ok {
		return kq.SetPrefixKeys(ctx, sources, name, v6)
	}
	ps, found, err := q.SetPrefixes(ctx, sources, name, v6)
	if err != nil {
		return pfxkey.List{V6: v6}, false, err
	}
	return pfxkey.ListOf(ps, v6), found, nil
}

var (
	_ KeyQuerier = (*Index)(nil)
	_ KeyQuerier = (*Failover)(nil)
)

// SetPrefixKeys implements KeyQuerier.
func (ix *Index) SetPrefixKeys(ctx context.Context, sources []string, name string, v6 bool) (pfxkey.List, bool, error) {
	if err := ctx.Err(); err != nil {
		return pfxkey.List{V6: v6}, false, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out, found := ix.setPrefixKeys(ix.selected(sources), name, v6)
	if err := ix.snapErr(); err != nil {
		return pfxkey.List{V6: v6}, false, err
	}
	return out, found, nil
}

// SetPrefixKeys implements KeyQuerier: the first healthy server's answer, as keys.
func (f *Failover) SetPrefixKeys(ctx context.Context, sources []string, name string, v6 bool) (keys pfxkey.List, found bool, err error) {
	err = f.do(ctx, DescribeSetPrefixes(sources, name, v6), func(ctx context.Context, q Querier) error {
		keys, found, err = SetPrefixKeys(ctx, q, sources, name, v6)
		return err
	})
	return keys, found, err
}
