#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# memscope-run with the real shim: --threads, followed children, and real
# programs that must run exactly as they do without memscope.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

T=$ms_test_tmp
V=$MS_VICTIMS

if ! have_shim; then
  echo "1..0 # SKIP the preload shim is not built"
  exit 77
fi

# --- --threads ------------------------------------------------------------
"$MS_RUN" -q --threads='worker-*' -o "$T/threads" -- "$V/run-threads"
check_eq "run-threads ran" 0 $?
check_eq "--threads=worker-*: worker-a is tracked" 100 "$(allocs "$T/threads" 40001)"
check_eq "--threads=worker-*: worker-b is tracked" 100 "$(allocs "$T/threads" 40002)"
check_eq "--threads=worker-*: other is not" 0 "$(allocs "$T/threads" 40003)"
check_eq "--threads=worker-*: a thread named so after it started is tracked" 100 "$(allocs "$T/threads" 40004)"
"$MS_RUN" -q -o "$T/all-threads" -- "$V/run-threads"
check_eq "without --threads, every thread is tracked" 100 "$(allocs "$T/all-threads" 40003)"

# --- children -----------------------------------------------------------------
# A forked child writes into DIR/PID/, the program it execs into DIR/PID-exec1/
# (memscope-trace(5)).
"$MS_RUN" -q -o "$T/spawn" -- "$V/run-spawn" 2 "$V/run-exit" 0 > "$T/spawn.pids"
check_eq "run-spawn ran" 0 $?
check_eq "two children were started" 2 "$(wc -l < "$T/spawn.pids")"
for pid in $(cat "$T/spawn.pids"); do
  check_eq "child $pid's program has its own directory with a process file" yes \
    "$([ -f "$T/spawn/$pid-exec1/process.mst" ] && echo yes)"
  check_eq "child $pid's allocation is in its own traces" 1 "$(allocs "$T/spawn/$pid-exec1" 40007)"
done
check_eq "the parent's traces hold none of the children's allocations" 0 "$(allocs "$T/spawn" 40007)"
# memscope-aggregate: the exec'd programs are processes of the report, and
# the children they replaced did not die (they exec'd).
JSON="$MS_TOP_BUILDDIR/tests/ms-json"
AGG="$MS_TOP_BUILDDIR/cli/memscope-aggregate"
"$AGG" -o "$T/spawn-agg" "$T/spawn" > /dev/null 2> "$T/spawn-agg.err"
check_eq "memscope-aggregate: the parent, two children and the programs they exec'd" 5 \
  "$("$JSON" get "$T/spawn-agg/run-spawn_comprehensive.json" processes)"
"$JSON" rows "$T/spawn-agg/run-spawn_comprehensive.json" processes pid directory end exit_status > "$T/spawn-ends.txt"
for pid in $(cat "$T/spawn.pids"); do
  check_eq "child $pid: its fork ended by exec, its program by exit" "exec exit" \
    "$(awk -F'\t' -v d="$T/spawn/$pid" '$2 == d { a = $3 } $2 == d "-exec1" { b = $3 } END { print a, b }' "$T/spawn-ends.txt")"
done
check_eq "... and the parent exited with status 0, as memscope-run saw" "exit 0" \
  "$(awk -F'\t' -v d="$T/spawn" '$2 == d { print $3, $4 }' "$T/spawn-ends.txt")"
check_eq "... so memscope-aggregate warns of no process that died" 0 "$(grep -c 'without its exit record\|killed' "$T/spawn-agg.err")"
# A shell ends through _exit, without its exit record: memscope-run saw
# it exit, so that is no warning either; a program killed by a signal is.
"$MS_RUN" -q -o "$T/sh-exit" -- sh -c 'exit 3'
"$AGG" -o "$T/sh-agg" "$T/sh-exit" > /dev/null 2> "$T/sh-agg.err"
check_eq "sh -c 'exit 3': ended by _exit with status 3" "_exit 3" \
  "$("$JSON" rows "$T/sh-agg/sh_comprehensive.json" processes end exit_status | tr '\t' ' ')"
check_eq "... and no warning about it" 0 "$(grep -c 'without its exit record\|killed' "$T/sh-agg.err")"
"$MS_RUN" -q -o "$T/segv" -- "$V/run-exit" segv 2> /dev/null
"$AGG" -o "$T/segv-agg" "$T/segv" > /dev/null 2> "$T/segv-agg.err"
check_eq "a program killed by SIGSEGV: ended by signal 11" "signal 11" \
  "$("$JSON" rows "$T/segv-agg/run-exit_comprehensive.json" processes end signal | tr '\t' ' ')"
contains "$T/segv-agg.err" "was killed by signal 11" "... and memscope-aggregate says so"

"$MS_RUN" -q -o "$T/spawn2" -- "$V/run-spawn" 2 "$V/run-busy" 0.4 > "$T/spawn2.pids"
check_eq "children that live a while are sampled too" 3 \
  "$(resources "$T/spawn2" 1 | cut -d' ' -f2 | sort -u | wc -l)"
"$MS_RUN" -q --no-follow-children -o "$T/nofollow" -- "$V/run-spawn" 2 "$V/run-exit" 0 > /dev/null
check_eq "--no-follow-children: the programs children exec are not profiled" 0 \
  "$(find "$T/nofollow" -mindepth 1 -type d -name '*-exec*' | wc -l)"
check_eq "--no-follow-children: none of their allocations is recorded" 0 \
  "$(for d in "$T/nofollow" "$T"/nofollow/*/; do allocs "$d" 40007; done | awk '{ s += $1 } END { print s }')"

# --- the summary names call sites ----------------------------------------------
"$MS_RUN" -o "$T/named" -- "$V/run-exit" 0 2> "$T/named.err"
contains "$T/named.err" "main (run-exit)" "the summary names the victim's call site"
contains "$T/named.err" "allocations:" "the summary counts allocations"

# --- real programs, unchanged ----------------------------------------------------
# same_output DESCRIPTION COMMAND...: output and status with and without memscope
same_output () {
  local what=$1 plain_status profiled_status
  shift
  "$@" > "$T/plain.out" 2> "$T/plain.err"
  plain_status=$?
  rm -rf "$T/real"
  "$MS_RUN" -q -o "$T/real" -- "$@" > "$T/profiled.out" 2> "$T/profiled.err"
  profiled_status=$?
  check_eq "$what: same exit status" "$plain_status" "$profiled_status"
  if cmp -s "$T/plain.out" "$T/profiled.out" && cmp -s "$T/plain.err" "$T/profiled.err"; then
    ok 0 "$what: same output"
  else
    diff "$T/plain.out" "$T/profiled.out" | head -20 | sed 's/^/# /'
    diff "$T/plain.err" "$T/profiled.err" | head -20 | sed 's/^/# /'
    ok 1 "$what: same output"
  fi
  if [ "$(for f in "$T"/real/thread-*.mst; do dump "$f"; done | grep -c ' alloc ')" -gt 0 ]; then
    ok 0 "$what: allocations were recorded"
  else
    ok 1 "$what: allocations were recorded"
  fi
}

cat > "$T/script.py" <<'EOF'
import collections, json, threading
words = collections.Counter("the quick brown fox jumps over the lazy dog the end".split())
table = {i: str(i) * (i % 7) for i in range(20000)}
def work(n, out):
    out[n] = sum(len(v) for k, v in table.items() if k % (n + 2) == 0)
out = {}
threads = [threading.Thread(target=work, args=(n, out)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"words": words.most_common(3), "sums": [out[n] for n in range(4)]}))
EOF
if [ -x /usr/bin/python3 ]; then
  same_output "python3 on a script" /usr/bin/python3 "$T/script.py"
  same_output "python3 -c" /usr/bin/python3 -c 'import sys; print(sorted({i % 97: i for i in range(10**5)}.items())[:5]); sys.exit(4)'
else
  skip "python3 is missing"
fi

cat > "$T/script.sql" <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  INSERT INTO t SELECT i, 'name-' || i, i * 0.5 FROM n;
CREATE INDEX t_name ON t (name);
SELECT count(*), sum(value), max(name) FROM t;
SELECT name FROM t WHERE id % 1000 = 0 ORDER BY value DESC;
EOF
if command -v sqlite3 > /dev/null; then
  same_output "sqlite3 on an SQL script" sqlite3 :memory: ".read $T/script.sql"
else
  skip "sqlite3 is missing (apt-get install sqlite3)"
fi

same_output "an sh -c pipeline" sh -c 'seq 1 3000 | sort -r | awk "{ s += \$1 } NR % 500 == 0 { print NR, s }" | tr 0-9 a-j'
same_output "sh -c with a failing command" sh -c 'ls /no/such/file; echo status $?'

finish
