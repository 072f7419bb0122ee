/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The trace directory: created before the program starts, listed and
 * compacted after it ends. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ./memscope-PROGRAM-PID, as an absolute path. */
char *ms_run_output_default (const char *program, GPid pid);

/* Creates DIR with mode 0700 (and its missing parents), or takes an
 * existing empty directory; with FORCE, a non-empty one too, after
 * removing the traces of an earlier run from it (other files stay).
 * Then checks that a file can be created in it. */
gboolean ms_run_output_prepare (const char *dir, gboolean force, GError **error);

/* Every trace file (*.mst) in DIR and its subdirectories, sorted. */
GPtrArray *ms_run_output_list_traces (const char *dir);

/* Rewrites each finished trace file under DIR compressed (see
 * ms_trace_compact_file()); files whose writer still runs (a child that
 * outlived the program) are left alone and counted in OUT_SKIPPED. Goes
 * on after a failure, and returns the first. */
gboolean ms_run_output_compact (const char *dir, guint *out_compacted, guint *out_skipped, GError **error);

G_END_DECLS
