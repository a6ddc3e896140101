#!/usr/bin/env bash
# Compares bgpfilter with bgpq4 on the same data, in one run, and prints ratios.
#
#   bench/compare.sh            # 50,000 ASNs / 1,000,000 routes (the issue's target size)
#   bench/compare.sh --small    # 5,000 ASNs / 100,000 routes
#   RUNS=5 bench/compare.sh     # median of 5 runs per case (default 3)
#
# bgpq4 reads the synthetic registry from `bgpfilter whois-server` on loopback (its CPU time is
# bgpq4's own, the server's is not counted); bgpfilter reads the same registry file with
# `--irr FILE bgpq4 …`. Both outputs must be identical bytes. bgpfilter's time is split into
# loading the RPSL file (measured alone with an empty expansion) and the rest. The last
# columns run `bgpfilter --irr FILE.snap` on a binary snapshot of the same registry
# (remade each run by `go run ./bench/snapshot`; irr.Load reads only its tables up front).
# Needs: go, bgpq4, GNU time (/usr/bin/time). Writes only under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ASNS=50000 ROUTES=1000000 SUBSETS=500 V6=20000
[ "${1:-}" = "--small" ] && { ASNS=5000 ROUTES=100000 SUBSETS=50 V6=20000; }
RUNS=${RUNS:-3}
OUT=bench/out; mkdir -p "$OUT"
command -v bgpq4 >/dev/null || { echo "bgpq4 not installed (apt-get install bgpq4)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not installed (apt-get install time)" >&2; exit 1; }

go build -o "$OUT/bgpfilter" ./cmd/bgpfilter
DB="$OUT/synth-$ASNS-$ROUTES.db"
[ -s "$DB" ] || go run ./bench/synth -asns "$ASNS" -routes "$ROUTES" -v6routes "$V6" -subsets "$SUBSETS" -o "$DB"
SNAP="${DB%.db}.snap"
go run ./bench/snapshot -o "$SNAP" "$DB" 2>/dev/null # always: the format follows the code
echo "data: $DB ($(du -h "$DB" | cut -f1)), $ASNS ASNs, $ROUTES IPv4 + $V6 IPv6 routes, $SUBSETS sub-sets"

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 14343)
"$OUT/bgpfilter" --quiet --irr "$DB" whois-server --listen "127.0.0.1:$PORT" 2>"$OUT/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

. bench/lib.sh

printf '\n%-22s %9s %9s | %9s %9s %9s | %-26s | %9s %9s %9s\n' case bgpq4-wall bgpq4-cpu bf-wall bf-cpu bf-rss "cpu ratio bf/bgpq4" snap-cpu snap-rss "snap/bgpq4"
measure load "$OUT/bgpfilter" --quiet --irr "$DB" bgpq4 AS-NONEXISTENT
read -r LW LC LR <<<"$RES"
measure snapload "$OUT/bgpfilter" --quiet --irr "$SNAP" bgpq4 AS-NONEXISTENT
read -r SW SC SR <<<"$RES"
printf '%-22s %9s %9s | %9s %9s %8sK | %-26s | %9s %8sK %9s\n' "load only" - - "$LW" "$LC" "$LR" "-" "$SC" "$SR" "-"
for args in "AS-BIG" "-A AS-BIG" "-6 AS-BIG" "-J -z AS-BIG" "-j AS-BIG" "-f 1 AS-BIG"; do
  tag=$(echo "$args" | tr ' ' '_')
  measure "bgpq4_$tag" bgpq4 -h "127.0.0.1:$PORT" $args
  read -r QW QC QR <<<"$RES"
  measure "bf_$tag" "$OUT/bgpfilter" --quiet --irr "$DB" bgpq4 $args
  read -r BW BC BR <<<"$RES"
  measure "snap_$tag" "$OUT/bgpfilter" --quiet --irr "$SNAP" bgpq4 $args
  read -r NW NC NR <<<"$RES"
  for v in bf snap; do
    if ! cmp -s "$OUT/bgpq4_$tag.txt" "$OUT/${v}_$tag.txt"; then
      echo "OUTPUT DIFFERS for bgpq4 $args: diff $OUT/bgpq4_$tag.txt $OUT/${v}_$tag.txt" >&2; exit 1
    fi
  done
  excl=$(awk -v b="$BC" -v l="$LC" 'BEGIN{d=b-l; if (d<0) d=0; printf "%.3f", d}')
  printf '%-22s %9s %9s | %9s %9s %8sK | %-26s | %9s %8sK %9s   (%s lines identical)\n' "$args" "$QW" "$QC" "$BW" "$BC" "$BR" \
    "$(ratio "$excl" "$QC") excl. load, $(ratio "$BC" "$QC") incl." "$NC" "$NR" "$(ratio "$NC" "$QC")" "$(wc -l <"$OUT/bf_$tag.txt")"
done
echo "(ratios are of user+sys CPU seconds, medians of $RUNS runs; /usr/bin/time has 10 ms resolution)"

RIPE=../shared/data/irr
if [ -f "$RIPE/ripe.db.as-set.gz" ]; then
  echo
  measure ripe_load "$OUT/bgpfilter" --quiet --irr "$RIPE/ripe.db.as-set.gz" --irr "$RIPE/ripe-nonauth.db.route.gz" \
    --irr "$RIPE/ripe-nonauth.db.route6.gz" --irr "$RIPE/ripe-nonauth.db.aut-num.gz" bgpq4 AS-AS112
  read -r W C R <<<"$RES"
  MB=$(zcat "$RIPE/ripe.db.as-set.gz" "$RIPE/ripe-nonauth.db.route.gz" "$RIPE/ripe-nonauth.db.route6.gz" "$RIPE/ripe-nonauth.db.aut-num.gz" | wc -c)
  printf 'RIPE dumps (%.1f MB of RPSL, gzip): load + bgpq4 AS-AS112: wall %ss cpu %ss peak RSS %sK => %.0f MB/s (wall)\n' \
    "$(awk -v b="$MB" 'BEGIN{print b/1e6}')" "$W" "$C" "$R" "$(awk -v b="$MB" -v w="$W" 'BEGIN{print b/1e6/w}')"
fi
