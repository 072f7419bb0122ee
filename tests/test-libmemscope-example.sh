#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libmemscope(3) (TAP): the page's example program, taken from the page
# source, builds with nothing but what `pkg-config --cflags --libs memscope`
# gives a user (pointed at this build tree), runs, and prints exactly what
# its workload implies and what the page shows; an independent reader
# (ms-trace-stats) agrees about the trace it wrote. The page documents every
# exported symbol, MsError code and MEMSCOPE_* variable, and man tools
# accept it.
set -uo pipefail

. "$MS_TOP_SRCDIR/tests/libtest.sh"

page=$MS_TOP_SRCDIR/man/libmemscope.3
cc=${MS_EXAMPLE_CC:-cc}
pkg_config=${MS_EXAMPLE_PKG_CONFIG:-pkg-config}
libdir=$MS_TOP_BUILDDIR/lib/.libs

# The lines strictly between the comment lines `.\" NAME-begin` and
# `.\" NAME-end` of the page, with the groff escapes the page may use in
# code turned back into C. Any other escape fails: the program would not
# be what a reader of the page sees.
page_block () {
  local mark text
  mark=$(printf '\001')
  text=$(sed -n "/^\.\\\\\" $1-begin\$/,/^\.\\\\\" $1-end\$/p" "$page" | sed '1d;$d') || return 1
  [ -n "$text" ] || return 1
  text=$(printf '%s\n' "$text" | sed -e "s/\\\\e/$mark/g" -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" \
    -e 's/\\(dq/"/g' -e 's/\\&//g')
  if printf '%s\n' "$text" | grep -n '\\' | sed 's/^/# line /' >&2; then
    echo "# unknown groff escape in the $1 block" >&2
    return 1
  fi
  printf '%s\n' "$text" | sed "s/$mark/\\\\/g"
}

# Runs the example with no MEMSCOPE_* variable but those given:
# run_example OUT-PREFIX [VAR=VALUE...] -- ARGS...
run_example () {
  local out=$1; shift
  local -a vars=()
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  env $(env | sed -n 's/^\(MEMSCOPE_[A-Za-z0-9_]*\)=.*/-u \1/p') "${vars[@]}" \
    "$ms_test_tmp/selftrace" "$@" >"$out.out" 2>"$out.err"
  echo $? >"$out.rc"
}

# ---- the program builds from the page, with the public flags only ----

page_block example >"$ms_test_tmp/selftrace.c"
ok $? "the page's example program is extracted ($(wc -l <"$ms_test_tmp/selftrace.c") lines)"
page_block output >"$ms_test_tmp/page-output"
ok $? "the page shows the example's output"
if [ $ms_test_failed -ne 0 ]; then
  finish
fi

# The uninstalled memscope.pc of this build, with the in-tree headers and
# library first: what an installed memscope gives, minus the install.
pc_flags=$(PKG_CONFIG_PATH="$MS_TOP_BUILDDIR/lib${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
  "$pkg_config" --cflags --libs memscope)
ok $? "pkg-config --cflags --libs memscope: $pc_flags"
# shellcheck disable=SC2086 # the flags are words
"$cc" ${MS_EXAMPLE_CFLAGS:-} -Wall -Wextra -Werror -o "$ms_test_tmp/selftrace" "$ms_test_tmp/selftrace.c" \
  -I"$MS_TOP_SRCDIR/lib" -I"$MS_TOP_BUILDDIR/lib" -L"$libdir" -Wl,-rpath,"$libdir" $pc_flags \
  >"$ms_test_tmp/cc.log" 2>&1
status=$?
sed 's/^/# /' "$ms_test_tmp/cc.log"
ok $status "the example compiles and links warning-free against the in-tree libmemscope"
if [ $status -ne 0 ]; then
  finish
fi

# ---- it prints what its workload implies ----

# Main: one table of 64 ints (256 bytes), labelled, live at the end. Two
# workers: 100 + 200 + 300 bytes each, all freed.
expected="threads: 3
allocations: 7 (1456 bytes)
frees: 6 (1200 bytes)
live blocks: 1 (256 bytes)
label: table (int) on a block of 256 live bytes"

trace=$ms_test_tmp/trace
run_example "$ms_test_tmp/run" -- "$trace"
check_eq "the example exits with 0" 0 "$(cat "$ms_test_tmp/run.rc")"
sed 's/^/# stderr: /' "$ms_test_tmp/run.err"
check_eq "the example says nothing on stderr" 0 "$(wc -c <"$ms_test_tmp/run.err")"
if [ "$(cat "$ms_test_tmp/run.out")" = "$expected" ]; then
  ok 0 "the example's summary has the workload's exact numbers"
else
  diff <(printf '%s\n' "$expected") "$ms_test_tmp/run.out" | sed 's/^/# /'
  ok 1 "the example's summary has the workload's exact numbers"
fi
if cmp -s "$ms_test_tmp/page-output" "$ms_test_tmp/run.out"; then
  ok 0 "the page shows the example's real output"
else
  diff "$ms_test_tmp/page-output" "$ms_test_tmp/run.out" | sed 's/^/# /'
  ok 1 "the page shows the example's real output"
fi

# ---- an independent reader agrees about the trace it wrote ----

# Leak checking is off for the oracle, which is not what is tested here
# (and keeps its sources until it exits).
stats_text=$(ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$MS_STATS" "$trace")
ok $? "ms-trace-stats reads the example's trace"
check_eq "every file of the trace is closed" "$(stat_of "$stats_text" files)" \
  "$(stat_of "$stats_text" closed_files)"
check_eq "no file is damaged or incomplete" "0 0" \
  "$(stat_of "$stats_text" damaged) $(stat_of "$stats_text" incomplete)"
check_eq "threads" 3 "$(stat_of "$stats_text" threads)"
check_eq "allocations" "7 1456" "$(stat_of "$stats_text" allocs) $(stat_of "$stats_text" bytes_allocated)"
check_eq "frees" "6 1200" "$(stat_of "$stats_text" frees) $(stat_of "$stats_text" bytes_freed)"
check_eq "live blocks" "1 256" "$(stat_of "$stats_text" live_blocks) $(stat_of "$stats_text" live_bytes)"
check_eq "nothing lost, nothing sampled" "0 0" "$(stat_of "$stats_text" lost) $(stat_of "$stats_text" sampled)"
check_eq "the label" "name=table type=int" "$(printf '%s\n' "$stats_text" | sed -n 's/^label //p')"
# The stacks the tracker captured start at the caller of
# ms_tracker_track_alloc: the live table comes from record() under main(),
# the six freed blocks from worker().
IFS=';' read -r -a leak <<<"$(printf '%s\n' "$stats_text" | sed -n 's/^leak count=1 bytes=256 stack=//p')"
check_eq "the live table was allocated in record(), called by main()" "record main" \
  "$(function_at "${leak[0]:-?+0x1}") $(function_at "${leak[1]:-?+0x1}")"
worker_site=$(printf '%s\n' "$stats_text" | sed -n 's/^site .*freq_count=6 leaf=//p')
check_eq "the workers' six blocks come from one call site in worker()" worker \
  "$(function_at "$worker_site")"

# ---- memscope-aggregate reports the label ----

if [ -x "$MS_TOP_BUILDDIR/cli/memscope-aggregate" ]; then
  labels=$("$MS_TOP_BUILDDIR/cli/memscope-aggregate" --report=labels --format=tsv -o "$ms_test_tmp/agg" "$trace")
  ok $? "memscope-aggregate --report=labels reads the example's trace"
  check_eq "the labels table: one label, table (int), on one block of 256 bytes that leaked" \
    "1 table int 1 256 0 1 256 0" \
    "$(printf '%s\n' "$labels" | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
      { print $h["rank"], $h["name"], $h["type"], $h["blocks"], $h["bytes"], $h["freed_blocks"],
              $h["leaked_blocks"], $h["leaked_bytes"], $h["unmatched"] }')"
  check_eq "... in the JSON report too" 1 \
    "$(grep -c '"name" *: *"table"' "$ms_test_tmp"/agg/*_comprehensive.json)"
fi

# ---- its error paths ----

run_example "$ms_test_tmp/again" -- "$trace"
check_eq "run again on the same directory: exit status" 1 "$(cat "$ms_test_tmp/again.rc")"
grep -q 'already holds a trace' "$ms_test_tmp/again.err"
ok $? "run again on the same directory: it says the directory holds a trace"

run_example "$ms_test_tmp/bad" MEMSCOPE_DEPTH=0 -- "$ms_test_tmp/bad-trace"
check_eq "MEMSCOPE_DEPTH=0: exit status" 1 "$(cat "$ms_test_tmp/bad.rc")"
grep -q 'bad value in MEMSCOPE_DEPTH' "$ms_test_tmp/bad.err" && [ ! -e "$ms_test_tmp/bad-trace" ]
ok $? "MEMSCOPE_DEPTH=0: it names the variable and traces nothing"

run_example "$ms_test_tmp/nodir" -- "$ms_test_tmp/missing/trace"
check_eq "a directory whose parent is missing: exit status" 1 "$(cat "$ms_test_tmp/nodir.rc")"
grep -q 'No such file or directory' "$ms_test_tmp/nodir.err"
ok $? "a directory whose parent is missing: it says why (ENOENT)"

run_example "$ms_test_tmp/sampled" MEMSCOPE_SAMPLING=tiered MEMSCOPE_MIN_SIZE=1k MEMSCOPE_DEPTH=8 \
  -- "$ms_test_tmp/sampled-trace"
[ "$(cat "$ms_test_tmp/sampled.rc")" = 0 ] && [ "$(cat "$ms_test_tmp/sampled.out")" = "$expected" ]
ok $? "MEMSCOPE_SAMPLING=tiered MEMSCOPE_MIN_SIZE=1k: every event still recorded (the example overrides them)"

# ---- the page documents the whole API, and man tools accept it ----

missing=
for sym in $(sed -n 's/^[[:space:]]*\(ms_[a-z0-9_]*\);.*/\1/p' "$MS_TOP_SRCDIR/lib/libmemscope.sym") \
  $(grep -o 'MS_ERROR_[A-Z_]*' "$MS_TOP_SRCDIR/lib/ms-error.h" | sort -u) \
  $(grep -o '"MEMSCOPE_[A-Z_]*"' "$MS_TOP_SRCDIR/lib/ms-config.c" | tr -d '"' | sort -u) \
  ms_track_var ms_track_var_as ms_writer_commit ms_codec_state_init; do
  grep -qw -- "$sym" "$page" || missing="$missing $sym"
done
check_eq "every exported symbol, MsError code and MEMSCOPE_* variable is in the page" "" "$missing"

if command -v groff >/dev/null; then
  warnings=$(groff -ww -z -man "$page" 2>&1)
  check_eq "groff -ww -z -man prints no warning" "" "$warnings"
else
  skip "groff is not installed"
fi
if command -v lexgrog >/dev/null; then
  lexgrog "$page" | grep -q ': "libmemscope - '
  ok $? "lexgrog finds the NAME line"
else
  skip "lexgrog is not installed"
fi

finish
