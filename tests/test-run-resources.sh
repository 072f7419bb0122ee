#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The resource samples memscope-run writes: how many, and that they say
# what the program did (run-busy: one thread spinning, RSS growing); and
# the same over time in memscope-aggregate's report.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

T=$ms_test_tmp
V=$MS_VICTIMS

"$MS_RUN" -q -o "$T/busy" -- "$V/run-busy" 2 > "$T/busy.out"
check_eq "run-busy ran" 0 $?
self_percent=$(sed -n 's/^busy //p' "$T/busy.out")
resources "$T/busy" 1 > "$T/proc.txt"
check_eq "one process was sampled" 1 "$(cut -d' ' -f2 "$T/proc.txt" | sort -u | wc -l)"
# The samples of the program's two seconds: its exit (freeing, the shim's
# destructor, teardown) can take longer on a loaded machine, and the
# samples taken meanwhile are no part of the two seconds.
n=$(wc -l < "$T/proc.txt")
in_run=$(awk 'NR == 1 { first = $1 } $1 - first <= 2050000000 { n++ } END { print n + 0 }' "$T/proc.txt")
if [ "$in_run" -ge 18 ] && [ "$in_run" -le 22 ]; then ok 0 "a 2-second run gives 18 to 22 samples at 100 ms ($in_run)"
else ok 1 "a 2-second run gives 18 to 22 samples at 100 ms ($in_run)"; fi

# values: RSS HWM VSIZE UTIME STIME VCS IVCS MINFLT MAJFLT RCHAR WCHAR SYSCR SYSCW RB WB THREADS
awk -F'[ ,]' '
  NR == 1 { rss0 = $3 }
  # the largest RSS: a last sample may come after the program freed it all
  { rss = $3; hwm = $4; vsize = $5; threads = $18
    if (rss > maxrss) maxrss = rss
    if (hwm < rss) bad = bad " hwm<rss@" NR
    if (vsize < rss) bad = bad " vsize<rss@" NR
    if (threads > maxthreads) maxthreads = threads }
  END { printf "growth=%d maxthreads=%d bad=%s\n", (maxrss - rss0) / 1048576, maxthreads, bad }' \
  "$T/proc.txt" > "$T/proc.sum"
growth=$(sed 's/growth=\([0-9]*\).*/\1/' "$T/proc.sum")
check_le "RSS grows as the program allocates 1 MiB per 100 ms (MiB)" 10 "$growth"
contains "$T/proc.sum" "maxthreads=2 bad=" "thread count 2, HWM >= RSS and vsize >= RSS in every sample"

busy_tid=$(dump "$T/busy/resources.mst" | sed -n 's/.* thread_name tid=\([0-9]*\) name=busy$/\1/p' | head -1)
check_eq "the spinning thread is named in the samples" yes "$([ -n "$busy_tid" ] && echo yes)"
resources "$T/busy" 2 "$busy_tid" > "$T/busy.txt"
# times are ns; thread values: UTIME STIME VCS IVCS MINFLT MAJFLT PID
percent=$(awk -F'[ ,]' 'NR == 1 { t0 = $1; c0 = $3 + $4 } { t = $1; c = $3 + $4 }
                        END { printf "%d", (t > t0) ? 100 * (c - c0) / (t - t0) : 0 }' "$T/busy.txt")
# A whole core on an idle machine; on a loaded one, what the thread got.
echo "# the spinning thread: $percent % of a core as sampled, $self_percent % as it measured itself"
check_le "the samples say how much of a core the spinning thread used (% - 15)" "$((self_percent - 15))" "$percent"
check_le "... (% + 15)" "$percent" "$((self_percent + 15))"
check_le "... and never more than one core" "$percent" 105
pid=$(cut -d' ' -f2 "$T/proc.txt" | head -1)
check_eq "thread samples carry their process's pid" "$pid" "$(cut -d' ' -f3 "$T/busy.txt" | cut -d, -f7 | sort -u)"
grower=$(dump "$T/busy/resources.mst" | sed -n 's/.* thread_name tid=\([0-9]*\) name=grower$/\1/p' | head -1)
check_eq "a thread renamed after the start gets its new name" "$pid" "$grower"

# A tick is one sampling time. The process is sampled at each tick while
# it lives; memscope-run may tick again while it waits for the end, and
# those ticks sample the system only.
dump "$T/busy/resources.mst" | awk '$2 == "resource" { print $1 }' | sort -un > "$T/ticks.txt"
ticks=$(wc -l < "$T/ticks.txt")
cut -d' ' -f1 "$T/proc.txt" > "$T/proc-times.txt"
check_eq "the process is sampled at each tick while it lives" "$n" \
  "$(head -n "$n" "$T/ticks.txt" | cmp -s - "$T/proc-times.txt" && echo "$n")"
nproc=$(grep -c '^cpu[0-9]' /proc/stat)
check_eq "every core is sampled each time" "$((ticks * nproc))" "$(resources "$T/busy" 4 | wc -l)"
resources "$T/busy" 3 > "$T/sys.txt"
check_eq "the system is sampled each time" "$ticks" "$(wc -l < "$T/sys.txt")"
awk -F'[ ,]' -v n="$nproc" '$3 > 0 && $4 > 0 && $4 <= $3 && $12 == n { good++ } END { exit good != NR }' "$T/sys.txt"
ok $? "system samples: memory total and available, the number of cores"
dump "$T/busy/resources.mst" > "$T/all.txt"
contains "$T/all.txt" "info interval_msec=100" "the interval is recorded"
contains "$T/all.txt" "info command=$V/run-busy\\x002" "the command line is recorded"
grep -q -E 'info gpu=(none|nvml)$' "$T/all.txt"
ok $? "whether GPUs were sampled is recorded"
contains "$T/all.txt" " close " "the file is closed"

# --- the same samples in memscope-aggregate's report -----------------------------
JSON="$MS_TOP_BUILDDIR/tests/ms-json"
"$MS_TOP_BUILDDIR/cli/memscope-aggregate" -o "$T/agg" "$T/busy" > /dev/null 2> "$T/agg.err"
ok $? "memscope-aggregate reads the run"
COMP="$T/agg/run-busy_comprehensive.json"
"$MS_TOP_BUILDDIR/tests/test-aggregate-jsonschema" "$MS_TOP_SRCDIR/data/memscope-report.schema.json" "$COMP"
ok $? "the report with the resource series follows the schema"
check_eq "resources.series: one point per sample of the process" "$n" \
  "$("$JSON" get "$COMP" processes.0.resources.series)"
"$JSON" rows "$COMP" processes.0.resources.series time_ns rss_bytes cpu_percent threads > "$T/series.txt"
# (times since the trace started: the monitor's first sample may come
# before the program's start, and counts as 0; printf, since mawk prints
# numbers past 2^31 as %g)
check_eq "resources.series: the samples' times" \
  "$(awk -v t0="$("$JSON" get "$COMP" trace.start_mono_ns)" '{ printf "%.0f\n", ($1 > t0) ? $1 - t0 : 0 }' "$T/proc.txt" | tr '\n' ' ')" \
  "$(cut -f1 "$T/series.txt" | tr '\n' ' ')"
# the program's two seconds, as above: RSS grows by 1 MiB per 100 ms, its
# spinning thread keeps a core busy, and it has two threads
awk -F'\t' -v self="$self_percent" '
  NR == 1 { t0 = $1; rss0 = $2; first_cpu = $3 }
  $1 - t0 <= 2050000000 { if ($2 > rss) rss = $2
                          if (NR > 1) { cpu += $3; n++ }
                          if ($4 > threads) threads = $4 }
  END { printf "first=%s growth=%d cpu=%d threads=%d\n", first_cpu, (rss - rss0) / 1048576, n ? cpu / n : 0, threads }' \
  "$T/series.txt" > "$T/series.sum"
contains "$T/series.sum" "first=null" "resources.series: the first sample has no CPU rate"
check_le "resources.series: RSS grows (MiB)" 10 "$(sed 's/.*growth=\([0-9]*\).*/\1/' "$T/series.sum")"
series_cpu=$(sed 's/.*cpu=\([0-9]*\).*/\1/' "$T/series.sum")
echo "# the process: $series_cpu % of a core in resources.series, its busy thread $self_percent % as it measured itself"
check_le "resources.series: CPU of the process near its spinning thread's (% - 15)" "$((self_percent - 15))" "$series_cpu"
check_le "... (% + 25: the growing thread works too)" "$series_cpu" "$((self_percent + 25))"
contains "$T/series.sum" "threads=2" "resources.series: two threads"
check_eq "system_timeline: one point per tick" "$ticks" "$("$JSON" get "$COMP" system_timeline.points)"
check_eq "system_timeline: the cores" "$nproc" "$("$JSON" get "$COMP" system_timeline.n_cpus)"
"$JSON" rows "$COMP" system_timeline.points cpu_percent mem_available_bytes load1 |
  awk -F'\t' 'NR == 1 && $1 != "null" { bad++ } NR > 1 && $1 != "null" && ($1 < 0 || $1 > 100) { bad++ }
               $2 <= 0 { bad++ } END { exit bad > 0 }'
# (a tick that comes late is followed by one on time, sooner than the
# interval: within one clock tick of /proc/stat, the CPU share is null)
ok $? "system_timeline: CPU between 0 and 100 % (or null) after the first tick, memory available"

"$MS_RUN" -q --interval=50 -o "$T/fast" -- "$V/run-busy" 1
# Judged by the gaps between the samples' own times: on a loaded machine
# (CI runs two test programs at once) the monitor may miss a tick, and
# then goes on from there, and a late tick makes the next gap shorter: the
# typical gap (the median) is the interval.
verdict=$(resources "$T/fast" 1 | awk 'NR > 1 { print ($1 - prev) / 1e6 } { prev = $1 }' | sort -n | awk '
  { gap[NR] = $1 }
  END { median = gap[int((NR + 1) / 2)]
        printf "%s: %d gaps, median %.1f ms, shortest %.1f ms\n",
               (NR >= 8 && median >= 40 && median <= 60) ? "good" : "bad", NR, median, gap[1] }')
case $verdict in
  good*) ok 0 "--interval=50: a sample every 50 ms (${verdict#*: })" ;;
  *) ok 1 "--interval=50: a sample every 50 ms (${verdict#*: })" ;;
esac
"$MS_RUN" -q --interval=0 -o "$T/none" -- "$V/run-exit" 0
check_eq "--interval=0: no resource file" no "$([ -e "$T/none/resources.mst" ] && echo yes || echo no)"

finish
