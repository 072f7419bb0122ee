#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shim, end to end: victims with exactly known allocations run under
# LD_PRELOAD, and ms-trace-stats (an oracle independent of the aggregator)
# reads the traces back.
set -u
. "$MS_TOP_SRCDIR/tests/libtest.sh"

t=$ms_test_tmp
V=$MS_VICTIMS

# ---- one thread, every entry point, leaks from three call paths ----
out=$(traced "$t/basic" "$V/v-basic"); status=$?
check_eq "basic: exit status passes through" 7 "$status"
check_eq "basic: output unchanged" "basic done" "$out"
s=$(stats "$t/basic")
check_eq "basic: allocations" 117 "$(stat_of "$s" allocs)"
check_eq "basic: frees (realloc's included)" 108 "$(stat_of "$s" frees)"
expected_bytes=$(( (30001 + 30100) * 100 / 2 + 30003 + 30010 + 30020 + 30030 + 30040 + 30041 + 30042 + 30043 + 2 * 30500 + 3 * 30600 + 4 * 30700 ))
check_eq "basic: bytes allocated" "$expected_bytes" "$(stat_of "$s" bytes_allocated)"
check_eq "basic: leaked blocks" 9 "$(stat_of "$s" live_blocks)"
check_eq "basic: leaked bytes" $((2 * 30500 + 3 * 30600 + 4 * 30700)) "$(stat_of "$s" live_bytes)"
check_eq "basic: files closed" "$(stat_of "$s" files)" "$(stat_of "$s" closed_files)"
leaks=$(printf '%s\n' "$s" | grep '^leak ')
check_eq "basic: three leaking call paths" 3 "$(printf '%s\n' "$leaks" | wc -l)"
for want in "2 leak_alpha" "3 leak_beta" "4 leak_gamma"; do
  count=${want% *} fn=${want#* }
  line=$(printf '%s\n' "$leaks" | grep "^leak count=$count ")
  leaf=$(printf '%s\n' "$line" | sed 's/.*stack=//; s/;.*//')
  check_eq "basic: $count leaked blocks from $fn" "$fn" "$(function_at "$leaf")"
  caller=$(printf '%s\n' "$line" | sed 's/.*stack=//' | cut -d';' -f2)
  check_eq "basic: $fn called from main" main "$(function_at "$caller")"
done

# ---- errno ----
want=$("$V/v-errno")
got=$(MEMSCOPE_MMAP=1 traced "$t/errno" "$V/v-errno")
check_eq "errno after every entry point is what it is without the shim" "$want" "$got"
got=$(MEMSCOPE_SAMPLING=tiered traced "$t/errno-tiered" "$V/v-errno")
check_eq "errno unchanged when sampling too" "$want" "$got"

# ---- C++ new/delete ----
out=$(traced "$t/cxx" "$V/v-cxx"); status=$?
check_eq "c++: exit status" 0 "$status"
s=$(stats "$t/cxx")
check_eq "c++: new and new[] recorded" 16 "$(stat_of "$s" allocs)"
check_eq "c++: delete and delete[] recorded" 15 "$(stat_of "$s" frees)"
check_eq "c++: one Big leaked" 30200 "$(stat_of "$s" live_bytes)"

# ---- before main ----
traced "$t/ctor" "$V/v-ctor"
s=$(stats "$t/ctor" --min-size 30777 --max-size 30777)
check_eq "constructor allocation before main recorded" 1 "$(stat_of "$s" allocs)"

# ---- dlopen/dlclose ----
lib="$MS_TOP_BUILDDIR/tests/victims/.libs/v-dlopen-lib.so"
traced "$t/dl" "$V/v-dlopen" "$lib"; status=$?
check_eq "dlopen: exit status" 0 "$status"
s=$(stats "$t/dl")
check_eq "dlopen: both allocations" 2 "$(stat_of "$s" allocs)"
"$MS_DUMP" "$t/dl/process.mst" > "$t/dl.txt" 2>/dev/null
grep -q "module_load .*path=$lib" "$t/dl.txt"; ok $? "dlopen: the plugin is in the module map"
grep -q "module_unload" "$t/dl.txt"; ok $? "dlclose: the plugin's unload is recorded"
leaf=$(printf '%s\n' "$s" | grep '^leak count=1 bytes=30123 ' | sed 's/.*stack=//; s/;.*//')
check_eq "dlopen: the unloaded plugin's frame resolves" plugin_allocate "$(function_at "$leaf")"

# ---- threads: 500 x 10,000, then the same 20 times ----
traced "$t/mt" "$V/v-threads" 500 10000; status=$?
check_eq "500 threads: exit status" 0 "$status"
s=$(stats "$t/mt")
check_eq "500 threads: allocations" 5000000 "$(stat_of "$s" allocs)"
check_eq "500 threads: frees" 5000000 "$(stat_of "$s" frees)"
check_eq "500 threads: threads seen" 500 "$(stat_of "$s" threads)"
check_eq "500 threads: nothing lost" 0 "$(stat_of "$s" lost)"
# the same program records the same events every time: the first run's
# record counts, checked above to the allocation, stand for the others
# (counting is cheaper than matching, which matters in the ASan build)
counts () { find "$1" -name 'thread-*.mst' -exec "$MS_DUMP" --counts {} + 2>/dev/null | grep -E '^(alloc|free|realloc) ' | sort; }
want=$(counts "$t/mt")
failures=0
for i in $(seq 20); do
  rm -rf "$t/mt"
  if ! timeout 120 env MEMSCOPE_OUTPUT="$t/mt" LD_PRELOAD="$MS_SHIM" "$V/v-threads" 500 10000; then
    failures=$((failures + 1))
  elif [ "$(counts "$t/mt")" != "$want" ]; then
    echo "# run $i: record counts differ"
    failures=$((failures + 1))
  fi
done
check_eq "500 threads x 10,000, 20 runs: no deadlock, exact every time" 0 "$failures"
rm -rf "$t/mt"

# ---- 20,000 short-lived threads ----
traced "$t/short" "$V/v-shortlived" 20000 8; status=$?
check_eq "20,000 threads: exit status" 0 "$status"
s=$(stats "$t/short")
check_eq "20,000 threads: allocations" 60000 "$(stat_of "$s" allocs)"
check_eq "20,000 threads: frees" 60000 "$(stat_of "$s" frees)"
check_eq "20,000 threads: every thread's start" 20001 "$(stat_of "$s" thread_starts)"
check_le "20,000 threads: files bounded by concurrent threads (8 + main + 4)" "$(stat_of "$s" files)" 13
rm -rf "$t/short"

# ---- cross-thread frees ----
traced "$t/pc" "$V/v-prodcons" 10000; status=$?
check_eq "producer/consumer: exit status" 0 "$status"
s=$(stats "$t/pc")
check_eq "producer/consumer: allocations" 10000 "$(stat_of "$s" allocs)"
check_eq "producer/consumer: every free matched" 10000 "$(stat_of "$s" frees)"
check_eq "producer/consumer: all frees cross-thread" 10000 "$(stat_of "$s" cross_thread_frees)"

# ---- threads by name ----
MEMSCOPE_THREADS='worker-*' traced "$t/named" "$V/v-named"
s=$(stats "$t/named")
check_eq "MEMSCOPE_THREADS: only matching threads, renames count" 300 "$(stat_of "$s" allocs)"
s=$(stats "$t/named" --min-size 30002 --max-size 30003)
check_eq "MEMSCOPE_THREADS: other threads not recorded" 0 "$(stat_of "$s" allocs)"

# ---- a thread still running at exit ----
traced "$t/running" "$V/v-running"; status=$?
check_eq "running thread at exit: exit status" 0 "$status"
s=$(stats "$t/running")
line=$(printf '%s\n' "$s" | grep '^site ' | while read -r l; do
         [ "$(function_at "${l##*leaf=}")" = worker_allocate ] && printf '%s\n' "$l"
       done)
check_eq "running thread at exit: its call-site totals are written" "freq_count=100" \
  "$(printf '%s\n' "$line" | grep -o 'freq_count=[0-9]*')"

# ---- fork ----
out=$(traced "$t/fork" "$V/v-fork"); status=$?
check_eq "fork: exit status" 0 "$status"
child=$(printf '%s\n' "$out" | sed -n 's/^child \([0-9]*\) .*/\1/p')
s=$(stats "$t/fork")
check_eq "fork: parent's allocations, not the child's" 6 "$(stat_of "$s" allocs)"
s=$(stats "$t/fork/$child")
check_eq "fork: child's own directory, its own allocations only" 7 "$(stat_of "$s" allocs)"
check_eq "fork: child allocated 30022-byte blocks" $((7 * 30022)) "$(stat_of "$s" bytes_allocated)"

out=$(traced "$t/exec" "$V/v-fork" "$V/v-basic"); status=$?
check_eq "fork+exec: exit status" 0 "$status"
check_eq "fork+exec: child's status" "child" "$(printf '%s\n' "$out" | grep -c 'status 7' | sed 's/1/child/')"
child=$(printf '%s\n' "$out" | sed -n 's/^child \([0-9]*\) .*/\1/p')
s=$(stats "$t/exec/$child")
check_eq "fork+exec: the forked child before exec" 7 "$(stat_of "$s" allocs)"
s=$(stats "$t/exec/$child-exec1")
check_eq "fork+exec: the exec'd program, exact totals" 117 "$(stat_of "$s" allocs)"
check_eq "fork+exec: the exec'd program's leaks" 9 "$(stat_of "$s" live_blocks)"

rm -rf "$t/nofollow"
MEMSCOPE_FOLLOW_CHILDREN=0 traced "$t/nofollow" "$V/v-fork" "$V/v-basic" > /dev/null
check_eq "MEMSCOPE_FOLLOW_CHILDREN=0: the exec'd child is not profiled" 0 \
  "$(find "$t/nofollow" -maxdepth 1 -name '*-exec*' | wc -l)"

# ---- a daemon that closes every descriptor ----
traced "$t/daemon" "$V/v-daemon" "$t/daemon.done"
for i in $(seq 100); do [ -e "$t/daemon.done" ] && break; sleep 0.1; done
sleep 0.2
dir=$(find "$t/daemon" -mindepth 1 -maxdepth 1 -type d | head -n 1)
s=$(stats "$dir")
check_eq "daemon: allocations after closing fds 3..1023 and daemon()" 60 "$(stat_of "$s" allocs)"
check_eq "daemon: frees" 10 "$(stat_of "$s" frees)"

# ---- SIGKILL ----
check_eq "SIGKILL: victim announced" "ready 2000" "$(kill_when_ready "$t/kill" 2000)"
s=$(stats "$t/kill")
check_eq "SIGKILL: every allocation before the kill is in the trace" 2000 "$(stat_of "$s" allocs)"

# ---- output that cannot be written ----
want=$("$V/v-basic" 2>&1); want_status=$?
got=$(MEMSCOPE_OUTPUT=/etc/passwd/trace LD_PRELOAD="$MS_SHIM" "$V/v-basic" 2>"$t/err"); got_status=$?
check_eq "unwritable directory: same output" "$want" "$got"
check_eq "unwritable directory: same exit status" "$want_status" "$got_status"
check_eq "unwritable directory: one warning" 1 "$(grep -c '^memscope: cannot record' "$t/err")"

mkdir -p "$t/full"
if mount -t tmpfs -o size=256k tmpfs "$t/full" 2>/dev/null; then
  want=$("$V/v-threads" 4 100000 2>&1; echo "status $?")
  got=$(MEMSCOPE_OUTPUT="$t/full/trace" LD_PRELOAD="$MS_SHIM" "$V/v-threads" 4 100000 2>"$t/err"; echo "status $?")
  check_eq "full disk: same output and exit status" "$want" "$got"
  check_eq "full disk: one warning" 1 "$(grep -c 'recording stopped' "$t/err")"
  "$MS_DUMP" "$t/full/trace/process.mst" > "$t/full.txt" 2>/dev/null
  grep -q "info error=ENOSPC" "$t/full.txt"; ok $? "full disk: the trace says why it stopped"
  s=$(stats "$t/full/trace")
  check_eq "full disk: what was written is readable" 0 "$(stat_of "$s" damaged)"
  umount "$t/full"
else
  skip "full disk: cannot mount a small tmpfs here"
  skip "full disk: one warning"
  skip "full disk: the trace says why it stopped"
  skip "full disk: what was written is readable"
fi

# ---- sampling: estimates against the exact frequency table ----
check_sampling () {
  local mode=$1 dir=$t/sampling-${1%%:*}
  MEMSCOPE_SAMPLING=$mode traced "$dir" "$V/v-sampling"
  local s
  s=$("$MS_STATS" "$dir")
  check_eq "$mode: the trace says it is sampled" 1 "$(stat_of "$s" sampled)"
  local total_est=0 total_true=0
  for spec in site_a:400000:64 site_b:100000:512 site_c:40000:2048 site_d:20000:8192 site_e:4000:20480 site_f:400:102400; do
    local fn=${spec%%:*} rest=${spec#*:}
    local count=${rest%%:*} size=${rest#*:}
    local line est freq_bytes freq_count
    line=$(printf '%s\n' "$s" | grep '^site ' | while read -r l; do
             leaf=${l##*leaf=}
             [ "$(function_at "$leaf")" = "$fn" ] && printf '%s\n' "$l"
           done | head -n 1)
    est=$(printf '%s\n' "$line" | sed -n 's/.*est_bytes=\([0-9]*\).*/\1/p')
    freq_bytes=$(printf '%s\n' "$line" | sed -n 's/.*freq_bytes=\([0-9]*\).*/\1/p')
    freq_count=$(printf '%s\n' "$line" | sed -n 's/.*freq_count=\([0-9]*\).*/\1/p')
    check_eq "$mode: frequency table exact for $fn" "$count $((count * size))" "$freq_count $freq_bytes"
    check_within "$mode: estimated bytes of $fn" "${est:-0}" $((count * size)) 10
    total_est=$((total_est + ${est:-0}))
    total_true=$((total_true + count * size))
  done
  check_within "$mode: estimated total bytes" "$total_est" "$total_true" 10
}
check_sampling tiered
check_sampling bytes:8192

# ---- memory per tracked thread ----
bare=$("$V/v-rss" 500)
shimmed=$(traced "$t/rss" "$V/v-rss" 500)
per_thread=$(( (shimmed - bare) / 500 ))
echo "# RSS per thread: bare $bare KiB, with the shim $shimmed KiB for 500 threads: $per_thread KiB each"
check_le "resident memory per tracked thread (KiB)" "$per_thread" 128

finish
