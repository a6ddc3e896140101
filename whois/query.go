package whois

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bgpfilter/bgpfilter/routing"
)

// Kind is the type of a parsed query.
type Kind uint8

// Query kinds. The zero Kind is invalid.
const (
	KindInvalid     Kind = iota
	KindPersistent       // "!!": multiple-command mode, no reply
	KindQuit             // "!q": close the connection, no reply
	KindClientName       // "!n<name>": client identification, reply C
	KindVersion          // "!v": server version
	KindTimeout          // "!t<seconds>": idle timeout of the connection
	KindSourcesList      // "!s-lc": the selected (or default) sources
	KindSources          // "!s<list>": select sources
	KindMembers          // "!i<set>" / "!i<set>,1"
	KindRoutes           // "!g<as>" (IPv4) / "!6<as>" (IPv6)
	KindSetPrefixes      // "!a<set>", "!a4<set>", "!a6<set>"
	KindRouteSearch      // "!r<prefix>[,o|l|L|M]" and RIPE-style "-x|-l|-L|-M <prefix>"
	KindExactKey         // "!m<class>,<key>"
	KindText             // RIPE-style text query: an object key with flags
	kindCount
)

var kindNames = [...]string{
	KindInvalid:     "invalid",
	KindPersistent:  "persistent",
	KindQuit:        "quit",
	KindClientName:  "client_name",
	KindVersion:     "version",
	KindTimeout:     "timeout",
	KindSourcesList: "sources_list",
	KindSources:     "sources",
	KindMembers:     "members",
	KindRoutes:      "routes",
	KindSetPrefixes: "set_prefixes",
	KindRouteSearch: "route_search",
	KindExactKey:    "exact_key",
	KindText:        "text",
}

// String returns a short, stable name for the kind (used as a metrics label).
func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Kinds returns every valid Kind, for callers that pre-register per-kind metrics.
func Kinds() []Kind {
	ks := make([]Kind, 0, kindCount-1)
	for k := KindPersistent; k < kindCount; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Family selects the address family of "!a" and route queries.
type Family uint8

// Address families. FamilyAny is "!a<set>" without a 4 or 6: both families.
const (
	FamilyAny Family = iota
	FamilyV4
	FamilyV6
)

// RouteMatch is the match mode of a route search ("!r" option or RIPE-style flag).
type RouteMatch uint8

// Route search modes, with IRRd's meaning.
const (
	MatchExact   RouteMatch = iota // "!r<p>" or "-x": routes with exactly this prefix
	MatchOrigins                   // "!r<p>,o": exact match, answer the origins only
	MatchLessOne                   // "!r<p>,l" or "-l": one level less specific, exact excluded
	MatchLessAll                   // "!r<p>,L" or "-L": all less specific, exact included
	MatchMoreAll                   // "!r<p>,M" or "-M": all more specific, exact excluded
)

// Query is one parsed query line. Which fields are set depends on Kind; the zero value
// of the others is meaningless.
type Query struct {
	Kind Kind
	// Text reports a RIPE-style query: its answer is unframed object text (or a
	// "%" comment), not an IRRd A/C/D/F reply.
	Text bool
	// Name is the set name (!i, !a), client name (!n), object key (!m, text query)
	// or object class (!m).
	Name string
	// Class is the object class of "!m<class>,<key>".
	Class string
	// Recursive is "!i<set>,1".
	Recursive bool
	// ASN is the origin of "!g" / "!6".
	ASN routing.ASN
	// Family is the address family of "!g" (V4), "!6" (V6) and "!a".
	Family Family
	// Sources is the list of "!s<list>" (upper-cased, in order) or of a text
	// query's "-s" flag.
	Sources []string
	// AllSources is a text query's "-a" flag (select every source).
	AllSources bool
	// Seconds is the value of "!t<seconds>" (1 to 1000, as IRRd allows).
	Seconds int
	// Prefix is the prefix of a route search.
	Prefix netip.Prefix
	// Match is the route search mode.
	Match RouteMatch
	// ObjectTypes is a text query's "-T" class filter (lower-cased).
	ObjectTypes []string
	// Persistent is a text query's "-k" flag (keep the connection open).
	Persistent bool
}

// QueryError is a query the server must refuse; Msg is the text of IRRd's "F" reply
// (or of its "%% ERROR:" line for a RIPE-style query, when Text is set).
type QueryError struct {
	Msg  string
	Text bool
}

// Error returns the message.
func (e *QueryError) Error() string { return "whois: " + e.Msg }

func irrdErr(format string, a ...any) error {
	return &QueryError{Msg: fmt.Sprintf(format, a...)}
}

func textErr(format string, a ...any) error {
	return &QueryError{Msg: fmt.Sprintf(format, a...), Text: true}
}

// ReadQueryLine reads one query line from r, without its "\n" (a trailing "\r" is
// kept; ParseQuery trims it). At most max bytes are buffered: a longer line returns
// ErrLineTooLong with the rest of it left unread. io.EOF is returned only when no byte
// was read; a last line without newline is returned as a line.
func ReadQueryLine(r *bufio.Reader, max int) ([]byte, error) {
	line, _, err := readBoundedLine(r, max)
	return line, err
}

// readBoundedLine reads a line of at most max bytes (without "\n") and reports whether it
// ended with "\n" (false only for a last line cut by EOF).
func readBoundedLine(r *bufio.Reader, max int) ([]byte, bool, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		n := len(line) + len(chunk) // bytes of the line so far, without its "\n"
		if err == nil {
			n--
		}
		if n > max {
			return nil, false, ErrLineTooLong
		}
		switch {
		case err == nil:
			// Copy: chunk points into r's buffer.
			return append(line, chunk[:len(chunk)-1]...), true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			line = append(line, chunk...)
		case errors.Is(err, io.EOF):
			line = append(line, chunk...)
			if len(line) == 0 {
				return nil, false, io.EOF
			}
			return line, false, nil
		default:
			return nil, false, err
		}
	}
}

// ParseQuery parses one query line (with or without its line end). IRRd "!" queries
// follow irrd/server/whois/query_parser.py; every other line is a RIPE-style text
// query. A white-space-only line returns ErrEmptyQuery, a line over MaxQueryLen
// ErrLineTooLong, and a query the server must refuse a *QueryError.
func ParseQuery(line []byte) (Query, error) {
	if len(line) > MaxQueryLen+2 {
		return Query{}, ErrLineTooLong
	}
	s := string(bytes.TrimSpace(line))
	if len(s) > MaxQueryLen {
		return Query{}, ErrLineTooLong
	}
	if s == "" {
		return Query{}, ErrEmptyQuery
	}
	if s[0] == '!' {
		return parseIRRd(s)
	}
	return parseText(s)
}

func parseIRRd(s string) (Query, error) {
	if strings.EqualFold(s, "!q") {
		return Query{Kind: KindQuit}, nil
	}
	full := s[1:]
	if full == "" {
		return Query{}, irrdErr("Missing IRRD command")
	}
	cmd, param := full[0], full[1:]
	if strings.IndexByte("tg6ijmnors", cmd) >= 0 && param == "" {
		return Query{}, irrdErr("Missing parameter for %c query", cmd)
	}
	switch cmd {
	case '!':
		return Query{Kind: KindPersistent}, nil
	case 'v':
		return Query{Kind: KindVersion}, nil
	case 'n':
		return Query{Kind: KindClientName, Name: param}, nil
	case 't':
		n, err := strconv.Atoi(param)
		if err != nil || n <= 0 || n > 1000 {
			return Query{}, irrdErr("Invalid value for timeout: %s", param)
		}
		return Query{Kind: KindTimeout, Seconds: n}, nil
	case 's':
		if param == "-lc" {
			return Query{Kind: KindSourcesList}, nil
		}
		return Query{Kind: KindSources, Sources: strings.Split(strings.ToUpper(param), ",")}, nil
	case 'g', '6':
		asn, err := ParseQueryASN(param)
		if err != nil {
			return Query{}, err
		}
		fam := FamilyV4
		if cmd == '6' {
			fam = FamilyV6
		}
		return Query{Kind: KindRoutes, ASN: asn, Family: fam}, nil
	case 'a':
		fam := FamilyAny
		switch {
		case strings.HasPrefix(param, "4"):
			fam, param = FamilyV4, param[1:]
		case strings.HasPrefix(param, "6"):
			fam, param = FamilyV6, param[1:]
		}
		if param == "" {
			return Query{}, irrdErr("%s", MsgMissingSetName)
		}
		return Query{Kind: KindSetPrefixes, Name: param, Family: fam}, nil
	case 'i':
		q := Query{Kind: KindMembers, Name: param}
		if name, ok := strings.CutSuffix(param, ",1"); ok {
			q.Name, q.Recursive = name, true
		}
		return q, nil
	case 'm':
		class, key, ok := strings.Cut(param, ",")
		if !ok {
			return Query{}, irrdErr("Invalid argument for object lookup: %s", param)
		}
		return Query{Kind: KindExactKey, Class: strings.ToLower(class), Name: key}, nil
	case 'r':
		return parseRouteSearch(param)
	case 'j', 'J', 'o':
		return Query{}, irrdErr("Query not supported by this server: %c", cmd)
	}
	return Query{}, irrdErr("Unrecognised command: %c", cmd)
}

func parseRouteSearch(param string) (Query, error) {
	addr, opt, hasOpt := strings.Cut(param, ",")
	p, ok := parseSearchPrefix(addr)
	if !ok || strings.Contains(opt, ",") {
		return Query{}, irrdErr("Invalid input for route search: %s", param)
	}
	q := Query{Kind: KindRouteSearch, Prefix: p, Match: MatchExact}
	if !hasOpt {
		return q, nil
	}
	switch opt {
	case "o":
		q.Match = MatchOrigins
	case "l":
		q.Match = MatchLessOne
	case "L":
		q.Match = MatchLessAll
	case "M":
		q.Match = MatchMoreAll
	default:
		return Query{}, irrdErr("Invalid route search option: %s", opt)
	}
	return q, nil
}

// parseSearchPrefix accepts a prefix without host bits, or an address (a host
// prefix), as IRRd's IP() does.
func parseSearchPrefix(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil || p != p.Masked() || p.Addr().Zone() != "" {
			return netip.Prefix{}, false
		}
		return p, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// ParseQueryASN parses the AS number of a "!g"/"!6" query as IRRd does
// (irrd/utils/validators.py parse_as_number): "AS" in any case, then asplain or
// asdot. Errors are *QueryError with IRRd's message.
func ParseQueryASN(s string) (routing.ASN, error) {
	v := strings.ToUpper(s)
	if !strings.HasPrefix(v, "AS") {
		return 0, irrdErr("Invalid AS number %s: must start with \"AS\"", v)
	}
	num := v[2:]
	if hi, lo, dot := strings.Cut(num, "."); dot {
		if strings.Contains(lo, ".") {
			return 0, irrdErr("Invalid AS number %s: number is not valid asdot format", v)
		}
		h, herr := parseDigits(hi)
		l, lerr := parseDigits(lo)
		switch {
		case herr != nil || h == 0:
			return 0, irrdErr("Invalid AS number %s: high order value missing", v)
		case lerr != nil || l == 0:
			return 0, irrdErr("Invalid AS number %s: low order value missing", v)
		case h > 65535:
			return 0, irrdErr("Invalid AS number %s: high order value out of range", v)
		case l > 65535:
			return 0, irrdErr("Invalid AS number %s: low order value out of range", v)
		}
		return routing.ASN(h<<16 | l), nil
	}
	n, err := parseDigits(num)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, irrdErr("Invalid AS number %s: valid range is 0-4294967295", v)
		}
		return 0, irrdErr("Invalid AS number %s: number part is not numeric", v)
	}
	return routing.ASN(n), nil
}

// parseDigits parses a non-empty run of ASCII digits into a uint32.
func parseDigits(s string) (uint64, error) {
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 32)
}

// parseText parses a RIPE-style query as IRRd's handle_ripe_command does: flags and
// their arguments separated by spaces, and a search key (the last one wins).
func parseText(s string) (Query, error) {
	fields := strings.Fields(s)
	q := Query{Kind: KindText, Text: true}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if !strings.HasPrefix(f, "-") || f == "-" {
			q.Kind, q.Name = KindText, f
			continue
		}
		flag := f[1:]
		arg := func() (string, error) {
			if i+1 >= len(fields) {
				return "", textErr("Missing argument for flag/search: %s", flag)
			}
			i++
			return fields[i], nil
		}
		switch flag {
		case "k":
			q.Persistent = true
		case "r", "F":
			// IRRd never recurses into referenced objects, so "no recursion" and
			// "fast raw output" change nothing.
		case "a":
			q.AllSources, q.Sources = true, nil
		case "s":
			v, err := arg()
			if err != nil {
				return Query{}, err
			}
			q.Sources, q.AllSources = strings.Split(strings.ToUpper(v), ","), false
		case "T":
			v, err := arg()
			if err != nil {
				return Query{}, err
			}
			q.ObjectTypes = strings.Split(strings.ToLower(v), ",")
		case "V":
			if _, err := arg(); err != nil {
				return Query{}, err
			}
		case "x", "l", "L", "M":
			v, err := arg()
			if err != nil {
				return Query{}, err
			}
			p, ok := parseSearchPrefix(v)
			if !ok {
				return Query{}, textErr("Invalid input for route search: %s", v)
			}
			q.Kind, q.Prefix = KindRouteSearch, p
			q.Match = map[string]RouteMatch{"x": MatchExact, "l": MatchLessOne, "L": MatchLessAll, "M": MatchMoreAll}[flag]
			// IRRd answers the route search and ignores the rest of the line.
			return q, nil
		default:
			return Query{}, textErr("Unrecognised flag/search: %s", flag)
		}
	}
	return q, nil
}
