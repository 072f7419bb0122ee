#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# memscope-run as a shell would run the program: exit status, signals,
# stdin and stdout, environment; and what it refuses before starting.
set -u
. "$MS_TOP_SRCDIR/tests/test-run-common.sh"

T=$ms_test_tmp
V=$MS_VICTIMS

# --- exit status, as a shell gives it -----------------------------------
"$MS_RUN" -q -o "$T/e0" -- "$V/run-exit" 0
check_eq "exit status 0 passes through" 0 $?
"$MS_RUN" -q -o "$T/e3" -- "$V/run-exit" 3
check_eq "exit status 3 passes through" 3 $?
"$MS_RUN" -q -o "$T/segv" -- "$V/run-exit" segv 2>/dev/null
check_eq "death by SIGSEGV gives 139" 139 $?
"$MS_RUN" -q -o "$T/kill" -- sh -c 'kill -KILL $$'
check_eq "death by SIGKILL gives 137" 137 $?

# --- signals sent to memscope-run reach the program ----------------------
"$MS_RUN" -q -o "$T/term" -- "$V/run-sigterm" "$T/ready" > "$T/term.out" &
run_pid=$!
i=0
while [ ! -e "$T/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$run_pid"
wait "$run_pid"
check_eq "SIGTERM to memscope-run is handled by the program, which exits 0" 0 $?
check_eq "the program saw SIGTERM" "got SIGTERM" "$(cat "$T/term.out")"

# --- the same stdin, stdout and stderr -----------------------------------
head -c 300000 /dev/urandom > "$T/in.bin"
"$MS_RUN" -q -o "$T/cat" -- cat < "$T/in.bin" > "$T/out.bin"
cmp -s "$T/in.bin" "$T/out.bin"
ok $? "stdin to stdout through cat, byte for byte"
"$MS_RUN" -q -o "$T/err" -- sh -c 'echo to-stderr >&2; echo to-stdout' > "$T/o.txt" 2> "$T/e.txt"
check_eq "stdout passes through" "to-stdout" "$(cat "$T/o.txt")"
check_eq "stderr passes through, and -q adds nothing" "to-stderr" "$(cat "$T/e.txt")"
mkdir "$T/wd"
check_eq "the working directory is the same" "$T/wd" "$(cd "$T/wd" && "$MS_RUN" -q -o "$T/pwd" -- sh -c pwd)"

# --- the environment: ours added, the user's kept -------------------------
# (memscope-run gets that LD_PRELOAD too: under AddressSanitizer it must
# not mind a library loaded before the sanitizer's runtime)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
MS_TEST_SAY=user-preload-loaded LD_PRELOAD="$MS_RUN_STUB" \
  "$MS_RUN" -q -o "$T/preload" -- sh -c 'echo "$LD_PRELOAD"' > "$T/preload.out" 2> "$T/preload.err"
check_eq "the user's LD_PRELOAD is kept, after the shim" "$ms_preload:$MS_RUN_STUB" "$(cat "$T/preload.out")"
contains "$T/preload.err" user-preload-loaded "the user's preloaded library is loaded into the program"

"$MS_RUN" -q -o "$T/env" --sampling=bytes:4K --threads='worker-*,io' --depth=12 --min-size=1K \
  --buffer=128K --no-freq --mmap --no-follow-children -- \
  sh -c 'for v in OUTPUT SAMPLING THREADS DEPTH MIN_SIZE BUFFER FREQ MMAP FOLLOW_CHILDREN; do
           eval "echo $v=\${MEMSCOPE_$v-}"; done' > "$T/env.out"
cat > "$T/env.expected" <<EOF
OUTPUT=$T/env
SAMPLING=bytes:4096
THREADS=worker-*,io
DEPTH=12
MIN_SIZE=1024
BUFFER=131072
FREQ=0
MMAP=1
FOLLOW_CHILDREN=0
EOF
diff "$T/env.expected" "$T/env.out" > "$T/env.diff"
ok $? "options become the MEMSCOPE_* variables of the shim"
# (the order is the shell's business: the wrapper script re-exports)
env -u LD_LIBRARY_PATH -u BIN_SH -u DUALCASE -u _ | sort > "$T/env.plain"
"$MS_RUN" -q -o "$T/env2" -- env -u LD_PRELOAD -u MEMSCOPE_OUTPUT -u MEMSCOPE_FOLLOW_CHILDREN \
  -u LD_LIBRARY_PATH -u BIN_SH -u DUALCASE -u _ | sort > "$T/env.profiled"
diff "$T/env.plain" "$T/env.profiled" > "$T/env2.diff"
ok $? "the rest of the environment is the user's, even from the build tree's wrapper script"

# --- the trace directory --------------------------------------------------
mkdir "$T/cwd"
(cd "$T/cwd" && "$MS_RUN" -q -- "$V/run-exit" 0)
set -- "$T"/cwd/memscope-run-exit-*
check_eq "the default directory is ./memscope-PROGRAM-PID" 1 "$(ls -d "$T"/cwd/memscope-run-exit-[0-9]* | wc -l)"
check_eq "it is created with mode 0700" 700 "$(stat -c %a "$1")"
check_eq "it holds the resource samples" yes "$([ -f "$1/resources.mst" ] && echo yes)"
if have_shim; then
  pid=$(dump "$1/process.mst" | sed -n 's/.* info pid=//p')
  check_eq "PID in its name is the program's" "$T/cwd/memscope-run-exit-$pid" "$1"
else
  skip "the shim is not built: the program's pid"
fi

"$MS_RUN" -q -o "$T/e0" -- "$V/run-exit" 0 2> "$T/again.err"
check_eq "a non-empty directory is refused" 2 $?
contains "$T/again.err" "is not empty" "... saying so"
echo keep > "$T/e0/notes.txt"
"$MS_RUN" -q --force -o "$T/e0" -- "$V/run-exit" 0
check_eq "--force reuses it" 0 $?
check_eq "... and keeps the user's own files" keep "$(cat "$T/e0/notes.txt")"
if have_shim; then
  check_eq "... with one process file, the new one, at the top" 1 "$(ls "$T/e0" | grep -c '^process.mst$')"
  check_eq "... and no PID subdirectory" 0 "$(find "$T/e0" -mindepth 1 -type d | wc -l)"
else
  skip "the shim is not built: the traces of the rerun"
fi

# --- refusals, before anything starts --------------------------------------
refused () { # DESCRIPTION EXPECTED-TEXT memscope-run-args...
  local what=$1 text=$2
  shift 2
  (cd "$T/refuse" && "$MS_RUN" "$@") > "$T/refused.out" 2> "$T/refused.err"
  check_eq "$what: exit status 2" 2 $?
  contains "$T/refused.err" "$text" "$what: the message says why"
  check_eq "$what: nothing ran, no directory was made" "" "$(cat "$T/refused.out"; ls "$T/refuse")"
}
mkdir "$T/refuse"
refused "missing program" "was not found" -- no-such-program-for-memscope
refused "missing file" "was not found" -- ./no/such/program
printf 'not a program' > "$T/plain.txt"
chmod 644 "$T/plain.txt"
refused "not executable" "is not executable" -- "$T/plain.txt"
refused "a directory" "is a directory" -- "$T"
refused "static executable" "is statically linked" -- "$V/run-static" 0
printf '#!%s\n' "$V/run-static" > "$T/static-script"
chmod 755 "$T/static-script"
refused "script run by a static interpreter" "is statically linked" -- "$T/static-script"
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
  cp "$V/run-exit" "$T/suid"
  chown nobody "$T/suid"
  chmod 4755 "$T/suid"
  refused "set-user-ID to another user" "set-user-ID" -- "$T/suid" 0
  cp "$V/run-exit" "$T/sgid"
  chgrp "$(id -g nobody)" "$T/sgid"
  chmod 2755 "$T/sgid"
  refused "set-group-ID to another group" "set-group-ID" -- "$T/sgid" 0
else
  skip "setuid refusal needs root and a user nobody"
  skip "setgid refusal needs root and a user nobody"
fi

refused "output under a file" "Cannot create the trace directory" -o "$T/plain.txt/sub" -- /bin/true
refused "output is a file" "exists and is not a directory" -o "$T/plain.txt" -- /bin/true
refused "output in /proc" "Cannot create the trace directory" -o /proc/memscope-test -- /bin/true
# Permissions do not stop root: run as nobody there.
as_user=$(unprivileged "$MS_RUN" "$T" "$T/refuse")
if [ "$as_user" != skip ]; then
  mkdir "$T/ro" && chmod 555 "$T/ro"
  $as_user "$MS_RUN" -o "$T/ro/sub" -- /bin/true 2> "$T/ro.err"
  check_eq "unwritable parent: exit status 2" 2 $?
  contains "$T/ro.err" "Cannot create the trace directory" "unwritable parent: the message says why"
  $as_user "$MS_RUN" -o "$T/ro" -- /bin/true 2> "$T/ro2.err"
  check_eq "unwritable directory: exit status 2" 2 $?
  contains "$T/ro2.err" "Cannot write in the trace directory" "unwritable directory: the message says why"
  chmod 700 "$T"
else
  skip "unwritable directories need a user other than root (setpriv) who can run the build tree's programs"
fi

# --- usage --------------------------------------------------------------
"$MS_RUN" > /dev/null 2> "$T/usage.err"
check_eq "no program: usage error" 1 $?
contains "$T/usage.err" "--help" "... pointing to --help"
for bad in --sampling=some --sampling=bytes:0 --depth=0 --depth=x --interval=5 --buffer=1000 \
           --min-size=-1 --threads=a,,b; do
  "$MS_RUN" "$bad" -- /bin/true 2> "$T/bad.err"
  check_eq "$bad is a usage error" 1 $?
done
contains "$T/bad.err" "--threads" "the message names the option"
"$MS_RUN" --version > "$T/version.out"
contains "$T/version.out" "memscope-run (memscope)" "--version"
"$MS_RUN" --help > "$T/help.out"
contains "$T/help.out" "GPU sampling:" "--help says whether GPUs are sampled"
contains "$T/help.out" "-- PROGRAM [ARG…]" "--help shows how to give the program"
missing=""
for option in $(grep -o -E -- '--[a-z][a-z-]*' "$T/help.out" | sort -u); do
  grep -q -F -- "$(printf '%s' "$option" | sed 's/-/\\-/g')" "$MS_TOP_SRCDIR/man/memscope-run.1" \
    || missing="$missing $option"
done
check_eq "every option of --help is in memscope-run(1)" "" "$missing"

# --- what it says at the end ------------------------------------------------
"$MS_RUN" -o "$T/summary" -- sh -c "'$V/run-busy' 0.3 > /dev/null; exit 3" 2> "$T/summary.err"
check_eq "with a summary, the exit status is still the program's" 3 $?
contains "$T/summary.err" "sh exited with status 3" "the summary gives the exit status"
contains "$T/summary.err" "peak RSS:" "the summary gives the resource peaks"
contains "$T/summary.err" "traces: $T/summary" "the summary says where the traces are"
"$MS_RUN" -o "$T/summary2" -- "$V/run-exit" segv 2> "$T/summary2.err"
contains "$T/summary2.err" "was killed by signal 11" "the summary names the signal"
if have_shim; then
  contains "$T/summary2.err" "trace files were not finished" "... and that the traces were cut short"
  # A thread still running at a normal exit (a worker never joined) leaves
  # a file without its closing record: nothing was cut short.
  "$MS_RUN" -o "$T/unjoined" -- "$V/run-exit" 0 thread 2> "$T/unjoined.err"
  check_eq "a thread still running at exit: the exit status" 0 $?
  check_eq "... is no unfinished trace in the summary" 0 "$(grep -c 'not finished' "$T/unjoined.err")"
  check_eq "... and its allocation was recorded" 1 "$(allocs "$T/unjoined" 40008)"
  "$MS_RUN" -o "$T/unjoined-segv" -- "$V/run-exit" segv thread 2> "$T/unjoined-segv.err"
  contains "$T/unjoined-segv.err" "2 trace files were not finished" "a crash with that thread: both files are unfinished"
fi
PATH=/usr/bin:/bin "$MS_RUN" --report -o "$T/report" -- "$V/run-exit" 0 2> "$T/report.err"
check_eq "--report: the exit status is the program's" 0 $?
if [ -x "$MS_TOP_BUILDDIR/cli/memscope-aggregate" ]; then
  check_eq "--report: memscope-aggregate wrote its JSON" 1 "$(ls "$T"/report/*_comprehensive.json 2>/dev/null | wc -l)"
  check_eq "--report: memscope-aggregate's table does not repeat the summary" 0 \
    "$(grep -c '^bytes_allocated' "$T/report.err")"
else
  contains "$T/report.err" "not available yet" "--report says when the report is not available yet"
fi

# --- the status line on a terminal ------------------------------------------
if command -v script > /dev/null; then
  script -qec "'$MS_RUN' -o '$T/tty' -- '$V/run-busy' 1.2" /dev/null > "$T/tty.out" 2>&1
  check_eq "on a terminal: exit status" 0 $?
  contains "$T/tty.out" "allocations" "on a terminal: a status line with the allocations"
  contains "$T/tty.out" "RSS" "on a terminal: ... and the RSS"
else
  skip "script(1) is missing: no terminal to test the status line"
fi

finish
