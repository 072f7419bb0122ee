/* SPDX-License-Identifier: LGPL-2.1-or-later
 * One aggregation from a trace directory to a report: open the directory,
 * decode and merge its thread files, aggregate, symbolise on demand. */
#pragma once

#include "ms-agg-report.h"

G_BEGIN_DECLS

typedef struct
{
  guint jobs;                      /* decoder threads; 0: one per processor */
  const char *sysroot;             /* nullable */
  const char *const *debug_dirs;   /* nullable */
} MsAggRunOptions;

typedef struct
{
  MsAggTraceDir *trace;
  MsAggregator *agg;
  MsSymbolizer *sym;
  MsAggReport *report;
} MsAggRun;

/* Errors: those of ms_agg_trace_dir_open(). Damage is not an error: the
 * report says what was lost. */
MsAggRun *ms_agg_run_new (const char *dir, const MsAggRunOptions *options, GError **error);
void ms_agg_run_free (MsAggRun *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggRun, ms_agg_run_free)

G_END_DECLS
