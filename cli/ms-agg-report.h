/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The analyses of memscope-aggregate as rows: every table (threads,
 * stacks, leaks, …) is produced once here, as JSON objects whose members
 * are the table's columns, and the text, TSV and JSON writers only format
 * them. Keep the columns in sync with man/memscope-aggregate.1 and
 * data/memscope-report.schema.json. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ms-aggregator.h"
#include "ms-symbolizer.h"

G_BEGIN_DECLS

#define MS_AGG_SCHEMA_VERSION "1.2"

typedef enum
{
  MS_AGG_REPORT_SUMMARY,
  MS_AGG_REPORT_THREADS,
  MS_AGG_REPORT_STACKS,
  MS_AGG_REPORT_LEAKS,
  MS_AGG_REPORT_PEAK,
  MS_AGG_REPORT_TEMPORARY,
  MS_AGG_REPORT_TIMELINE,
  MS_AGG_REPORT_INTERACTIONS,
  MS_AGG_REPORT_BOTTLENECKS,
  MS_AGG_REPORT_SIZES,
  MS_AGG_REPORT_LABELS,
  MS_AGG_REPORT_N,
} MsAggReportKind;

typedef enum
{
  MS_AGG_WEIGHT_BYTES,
  MS_AGG_WEIGHT_COUNT,
  MS_AGG_WEIGHT_LEAKED,
} MsAggWeight;

typedef enum
{
  MS_AGG_COL_INT,        /* integer */
  MS_AGG_COL_BYTES,      /* integer bytes; text shows KiB/MiB */
  MS_AGG_COL_FLOAT,
  MS_AGG_COL_PERCENT,    /* a float 0-100 */
  MS_AGG_COL_TIME,       /* ns since the trace started; text shows seconds */
  MS_AGG_COL_STRING,
  MS_AGG_COL_LONG_STRING /* text truncates it at the terminal's edge */
} MsAggColType;

typedef struct
{
  const char *name;
  MsAggColType type;
} MsAggColumn;

typedef enum
{
  MS_AGG_ROLE_MEMORY,
  MS_AGG_ROLE_CPU,
  MS_AGG_ROLE_IO,
  MS_AGG_ROLE_LIGHTWEIGHT,
  MS_AGG_ROLE_BALANCED,
} MsAggRole;

typedef enum
{
  MS_AGG_ALERT_NORMAL,
  MS_AGG_ALERT_MEDIUM,
  MS_AGG_ALERT_HIGH,
} MsAggAlert;

typedef struct
{
  double alloc_rate;      /* allocations per second of the thread's life */
  double cpu_percent;     /* < 0: no resource samples */
  double io_rate;         /* voluntary context switches per second; < 0: none */
  double efficiency;      /* its bytes freed ÷ its bytes allocated; 1 when it allocated nothing */
  MsAggRole role;
  MsAggAlert alert;
} MsAggThreadMetrics;

typedef struct
{
  char *folded;           /* root first, ';'-separated: the key that compares runs */
  char *function;         /* the allocating function (allocator wrappers skipped) */
  char *location;         /* its file:line, or NULL */
  char *module;           /* its module's path, or NULL */
} MsAggStackText;

/* Report rows are per group of stacks whose frames symbolise alike
 * (function and file:line of every frame): an unrolled loop calls from
 * several return addresses on one source line, and a user wants one row. */
typedef struct
{
  guint32 first_stack;    /* its first member, for the frames */
  guint32 n_stacks;
  MsAggStackText text;
  MsAggTally allocated;
  MsAggTally live;        /* leaked at the end; freed = allocated - live */
  MsAggTally temporary;
  MsAggTally at_peak;     /* live at the whole trace's peak */
  guint64 reallocs_w;
  guint64 long_chains;
  guint32 max_chain;
  guint32 process;        /* of its first member */
} MsAggGroup;

typedef struct
{
  MsAggregator *agg;
  MsSymbolizer *sym;
  const MsAggTraceDir *trace;
  guint64 duration_ns;
  MsAggThreadMetrics *metrics;  /* parallel to agg->threads */
  GArray *groups;               /* MsAggGroup; [0] is "[no stack]" */
  guint32 *stack_group;         /* stack index → group index */
  /* run-derived thresholds (see the man page) */
  double median_alloc_rate;
  guint64 median_peak_bytes;
} MsAggReport;

MsAggReport *ms_agg_report_new (MsAggregator *agg, MsSymbolizer *sym);
void ms_agg_report_free (MsAggReport *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggReport, ms_agg_report_free)

const char *ms_agg_report_kind_name (MsAggReportKind kind);
gboolean ms_agg_report_kind_from_name (const char *name, MsAggReportKind *out_kind);
const char *ms_agg_role_name (MsAggRole role);
const char *ms_agg_alert_name (MsAggAlert alert);

/* The TSV/text columns of KIND (not for SUMMARY, which is key/value). */
const MsAggColumn *ms_agg_report_columns (MsAggReportKind kind, guint *out_n);

typedef void (*MsAggRowFunc) (JsonObject *row, gpointer user_data);

/* Emits the rows of KIND, best first, at most LIMIT (0: all). WEIGHT
 * orders the stacks report. Rows that name a stack group carry "stack_id". */
void ms_agg_report_rows (MsAggReport *self, MsAggReportKind kind, MsAggWeight weight, guint limit,
                         MsAggRowFunc func, gpointer user_data);

/* Key/value totals; the TSV summary prints them in this order. */
JsonObject *ms_agg_report_summary (MsAggReport *self);

static inline const MsAggGroup *
ms_agg_report_group (const MsAggReport *self, guint32 group)
{
  return &g_array_index (self->groups, MsAggGroup, group);
}

/* Frames of a group (its first stack), innermost first, as JSON objects. */
/* LABEL made fit to be a frame of a folded stack (no ';', no line or tab
 * breaks), in place. Returns LABEL. */
char *ms_agg_folded_frame (char *label);

/* Sets ROW's "pid": GROUP's process, or null for the events without a
 * stack of a trace of several processes. */
void ms_agg_report_set_group_pid (MsAggReport *self, JsonObject *row, guint32 group);
JsonArray *ms_agg_report_group_frames (MsAggReport *self, guint32 group);

/* The value of GROUP under WEIGHT (bytes allocated, allocations, leaked bytes). */
guint64 ms_agg_report_group_value (MsAggReport *self, guint32 group, MsAggWeight weight);

/* Pearson correlations, or NULL members with a reason. */
JsonObject *ms_agg_report_correlations (MsAggReport *self);

/* Per-process JSON objects (totals, peak, timeline, sizes, resources). */
JsonArray *ms_agg_report_processes (MsAggReport *self);

/* The machine's CPU, available memory and load over time, from the
 * monitor's system samples (no points when there were none). */
JsonObject *ms_agg_report_system_timeline (MsAggReport *self);

/* What was lost, where, and the symbolizer's warnings. */
JsonObject *ms_agg_report_data_loss (MsAggReport *self);

/* Every warning to print on stderr. */
GPtrArray *ms_agg_report_warnings (MsAggReport *self);

/* TRUE when a file was damaged or cut (the condition --strict turns into exit 2). */
gboolean ms_agg_report_has_damage (MsAggReport *self);

/* Call sites from the FREQ records (exact counts even when sampling). */
JsonArray *ms_agg_report_call_sites (MsAggReport *self, guint limit);

/* The thresholds behind roles and alerts, as used for this run. */
JsonObject *ms_agg_report_thresholds (MsAggReport *self);

G_END_DECLS
