// Package bgpq4 is a drop-in for the bgpq4 program, release 1.16: the same command line
// (GNU getopt semantics, the same checks in the same order with the same FATAL/ERROR
// messages and exit statuses), the same expansion algorithm run against an irr.Querier,
// and byte-identical output in every vendor format. Run is the entry point; Variants
// lists the supported flag sets for differential tests.
//
// The expansion follows bgpq4 against a current IRRd that answers "!a": an as-set
// argument for a prefix list is one SetPrefixes call (no private-ASN filter); -L,
// EXCEPT and SOURCE:: switch to client-side recursion with non-recursive Members calls,
// as-path/as-set generation uses Members(recursive), and ASNs found that way pass
// bgpq4's special-ASN filter (documentation, private, AS23456) unless -p. Route-sets
// use Members(recursive), plain ASNs Routes. The "!s" source selection is replayed in
// bgpq4's query order, so SOURCE:: and -S behave as they do on the wire.
//
// Kept bgpq4 behaviours that are bugs: an unknown set gives an empty list and exit 0;
// "p^n" inserts nothing (bgp/bgpq4#135); a route-set range is enumerated prefix by
// prefix; a /32 in a Cisco extended ACL gets the mask 0.0.0.0; -M refuses "\n" written
// as two characters; -m 32 leaves "p^+" at p itself; Huawei XPL keeps the stray comma.
// Where the Debian 1.9 binary differs from 1.16 this package follows 1.16 (EOS
// indentation, MikroTik v7 syntax, IOS-XR comma, AS23456, -w, -3, -n2, Junos -H without
// AS0, no "Checking RS-" line).
//
// Deliberate differences: a failed IRR query (or no IRR at all) exits with
// ExitUnavailable (3) instead of bgpq4's 1/255; -d debug lines are not printed and -T
// changes nothing (there is no pipeline to disable); a range that would enumerate more
// than prefixset.MaxEnumerate prefixes is refused with an ERROR line instead of hanging
// (bgp/bgpq4#66).
package bgpq4
