// Package templates holds the built-in vendor templates (text/template files, one folder
// per vendor) that package render executes. Each folder has prefix-list.tmpl and
// as-path.tmpl entry templates (Junos adds route-filter-list.tmpl and
// policy-statement.tmpl); users override any of them, or any {{define}} block, with
// --template-dir DIR laid out the same way.
//
// Data: prefix templates get a *render.PrefixData (.Name, .Family, .V6, .Empty,
// .Entries with .Prefix, .Bits, .Min, .Max, .Exact, .HasGE, .HasLE, and .Filter, the
// full *policy.PrefixFilter with provenance), as-path templates a
// *policy.ASPathFilter (.Name, .PeerAS, .PeerIsMember, .Origins, .OthersThanPeer,
// .Empty). Names are validated before rendering; IRR free text is never passed in.
package templates

import "embed"

// FS holds the vendor folders.
//
//go:embed junos iosxr ios eos bird frr openbgpd json nftables report
var FS embed.FS
