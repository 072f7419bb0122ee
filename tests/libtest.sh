# SPDX-License-Identifier: LGPL-2.1-or-later
# Shell helpers for memscope's end-to-end tests: TAP output, running a
# program under the shim, reading totals back. Source it; set -u is fine.

: "${MS_TOP_BUILDDIR:?run through make check}"
: "${MS_TOP_SRCDIR:?run through make check}"

MS_SHIM="$MS_TOP_BUILDDIR/preload/.libs/libmemscope-preload.so"
MS_VICTIMS="$MS_TOP_BUILDDIR/tests/victims"
MS_STATS="$MS_TOP_BUILDDIR/tests/ms-trace-stats"
MS_DUMP="$MS_TOP_BUILDDIR/tests/ms-dump"

ms_test_n=0
ms_test_failed=0
ms_test_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-test.XXXXXX")
trap 'rm -rf "$ms_test_tmp"' EXIT

# ok CONDITION-EXIT-STATUS DESCRIPTION: one TAP line.
ok () {
  local status=$1; shift
  ms_test_n=$((ms_test_n + 1))
  if [ "$status" -eq 0 ]; then
    echo "ok $ms_test_n - $*"
  else
    echo "not ok $ms_test_n - $*"
    ms_test_failed=1
  fi
}

# unprivileged PROGRAM DIR...: prints the command prefix that runs
# PROGRAM as a user whom file permissions stop: nothing when we are not
# root, setpriv to nobody when we are, "skip" when neither can be had.
# Opens the DIRs (0755) to that user. The build tree may sit in a
# directory only root can enter (CI's mktemp -d is 0700): then nobody
# cannot run PROGRAM at all, and that is a skip too.
unprivileged () {
  local program=$1 prefix; shift
  if [ "$(id -u)" != 0 ]; then
    echo ""
    return
  fi
  if command -v setpriv > /dev/null && id nobody > /dev/null 2>&1; then
    prefix="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups"
    chmod 755 "$@"
    if $prefix "$program" --version > /dev/null 2>&1; then
      echo "$prefix"
      return
    fi
  fi
  echo skip
}

skip () {
  ms_test_n=$((ms_test_n + 1))
  echo "ok $ms_test_n # SKIP $*"
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq () {
  if [ "$2" = "$3" ]; then
    ok 0 "$1 ($3)"
  else
    echo "# expected '$2', got '$3'"
    ok 1 "$1"
  fi
}

# check_le DESCRIPTION A B: A <= B (integers)
check_le () {
  if [ "$2" -le "$3" ]; then
    ok 0 "$1 ($2 <= $3)"
  else
    echo "# $2 > $3"
    ok 1 "$1"
  fi
}

# check_within DESCRIPTION ESTIMATE TRUTH PERCENT
check_within () {
  if awk -v e="$2" -v t="$3" -v p="$4" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(t > 0 && d <= t * p / 100) }'; then
    ok 0 "$1 (estimate $2, truth $3, within $4 %)"
  else
    echo "# estimate $2 vs truth $3: more than $4 % off"
    ok 1 "$1"
  fi
}

finish () {
  echo "1..$ms_test_n"
  exit $ms_test_failed
}

# traced DIR PROGRAM [ARG...]: runs PROGRAM under the shim into DIR.
traced () {
  local dir=$1; shift
  MEMSCOPE_OUTPUT=$dir LD_PRELOAD="$MS_SHIM${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}

# kill_when_ready DIR N: runs v-kill N under the shim into DIR, waits for
# its "ready N" line, SIGKILLs it, and prints that line.
kill_when_ready () {
  local fifo pid line
  fifo=$(mktemp -u "$ms_test_tmp/fifo.XXXXXX")
  mkfifo "$fifo"
  # exec: $! must be the victim itself, not a subshell waiting for it
  (export MEMSCOPE_OUTPUT="$1" LD_PRELOAD="$MS_SHIM"; exec "$MS_VICTIMS/v-kill" "$2") > "$fifo" 2>/dev/null &
  pid=$!
  read -r line < "$fifo"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  rm -f "$fifo"
  printf '%s\n' "$line"
}

# stats DIR [ARGS...]: ms-trace-stats output for the victims' size band.
stats () {
  local dir=$1; shift
  "$MS_STATS" --min-size 30001 --max-size 30999 "$@" "$dir"
}

# stat_of STATS-TEXT KEY
stat_of () {
  printf '%s\n' "$1" | sed -n "s/^$2=//p"
}

# function_at MODULE+0xOFFSET: the function a return address is in (its
# call instruction, hence the - 1).
function_at () {
  local path=${1%+0x*} offset=${1##*+0x}
  addr2line -f -e "$path" "$(printf '0x%x' $((0x$offset - 1)))" | head -n 1
}
