// Package rpki holds validated RPKI data for filter building: VRPs (validated ROA
// payloads) in an interval index with a directory for route origin validation (RFC
// 6811; rov_index.go) and ASPAs for AS_PATH verification
// (draft-ietf-sidrops-aspa-verification).
//
// Data comes from relying-party output files (rpki-client, Routinator, StayRTR/OctoRPKI
// JSON; rpki-client and Routinator CSV), optionally edited by SLURM (RFC 8416) local
// exceptions, or from an RTR cache through package rpki/rtr. A Table is immutable once
// built and safe for concurrent readers; publish a new Table to change the data.
package rpki
