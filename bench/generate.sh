#!/usr/bin/env bash
# `bgpfilter generate` for many customers × 4 targets on real RIPE data, against a shell
# loop that makes the same lists with bgpq4 (issue 7, "Must show": Benchmark).
#
#   bench/generate.sh                    # 1,000 customers, --jobs 2, warm runs: median of RUNS (3)
#   CUSTOMERS=100 RUNS=1 bench/generate.sh
#
# Customers: bench/gencustomers/select.py picks them from the RIPE dumps in ../shared/data/irr
# (deterministic: SHA-1 order of the names), 40 % aut-nums alone and 60 % AS-SETs from
# 1-9 to >= 10,000 route objects in their cone; only objects whose cone has route objects.
# The config gives every customer the 4 targets junos, iosxr, bird, frr (the default rules).
#
# bgpfilter: `generate --config C --out DIR --jobs JOBS` from the four RPSL dumps, into a
# fresh DIR each run (every file is written). "cold" runs with an empty snapshot cache
# (--cache-dir): it parses the 4 dumps and writes the snapshot; "warm" finds the snapshot.
# Besides each customer's import lists the files hold its export policies and the session
# rules; the export set they name (own space plus every customer's filter) is written once per
# target, DIR/_export/<target>.conf; the summary and state files too.
#
# bgpq4 loop: for each customer and vendor an IPv4 and an IPv6 prefix list and an as-path
# list, i.e. CUSTOMERS × 4 × 3 bgpq4 runs, each into its own file, JOBS customers at a time
# (xargs -P JOBS, the same parallelism as --jobs), against `bgpfilter whois-server` on
# loopback serving the same four dumps (its CPU and memory are reported apart). Flags:
#   junos  -J -z (route-filter-list, as generate renders) for the prefixes, -J -f ASN for the path
#   iosxr  -X          (prefix-set, as-path-set)
#   bird   -b          (prefix set; -f gives the ASN set of the cone, BIRD's path check)
#   frr    no flag: bgpq4's Cisco IOS output (ip/ipv6 prefix-list, ip as-path access-list)
#          is the syntax FRR reads; bgpq4 has no FRR target.
# prefix lists: -4 -m 24 / -6 -m 48 (generate's default prefix-length limits); as-path:
# -f ASN (neighbour ASN first, origin in the cone: generate's first-as + origin statement).
# Needs: go, python3, bgpq4, GNU time (/usr/bin/time). Writes only under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${CUSTOMERS:-1000}
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
OUT=bench/out; mkdir -p "$OUT"
D=$(cd ../shared/data/irr && pwd)
[ -x /usr/bin/time ] || { echo "GNU time not installed (apt-get install time)" >&2; exit 1; }
command -v bgpq4 >/dev/null || { echo "bgpq4 not installed" >&2; exit 1; }
go build -o "$OUT/bgpfilter" ./cmd/bgpfilter
. bench/lib.sh
echo "$(nproc) CPUs; uptime: $(uptime)"

TSV="$OUT/gen-customers-$N.tsv"
[ -s "$TSV" ] || python3 bench/gencustomers/select.py "$D" "$N" > "$TSV"
awk -F'\t' '{ n[$3 == "AS" $2 ? "aut-num" : "as-set"]++; r += $4 } END {
  printf "%d customers: %d aut-nums alone, %d AS-SETs; %d route objects in their cones\n", NR, n["aut-num"], n["as-set"], r }' "$TSV"

CFG="$OUT/gen.yml"
{
  printf 'local_as: 64496\nrouter_id: 192.0.2.1\n'
  printf 'irr: [%s]\n' "$D/ripe.db.as-set.gz, $D/ripe-nonauth.db.route.gz, $D/ripe-nonauth.db.route6.gz, $D/ripe-nonauth.db.aut-num.gz"
  printf 'sources: [RIPE, RIPE-NONAUTH]\ndefaults:\n  targets: [junos, iosxr, bird, frr]\n  shrink_guard: 100%%\ncustomers:\n'
  while IFS=$'\t' read -r name asn obj _ _; do
    if [ "$obj" = "AS$asn" ]; then
      printf '  - {name: %s, asn: %s}\n' "$name" "$asn"
    else
      printf '  - {name: %s, asn: %s, as_set: [%s]}\n' "$name" "$asn" "$obj"
    fi
  done < "$TSV"
} > "$CFG"

printf '%-44s %9s %9s %9s\n' case wall cpu rss
row() { read -r W C R <<<"$RES"; printf '%-44s %8ss %8ss %7dM\n' "$1" "$W" "$C" "$((R / 1024))"; }
GEN=("$OUT/bgpfilter" --quiet --cache-dir "$OUT/gen-cache" generate --config "$CFG" --out "$OUT/gen-out" --jobs "$JOBS")
# fresh NAME CMD...: like measure (median by wall of $RUNS), but each run starts from an
# empty output directory (removed outside the timing).
fresh() {
  local name=$1 rows=() dir; shift
  for _ in $(seq "$RUNS"); do
    for dir in "$OUT/gen-out" "$OUT/gen-bgpq4"; do rm -rf "$dir"; done
    RUNS=1 measure "$name" "$@" || return 1
    rows+=("$RES")
  done
  RES=$(printf '%s\n' "${rows[@]}" | sort -n -k1 | sed -n "$(( (RUNS+1)/2 ))p")
}
rm -rf "$OUT/gen-cache"
RUNS=1 fresh gen_cold "${GEN[@]}"; row "generate, cold snapshot cache"
COLD=$RES
# the cold run left the snapshot in the cache: every run below is warm
fresh gen_warm "${GEN[@]}"; row "generate, warm snapshot cache (median of $RUNS)"
WARM=$RES
python3 - "$OUT/gen-out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = s["customers"]
print(f'summary: status {s["status"]}, {sum(x["status"] == "ok" for x in c)} of {len(c)} customers ok, '
      f'{sum(x["entries"].get("ipv4", 0) for x in c)} IPv4 + {sum(x["entries"].get("ipv6", 0) for x in c)} IPv6 import entries')
PY
echo "output: $(find "$OUT/gen-out" -name '*.conf' | wc -l) files, $(du -sh "$OUT/gen-out" | cut -f1)"

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$OUT/bgpfilter" --quiet --no-snapshot-cache --irr "$D/ripe.db.as-set.gz" --irr "$D/ripe-nonauth.db.route.gz" \
  --irr "$D/ripe-nonauth.db.route6.gz" --irr "$D/ripe-nonauth.db.aut-num.gz" \
  whois-server --listen "127.0.0.1:$PORT" 2>"$OUT/gen-server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 1200); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
SERVER_CPU0=$(cpu $SERVER)

# one customer's 12 bgpq4 runs: gen-one.sh NAME ASN OBJECT
cat > "$OUT/gen-one.sh" <<ONE
#!/usr/bin/env bash
set -e
o=$OUT/gen-bgpq4/\$1; mkdir -p "\$o"
q() { bgpq4 -h 127.0.0.1:$PORT -S RIPE,RIPE-NONAUTH "\$@"; }
q -J -z -4 -m 24 -l "\$1_V4" "\$3" > "\$o/junos-v4"; q -J -z -6 -m 48 -l "\$1_V6" "\$3" > "\$o/junos-v6"; q -J -f "\$2" -l "\$1_PATH" "\$3" > "\$o/junos-path"
q -X -4 -m 24 -l "\$1_V4" "\$3" > "\$o/iosxr-v4";   q -X -6 -m 48 -l "\$1_V6" "\$3" > "\$o/iosxr-v6";   q -X -f "\$2" -l "\$1_PATH" "\$3" > "\$o/iosxr-path"
q -b -4 -m 24 -l "\$1_V4" "\$3" > "\$o/bird-v4";    q -b -6 -m 48 -l "\$1_V6" "\$3" > "\$o/bird-v6";    q -b -f "\$2" -l "\$1_PATH" "\$3" > "\$o/bird-path"
q -4 -m 24 -l "\$1_V4" "\$3" > "\$o/frr-v4";        q -6 -m 48 -l "\$1_V6" "\$3" > "\$o/frr-v6";        q -f "\$2" -l "\$1_PATH" "\$3" > "\$o/frr-path"
ONE
cut -f1-3 "$TSV" > "$OUT/gen-args.txt"
fresh gen_bgpq4 xargs -P "$JOBS" -L 1 -a "$OUT/gen-args.txt" bash "$OUT/gen-one.sh"; row "bgpq4 loop, $N x 4 x 3 runs, -P $JOBS (median of $RUNS)"
LOOP=$RES
echo "bgpq4 output: $(find "$OUT/gen-bgpq4" -type f | wc -l) files, $(du -sh "$OUT/gen-bgpq4" | cut -f1)"
echo "whois-server (serving the loop, not counted above): peak RSS $(awk '/VmHWM/{print int($2/1024) "M"}' /proc/$SERVER/status), CPU ${SERVER_CPU0}s after loading, $(cpu $SERVER)s at the end"
read -r LW LC _ <<<"$LOOP"; read -r CW CC CR <<<"$COLD"; read -r WW WC WR <<<"$WARM"
echo "wall-time ratio bgpq4 loop / generate: $(ratio "$LW" "$WW")x warm, $(ratio "$LW" "$CW")x cold (target >= 20x)"
echo "CPU: bgpq4 loop $LC s (bgpq4 processes + the loop's shells), generate $WC s warm / $CC s cold"
echo "generate peak RSS: $((WR / 1024)) MB warm, $((CR / 1024)) MB cold; uptime: $(uptime)"
