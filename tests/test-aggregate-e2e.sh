#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# memscope-aggregate end to end: victims with known allocations run under
# the shim; the TSV tables are read with shell pipelines, the JSON reports
# validated against data/memscope-report.schema.json, and the exit
# statuses checked (damage, --strict, --diff, --fail-on-growth, errors).
set -u
. "$MS_TOP_SRCDIR/tests/libtest.sh"

t=$ms_test_tmp
V=$MS_VICTIMS
AGG="$MS_TOP_BUILDDIR/cli/memscope-aggregate"
SCHEMA="$MS_TOP_SRCDIR/data/memscope-report.schema.json"
VALIDATE="$MS_TOP_BUILDDIR/tests/test-aggregate-jsonschema"
SRC="$MS_TOP_SRCDIR/tests/victims/agg-workload.c"
PY=/usr/bin/python3

# line_of MARK: the line of agg-workload.c that carries /* MARK:name */
line_of () { grep -n "/\* MARK:$1 \*/" "$SRC" | cut -d: -f1; }

# get TSV KEY-COLUMN KEY-VALUE COLUMN: COLUMN of the rows whose KEY-COLUMN is KEY-VALUE
get () {
  printf '%s\n' "$1" | awk -F'\t' -v kc="$2" -v kv="$3" -v c="$4" \
    'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } $h[kc] == kv { print $h[c] }'
}

# summary_of TSV KEY
summary_of () { printf '%s\n' "$1" | awk -F'\t' -v k="$2" '$1 == k { print $2 }'; }

traced "$t/w3" "$V/agg-workload" 3 || { echo "Bail out! the victim failed"; exit 1; }
traced "$t/w7" "$V/agg-workload" 7 || { echo "Bail out! the victim failed"; exit 1; }

# ---- summary: key<TAB>value for pipelines ----
sum=$("$AGG" -o "$t/out" --prefix w3 "$t/w3" 2> "$t/err"); status=$?
check_eq "summary: exit status" 0 "$status"
check_eq "summary: no warnings on an intact trace" "" "$(cat "$t/err")"
missing=
for key in processes threads allocations frees bytes_allocated bytes_freed peak_live_bytes peak_time_ns \
  leaked_blocks leaked_bytes temporary_allocations cross_thread_frees lost_events sampled duration_ns; do
  [ -n "$(summary_of "$sum" "$key")" ] || missing="$missing $key"
done
check_eq "summary: every key of the issue" "" "$missing"
check_eq "summary: one process" 1 "$(summary_of "$sum" processes)"
check_eq "summary: two threads" 2 "$(summary_of "$sum" threads)"
check_eq "summary: exact trace" 0 "$(summary_of "$sum" sampled)"
check_eq "summary: nothing lost" 0 "$(summary_of "$sum" lost_events)"
check_le "summary: the victim's 303 allocations are there" 303 "$(summary_of "$sum" allocations)"
check_le "summary: the peak holds the 100 handed blocks" 3080000 "$(summary_of "$sum" peak_live_bytes)"
check_le "summary: 200 temporary allocations at least" 200 "$(summary_of "$sum" temporary_allocations)"
check_le "summary: 100 cross-thread frees at least" 100 "$(summary_of "$sum" cross_thread_frees)"

# ---- stacks: exact totals per call site ----
stacks=$("$AGG" -r stacks -o "$t/out" --prefix w3 "$t/w3")
check_eq "make_block: allocations" 200 "$(get "$stacks" function make_block allocations)"
check_eq "make_block: bytes" 6019900 "$(get "$stacks" function make_block bytes_allocated)"
check_eq "make_block: frees" 200 "$(get "$stacks" function make_block frees)"
check_eq "make_block: all temporary" 200 "$(get "$stacks" function make_block temporary)"
check_eq "make_block: file:line" "agg-workload.c:$(line_of make_block)" \
  "$(basename "$(get "$stacks" function make_block location)")"
check_eq "produce: allocations" 100 "$(get "$stacks" function produce allocations)"
check_eq "produce: bytes" 3080000 "$(get "$stacks" function produce bytes_allocated)"
check_eq "produce: all live at the peak" 3080000 "$(get "$stacks" function produce peak_bytes)"

# a pipeline: every allocation belongs to exactly one row
total=$(printf '%s\n' "$stacks" | tail -n +2 | cut -f2 | paste -sd+ | bc)
check_eq "stacks: rows add up to the summary's allocations" "$(summary_of "$sum" allocations)" "$total"
biggest=$("$AGG" -r stacks -w bytes "$t/w3" | tail -n +2 | sort -t "$(printf '\t')" -k3,3nr | head -n 1 | cut -f11)
check_eq "stacks: sort by bytes finds make_block" make_block "$biggest"

# ---- leaks with function names, inlined frame first ----
leaks=$("$AGG" -r leaks "$t/w3")
check_eq "leaks: blocks from the inlined helper" 3 "$(get "$leaks" function inlined_alloc leaked_blocks)"
check_eq "leaks: bytes from the inlined helper" 92700 "$(get "$leaks" function inlined_alloc leaked_bytes)"
check_eq "leaks: the stack ends main;leak_more;inlined_alloc" "main;leak_more;inlined_alloc" \
  "$(get "$leaks" function inlined_alloc stack | awk -F';' '{ print $(NF-2) ";" $(NF-1) ";" $NF }')"
check_eq "leaks: file:line of the inlined malloc" "agg-workload.c:$(line_of inlined_alloc)" \
  "$(basename "$(get "$leaks" function inlined_alloc location)")"
folded=$("$AGG" -r leaks -f collapsed "$t/w3" | grep 'leak_more;inlined_alloc ')
check_eq "collapsed: folded leak line" 92700 "${folded##* }"

# ---- peak and interactions ----
peak=$("$AGG" -r peak "$t/w3")
check_eq "peak: the handed blocks first" produce "$(printf '%s\n' "$peak" | awk -F'\t' 'NR == 2 { print $6 }')"
inter=$("$AGG" -r interactions "$t/w3")
check_eq "interactions: produce's blocks freed by the other thread" 100 "$(get "$inter" top_function produce blocks)"
check_eq "interactions: their bytes" 3080000 "$(get "$inter" top_function produce bytes)"
threads=$("$AGG" -r threads "$t/w3")
check_eq "threads: two rows" 2 "$(printf '%s\n' "$threads" | tail -n +2 | wc -l)"

# ---- the JSON reports ----
for f in w3_comprehensive.json w3_resource_rankings.json; do
  "$VALIDATE" "$SCHEMA" "$t/out/$f" 2> "$t/err"; status=$?
  check_eq "schema: $f is valid" "0 " "$status $(head -c 300 "$t/err")"
done
if [ -x "$PY" ] && "$PY" -c 'import jsonschema' 2>/dev/null; then
  "$PY" - "$SCHEMA" "$t/out/w3_comprehensive.json" "$t/out/w3_resource_rankings.json" <<'EOF'
import json, sys, jsonschema
schema = json.load (open (sys.argv[1]))
for f in sys.argv[2:]:
    jsonschema.Draft202012Validator (schema).validate (json.load (open (f)))
EOF
  ok $? "schema: python-jsonschema agrees"
else
  skip "python3-jsonschema is not installed: the C validator alone checked the schema"
fi
"$AGG" "$t/w3" > /dev/null
check_eq "the reports go into the trace directory, named after the program" "yes yes" \
  "$([ -s "$t/w3/agg-workload_comprehensive.json" ] && echo yes) $([ -s "$t/w3/agg-workload_resource_rankings.json" ] && echo yes)"
if [ -x "$PY" ]; then
  frames=$("$PY" - "$t/out/w3_comprehensive.json" <<'EOF'
import json, sys
doc = json.load (open (sys.argv[1]))
stack = [s for s in doc["stacks"] if s["function"] == "inlined_alloc"][0]
print (" ".join ("%s:%d:%s" % (f["function"], f["line"], "inlined" if f["inlined"] else "real") for f in stack["frames"][:3]))
EOF
)
  check_eq "json: frames with lines, the inlined one marked" \
    "inlined_alloc:$(line_of inlined_alloc):inlined leak_more:$(line_of leak_more):real main:$(line_of main):real" "$frames"
  tid=$("$AGG" -r threads -f json "$t/w3" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["rows"]))')
  check_eq "--format=json prints the rows" 2 "$tid"
else
  skip "no /usr/bin/python3 to read the frames"
fi

# ---- diff of two runs, the second leaking more ----
diff=$("$AGG" -o "$t/out" --prefix w7 --diff "$t/w3" "$t/w7"); status=$?
check_eq "diff: exit status" 0 "$status"
check_eq "diff: total leak growth" 123600 "$(get "$diff" function '[total]' delta_leaked_bytes)"
check_eq "diff: the growing stack" 123600 "$(get "$diff" function inlined_alloc delta_leaked_bytes)"
check_eq "diff: stacks that did not change are not listed" "" "$(get "$diff" function make_block delta_leaked_bytes)"
"$AGG" -o "$t/out" --prefix w7 --diff "$t/w3" --fail-on-growth=100000 "$t/w7" > /dev/null 2> "$t/err"; status=$?
check_eq "diff: --fail-on-growth trips" 3 "$status"
check_eq "diff: and says why" 1 "$(grep -c 'leaked bytes grew by 123600' "$t/err")"
"$AGG" -o "$t/out" --prefix w7 --diff "$t/out/w3_comprehensive.json" --fail-on-growth=200K "$t/w7" > /dev/null; status=$?
check_eq "diff: against the base's JSON, under the limit" 0 "$status"
json_diff=$("$AGG" -o "$t/out" --prefix w7 --diff "$t/out/w3_comprehensive.json" "$t/w7")
check_eq "diff: the JSON base gives the same growth" 123600 "$(get "$json_diff" function inlined_alloc delta_leaked_bytes)"

# ---- a truncated trace: analysed, the loss reported ----
cp -r "$t/w3" "$t/cut"
big=$(ls -S "$t"/cut/thread-*.mst | head -n 1)
size=$(stat -c %s "$big")
truncate -s $((size / 2)) "$big"
cut_sum=$("$AGG" -o "$t/out" --prefix cut "$t/cut" 2> "$t/err"); status=$?
check_eq "truncated: exit status 0" 0 "$status"
check_eq "truncated: one damaged file" 1 "$(summary_of "$cut_sum" damaged_files)"
check_eq "truncated: the warning names the file" 1 "$(grep -c "warning: $big" "$t/err")"
check_eq "truncated: and the events lost" 1 "$(grep -c 'events lost' "$t/err")"
check_le "truncated: what is intact is analysed" 1 "$(summary_of "$cut_sum" allocations)"
"$AGG" --strict -o "$t/out" --prefix cut "$t/cut" > /dev/null 2>&1; status=$?
check_eq "truncated: --strict exits 2" 2 "$status"

# ---- a plugin loaded and unloaded: its frames still resolve ----
traced "$t/dl" "$V/v-dlopen" "$MS_TOP_BUILDDIR/tests/victims/.libs/v-dlopen-lib.so" > /dev/null
dl=$("$AGG" -r leaks "$t/dl")
check_eq "dlclose'd plugin: its leak by name" 30123 "$(get "$dl" function plugin_allocate leaked_bytes)"
line=$(grep -n 'malloc (30123)' "$MS_TOP_SRCDIR/tests/victims/v-dlopen-lib.c" | cut -d: -f1)
check_eq "dlclose'd plugin: and its line" "v-dlopen-lib.c:$line" "$(basename "$(get "$dl" function plugin_allocate location)")"

# ---- a killed program: what it recorded is analysed, and that is no damage ----
kill_when_ready "$t/kill" 500 > /dev/null
kill_sum=$("$AGG" --strict "$t/kill" 2> "$t/err"); status=$?
check_eq "killed: --strict still exits 0" 0 "$status"
check_le "killed: every allocation before the kill" 500 "$(summary_of "$kill_sum" allocations)"
check_eq "killed: said so" 1 "$(grep -c 'ended without its exit record' "$t/err")"

# ---- children ----
traced "$t/fork" "$V/v-fork" > /dev/null
fork_sum=$("$AGG" "$t/fork")
check_eq "fork: two processes" 2 "$(summary_of "$fork_sum" processes)"
check_le "fork: both processes' leaks" $((5 * 30011 + 30033 + 7 * 30022)) "$(summary_of "$fork_sum" leaked_bytes)"

# ---- the man page lists every option of --help, and no other ----
MAN="$MS_TOP_SRCDIR/man/memscope-aggregate.1"
help_opts=$("$AGG" --help | grep -o -- '--[a-z][a-z-]*' | grep -v -- '--help' | sort -u)
man_opts=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$MAN" | grep -A1 '^\.TP' | grep -o -- '\\-\\-[a-z][a-z\\-]*' |
  sed 's/\\-/-/g' | grep -v -- '--help' | sort -u)
check_eq "man page: the options of --help" "$help_opts" "$man_opts"

# ---- with memscope-run: its resource samples reach the thread table ----
RUN="$MS_TOP_BUILDDIR/cli/memscope-run"
if [ -x "$RUN" ] && timeout 60 "$RUN" -q --interval=20 -o "$t/run" -- "$V/agg-workload" 3 400 > /dev/null 2>&1; then
  threads=$("$AGG" -r threads -o "$t/out" --prefix run "$t/run")
  main_tid=$(printf '%s\n' "$threads" | awk -F'\t' 'NR > 1 && $5 > 200 { print $3 }')
  cpu=$(get "$threads" tid "$main_tid" cpu_percent)
  # it spins for 400 ms of wall time: on a loaded machine that is less CPU
  check_le "memscope-run: the spinning main thread's CPU is seen" 5 "${cpu%.*}"
  check_eq "memscope-run: and it allocated what it did" 204 "$(get "$threads" tid "$main_tid" allocations)"
  "$VALIDATE" "$SCHEMA" "$t/out/run_resource_rankings.json"; ok $? "memscope-run: resource rankings valid"
else
  skip "memscope-run could not run the victim"
  skip "memscope-run could not run the victim"
  skip "memscope-run could not run the victim"
fi

# ---- errors ----
"$AGG" > /dev/null 2>&1; check_eq "no trace directory: usage error" 1 $?
"$AGG" "$t/nowhere" > /dev/null 2> "$t/err"; status=$?
check_eq "missing directory: exit 2" 2 "$status"
check_eq "missing directory: a clear message" 1 "$(grep -c 'does not exist' "$t/err")"
mkdir "$t/empty"
"$AGG" "$t/empty" > /dev/null 2> "$t/err"; status=$?
check_eq "empty directory: exit 2" 2 "$status"
check_eq "empty directory: says how to record" 1 "$(grep -c 'memscope-run' "$t/err")"
"$AGG" --report=bogus "$t/w3" > /dev/null 2>&1; check_eq "unknown report: usage error" 1 $?
"$AGG" -r threads -f collapsed "$t/w3" > /dev/null 2>&1; check_eq "collapsed threads: usage error" 1 $?
"$AGG" --fail-on-growth=1 "$t/w3" > /dev/null 2>&1; check_eq "--fail-on-growth without --diff: usage error" 1 $?

finish
