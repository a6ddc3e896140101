# Shared helpers of the bench/ scripts (sourced, not run). Callers set OUT and RUNS.

# measure NAME CMD... : runs CMD $RUNS times with GNU time, stdout to $OUT/NAME.txt, and
# stores in $RES the median run as "wall cpu(user+sys) maxrss_kb". The median is taken by
# column $MEDIAN_BY (1 = wall, 2 = CPU; default 2).
measure() {
  local name=$1; shift
  local rows=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.txt" 2>"$OUT/$name.err" || {
      echo "$name failed: $(tail -3 "$OUT/$name.err")" >&2; return 1; }
    rows+=("$(awk '{printf "%.3f %.3f %d\n", $1, $2+$3, $4}' "$OUT/$name.time")")
  done
  RES=$(printf '%s\n' "${rows[@]}" | sort -n -k"${MEDIAN_BY:-2}" | sed -n "$(( (RUNS+1)/2 ))p")
}

# ratio A B : A/B with two decimals, "n/a" when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b==0) print "n/a"; else printf "%.2f", a/b }'; }

# fine CMD...: mean CPU milliseconds (user+sys, perf's task-clock over every thread) of
# FINE_RUNS runs of CMD (N runs when N is set, default 20), output discarded; "-" when perf
# cannot count here. /usr/bin/time counts in 10 ms steps, too coarse for small lists.
PERF=0; perf stat -x, -e task-clock -o /dev/null true 2>/dev/null && PERF=1
fine() {
  [ "$PERF" = 1 ] || { echo -; return; }
  perf stat -x, -e task-clock -r "${N:-${FINE_RUNS:-20}}" -o "$OUT/fine.perf" "$@" >/dev/null 2>&1 || { echo -; return; }
  awk -F, '/task-clock/ {printf "%.1f", $1}' "$OUT/fine.perf"
}
