// Package whois is the IRRd whois wire protocol shared by bgpfilter's whois server and
// client: query-line parsing (IRRd "!" queries and RIPE-style text queries) and the
// reply framing of IRRd 4 ("A<len>\n<data>\nC\n", "C\n", "D\n", "F <message>\n").
//
// The codec does no network I/O of its own: parsers take bytes or a *bufio.Reader and
// writers take an io.Writer. Timeouts, retries and connection state live one layer up
// (package whoisd for the server). Every length read from the wire is distrusted.
package whois

import "errors"

// Limits of the protocol as bgpfilter speaks it.
const (
	// MaxQueryLen is the default longest query line (without its newline) a server
	// accepts. IRRd has no limit; bgpq4's longest queries ("!s" with a source list,
	// "!i" with a hierarchical set name) are far below it.
	MaxQueryLen = 16 << 10
	// MaxHeaderLen is the longest reply header line ("A<len>", "C", "D", "E",
	// "F <message>") ReadReply accepts, newline included.
	MaxHeaderLen = 4 << 10
	// MaxErrorLen is the longest message WriteF sends; longer ones are cut.
	MaxErrorLen = 1 << 10
)

// IRRd's exact messages that clients match on.
const (
	// MsgMissingSetName is IRRd's answer to a bare "!a". bgpq4 probes the server
	// with "!a" and enables its "!a4"/"!a6" path only when the reply starts with
	// exactly "F " followed by this text.
	MsgMissingSetName = "Missing required set name for A query"
	// MsgSourcesUnavailable is IRRd's answer to "!s" naming an unknown source.
	MsgSourcesUnavailable = "One or more selected sources are unavailable."
	// MsgInternal is IRRd's answer when a query failed inside the server.
	MsgInternal = "An internal error occurred while processing this query."
	// MsgNoEntries is IRRd's RIPE-style answer when nothing matched.
	MsgNoEntries = "%  No entries found for the selected source(s)."
)

// Errors of the codec; callers branch on them with errors.Is.
var (
	// ErrLineTooLong means a query line exceeded the allowed length. Only the
	// allowed number of bytes was buffered.
	ErrLineTooLong = errors.New("whois: query line too long")
	// ErrEmptyQuery means the line held only white space. IRRd ignores such lines.
	ErrEmptyQuery = errors.New("whois: empty query")
	// ErrFraming means a reply did not follow the IRRd framing (bad header, length
	// mismatch, missing terminator). The stream is unusable afterwards: every later
	// pipelined answer would be misaligned.
	ErrFraming = errors.New("whois: mis-framed reply")
	// ErrReplyTooLong means an "A" reply announced more data than the caller's limit.
	ErrReplyTooLong = errors.New("whois: reply too long")
)
