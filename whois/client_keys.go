package whois

import (
	"context"

	"github.com/bgpfilter/bgpfilter/internal/pfxkey"
	"github.com/bgpfilter/bgpfilter/irr"
)

var _ irr.KeyQuerier = (*Client)(nil)

// SetPrefixKeys implements irr.KeyQuerier: SetPrefixes with the "!a4"/"!a6" reply
// parsed straight into keys (reply_keys.go). Against a server without "!a" it asks
// SetPrefixes' fallback queries and converts their answer.
func (c *Client) SetPrefixKeys(ctx context.Context, sources []string, name string, v6 bool) (pfxkey.List, bool, error) {
	none := pfxkey.List{V6: v6}
	if err := checkQueryKey(name); err != nil {
		return none, false, err
	}
	c.mu.Lock()
	if err := c.ensureLocked(ctx); err != nil {
		c.mu.Unlock()
		return none, false, err
	}
	if !c.hasA {
		c.mu.Unlock()
		ps, found, err := c.SetPrefixes(ctx, sources, name, v6)
		if err != nil {
			return none, false, err
		}
		return pfxkey.ListOf(ps, v6), found, nil
	}
	defer c.mu.Unlock()
	q, mode := "!a4"+name, dataKeys4
	if v6 {
		q, mode = "!a6"+name, dataKeys6
	}
	c.aPath++
	c.log.Debug("whois: set prefixes via !a", "query", q)
	reps, err := c.runLenientLocked(ctx, sources, []string{q}, 0, []dataMode{mode})
	if err != nil {
		return none, false, err
	}
	r := reps[0]
	if r.Kind == ReplyA && r.Data == nil {
		// streamed: parsed, masked, sorted and checked already
		r.Keys.V6 = v6
		return r.Keys, true, nil
	}
	ps, found, err := prefixesReply(r, v6)
	if err != nil {
		return none, false, c.garbage(q, err)
	}
	if !found && setClass(name) == "as-set" {
		found, err = c.existsLocked(ctx, sources, name)
	}
	return pfxkey.ListOf(ps, v6), found, err
}
