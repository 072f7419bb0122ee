/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsAggregator: consumes the merged event stream of a trace directory and
 * keeps what the reports need: live blocks by address (per process),
 * per-stack, per-thread and per-process tallies, the peak with the stacks
 * that held it, a bounded timeline and size histogram, the thread
 * interaction matrix. Memory grows with live blocks, unique stacks and
 * threads, never with the number of events. */
#pragma once

#include <glib.h>

#include "ms-agg-labels.h"
#include "ms-agg-map.h"
#include "ms-agg-merge.h"
#include "ms-agg-trace.h"

G_BEGIN_DECLS

/* Sampled events stand for weight / MS_WEIGHT_ONE events: counts are kept
 * in those units (n_w), bytes as estimated bytes. Unsampled traces give
 * exact integers. */
typedef struct
{
  guint64 n_w;
  guint64 bytes;
} MsAggTally;

static inline guint64
ms_agg_count (guint64 n_w)
{
  return (n_w + 32768) >> 16;
}

/* What was freed of what was ALLOCATED when LIVE is still live: a block
 * leaves the live tally with the very weight and bytes it entered with,
 * so this needs no tally of its own on the free path. */
static inline MsAggTally
ms_agg_tally_freed (MsAggTally allocated, MsAggTally live)
{
  MsAggTally t = { allocated.n_w - MIN (live.n_w, allocated.n_w), allocated.bytes - MIN (live.bytes, allocated.bytes) };
  return t;
}

#define MS_AGG_TIMELINE_MAX_BUCKETS 512
#define MS_AGG_SIZE_BUCKETS 65
/* A realloc chain this long (each realloc of the block the previous one
 * returned) is a "realloc growth chain" finding. */
#define MS_AGG_LONG_CHAIN 8
#define MS_AGG_THREAD_LIMIT 0xffffffu

typedef struct
{
  guint64 live_max;       /* bytes */
  guint64 live_last;
  guint64 allocs_w;
  guint64 frees_w;
  guint64 bytes_allocated;
  gboolean touched;
} MsAggBucket;

typedef struct
{
  guint64 origin_ns;
  guint64 width_ns;
  guint n;                /* buckets in use: [0, n) */
  guint cur;              /* the bucket last noted, and its time span: */
  guint64 cur_start_ns;   /* events come in time order, so most land in */
  guint64 cur_end_ns;     /* it and need no division */
  MsAggBucket buckets[MS_AGG_TIMELINE_MAX_BUCKETS];
} MsAggTimeline;

/* What is counted both per process and for the whole trace. */
typedef struct
{
  MsAggTally allocated;   /* malloc family and the new block of each realloc */
  MsAggTally live;        /* at the end: leaked; what was freed is allocated - live */
  MsAggTally temporary;
  MsAggTally cross_thread;
  guint64 reallocs_w;
  guint64 peak_bytes;
  guint64 peak_count_w;
  guint64 peak_time_ns;
  guint64 peak_epoch;     /* bumped at each new peak: see ms_aggregator_stack_at_peak() */
  MsAggTimeline timeline;
  MsAggTally sizes[MS_AGG_SIZE_BUCKETS];
} MsAggTotals;

typedef struct
{
  guint64 ip;
  guint64 time_ns;        /* when the node was first defined: picks the module */
  guint32 parent;         /* 0 for a process root */
  guint32 process;
  guint32 stack;          /* index in stacks when used as a leaf, else 0 */
  guint32 depth;          /* frames from the root (root = 0) */
} MsAggNode;

typedef struct
{
  guint32 node;
  guint32 max_chain;
  MsAggTally allocated;   /* malloc family and the new block of each realloc */
  MsAggTally live;        /* at the end: leaked; freed = allocated - live */
  MsAggTally temporary;
  guint64 reallocs_w;
  guint64 long_chains;
  guint64 first_ns;
  guint64 last_ns;
  MsAggTally at_peak;     /* live when the whole trace peaked (see epochs) */
  MsAggTally at_ppeak;    /* live when its process peaked */
  guint64 peak_epoch;     /* see ms_aggregator_stack_at_peak() */
  guint64 ppeak_epoch;
} MsAggStack;

typedef struct
{
  guint32 process;
  guint32 tid;
  GPtrArray *names;        /* char*, distinct, in order of appearance */
  gboolean traced;         /* seen in the heap trace (not only in resources) */
  MsAggTally allocated;
  MsAggTally freed;        /* frees this thread made */
  MsAggTally live;         /* its own blocks still live; at the end: leaked (own freed: allocated - live) */
  MsAggTally temporary;
  MsAggTally cross_freed;  /* blocks of other threads it freed */
  guint64 reallocs_w;
  guint64 peak_live_bytes;
  guint64 peak_time_ns;
  guint64 first_ns;        /* THREAD_START, or its first event */
  guint64 last_ns;         /* THREAD_END, or its last event */
  guint64 last_alloc_addr; /* for temporary allocations */

  /* from resources.mst */
  gboolean has_resources;
  guint64 res_first_ns, res_last_ns;
  guint64 cpu_first_ns, cpu_last_ns;      /* utime + stime at those samples */
  guint64 vcs_first, vcs_last;            /* voluntary context switches */
  guint res_samples;
  guint64 *cpu_series;                    /* CPU ns per resource bucket */
  guint64 *alloc_series;                  /* allocations (n_w) per resource bucket */
} MsAggThread;

/* One sample of a process by memscope-run's monitor, as recorded: the
 * counters are cumulative, rates are differences of successive samples. */
typedef struct
{
  guint64 time_ns;
  guint64 rss;
  guint64 cpu_ns;         /* utime + stime */
  guint64 rchar, wchar;   /* bytes read and written, any file or socket */
  guint64 threads;
} MsAggResPoint;

/* One tick of the monitor for the whole machine. The CPU times are what
 * every core spent since the previous tick, summed (a core seen for the
 * first time adds nothing). */
typedef struct
{
  guint64 time_ns;
  guint64 cpu_busy_ns;
  guint64 cpu_total_ns;
  guint64 mem_available;
  guint64 load1_x100;
} MsAggSysPoint;

typedef struct
{
  guint32 owner;          /* thread that allocated */
  guint32 freer;          /* thread that freed */
  MsAggTally tally;
} MsAggPair;

typedef struct
{
  guint64 count;
  guint64 bytes;
} MsAggFreq;

typedef struct
{
  const MsAggProcessInfo *info;
  guint32 root_node;
  MsAggMap blocks;         /* live blocks: addr → MsAggLive */
  MsAggMap weights;        /* addr → guint64 weight, for sampled live blocks */
  MsAggMap pending;        /* addr → guint32: realloc-ordering fixes awaiting their REALLOC */
  MsAggMap big_sizes;      /* addr → guint64 size, for live blocks of 4 GiB and more */
  MsAggMap mmaps;          /* addr → MsAggMapping */
  MsAggMap freq;           /* call site ip → MsAggFreq (FREQ records) */
  MsAggMap labelled;       /* addr → MsAggLabelled, for labelled live blocks */
  gboolean weighted;       /* a sampled event was seen */

  MsAggTotals *t;          /* own, or the whole trace's when it is the only process */
  MsAggTotals own;
  guint64 unmatched_frees;
  guint64 realloc_fixes;
  guint64 lost_events;     /* LOST records and damage */
  guint64 dropped_events;  /* LOST records alone: what the recorder could not write */
  guint64 first_ns, last_ns;
  guint64 n_threads;

  MsAggTally mmapped, munmapped, mmap_live;
  guint64 mmap_peak_bytes;
  guint64 unmatched_munmaps;

  /* from resources.mst */
  gboolean has_resources;
  guint res_samples;
  guint64 rss_max, hwm_max, vsize_max, threads_max;
  guint64 res_first_ns, res_last_ns;
  guint64 cpu_first_ns, cpu_last_ns;
  guint64 io_first, io_last;              /* rchar + wchar */
  guint64 disk_first, disk_last;          /* read_bytes + write_bytes */
  guint64 *cpu_series;                    /* per resource bucket */
  guint64 *io_series;
  GArray *res_points;                     /* MsAggResPoint, every sample in time order */
} MsAggProcess;

typedef struct
{
  const MsAggTraceDir *trace;
  GPtrArray *processes;    /* MsAggProcess* */
  GArray *nodes;           /* MsAggNode; [0] unused */
  GArray *stacks;          /* MsAggStack; [0] unused ("no stack") */
  GPtrArray *threads;      /* MsAggThread* */
  GArray *pairs;           /* MsAggPair, cross-thread only */
  MsAggMap pair_index;     /* owner << 32 | freer → guint32 index in pairs */
  MsAggMap pair_stacks;    /* pair index << 32 | stack → MsAggTally */
  MsAggMap thread_index;   /* process << 32 | tid → guint32 index in threads */

  /* node interning: open addressing over node ids, keyed by (parent, ip) */
  guint32 *intern;
  gsize intern_mask;

  MsAggTotals all;         /* the whole trace, every process together */
  guint64 origin_ns;       /* earliest file start */
  guint64 first_ns, last_ns;
  guint64 events;          /* heap events consumed */
  gboolean sampled;

  /* resource buckets shared by every series */
  guint64 res_origin_ns;
  guint64 res_width_ns;
  guint res_buckets;
  guint64 res_interval_ns;
  GHashTable *res_info;    /* INFO records of resources.mst */
  GHashTable *res_names;   /* tid → name, from the monitor's THREAD_NAME records */
  guint64 sys_n_cpus;
  guint64 sys_mem_total;
  GArray *sys_points;      /* MsAggSysPoint, one per tick of the monitor */

  MsAggLabels labels;      /* what the program named its blocks (LABEL records) */

  /* what was lost, with where */
  GPtrArray *damage;       /* MsAggDamage*, owned */
  guint64 lost_events;
  gboolean lost_estimated;
  guint64 unknown_stack_refs;
  guint64 malformed_events;  /* impossible events (address 0) that passed the checksums */
  gboolean finished;
} MsAggregator;

MsAggregator *ms_aggregator_new (const MsAggTraceDir *trace);
void ms_aggregator_free (MsAggregator *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggregator, ms_aggregator_free)

/* Reads resources.mst (if any) before the events: it sets the buckets in
 * which per-thread allocation rates are compared with CPU. */
void ms_aggregator_load_resources (MsAggregator *self, const char *path);

/* Runs the whole merge through the aggregator and settles the losses. */
void ms_aggregator_run (MsAggregator *self, MsAggMerge *merge);

/* Warms the cache for EV, which SOURCE will hand out soon: the merge
 * calls it when an event becomes its file's next (an MsAggPrefetchFunc). */
void ms_aggregator_prefetch (gpointer self, const MsAggSource *source, const MsAggEvent *ev);

/* One event, as ms_agg_merge_next_run() returned it (exposed for tests). */
void ms_aggregator_add (MsAggregator *self, MsAggSource *source, const MsAggEvent *ev);

/* Stack and node access for reports. */
static inline const MsAggNode *
ms_aggregator_node (const MsAggregator *self, guint32 id)
{
  return &g_array_index (self->nodes, MsAggNode, id);
}

static inline MsAggStack *
ms_aggregator_stack (const MsAggregator *self, guint32 index)
{
  return &g_array_index (self->stacks, MsAggStack, index);
}

/* The stack's tally at the trace's (or its process') peak. */
MsAggTally ms_aggregator_stack_at_peak (const MsAggregator *self, const MsAggStack *stack, gboolean process_peak);

/* Bytes estimated for one event of SIZE and WEIGHT (rounded to nearest;
 * exact for unsampled events). */
static inline guint64
ms_agg_weighted_bytes (guint64 size, guint64 weight)
{
  if (G_LIKELY (weight == 65536u /* MS_WEIGHT_ONE */))
    return size;
  unsigned __int128 p = (unsigned __int128) size * weight + 32768u;
  p >>= 16;
  return p > G_MAXUINT64 ? G_MAXUINT64 : (guint64) p;
}

/* Size histogram bucket of SIZE: 0 for 0, else floor(log2(size)) + 1. */
guint ms_agg_size_bucket (guint64 size);

G_END_DECLS
