/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Counts the allocations recorded so far in a trace directory that is
 * still being written, reading each file only from where the previous
 * call stopped, and never touching the program. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MsRunProgress MsRunProgress;

typedef struct
{
  guint64 allocations;        /* ALLOC and REALLOC records, sampled ones included */
  guint64 threads;            /* THREAD_START records */
  gboolean estimated;         /* part of the count was extrapolated (see below) */
} MsRunProgressCounts;

MsRunProgress *ms_run_progress_new (const char *dir);

/* Reads what was added since the previous call, decoding at most
 * BUDGET_BYTES; chunks beyond the budget are counted at the rate of
 * records per byte seen so far, and the counts are then marked estimated. */
void ms_run_progress_update (MsRunProgress *self, gsize budget_bytes, MsRunProgressCounts *out_counts);

void ms_run_progress_free (MsRunProgress *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsRunProgress, ms_run_progress_free)

G_END_DECLS
