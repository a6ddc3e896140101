#!/usr/bin/env bash
# Compares bgpfilter with bgpq4 on the same data, in one run, and prints ratios.
#
#   bench/compare.sh            # 50,000 ASNs / 1,000,000 routes (the issue's target size)
#   bench/compare.sh --small    # 5,000 ASNs / 100,000 routes
#   RUNS=5 bench/compare.sh     # median of 5 runs per case (default 3)
#
# bgpq4 reads the synthetic registry from `bgpfilter whois-server` on loopback (its CPU time is
# bgpq4's own, the server's is not counted); bgpfilter reads the same registry file with
# `--irr FILE bgpq4 …`, as operators run it. Every output must be identical bytes.
# Columns per case: bgpq4; bgpfilter parsing the RPSL text every run (--no-snapshot-cache);
# bgpfilter through the automatic snapshot cache on the unchanged file (warm: the cache
# entry exists; what every run but the first costs). The first run on the new file (cache
# empty: parse, answer, write the snapshot) is timed once, as MB/s of RPSL (over wall time
# and per CPU-second).
# /usr/bin/time counts in 10 ms steps, too coarse for small lists: when `perf stat` works,
# every case is also timed with perf's task-clock (mean of FINE_RUNS runs, default 20) for
# bgpq4 and for bgpfilter through the cache, and the fine ratio is printed.
# Needs: go, bgpq4, GNU time (/usr/bin/time); perf (optional). Writes only under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ASNS=50000 ROUTES=1000000 SUBSETS=500 V6=20000
[ "${1:-}" = "--small" ] && { ASNS=5000 ROUTES=100000 SUBSETS=50 V6=20000; }
RUNS=${RUNS:-3}
FINE_RUNS=${FINE_RUNS:-20}
OUT=bench/out; mkdir -p "$OUT"
command -v bgpq4 >/dev/null || { echo "bgpq4 not installed (apt-get install bgpq4)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not installed (apt-get install time)" >&2; exit 1; }

# The static build README recommends (CGO_ENABLED=0, -tags urfave_cli_no_docs): a
# cgo-linked binary pays the dynamic loader and libc's thread start-up, ~2 ms of CPU per
# run; the tag leaves out urfave/cli's man-page generator (bgpfilter has no man-page
# command), whose markdown library costs ~0.4 ms of initialisation at every start.
# CGO_ENABLED=1 TAGS= compares the default build instead.
TAGS=${TAGS-urfave_cli_no_docs}
CGO_ENABLED=${CGO_ENABLED:-0} go build -trimpath -tags "$TAGS" -o "$OUT/bgpfilter" ./cmd/bgpfilter
echo "bgpfilter built with CGO_ENABLED=${CGO_ENABLED:-0} -tags '$TAGS'"
DB="$OUT/synth-$ASNS-$ROUTES.db"
[ -s "$DB" ] || go run ./bench/synth -asns "$ASNS" -routes "$ROUTES" -v6routes "$V6" -subsets "$SUBSETS" -o "$DB"
CACHE="$OUT/cache"
echo "data: $DB ($(du -h "$DB" | cut -f1)), $ASNS ASNs, $ROUTES IPv4 + $V6 IPv6 routes, $SUBSETS sub-sets"

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 14343)
"$OUT/bgpfilter" --quiet --irr "$DB" whois-server --listen "127.0.0.1:$PORT" 2>"$OUT/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

. bench/lib.sh
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

# fine (bench/lib.sh): perf task-clock milliseconds, mean of FINE_RUNS runs.

# mbps FILES...: megabytes of RPSL (uncompressed) in the files.
mbps() { awk -v b="$(for f in "$@"; do case $f in *.gz) zcat "$f";; *) cat "$f";; esac; done | wc -c)" -v w="$W" 'BEGIN{printf "%.0f", b/1e6/w}'; }

# First run on a new file: empty cache, parse + answer + write the snapshot.
rm -rf "$CACHE"
RUNS_SAVED=$RUNS RUNS=1
measure first "$OUT/bgpfilter" --quiet --cache-dir "$CACHE" --irr "$DB" bgpq4 AS-NONEXISTENT
RUNS=$RUNS_SAVED
read -r W C R <<<"$RES"
printf '\nfirst run on the new file (parse %s, write the snapshot cache): wall %ss cpu %ss peak RSS %sK => %s MB/s of RPSL (wall), %s MB per CPU-second\n' \
  "$(du -h "$DB" | cut -f1)" "$W" "$C" "$R" "$(mbps "$DB")" "$(W=$C mbps "$DB")"
measure load "$OUT/bgpfilter" --quiet --no-snapshot-cache --irr "$DB" bgpq4 AS-NONEXISTENT
read -r W LC LR <<<"$RES"
printf 'parse only (no cache): wall %ss cpu %ss peak RSS %sK => %s MB/s (wall), %s MB per CPU-second\n' "$W" "$LC" "$LR" "$(mbps "$DB")" "$(W=$LC mbps "$DB")"
measure warmload "$OUT/bgpfilter" --quiet --cache-dir "$CACHE" --irr "$DB" bgpq4 AS-NONEXISTENT
read -r W WC WR <<<"$RES"
printf 'open the cached snapshot only: wall %ss cpu %ss peak RSS %sK\n' "$W" "$WC" "$WR"

printf '\n%-13s %9s | %9s %9s | %9s %9s | %-10s %-10s | %9s %9s %-10s\n' case bgpq4-cpu rpsl-cpu rpsl-rss warm-cpu warm-rss "rpsl/bgpq4" "warm/bgpq4" bgpq4-ms warm-ms "warm/bgpq4"
for args in "AS-BIG" "-A AS-BIG" "-6 AS-BIG" "-f 1 AS-BIG" "AS-BIG-1" "-J -z AS-BIG" "-j AS-BIG"; do
  tag=$(echo "$args" | tr ' ' '_')
  measure "bgpq4_$tag" bgpq4 -h "127.0.0.1:$PORT" $args
  read -r QW QC QR <<<"$RES"
  measure "bf_$tag" "$OUT/bgpfilter" --quiet --no-snapshot-cache --irr "$DB" bgpq4 $args
  read -r BW BC BR <<<"$RES"
  measure "warm_$tag" "$OUT/bgpfilter" --quiet --cache-dir "$CACHE" --irr "$DB" bgpq4 $args
  read -r NW NC NR <<<"$RES"
  for v in bf warm; do
    if ! cmp -s "$OUT/bgpq4_$tag.txt" "$OUT/${v}_$tag.txt"; then
      echo "OUTPUT DIFFERS for bgpq4 $args: diff $OUT/bgpq4_$tag.txt $OUT/${v}_$tag.txt" >&2; exit 1
    fi
  done
  # runs of a second or more are timed well enough by 3 runs
  n=$FINE_RUNS; awk -v c="$QC" 'BEGIN{exit !(c >= 0.2)}' && n=3
  FQ=$(N=$n fine bgpq4 -h "127.0.0.1:$PORT" $args)
  FN=$(N=$n fine "$OUT/bgpfilter" --quiet --cache-dir "$CACHE" --irr "$DB" bgpq4 $args)
  FR=n/a; [ "$FQ" != - ] && [ "$FN" != - ] && FR=$(ratio "$FN" "$FQ")
  printf '%-13s %9s | %9s %8sK | %9s %8sK | %-10s %-10s | %9s %9s %-10s (%s lines identical)\n' "$args" "$QC" "$BC" "$BR" "$NC" "$NR" \
    "$(ratio "$BC" "$QC")" "$(ratio "$NC" "$QC")" "$FQ" "$FN" "$FR" "$(wc -l <"$OUT/bf_$tag.txt")"
done
echo "(CPU = user+sys seconds, medians of $RUNS runs; /usr/bin/time has 10 ms resolution; ratios of runs under ~0.05 s are noise."
echo " bgpq4-ms, warm-ms: CPU milliseconds from perf stat's task-clock, mean of $FINE_RUNS runs (3 for cases where bgpq4 needs 0.2 s or more), and their ratio: the column for small lists)"
printf 'start-up alone (bgpfilter --irr /dev/null bgpq4 AS1): %s ms CPU\n' "$(fine "$OUT/bgpfilter" --quiet --irr /dev/null bgpq4 AS1)"

RIPE=../shared/data/irr
if [ -f "$RIPE/ripe.db.as-set.gz" ]; then
  FILES=("$RIPE/ripe.db.as-set.gz" "$RIPE/ripe-nonauth.db.route.gz" "$RIPE/ripe-nonauth.db.route6.gz" "$RIPE/ripe-nonauth.db.aut-num.gz")
  IRR=(); for f in "${FILES[@]}"; do IRR+=(--irr "$f"); done
  echo
  rm -rf "$CACHE"
  RUNS_SAVED=$RUNS RUNS=1
  measure ripe_first "$OUT/bgpfilter" --quiet --cache-dir "$CACHE" "${IRR[@]}" bgpq4 AS-AS112
  RUNS=$RUNS_SAVED
  read -r W C R <<<"$RES"
  printf 'RIPE dumps, first run (parse, write the cache): wall %ss cpu %ss peak RSS %sK => %s MB/s of RPSL (wall), %s MB per CPU-second\n' "$W" "$C" "$R" "$(mbps "${FILES[@]}")" "$(W=$C mbps "${FILES[@]}")"
  measure ripe_load "$OUT/bgpfilter" --quiet --no-snapshot-cache "${IRR[@]}" bgpq4 AS-AS112
  read -r W C R <<<"$RES"
  printf 'RIPE dumps, parse only (no cache): wall %ss cpu %ss peak RSS %sK => %s MB/s of RPSL (wall), %s MB per CPU-second\n' "$W" "$C" "$R" "$(mbps "${FILES[@]}")" "$(W=$C mbps "${FILES[@]}")"
  measure ripe_warm "$OUT/bgpfilter" --quiet --cache-dir "$CACHE" "${IRR[@]}" bgpq4 AS-AS112
  read -r W C R <<<"$RES"
  printf 'RIPE dumps, warm cache: wall %ss cpu %ss peak RSS %sK\n' "$W" "$C" "$R"
  cmp -s "$OUT/ripe_load.txt" "$OUT/ripe_warm.txt" && cmp -s "$OUT/ripe_load.txt" "$OUT/ripe_first.txt" || { echo "RIPE OUTPUT DIFFERS" >&2; exit 1; }
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
