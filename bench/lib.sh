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
