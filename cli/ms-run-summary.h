/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The few lines memscope-run prints when the program has ended. One pass
 * over the trace: the thread files of each process merged by time for its
 * live heap, leaks by call stack, the heaviest call sites. The full
 * analysis is memscope-aggregate's. */
#pragma once

#include <glib.h>

#include "ms-monitor.h"

G_BEGIN_DECLS

#define MS_RUN_SUMMARY_TOP_SITES 3

typedef struct
{
  char *name;                 /* "function (module)", or "module+0xOFFSET" */
  gdouble bytes;              /* allocated there */
  gdouble count;
} MsRunCallSite;

typedef struct
{
  guint processes;            /* directories with a process file or thread files */
  guint64 threads;            /* threads that started, all processes together */
  gdouble allocations;        /* weighted: estimates when sampled */
  gdouble frees;
  gdouble bytes_allocated;
  gdouble peak_heap_bytes;    /* highest live heap of one process */
  gdouble leaked_bytes;       /* live at the end, all processes */
  gdouble leaked_blocks;
  guint64 lost_events;
  gboolean sampled;           /* some events stand for several */
  guint incomplete_files;     /* files whose writer did not finish (crash, kill) */
  guint damaged_files;        /* files with unreadable parts */
  MsRunCallSite top[MS_RUN_SUMMARY_TOP_SITES];
  guint n_top;
} MsRunSummary;

/* Reads the traces under DIR. Damaged or unfinished files are counted,
 * not fatal. */
void ms_run_summary_compute (const char *dir, MsRunSummary *out_summary);

/* Prints the summary on stderr; MONITOR may be NULL. */
void ms_run_summary_print (const MsRunSummary *summary, const MsMonitorSummary *monitor, const char *dir);

void ms_run_summary_clear (MsRunSummary *summary);

G_END_DECLS
