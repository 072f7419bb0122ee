#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds and runs the format benchmark (bench/README.md explains it).
#
#   bench/run-format.sh [-b BUILDDIR] [BENCH-FORMAT-OPTION...]
#
# BUILDDIR: a configured build tree; default $MS_TOP_BUILDDIR, else the
# source tree if configured in place, else ${TMPDIR:-/tmp}/memscope-bench-build,
# configured here with the default -O2. A tree configured with
# --enable-sanitizers measures the sanitizers, so it is refused.
# Runs both event orders (--pattern requests, then random) unless a
# --pattern is given; other options go to bench-format as they are.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${MS_TOP_BUILDDIR:-}
if test $# -ge 2 && test "$1" = -b; then
  builddir=$2
  shift 2
fi
if test -z "$builddir"; then
  if test -f "$srcdir/Makefile"; then
    builddir=$srcdir
  else
    builddir=${TMPDIR:-/tmp}/memscope-bench-build
  fi
fi

if ! test -f "$builddir/Makefile"; then
  test -x "$srcdir/configure" || (cd "$srcdir" && autoreconf -fi)
  mkdir -p "$builddir"
  (cd "$builddir" && "$srcdir/configure" --quiet)
fi
if grep -q '^SANITIZER_CFLAGS = ..*' "$builddir/Makefile"; then
  echo "run-format: $builddir is built with sanitizers; give a plain build with -b" >&2
  exit 2
fi
make -C "$builddir" --no-print-directory -s bench

bench=$builddir/bench/bench-format
echo "memscope format benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs:" \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "load average: $(cut -d ' ' -f 1-3 /proc/loadavg) (figures by CPU time are the steadier ones on a busy machine)"

case " $* " in
  *' --pattern'* | *' -p '*)
    "$bench" "$@"
    ;;
  *)
    echo
    echo "== scripted requests (program-like order) =="
    "$bench" --pattern requests "$@"
    echo
    echo "== random order (worst case for branch prediction and zstd) =="
    "$bench" --pattern random "$@"
    ;;
esac
