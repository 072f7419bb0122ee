#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The dashboard in a real browser: memscope-run --report makes the pages of
# workloads with known totals, headless Chromium opens them with
# ?selftest=1, and the page's self-test (data/dashboard.js) goes through
# every view, sorts, filters, opens stacks, zooms, selects a process and
# writes on <body> what the page shows, read back from its own DOM. Those
# figures must be the report's and the workload's; no script error may
# occur; a sampled run must say that its figures are estimates, a damaged
# one what was lost; a function named like markup must stay text; and a
# report of 500 threads and 5000 stacks must load fast. Skipped without
# Chromium.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

t=$ms_test_tmp
V=$MS_VICTIMS
AGG="$MS_TOP_BUILDDIR/cli/memscope-aggregate"
HTML="$MS_TOP_BUILDDIR/cli/memscope-html"
JSON="$MS_TOP_BUILDDIR/tests/ms-json"
SYNTH="$MS_TOP_BUILDDIR/tests/ms-report-synth"

# Under the TAP driver a skipped script says "1..0 # SKIP" and exits 0 (77
# is an error there, not a skip).
CHROMIUM=${MS_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
  echo "1..0 # SKIP Chromium is not installed (set MS_CHROMIUM to a Chromium or Chrome)"
  exit 0
fi
if ! have_shim; then
  echo "1..0 # SKIP the preload library is not built"
  exit 0
fi

# open_page PAGE: loads PAGE?selftest=1 in headless Chromium and keeps the
# DOM after the script ran in $t/dom, the browser's console in $t/console,
# the <body> tag in $t/body and the wall-clock milliseconds in $t/ms.
open_page () {
  local profile start
  profile=$(mktemp -d "$t/profile.XXXXXX")
  start=$(date +%s%N)
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1400,900 --enable-logging=stderr --v=0 \
    --dump-dom "file://$1?selftest=1" > "$t/dom" 2> "$t/console"
  echo $(( ($(date +%s%N) - start) / 1000000 )) > "$t/ms"
  rm -rf "$profile"
  grep -o '<body[^>]*>' "$t/dom" | head -n 1 > "$t/body"
}

# shown NAME: the value of data-NAME on the page's <body>
shown () {
  sed -n "s/.* data-$1=\"\([^\"]*\)\".*/\1/p" "$t/body"
}

# shown_ms NAME: a duration the page measured, or a huge one if it did not
shown_ms () {
  local v
  v=$(shown "$1")
  echo "${v:-999999}"
}

# page_ok DESCRIPTION: the self-test passed and the console is clean
page_ok () {
  check_eq "$1: the self-test passes" ok "$(shown selftest)"
  check_eq "$1: no script error" "0 0" "$(shown js-errors) $(grep -c ':CONSOLE' "$t/console")"
  grep ':CONSOLE' "$t/console" | head -n 5 | sed 's/^/# /'
  check_eq "$1: all 12 views drawn" 12 "$(shown views)"
}

# report DIR: the comprehensive report in DIR
report () {
  ls "$1"/*_comprehensive.json | head -n 1
}

# ---- a workload with known totals ----
"$MS_RUN" -q --report -o "$t/w" -- "$V/agg-workload" 3 > /dev/null 2>&1
status=$?
check_eq "memscope-run --report: exit status" 0 "$status"
page="$t/w/agg-workload_dashboard.html"
check_eq "memscope-run --report wrote the dashboard" yes "$([ -s "$page" ] && echo yes)"
r=$(report "$t/w")
open_page "$page"
page_ok "agg-workload"
# The page's figures are the report's, and those the workload is known by.
check_eq "allocations shown are the report's" "$("$JSON" get "$r" summary.allocations)" "$(shown shown-allocations)"
check_le "allocations shown: the workload's 303 at least" 303 "$(shown shown-allocations)"
check_eq "frees shown are the report's" "$("$JSON" get "$r" summary.frees)" "$(shown shown-frees)"
check_eq "leaked bytes shown are the report's" "$("$JSON" get "$r" summary.leaked_bytes)" "$(shown shown-leaked-bytes)"
check_eq "peak shown is the report's" "$("$JSON" get "$r" summary.peak_live_bytes)" "$(shown shown-peak-bytes)"
check_eq "threads shown: two" 2 "$(shown shown-threads)"
check_eq "thread table: two rows" "2 2" "$(shown thread-rows) $(shown thread-total)"
check_eq "top leak: the inlined helper" inlined_alloc "$(shown top-function)"
check_eq "top leak: 3 blocks of 30900 bytes" "92700 3" "$(shown top-leak-bytes) $(shown top-leak-blocks)"
check_eq "hottest stack by bytes: make_block" make_block "$(shown top-stack-function)"
check_eq "its frames open" yes "$([ "$(shown expanded-frames)" -ge 3 ] 2>/dev/null && echo yes)"
check_eq "peak: the handed blocks first" produce "$(shown peak-top-function)"
check_eq "interactions: one pair of threads" 1 "$(shown interaction-rows)"
check_eq "exact trace: no estimate badge, no banner" "0 0" "$(shown estimate-badges) $(shown estimate-banner)"
check_eq "intact trace: no data-loss banner" 0 "$(shown data-loss-banner)"
check_eq "the flame graph has boxes" yes "$([ "$(shown flame-nodes)" -ge 5 ] 2>/dev/null && echo yes)"
check_eq "the page fetches nothing" "" "$(grep -o -i -E '(src|href)="(https?:)?//[^"]*' "$page" | head -n 3)"

# ---- a sampled run: every figure says it is an estimate ----
"$MS_RUN" -q --report --sampling=tiered -o "$t/s" -- "$V/v-sampling" > /dev/null 2>&1
open_page "$t/s/v-sampling_dashboard.html"
page_ok "sampled"
check_eq "sampled: the estimate banner" 1 "$(shown estimate-banner)"
check_le "sampled: estimate badges on the overview's figures" 8 "$(shown estimate-badges)"
check_eq "sampled: the estimates shown are the report's" "$("$JSON" get "$(report "$t/s")" summary.allocations)" "$(shown shown-allocations)"

# ---- children followed: the process selector ----
"$MS_RUN" -q --report -o "$t/f" -- "$V/v-fork" > /dev/null 2>&1
open_page "$t/f/v-fork_dashboard.html"
page_ok "two processes"
check_eq "two processes: one row each" 2 "$(shown process-rows)"
check_eq "two processes: selecting one narrows the threads to its own" 1 "$(shown selected-process-threads)"
r=$(report "$t/f")
last_pid=$("$JSON" get "$r" processes.1.pid)
check_eq "two processes: and the overview to its allocations" \
  "$("$JSON" rows "$r" processes pid allocations | awk -v p="$last_pid" '$1 == p { print $2 }')" "$(shown selected-process-allocations)"
# Stack rows are one process's each: the selector narrows the stack tables.
check_eq "two processes: the stacks table to its own stacks" \
  "$("$JSON" rows "$r" hot_stacks.by_bytes pid | grep -c -x "$last_pid")" "$(shown selected-process-stacks)"
check_eq "two processes: the leaks to its own (the child's 7 blocks of 30022 among them)" \
  "$("$JSON" rows "$r" leaks pid | grep -c -x "$last_pid")" "$(shown selected-process-leaks)"
check_eq "two processes: the child's leak is its own row" 210154 \
  "$("$JSON" rows "$r" leaks pid leaked_bytes | awk -v p="$last_pid" '$1 == p && $2 == 210154 { print $2 }')"

# ---- a damaged trace: the banner says what was lost ----
cp -r "$t/w" "$t/cut"
rm -f "$t/cut"/*.json "$t/cut"/*.html
big=$(ls -S "$t"/cut/thread-*.mst | head -n 1)
truncate -s $(( $(stat -c %s "$big") / 2 )) "$big"
"$AGG" -o "$t/cut" --prefix cut "$t/cut" > /dev/null 2>&1
"$HTML" -q "$t/cut/cut_comprehensive.json"
open_page "$t/cut/cut_dashboard.html"
page_ok "damaged"
check_eq "damaged: the data-loss banner" 1 "$(shown data-loss-banner)"
check_eq "damaged: it names the file" 1 "$(grep -c "$(basename "$big")" "$t/dom" | awk '{ print ($1 > 0) }')"

# ---- a function named like markup stays text ----
evil='</script><b>&amp;'
"$SYNTH" rename "$t/w/agg-workload_comprehensive.json" "$t/evil_comprehensive.json" inlined_alloc "$evil"
"$HTML" -q --rankings "$t/w/agg-workload_resource_rankings.json" "$t/evil_comprehensive.json"
open_page "$t/evil_dashboard.html"
page_ok "hostile name"
check_eq "hostile name: shown as written" "$evil" "$(shown top-function | sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e 's/&amp;/\&/g')"
check_eq "hostile name: no <b> element in the page" 0 "$(grep -c '<b>' "$t/dom")"

# ---- a large report: 500 threads, 5000 stacks ----
"$SYNTH" scale "$t/w/agg-workload_comprehensive.json" "$t/big_comprehensive.json" 500 5000
"$HTML" -q --rankings "$t/w/agg-workload_resource_rankings.json" "$t/big_comprehensive.json"
open_page "$t/big_dashboard.html"
page_ok "large"
echo "# large report: $(stat -c %s "$t/big_dashboard.html") bytes; page read in $(shown boot-ms) ms," \
  "first view drawn in $(shown render-ms) ms, self-test $(shown selftest-ms) ms; browser $(cat "$t/ms") ms in all"
check_eq "large: 500 threads in the table" 500 "$(shown thread-total)"
check_eq "large: one page of rows drawn" 100 "$(shown thread-rows)"
check_eq "large: the stack table has them all" 5000 "$(shown stack-rows)"
check_eq "large: the flame graph too" yes "$([ "$(shown_ms flame-nodes)" -ge 50 ] && echo yes)"
# The times above are printed, not judged: a test on a shared machine
# cannot time anything (bench/ does that).

finish
