// Package differential holds the end-to-end differential test of bgpfilter's bgpq4
// engine: Debian's bgpq4 binary querying bgpfilter's whois server (package whoisd) and
// the in-process engine (internal/bgpq4.Run) answer the same invocations over the same
// IRR data, and their outputs must be the same bytes. It has no code of its own
// outside its tests.
package differential
