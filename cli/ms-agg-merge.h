/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Decodes every thread file of a trace directory in parallel (a pool of
 * workers, each file decoded by one worker at a time into small batches)
 * and merges the per-file streams by timestamp into one stream, for the
 * whole-process peak and timeline. Memory: a bounded number of batches per
 * file, whatever the length of the trace. */
#pragma once

#include <glib.h>

#include "ms-agg-map.h"
#include "ms-agg-trace.h"

G_BEGIN_DECLS

typedef enum
{
  /* heap events: a = addr, b = size, c = old_addr (REALLOC), stack, weight */
  MS_AGG_EV_ALLOC,
  MS_AGG_EV_FREE,
  MS_AGG_EV_REALLOC,
  MS_AGG_EV_MMAP,
  MS_AGG_EV_MUNMAP,
  /* stack = the node's index in its file, c = its parent's index (0: root), a = ip */
  MS_AGG_EV_STACK_NODE,
  /* a = tid */
  MS_AGG_EV_THREAD_START,
  MS_AGG_EV_THREAD_END,
  /* a = tid, c = (char *) name, owned by the event's batch until consumed */
  MS_AGG_EV_THREAD_NAME,
  /* a = tid, b = bytes, c = count, stack unused, weight = ip */
  MS_AGG_EV_FREQ,
  /* a = events, b = reason */
  MS_AGG_EV_LOST,
  /* a = addr, b = size, c = (char *) "name\0type", owned like THREAD_NAME's */
  MS_AGG_EV_LABEL,
} MsAggEventKind;

typedef struct
{
  guint64 time_ns;
  guint64 a;
  guint64 b;
  guint64 c;
  guint64 weight;   /* MS_WEIGHT_ONE unless sampled */
  guint32 stack;    /* the file's dense stack index (0: none) */
  guint32 kind;     /* MsAggEventKind */
} MsAggEvent;

/* One thread file. The fields below the line belong to the consumer. */
typedef struct
{
  guint index;
  guint process;             /* index into the trace's processes */
  char *path;

  /* filled by the decoder, read once the file is finished */
  guint64 records;
  guint64 heap_events;       /* ALLOC/FREE/REALLOC/MMAP/MUNMAP records */
  guint64 bytes_read;        /* file bytes that decoded */
  guint64 lost_events;       /* sum of LOST records */
  gboolean closed;           /* CLOSE record seen */
  guint64 close_allocs, close_frees, close_lost;
  guint64 unknown_stack_refs;  /* events naming a stack id never defined */
  guint64 first_ns;          /* time of its first and last timed record */
  guint64 last_ns;
  GPtrArray *damage;         /* MsAggDamage* */

  /* ---- consumer side ---- */
  GArray *global_stacks;     /* guint32: dense index → aggregator's node id */
  GArray *stack_index;       /* guint32: dense index → aggregator's stack index + 1, 0 until known */
  guint thread;              /* aggregator's current thread index for this file */
  gpointer user_data;
} MsAggSource;

typedef struct _MsAggMerge MsAggMerge;

/* N_WORKERS 0: one per processor (at most 8). */
MsAggMerge *ms_agg_merge_new (const MsAggTraceDir *trace, guint n_workers);
void ms_agg_merge_free (MsAggMerge *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggMerge, ms_agg_merge_free)

guint ms_agg_merge_get_n_sources (MsAggMerge *self);
MsAggSource *ms_agg_merge_get_source (MsAggMerge *self, guint index);

typedef void (*MsAggPrefetchFunc) (gpointer user_data, const MsAggSource *source, const MsAggEvent *ev);

/* FUNC is called with the first event of each run as it becomes its
 * file's next one, some events before ms_agg_merge_next_run() returns it
 * (the rest of a run is the caller's to prefetch, as it goes through it). */
void ms_agg_merge_set_prefetch (MsAggMerge *self, MsAggPrefetchFunc func, gpointer user_data);

/* The next events of all files in time order (frees first at equal
 * times), each file's events in file order: a run of *OUT_N (at least
 * one) consecutive events of *OUT_SOURCE, all of which come before any
 * other file's next event; NULL at the end. The events stay valid until
 * the next call. */
const MsAggEvent *ms_agg_merge_next_run (MsAggMerge *self, MsAggSource **out_source, guint *out_n);

G_END_DECLS
