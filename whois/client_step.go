package whois

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bgpfilter/bgpfilter/irr"
)

// Replies out of step. IRRd answers pipelined queries in order and its replies carry
// nothing that names their query, so a client can only match them by position. A
// server (or a middlebox) that sends one reply no query asked for — an extra "D" or
// "C", an answer twice — shifts every later answer onto the wrong query, and each
// frame is well formed, so framing checks alone do not see it: the last ASN's routes
// vanish and the others get the wrong origin.
//
// The client therefore knows one answer in advance: the server's "!v" reply, asked
// twice in the handshake (first and last, so that the handshake itself is checked).
// Every later batch carries a "!v" after every checkEvery queries and after its last
// one; the known answer must come exactly at those places, and no byte may be waiting
// before a batch is sent or after its last check. Any surplus reply moves some
// answer onto a check's place (a data answer is never the version text), so the batch
// fails with ErrUnavailable and nothing of it is used or cached. A missing reply
// moves the check's answer forward and the batch fails too (a wrong answer or a
// timeout at the check).

// checkQuery is the query whose answer is known: IRRd's version string.
const checkQuery = "!v"

// checkEvery is how many queries a checked batch sends between two checks. A check
// costs about 40 bytes and one trivial query on the server; it bounds how far a
// surplus reply can travel before it is seen.
const checkEvery = 256

// handshake is the query list of a new connection after "!!": "!v" first and last
// around the client name, the "!a" probe and the default sources.
func handshake(name string) []string {
	return []string{checkQuery, "!n" + name, "!a", "!s-lc", checkQuery}
}

// learnCheck verifies the handshake replies (the two "!v" answers equal, non-empty
// A replies) and stores the known answer. It returns the replies between them.
func (c *Client) learnCheck(reps []Reply) ([]Reply, error) {
	first, last := reps[0], reps[len(reps)-1]
	hs := handshake(c.opt.Name)
	if first.Kind != ReplyA || len(bytes.TrimSpace(first.Data)) == 0 {
		return nil, fmt.Errorf("whois %s: handshake: query %q: %w: reply %s: the server does not answer IRRd's version query, so the order of its replies cannot be checked", c.addr, checkQuery, irr.ErrUnavailable, describeReply(first))
	}
	if last.Kind != ReplyA || !bytes.Equal(first.Data, last.Data) {
		return nil, fmt.Errorf("whois %s: handshake %s: %w: replies out of step: reply %s came where the answer to the closing %q belongs (an unsolicited or duplicated reply)", c.addr, quoteList(hs), irr.ErrUnavailable, describeReply(last), checkQuery)
	}
	c.check = bytes.Clone(first.Data)
	return reps[1 : len(reps)-1], nil
}

// isCheck reports whether r is the known answer to checkQuery.
func (c *Client) isCheck(r Reply) bool {
	return r.Kind == ReplyA && bytes.Equal(r.Data, c.check)
}

// checkAfter reports whether a check follows query i of a batch of n.
func checkAfter(i, n int) bool {
	return i == n-1 || (i+1)%checkEvery == 0
}

// wireBatch is the bytes sent for a batch: the preamble, then each query line, with
// the checks when checked.
func wireBatch(preamble string, qs []string, checked bool) []byte {
	size := len(preamble)
	for _, q := range qs {
		size += len(q) + 1
	}
	if checked {
		size += (len(qs)/checkEvery + 1) * (len(checkQuery) + 1)
	}
	b := make([]byte, 0, size)
	b = append(b, preamble...)
	for i, q := range qs {
		b = append(b, q...)
		b = append(b, '\n')
		if checked && checkAfter(i, len(qs)) {
			b = append(b, checkQuery...)
			b = append(b, '\n')
		}
	}
	return b
}

// outOfStep reports a batch whose replies did not line up with its queries between
// qs[from] and qs[to-1]; the connection is dropped.
func (c *Client) outOfStep(qs []string, from, to int, what string) error {
	c.dropLocked()
	to = max(to, min(from+1, len(qs)))
	return fmt.Errorf("whois %s: queries %s (%d pipelined): %w: replies out of step: %s", c.addr, quoteList(qs[from:to]), len(qs), irr.ErrUnavailable, what)
}

// quoteList renders up to 8 queries quoted, or the first three, "…" and the last.
func quoteList(qs []string) string {
	q := make([]string, 0, 8)
	if len(qs) <= 8 {
		for _, s := range qs {
			q = append(q, fmt.Sprintf("%q", clientClip(s)))
		}
	} else {
		for _, s := range qs[:3] {
			q = append(q, fmt.Sprintf("%q", clientClip(s)))
		}
		q = append(q, fmt.Sprintf("… (%d more) …", len(qs)-4), fmt.Sprintf("%q", clientClip(qs[len(qs)-1])))
	}
	return strings.Join(q, " ")
}
