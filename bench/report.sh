#!/usr/bin/env bash
# The MANRS readiness report (issue 11) on the real data, timed:
#
#   bench/report.sh               # median of 3 runs per case
#   RUNS=5 bench/report.sh
#
# Data (../shared/data, never copied): RIPE as-sets, RIPE-NONAUTH route/route6/aut-num
# objects, the rpki-client set of 723,521 VRPs, the RouteViews pfx2as IPv4 table and the RIS
# whois IPv6 dump (a full table: ~1.0M announcements), and the RIS MRT RIB of 2002-07-22.
# The report is for the largest RIPE as-set, AS3326:AS-PEERS-UAE (~51k ASNs). What each row
# compares with: "load" is the same process with the same IRR and RPKI data and a one-ASN
# report without announcements (reading the data alone), "tables" adds reading the full
# announcement tables, so "report" minus "tables" is the report itself (expansion, per-route
# IRR and RPKI states, conflicts, contacts, the filter it would get). MRT entries parsed
# per second come from the Go benchmark of the MRT reader on the RIB (no report around it).
# Needs: go, GNU time (/usr/bin/time). Writes only under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=bench/out; mkdir -p "$OUT"
D=../shared/data
[ -x /usr/bin/time ] || { echo "GNU time not installed (apt-get install time)" >&2; exit 1; }
go build -o "$OUT/bgpfilter" ./cmd/bgpfilter
. bench/lib.sh
SET=${SET:-AS3326:AS-PEERS-UAE}
BASE=("$OUT/bgpfilter" --quiet --irr "$D/irr/ripe.db.as-set.gz" --irr "$D/irr/ripe-nonauth.db.route.gz"
  --irr "$D/irr/ripe-nonauth.db.route6.gz" --irr "$D/irr/ripe-nonauth.db.aut-num.gz"
  --rpki "$D/rpki/rpki-client_20250720T093135Z.json.gz" --rpki-ignore-expiry report)
TABLES=(--announcements "$D/announcements/routeviews-pfx2as-ipv4.2020.pfx2as.gz" --announcements "$D/announcements/riswhoisdump.IPv6.20241220.gz")
RIB=(--announcements "$D/mrt/ris.bview.20020722.2337.gz")

printf '%-40s %8s %8s %9s\n' case wall cpu rss
row() { read -r W C R <<<"$RES"; printf '%-40s %7ss %7ss %7dM\n' "$1" "$W" "$C" "$((R / 1024))"; }
measure rep_load "${BASE[@]}" AS64496 --format json; row "load (IRR + 723k VRPs)"
measure rep_tables "${BASE[@]}" AS64496 "${TABLES[@]}" --format json; row "load + full tables (pfx2as v4, RIS v6)"
measure rep_full "${BASE[@]}" "$SET" "${TABLES[@]}" --format json; row "report $SET, full tables"
measure rep_html "${BASE[@]}" "$SET" "${TABLES[@]}" --format html; row "same, HTML page"
measure rep_rib "${BASE[@]}" "$SET" "${RIB[@]}" --format json; row "report $SET, RIS MRT RIB 2002"
python3 - "$OUT/rep_full.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
print(f'{r["cone_asns"]} cone ASNs, {len(r["origins"])} origins announcing, {t["announced"]} announced pairs, '
      f'm7irr {t["m7irr"]}, m7rpki {t["m7rpki"]}, {len(r["conflicts"])} conflicts, filter {r["filter"]["ipv4_entries"]}/{r["filter"]["ipv6_entries"]} entries')
PY
echo "HTML page: $(du -h "$OUT/rep_html.txt" | cut -f1)"
(cd mrt && go test -run '^$' -bench 'ReadAnnouncementsRIB' -benchtime 3x .) | grep -E '^Benchmark'
