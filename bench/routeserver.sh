#!/usr/bin/env bash
# Route-server build on real data (issue 9): bgpfilter route-server vs a bgpq4 loop.
#
#   bench/routeserver.sh            # BCIX and GR-IX, median of RUNS (default 3)
#
# Both sides use the same IRR data (RIPE as-sets, RIPE-NONAUTH route/route6/aut-num from
# ../shared/data). bgpfilter: `route-server --ixf EXPORT --check` builds and renders the
# whole BIRD config (every member's IRR prefix sets per family, origin sets, hygiene
# lists) and has bird -p parse it; it runs twice: without RPKI (what the bgpq4 loop
# computes too) and with the 723k VRPs (ROV at build time plus the static ROA table).
# The bgpq4 loop does what arouteserver does: per member one `bgpq4 -j -f 1` (origin
# list) and one `bgpq4 -4 -A -j` and `-6 -A -j` (prefix lists) against
# `bgpfilter whois-server` on loopback serving the same files (its load time and
# memory are reported apart); it produces the lists only, no config.
# Needs: go, bgpq4, bird, GNU time, python3. Writes only under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=bench/out; mkdir -p "$OUT"
D=$(cd ../shared/data && pwd)
go build -o "$OUT/bgpfilter" ./cmd/bgpfilter
. bench/lib.sh
IRR="$D/irr/ripe.db.as-set.gz, $D/irr/ripe-nonauth.db.route.gz, $D/irr/ripe-nonauth.db.route6.gz, $D/irr/ripe-nonauth.db.aut-num.gz"
printf 'irr: [%s]\nrs: {asn: 64511, router_id: 198.18.0.1}\n' "$IRR" > "$OUT/rs-irr.yml"
printf 'irr: [%s]\nrpki: %s\nrs: {asn: 64511, router_id: 198.18.0.1}\n' "$IRR" "$D/rpki/rpki-client_20250720T093135Z.json.gz" > "$OUT/rs-rpki.yml"

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
IRRARGS=()
for f in ripe.db.as-set.gz ripe-nonauth.db.route.gz ripe-nonauth.db.route6.gz ripe-nonauth.db.aut-num.gz; do IRRARGS+=(--irr "$D/irr/$f"); done
"$OUT/bgpfilter" --quiet "${IRRARGS[@]}" whois-server --listen "127.0.0.1:$PORT" 2>"$OUT/rs-server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 1200); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

printf '%-8s %-34s %9s %9s %9s\n' ixp case wall cpu rss
for ixp in bcix gr-ix; do
  X="$D/peeringdb/ixf-member-export/$ixp.json"
  rm -rf "$OUT/rs-$ixp-irr" "$OUT/rs-$ixp-rpki"
  MEDIAN_BY=2 measure "rs_${ixp}_irr" "$OUT/bgpfilter" --quiet route-server --config "$OUT/rs-irr.yml" --ixf "$X" --out "$OUT/rs-$ixp-irr" --check --shrink-guard 1
  read -r W C R <<<"$RES"; printf '%-8s %-34s %8ss %8ss %7dM\n' "$ixp" "bgpfilter route-server (IRR)" "$W" "$C" "$((R/1024))"
  measure "rs_${ixp}_rpki" "$OUT/bgpfilter" --quiet --rpki-ignore-expiry route-server --config "$OUT/rs-rpki.yml" --ixf "$X" --out "$OUT/rs-$ixp-rpki" --check --shrink-guard 1
  read -r W C R <<<"$RES"; printf '%-8s %-34s %8ss %8ss %7dM\n' "$ixp" "bgpfilter route-server (IRR+RPKI)" "$W" "$C" "$((R/1024))"
  python3 - "$X" > "$OUT/rs-$ixp-objects.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
seen = {}
for m in d["member_list"]:
    sets = []
    for c in m.get("connection_list", []):
        for v in c.get("vlan_list", []):
            for fam in ("ipv4", "ipv6"):
                s = (v.get(fam) or {}).get("as_macro")
                if s and s not in sets:
                    sets.append(s)
    seen.setdefault(m["asnum"], sets or ["AS%d" % m["asnum"]])
for asn, sets in seen.items():
    print(" ".join(sets))
PY
  cat > "$OUT/rs-$ixp-loop.sh" <<LOOP
#!/usr/bin/env bash
while read -r objs; do
  bgpq4 -h 127.0.0.1:$PORT -j -f 1 -l asn_list \$objs >/dev/null
  bgpq4 -h 127.0.0.1:$PORT -4 -A -j -l prefix_list \$objs >/dev/null
  bgpq4 -h 127.0.0.1:$PORT -6 -A -j -l prefix_list \$objs >/dev/null
done < "$OUT/rs-$ixp-objects.txt"
LOOP
  measure "rs_${ixp}_bgpq4" bash "$OUT/rs-$ixp-loop.sh"
  read -r W C R <<<"$RES"; printf '%-8s %-34s %8ss %8ss %7dM\n' "$ixp" "bgpq4 loop ($(wc -l < "$OUT/rs-$ixp-objects.txt") members x 3)" "$W" "$C" "$((R/1024))"
done
echo "whois-server (serving the loop): peak RSS $(awk '/VmHWM/{print int($2/1024) "M"}' /proc/$SERVER/status), CPU $(ps -o times= -p $SERVER)s (load + all answers)"
