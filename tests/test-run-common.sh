# SPDX-License-Identifier: LGPL-2.1-or-later
# What memscope-run's shell tests share, on top of libtest.sh. Source it.

. "$MS_TOP_SRCDIR/tests/libtest.sh"

MS_RUN="$MS_TOP_BUILDDIR/cli/memscope-run"
MS_RUN_STUB="$MS_VICTIMS/.libs/librun-preload-stub.so"

# Where the shim is not built yet, a library that does nothing stands in
# for it, so that everything but recording can still be tested.
have_shim () {
  [ -f "$MS_SHIM" ]
}
if have_shim; then
  ms_preload=$MS_SHIM
else
  ms_preload=$MS_RUN_STUB
  export MEMSCOPE_PRELOAD="$MS_RUN_STUB"
fi

# dump FILE: the records of a trace file, one per line (tests/ms-dump).
dump () {
  "$MS_DUMP" "$1"
}

# allocs DIR SIZE: allocations of SIZE bytes in the thread files of DIR
allocs () {
  for f in "$1"/thread-*.mst; do [ -f "$f" ] && dump "$f"; done | grep -c " alloc .* size=$2 "
}

# resources DIR SCOPE [ID]: the resource records of one scope (1 process,
# 2 thread, 3 system, 4 cpu, 5 gpu), "TIME ID V0,V1,..." per line.
resources () {
  dump "$1/resources.mst" | awk -v scope="scope=$2" -v id="id=${3:-}" '
    $2 == "resource" && $3 == scope && (id == "id=" || $4 == id) {
      sub ("id=", "", $4); sub ("values=", "", $5); print $1, $4, $5 }'
}

# contains FILE TEXT DESCRIPTION
contains () {
  if grep -q -F -- "$2" "$1"; then
    ok 0 "$3"
  else
    echo "# no '$2' in:"; sed 's/^/#   /' "$1"
    ok 1 "$3"
  fi
}
