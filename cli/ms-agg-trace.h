/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The trace directory as memscope-aggregate sees it: which processes it
 * holds (the root in DIR, children in DIR/PID/), each one's INFO records,
 * module map and thread files, and what could not be read. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 start;          /* lowest mapped address */
  guint64 size;
  guint64 bias;           /* load bias (dlpi_addr) */
  GBytes *build_id;       /* as recorded; empty when the object has none */
  char *path;
  guint64 load_ns;        /* when it was recorded (0: at start) */
  guint64 unload_ns;      /* G_MAXUINT64 while loaded */
} MsAggModule;

/* What could not be read in one file, for the "data_loss" section. */
typedef struct
{
  char *file;
  char *message;              /* the reader's message, with its byte offset */
  guint64 last_good_offset;   /* start of the last record read before the damage */
  guint64 bytes_skipped;
  guint64 events_lost;        /* exact when from LOST/CLOSE, else estimated */
  gboolean estimated;
  gboolean truncated;         /* the file was cut short */
} MsAggDamage;

void ms_agg_damage_free (MsAggDamage *damage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggDamage, ms_agg_damage_free)

typedef struct
{
  char *dir;
  guint32 pid;
  guint32 ppid;
  char *exe;
  char *cmdline;              /* arguments joined by spaces (NULs in the record) */
  char *name;                 /* program name: basename of argv[0] or of exe */
  GHashTable *info;           /* INFO key → value, both strings */
  GPtrArray *modules;         /* MsAggModule*, in load order */
  GPtrArray *thread_files;    /* paths, sorted by slot number */
  guint64 start_mono_ns;
  guint64 start_wall_ns;
  gboolean has_process_file;
  gboolean closed;            /* process.mst has its CLOSE: the process exited normally */
  gboolean replaced_by_exec;  /* no CLOSE, but a later process of the same pid: it exec'd */
  gboolean sampled;           /* INFO sampling is not "exact" */
} MsAggProcessInfo;

typedef struct
{
  char *dir;
  GPtrArray *processes;       /* MsAggProcessInfo*, [0] is the root process */
  char *resources_path;       /* NULL when memscope-run's monitor wrote none */
  GPtrArray *damage;          /* MsAggDamage* found while loading process files */
  GPtrArray *warnings;        /* char*: things worth saying that lost no data */
} MsAggTraceDir;

/* Reads DIR's layout and every process.mst. Errors (MS_ERROR): a missing
 * or empty directory, no trace files, a file of a newer major version. */
MsAggTraceDir *ms_agg_trace_dir_open (const char *dir, GError **error);
void ms_agg_trace_dir_free (MsAggTraceDir *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggTraceDir, ms_agg_trace_dir_free)

/* Accounts for the reader's error ERROR (damage or a cut-off file) met
 * after LAST_GOOD_OFFSET in PATH; returns NULL for errors that lost no
 * data (MS_ERROR_INCOMPLETE). */
MsAggDamage *ms_agg_damage_new (const char *path, const GError *error, guint64 last_good_offset);

/* For a file cut short: the payload bytes its last, cut chunk was meant
 * to hold and does not (0 when that cannot be told: an open chunk). */
guint64 ms_agg_cut_chunk_bytes (const char *path);

/* The module that covered ADDR at TIME_NS, or NULL. */
const MsAggModule *ms_agg_process_find_module (const MsAggProcessInfo *process, guint64 addr, guint64 time_ns);

G_END_DECLS
