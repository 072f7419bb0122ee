#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bundled demo (demo/memscope-demo.c), as README's first command runs
# it: memscope-run --report, then the figures the demo knows exactly are
# read back from memscope-aggregate's tables.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

T=$ms_test_tmp
AGG="$MS_TOP_BUILDDIR/cli/memscope-aggregate"
DEMO="$MS_TOP_BUILDDIR/demo/memscope-demo"
REQUESTS=4000
# Every 16th request keeps a session in a cache of 64; each eviction leaks
# the session's 48-byte name.
SESSIONS=$((REQUESTS / 16))
LEAKED=$((SESSIONS - 64))

"$MS_RUN" -q --report -o "$T/demo" -- "$DEMO" "$REQUESTS" > "$T/demo.out" 2> "$T/demo.err"
check_eq "the demo ran under memscope-run --report" 0 $?
contains "$T/demo.out" "leaked $LEAKED blocks, $((LEAKED * 48)) bytes (remember_session)" \
  "the demo's own output is unchanged"
check_eq "memscope-aggregate wrote its JSON" 1 "$(ls "$T"/demo/memscope-demo_comprehensive.json 2>/dev/null | wc -l)"

# get TABLE KEY-COLUMN KEY COLUMN: COLUMN of the TSV rows whose KEY-COLUMN is KEY
get () {
  "$AGG" --report="$1" --format=tsv "$T/demo" 2>/dev/null | awk -F'\t' -v kc="$2" -v kv="$3" -v c="$4" \
    'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } $h[kc] == kv { print $h[c] }'
}

check_eq "leaks: the sessions' names, by remember_session (blocks)" "$LEAKED" \
  "$(get leaks function remember_session leaked_blocks)"
check_eq "... (bytes)" "$((LEAKED * 48))" "$(get leaks function remember_session leaked_bytes)"
check_eq "... of the sessions it allocated" "$SESSIONS" "$(get leaks function remember_session allocations)"
check_eq "the acceptor allocated one request per request" "$REQUESTS" "$(get threads name acceptor allocations)"
check_eq "... and freed none of them" 0 "$(get threads name acceptor frees)"
check_eq "the logger freed every reply" "$REQUESTS" \
  "$(get threads name logger frees | awk -v r="$REQUESTS" '{ print ($1 >= r && $1 <= r + 2) ? r : $1 }')"
for name in worker-1 worker-2 worker-3 worker-4 stats; do
  check_eq "thread $name is in the report" 1 "$(get threads name "$name" name | wc -l)"
done
# Requests freed by workers and replies freed by the logger are all
# cross-thread; evicted sessions may be too.
cross=$("$AGG" --report=summary --format=tsv "$T/demo" | awk -F'\t' '$1 == "cross_thread_frees" { print $2 }')
check_le "cross-thread frees: at least the requests and the replies" "$((2 * REQUESTS))" "$cross"
check_le "... and at most those and the sessions' blocks" "$cross" "$((2 * REQUESTS + 3 * SESSIONS))"
check_eq "realloc growth: render_response reallocates" 1 \
  "$(get stacks function render_response reallocs | awk '$1 > 0 { n++ } END { print (n > 0) }')"

finish
