#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the reader fuzzer for SECONDS on a copy of the seed corpus.
#
#   tests/fuzz/run-fuzz.sh SECONDS [BUILDDIR]
#
# BUILDDIR is a configured build tree (default: $MS_TOP_BUILDDIR, else the
# source tree if it was configured in place, else a fresh one under
# ${TMPDIR:-/tmp}); "make fuzz" is run there first. Exits 0 when the whole
# run found nothing, 1 on a crash, leak, timeout (a hang: more than
# MS_FUZZ_TIMEOUT seconds on one input) or an allocation past
# MS_FUZZ_RSS_MB, 77 when there is no clang, 2 on a usage or build error.
# What crashed is kept under MS_FUZZ_ARTIFACTS (default: a directory
# printed at the end); add it to tests/fuzz/corpus-reader once fixed.
set -eu

usage () {
  echo "usage: $0 SECONDS [BUILDDIR]" >&2
  exit 2
}

test $# -ge 1 && test $# -le 2 || usage
seconds=$1
case $seconds in
  '' | *[!0-9]*) usage ;;
esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${2:-${MS_TOP_BUILDDIR:-}}
if test -z "$builddir"; then
  if test -f "$srcdir/Makefile"; then
    builddir=$srcdir
  else
    builddir=${TMPDIR:-/tmp}/memscope-fuzz-build
    if ! test -f "$builddir/Makefile"; then
      if ! test -x "$srcdir/configure"; then
        (cd "$srcdir" && autoreconf -fi) || exit 2
      fi
      mkdir -p "$builddir"
      (cd "$builddir" && "$srcdir/configure" --quiet) || exit 2
    fi
  fi
fi

if ! grep -q '^CLANG = ..*' "$builddir/Makefile"; then
  echo "run-fuzz: configure found no clang; skipping" >&2
  exit 77
fi
make -C "$builddir" --no-print-directory fuzz || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/ms-run-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$srcdir/tests/fuzz/corpus-reader" "$work/corpus"
artifacts=${MS_FUZZ_ARTIFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/ms-fuzz-artifacts-XXXXXX")}
mkdir -p "$artifacts"

# -max_len covers the largest seed (two 16 KiB chunks) with room to grow;
# -error_exitcode/-timeout_exitcode: 77 is libFuzzer's default for a
# crash, which test harnesses read as "skipped".
status=0
G_SLICE=always-malloc \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$builddir/tests/fuzz/fuzz-reader" \
  -max_total_time="$seconds" \
  -max_len=65536 \
  -timeout="${MS_FUZZ_TIMEOUT:-10}" \
  -rss_limit_mb="${MS_FUZZ_RSS_MB:-1024}" \
  -malloc_limit_mb="${MS_FUZZ_RSS_MB:-1024}" \
  -error_exitcode=1 -timeout_exitcode=1 \
  -dict="$srcdir/tests/fuzz/reader.dict" \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1 \
  "$work/corpus" || status=$?

if test "$status" -ne 0; then
  echo "run-fuzz: FAILED (exit $status); inputs that failed are in $artifacts:" >&2
  ls -l "$artifacts" >&2
  exit 1
fi
test -n "${MS_FUZZ_ARTIFACTS:-}" || rmdir "$artifacts" 2>/dev/null || true
echo "run-fuzz: ${seconds}s without a failure"
