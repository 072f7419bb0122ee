#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run-preload.sh [BUILDDIR] [RUNS] [WORKLOAD-REGEX]: the shim's cost, side by side
# with heaptrack in one run. For each workload: the program alone, under
# memscope exact, memscope tiered and heaptrack, interleaved (one of each,
# RUNS times), medians of wall and CPU time, ratios to the bare run and
# memscope exact against heaptrack, and trace bytes per event.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build}
runs=${2:-5}
only=${3:-.}
shim=$build/preload/.libs/libmemscope-preload.so
dump=$build/tests/ms-dump
churn=$build/bench/churn
work=$(mktemp -d "${TMPDIR:-/tmp}/ms-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

[ -e "$shim" ] || { echo "no shim at $shim: build first (make -C $build)" >&2; exit 1; }
make -s -C "$build" bench/churn tests/ms-dump >/dev/null
command -v heaptrack >/dev/null || { echo "heaptrack is missing: apt-get install heaptrack" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt-get install sqlite3" >&2; exit 1; }

# name|command[|environment for every variant]
workloads=(
  "churn-1t|$churn 1 2000000"
  "churn-8t|$churn 8 500000"
  "prodcons|$churn 2 500000 prodcons"
  "sqlite3|sqlite3 :memory: < $top/bench/workloads/inserts.sql"
  "python3|/usr/bin/python3 $top/bench/workloads/dicts.py"
  # every Python object through malloc, as PYTHONMALLOC=malloc gives it
  "py-malloc|/usr/bin/python3 $top/bench/workloads/dicts.py|PYTHONMALLOC=malloc"
)

# time_run OUTFILE CMD: appends "wall user+sys" of CMD (children included)
time_run () {
  local out=$1; shift
  local t
  t=$( { TIMEFORMAT='%R %U %S'; time bash -c "$*" > /dev/null 2>&1; } 2>&1 | tail -n 1)
  echo "$t" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }' >> "$out"
}

median () { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-10s %9s | %-23s | %-23s | %-23s | %-17s | %-12s | %s\n' workload "bare s" \
  "exact wall/cpu (x bare)" "tiered wall/cpu" "heaptrack wall/cpu" "exact/heaptrack" "added time" \
  "bytes/event raw, zst, heaptrack"
for w in "${workloads[@]}"; do
  IFS='|' read -r name cmd envs <<< "$w"
  [[ $name =~ $only ]] || continue
  for variant in bare exact tiered heaptrack; do : > "$work/$name.$variant"; done
  for i in $(seq "$runs"); do
    time_run "$work/$name.bare" "$envs $cmd"
    rm -rf "$work/t-exact"
    time_run "$work/$name.exact" "$envs MEMSCOPE_OUTPUT=$work/t-exact LD_PRELOAD=$shim $cmd"
    rm -rf "$work/t-tiered"
    time_run "$work/$name.tiered" "$envs MEMSCOPE_OUTPUT=$work/t-tiered MEMSCOPE_SAMPLING=tiered LD_PRELOAD=$shim $cmd"
    rm -f "$work"/ht.*
    time_run "$work/$name.heaptrack" "$envs heaptrack -o $work/ht $cmd"
  done
  bare_wall=$(cut -d' ' -f1 "$work/$name.bare" | median)
  bare_cpu=$(cut -d' ' -f2 "$work/$name.bare" | median)
  cols=()
  for variant in exact tiered heaptrack; do
    wall=$(cut -d' ' -f1 "$work/$name.$variant" | median)
    cpu=$(cut -d' ' -f2 "$work/$name.$variant" | median)
    cols+=("$(awk -v w="$wall" -v c="$cpu" -v bw="$bare_wall" -v bc="$bare_cpu" \
      'BEGIN { printf "%6.3fs %5.2fx / %5.2fx", w, w / bw, (bc > 0 ? c / bc : 0) }')")
    eval "${variant}_wall=$wall ${variant}_cpu=$cpu"
  done
  # events: every allocation-side and free record of the exact trace
  events=$(find "$work/t-exact" -name 'thread-*.mst' -exec "$dump" --counts {} + 2>/dev/null |
           awk '$1 ~ /^(alloc|free|realloc)$/ { n += $2 } END { print n + 0 }')
  raw=$(find "$work/t-exact" -name '*.mst' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  find "$work/t-exact" -name '*.mst' -exec "$dump" --compact {} + 2>/dev/null
  zst=$(find "$work/t-exact" -name '*.mst' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  ht=$(stat -c %s "$work"/ht.* 2>/dev/null | head -n 1)
  ratio=$(awk -v e="$exact_wall" -v h="$heaptrack_wall" -v ec="$exact_cpu" -v hc="$heaptrack_cpu" \
    'BEGIN { printf "%.2f / %.2f", e / h, (hc > 0 ? ec / hc : 0) }')
  # the time each tool adds to the program, memscope's over heaptrack's:
  # what the ratios above mean when the program itself allocates little
  added=$(awk -v e="$exact_wall" -v h="$heaptrack_wall" -v b="$bare_wall" \
    'BEGIN { d = h - b; if (d <= 0) print "n/a"; else printf "%.2f", (e - b) / d }')
  bpe=$(awk -v r="$raw" -v z="$zst" -v h="${ht:-0}" -v n="$events" \
    'BEGIN { if (n == 0) { print "n/a"; exit } printf "%.2f, %.2f, %.2f (%d events)", r / n, z / n, h / n, n }')
  printf '%-10s %8.3fs | %s | %s | %s | %-17s | %-12s | %s\n' "$name" "$bare_wall" "${cols[0]}" "${cols[1]}" "${cols[2]}" \
    "$ratio" "$added" "$bpe"
done
echo "(medians of $runs interleaved runs; cpu = user + system of the whole process tree;"
echo " heaptrack's time includes its heaptrack_interpret, as a user sees it; memscope's is the shim alone)"
