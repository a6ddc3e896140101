package irr

import (
	"context"
	"errors"
	"net/netip"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Errors a Querier returns; callers branch on them with errors.Is.
var (
	// ErrUnknownSource means a requested source is not served (IRRd's "!s" F reply).
	ErrUnknownSource = errors.New("unknown IRR source")
	// ErrUnavailable means the data could not be fetched completely (timeout, dropped
	// connection, truncated or mis-framed reply). A filter must never be built from a
	// query that failed this way.
	ErrUnavailable = errors.New("IRR source unavailable")
)

// Querier answers the subset of IRRd's whois "!" queries that route-filter generation
// needs, with IRRd 4 semantics. The local Index and the remote whois client both
// implement it, so the bgpq4 engine, the native resolver and the whois server share one
// meaning of every query whether the data is local or remote.
//
// sources selects and orders IRR sources; nil or empty means the default list in the
// order Sources returns. Set lookups take the first source in that order that holds the
// name; route lookups take the union over all selected sources.
type Querier interface {
	// Sources returns the default source list in priority order ("!s-lc").
	Sources(ctx context.Context) ([]string, error)
	// CheckSources returns an error wrapping ErrUnknownSource when one of the names is
	// not served ("!s<list>").
	CheckSources(ctx context.Context, sources []string) error
	// Members answers "!i<name>" (recursive=false: the direct members as written,
	// members and mp-members and mbrs-by-ref matches) or "!i<name>,1" (recursive: for an
	// as-set the ASNs only; for a route-set the prefixes and ranges as written plus the
	// prefixes of member ASNs of both families, nested sets followed, loops and unknown
	// members dropped). found is false when the set does not exist.
	Members(ctx context.Context, sources []string, name string, recursive bool) (members []string, found bool, err error)
	// SetPrefixes answers "!a4<set>" / "!a6<set>": the prefixes of every origin the
	// as-set (or route-set) recursively contains, of one family, deduplicated and sorted.
	SetPrefixes(ctx context.Context, sources []string, name string, v6 bool) (prefixes []netip.Prefix, found bool, err error)
	// Routes answers "!gas<N>" / "!6as<N>" for many ASNs at once (a remote client
	// pipelines them). The result has one entry per requested ASN, in the same order,
	// each deduplicated and sorted.
	Routes(ctx context.Context, sources []string, asns []routing.ASN, v6 bool) ([][]netip.Prefix, error)
}
