#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ABI guard (TAP): libmemscope.so.0 exports exactly lib/libmemscope.sym, each
# symbol in its version node; debian/libmemscope0.symbols lists the same; the
# preload shim exports only what it interposes and never pulls GLib into the
# profiled program.
set -euo pipefail

srcdir=${MS_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${MS_TOP_BUILDDIR:-$srcdir}
lib=$builddir/lib/.libs/libmemscope.so.0
preload=$builddir/preload/.libs/libmemscope-preload.so
symfile=$srcdir/lib/libmemscope.sym
debsyms=$srcdir/debian/libmemscope0.symbols

# The only functions the shim may export: what it interposes. Keep this the
# one list; a new interposed function is added here on purpose, not by
# accident (a stray export would override the program's own symbol).
# pthread_setname_np and prctl (PR_SET_NAME) are how THREAD_NAME records
# follow a thread's name.
preload_allowed="
malloc free calloc realloc reallocarray
posix_memalign aligned_alloc memalign valloc pvalloc malloc_usable_size
mmap mmap64 munmap mremap
dlopen dlclose
fork vfork _Fork
pthread_setname_np prctl
"
# Libraries the shim must not need: GLib would run its constructors inside
# every profiled program, and libmemscope.so.0 drags GLib in.
preload_forbidden_needed='^lib(glib|gobject|gio|gmodule|gthread)-2\.0\.so|^libjson-glib|^libmemscope\.so'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
fails=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
not_ok () { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
skip () { n=$((n + 1)); echo "ok $n # SKIP $*"; }

# name@VERSION for every defined dynamic symbol, but not the version nodes
# themselves (absolute symbols named like their node).
dynamic_exports () {
  nm -D --defined-only "$1" | awk '$2 != "A" { sub(/@@?/, "@", $3); print $3 }' | sort -u
}

# name@NODE for every global symbol of a GNU ld version script. Comments
# must not share a line with script text unless they close on it.
version_script_symbols () {
  sed -e 's:/\*.*\*/::g' -e '/\/\*/,/\*\//d' -e 's/[{};]/\n&\n/g' "$1" | awk '
    { for (i = 1; i <= NF; i++) {
        t = $i
        if (t == "{") { inside = 1; scope = "global"; continue }
        if (t == "}") { inside = 0; closed = 1; continue }
        if (t == ";") { if (!inside) closed = 0; continue }
        if (!inside) { if (!closed) node = t; continue }   # after "}": the parent node
        if (t ~ /^global:/) { scope = "global"; t = substr(t, 8) }
        else if (t ~ /^local:/) { scope = "local"; t = substr(t, 7) }
        if (t != "" && scope == "global") print t "@" node
      } }
  ' | sort -u
}

echo "1..4"

# 1. The library against its version script, both directions.
if [ ! -f "$lib" ]; then
  not_ok "libmemscope.so.0 exports: $lib not built"
else
  dynamic_exports "$lib" > "$tmp/exported"
  version_script_symbols "$symfile" > "$tmp/declared"
  if [ ! -s "$tmp/declared" ]; then
    not_ok "libmemscope.so.0 exports: no symbol parsed from $symfile"
  elif diff -u "$tmp/declared" "$tmp/exported" > "$tmp/diff"; then
    ok "libmemscope.so.0 exports the $(wc -l < "$tmp/declared") symbols of lib/libmemscope.sym"
  else
    sed 's/^/# /' "$tmp/diff"
    not_ok "libmemscope.so.0 exports differ from lib/libmemscope.sym (- declared only, + exported only)"
  fi
fi

# 2. The Debian symbols file lists the same symbols (it is derived from the
#    version script; each symbol keeps the version it first appeared in).
if [ ! -f "$debsyms" ]; then
  skip "no debian/libmemscope0.symbols (building without debian/)"
else
  version_script_symbols "$symfile" > "$tmp/declared"
  awk '/^ / && $1 !~ /^[A-Z0-9_.]+@[A-Z0-9_.]+$/ { print $1 }' "$debsyms" | sort -u > "$tmp/debian"
  if diff -u "$tmp/declared" "$tmp/debian" > "$tmp/diff"; then
    ok "debian/libmemscope0.symbols matches lib/libmemscope.sym"
  else
    sed 's/^/# /' "$tmp/diff"
    not_ok "debian/libmemscope0.symbols differs from lib/libmemscope.sym: add new symbols with the version that introduces them"
  fi
fi

# 3. and 4. The preload shim, once it is built.
if [ ! -f "$preload" ]; then
  skip "preload exports: $preload not built"
  skip "preload DT_NEEDED: $preload not built"
else
  # shellcheck disable=SC2086 # word splitting of the list is the point
  printf '%s\n' $preload_allowed | sort -u > "$tmp/allowed"
  dynamic_exports "$preload" | sed 's/@.*//' | sort -u > "$tmp/exported"
  extra=$(comm -23 "$tmp/exported" "$tmp/allowed")
  if [ -z "$extra" ]; then
    ok "preload exports only interposed functions: $(tr '\n' ' ' < "$tmp/exported")"
  else
    printf '# not allowed: %s\n' $extra
    not_ok "preload exports functions outside its allowed list"
  fi

  needed=$(readelf -d "$preload" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(printf '%s\n' $needed | grep -E "$preload_forbidden_needed" || true)
  if [ -z "$bad" ]; then
    ok "preload DT_NEEDED has no GLib: $(echo $needed)"
  else
    printf '# forbidden: %s\n' $bad
    not_ok "preload DT_NEEDED pulls GLib or libmemscope into the target"
  fi
fi

# The "not ok" lines carry the verdict: a non-zero exit would make the TAP
# driver count an extra ERROR for the same failures.
echo "# $fails failed"
