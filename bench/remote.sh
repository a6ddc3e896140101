#!/usr/bin/env bash
# bgpfilter's whois client vs bgpq4: the same list from the same server over an emulated
# WAN link. `bgpfilter whois-server` serves a synthetic registry; bgpq4 and `bgpfilter bgpq4`
# both query it with -h, and their outputs must be identical bytes. The round-trip time is
# emulated with `tc netem` inside a network namespace this script creates (veth pair,
# 198.18.0.0/15 addresses, RFC 2544) when it runs as root and the kernel has netem; otherwise
# with bench/delayproxy, a TCP proxy on loopback that delays every chunk by RTT/2 in each
# direction without serialising the connection.
#
#   bench/remote.sh                   # 5,000, 20,000 and 50,000 ASNs, 20 ms RTT
#   SIZES=20000:400000:200 RTT_MS=0 bench/remote.sh  # the issue's whois-client case, no delay
#   RTT_MS=70 RUNS=5 bench/remote.sh --small        # 5,000 ASNs only
#   BGPFILTER=/path/to/bgpfilter bench/remote.sh    # use a prebuilt binary
#   DELAY=proxy bench/remote.sh       # force the proxy even where netem works
#   MEDIAN_BY=2 bench/remote.sh       # take the median run by CPU instead of wall time
#
# Besides the rows of both tools, each size measures "-A (cache)": `bgpfilter --cache-dir
# DIR bgpq4 -h … -A AS-BIG` answered from the whois answer cache that a first run filled
# (every run within --cache-ttl), against the same bgpq4 -A run. The last line of each
# size prints both -A CPU ratios. Cases where bgpq4 needs under 0.2 s of CPU (the small
# lists, below what /usr/bin/time resolves) are also timed with perf's task-clock (mean of
# FINE_RUNS runs, default 20): columns bq-ms, bf-ms and their ratio.
#
# Needs go, bgpq4, GNU time (/usr/bin/time). Everything it starts or creates (servers,
# proxy, namespace, veth) is removed on exit. Writes only under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
RTT_MS=${RTT_MS:-20}
RUNS=${RUNS:-3}
SIZES=${SIZES:-"5000:100000:50 20000:400000:200 50000:1000000:500"} # ASNs:routes:sub-sets
[ "${1:-}" = "--small" ] && SIZES="5000:100000:50"
OUT=bench/out; mkdir -p "$OUT"
command -v bgpq4 >/dev/null || { echo "bgpq4 not installed (apt-get install bgpq4)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not installed (apt-get install time)" >&2; exit 1; }

BF=${BGPFILTER:-$OUT/bgpfilter}
# the build README recommends (static, without urfave/cli's man-page generator; see compare.sh)
[ -n "${BGPFILTER:-}" ] || CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -o "$BF" ./cmd/bgpfilter

NS=bfbench$$
HOST_IF=bfh$$
NS_IF=bfn$$
SERVER= PROXY= NETNS=
cleanup() {
  for p in $PROXY $SERVER; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$NETNS" ]; then ip netns del "$NS" 2>/dev/null || true; ip link del "$HOST_IF" 2>/dev/null || true; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_tcp() { for _ in $(seq 1200); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

HALF=$(awk -v r="$RTT_MS" 'BEGIN{printf "%.1fms", r/2}')
MODE=proxy
if [ "${DELAY:-}" != proxy ] && [ "$(id -u)" = 0 ] && ip netns add "$NS" 2>/dev/null; then
  NETNS=1
  ip link add "$HOST_IF" type veth peer name "$NS_IF"
  ip link set "$NS_IF" netns "$NS"
  ip addr add 198.18.0.1/30 dev "$HOST_IF"
  ip link set "$HOST_IF" up
  ip netns exec "$NS" ip addr add 198.18.0.2/30 dev "$NS_IF"
  ip netns exec "$NS" ip link set "$NS_IF" up
  ip netns exec "$NS" ip link set lo up
  if tc qdisc add dev "$HOST_IF" root netem delay "$HALF" limit 1000000 2>/dev/null &&
     ip netns exec "$NS" tc qdisc add dev "$NS_IF" root netem delay "$HALF" limit 1000000 2>/dev/null; then
    MODE=netem
  else
    echo "tc netem unavailable here; using bench/delayproxy" >&2
    ip netns del "$NS"; ip link del "$HOST_IF" 2>/dev/null || true; NETNS=
  fi
fi
if [ "$MODE" = proxy ]; then
  go build -o "$OUT/delayproxy" ./bench/delayproxy
fi

# start_server DB: serves DB; sets $TARGET (host:port the clients use)
start_server() {
  if [ "$MODE" = netem ]; then
    ip netns exec "$NS" "$BF" --quiet --irr "$1" whois-server --listen 198.18.0.2:43 2>"$OUT/remote-server.log" &
    SERVER=$!
    wait_tcp 198.18.0.2 43
    TARGET=198.18.0.2:43
  else
    local sp pp
    sp=$(free_port); pp=$(free_port)
    "$BF" --quiet --irr "$1" whois-server --listen "127.0.0.1:$sp" 2>"$OUT/remote-server.log" &
    SERVER=$!
    wait_tcp 127.0.0.1 "$sp"
    "$OUT/delayproxy" -listen "127.0.0.1:$pp" -upstream "127.0.0.1:$sp" -rtt "${RTT_MS}ms" 2>"$OUT/delayproxy.log" &
    PROXY=$!
    wait_tcp 127.0.0.1 "$pp"
    TARGET=127.0.0.1:$pp
  fi
  echo "link ($MODE): $(bgpq4 -h "$TARGET" AS0 >/dev/null 2>&1; /usr/bin/time -f '%e s for a bgpq4 handshake (about 3 RTT)' bgpq4 -h "$TARGET" AS1 2>&1 >/dev/null | tail -1)"
}
stop_server() {
  for p in $PROXY $SERVER; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  SERVER= PROXY=
}

MEDIAN_BY=${MEDIAN_BY:-1} # default: the median run by wall time (this benchmark is about latency)
. bench/lib.sh
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

for size in $SIZES; do
  IFS=: read -r ASNS ROUTES SUBSETS <<<"$size"
  DB="$OUT/synth-$ASNS-$ROUTES.db"
  [ -s "$DB" ] || go run ./bench/synth -asns "$ASNS" -routes "$ROUTES" -v6routes 20000 -subsets "$SUBSETS" -o "$DB"
  start_server "$DB"
  echo
  echo "== $ASNS ASNs, $ROUTES IPv4 routes, RTT ${RTT_MS} ms ($MODE), median of $RUNS =="
  printf '%-16s %9s %9s | %9s %9s %9s | %10s %10s | %8s %8s %8s\n' case bgpq4-wall bgpq4-cpu bf-wall bf-cpu bf-rss "wall bf/bq" "cpu bf/bq" bq-ms bf-ms "ms bf/bq"
  # -L 100 forces client-side recursion: one !i per set, then one pipelined !g per ASN.
  for args in "AS-BIG" "-6 AS-BIG" "-A AS-BIG" "-L 100 AS-BIG" "-f 1 AS-BIG"; do
    tag=remote_$(echo "$ASNS $args" | tr ' ' '_')
    measure "bgpq4_$tag" bgpq4 -h "$TARGET" $args
    read -r QW QC QR <<<"$RES"
    measure "bf_$tag" "$BF" --quiet bgpq4 -h "$TARGET" $args
    read -r BW BC BR <<<"$RES"
    if ! cmp -s "$OUT/bgpq4_$tag.txt" "$OUT/bf_$tag.txt"; then
      echo "OUTPUT DIFFERS for bgpq4 $args: diff $OUT/bgpq4_$tag.txt $OUT/bf_$tag.txt" >&2; exit 1
    fi
    [ "$args" = "-A AS-BIG" ] && { ACPU_BQ=$QC; ACPU_BF=$BC; }
    # Lists under 0.2 s of bgpq4 CPU are below what /usr/bin/time resolves: perf's
    # task-clock, mean of FINE_RUNS runs (default 20) of each.
    FQ=- FB=- FR=-
    if awk -v c="$QC" 'BEGIN{exit !(c < 0.2)}'; then
      FQ=$(fine bgpq4 -h "$TARGET" $args)
      FB=$(fine "$BF" --quiet bgpq4 -h "$TARGET" $args)
      [ "$FQ" != - ] && [ "$FB" != - ] && FR=$(ratio "$FB" "$FQ")
    fi
    printf '%-16s %9s %9s | %9s %9s %8sK | %10s %10s | %8s %8s %8s  (%s identical lines)\n' "$args" "$QW" "$QC" "$BW" "$BC" "$BR" \
      "$(ratio "$BW" "$QW")" "$(ratio "$BC" "$QC")" "$FQ" "$FB" "$FR" "$(wc -l <"$OUT/bf_$tag.txt")"
  done
  # -A from the whois answer cache: a first run fills it, the measured runs read it.
  ACACHE="$OUT/answers-$ASNS"
  rm -rf "$ACACHE"
  tag=remote_${ASNS}_-A_cache
  "$BF" --quiet --cache-dir "$ACACHE" bgpq4 -h "$TARGET" -A AS-BIG >"$OUT/bf_$tag.first.txt"
  measure "bf_$tag" "$BF" --quiet --cache-dir "$ACACHE" bgpq4 -h "$TARGET" -A AS-BIG
  read -r CW CC CR <<<"$RES"
  ref=$OUT/bgpq4_remote_$(echo "$ASNS -A AS-BIG" | tr ' ' '_').txt
  for f in "$OUT/bf_$tag.first.txt" "$OUT/bf_$tag.txt"; do
    cmp -s "$ref" "$f" || { echo "OUTPUT DIFFERS for the cached -A: diff $ref $f" >&2; exit 1; }
  done
  printf '%-16s %9s %9s | %9s %9s %8sK | %10s %10s | %8s %8s %8s  (%s identical lines)\n' "-A (cache)" "-" "$ACPU_BQ" "$CW" "$CC" "$CR" \
    "-" "$(ratio "$CC" "$ACPU_BQ")" - - - "$(wc -l <"$OUT/bf_$tag.txt")"
  stop_server
  echo "whois client vs bgpq4, $ASNS ASNs: CPU ratio $(ratio "$ACPU_BF" "$ACPU_BQ") for -A (bgpfilter ${ACPU_BF}s / bgpq4 ${ACPU_BQ}s), $(ratio "$CC" "$ACPU_BQ") for -A from the answer cache (${CC}s); target <= 0.25"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
