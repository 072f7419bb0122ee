/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-agg-report.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ms-format.h"

#define KiB (G_GUINT64_CONSTANT (1024))
#define MiB (1024 * KiB)

/* Role and alert thresholds. Keep in sync with the THREAD ROLES section
 * of man/memscope-aggregate.1. */
#define ROLE_MEMORY_SHARE 0.5            /* of its process' peak … */
#define ROLE_MEMORY_PEAK_FLOOR (1 * MiB) /* … when that peak is at least this */
#define ROLE_MEMORY_PEAK_FACTOR 4.0      /* × the median thread peak */
#define ROLE_MEMORY_RATE_FLOOR 10000.0   /* allocations per second */
#define ROLE_MEMORY_RATE_FACTOR 4.0      /* × the median allocation rate */
#define ROLE_CPU_PERCENT 50.0
#define ROLE_IO_RATE 50.0                /* voluntary context switches per second */
#define ROLE_LIGHT_ALLOCS 100
#define ROLE_LIGHT_PEAK (64 * KiB)
#define ROLE_LIGHT_CPU 5.0
#define ALERT_HIGH_LEAK (1 * MiB)
#define ALERT_HIGH_LEAK_SHARE 0.1        /* of its bytes allocated */
#define ALERT_HIGH_PEAK (64 * MiB)
#define ALERT_HIGH_PEAK_SHARE 0.5
#define ALERT_MEDIUM_LEAK (64 * KiB)
#define ALERT_MEDIUM_PEAK (8 * MiB)
#define ALERT_MEDIUM_PEAK_SHARE 0.25
#define ALERT_MEDIUM_RATE 100000.0
#define ALERT_MEDIUM_RATE_FACTOR 10.0

/* Bottleneck findings. Keep in sync with the BOTTLENECKS section. */
#define HOT_SITE_SHARE 0.10
#define HOT_SITE_RATE 10000.0
#define HOT_SITE_MIN_COUNT 1000
#define TEMP_CHURN_SHARE 0.5
#define TEMP_CHURN_MIN 10000
#define GROWTH_SEGMENTS 10
#define GROWTH_MIN_PEAK (64 * KiB)
#define TRACKS_MIN_R 0.8
#define TRACKS_MIN_POINTS 5
#define TRACKS_MIN_CPU 10.0

#define MAX_FRAMES 1024
#define TOP_PAIR_STACKS 5

static const char *const report_names[MS_AGG_REPORT_N] = {
  "summary", "threads", "stacks", "leaks", "peak", "temporary", "timeline", "interactions", "bottlenecks", "sizes",
  "labels",
};

const char *
ms_agg_report_kind_name (MsAggReportKind kind)
{
  return kind < MS_AGG_REPORT_N ? report_names[kind] : "?";
}

gboolean
ms_agg_report_kind_from_name (const char *name, MsAggReportKind *out_kind)
{
  for (guint i = 0; i < MS_AGG_REPORT_N; i++)
    if (g_strcmp0 (name, report_names[i]) == 0)
      {
        *out_kind = i;
        return TRUE;
      }
  return FALSE;
}

const char *
ms_agg_role_name (MsAggRole role)
{
  static const char *const names[] = { "memory-intensive", "cpu-intensive", "io-intensive", "lightweight", "balanced" };
  return names[role];
}

const char *
ms_agg_alert_name (MsAggAlert alert)
{
  static const char *const names[] = { "normal", "medium", "high" };
  return names[alert];
}

#define STACK_COLUMNS                                                                                   \
  { "pid", MS_AGG_COL_INT }, { "function", MS_AGG_COL_STRING }, { "location", MS_AGG_COL_STRING },     \
    { "stack", MS_AGG_COL_LONG_STRING }

static const MsAggColumn threads_columns[] = {
  { "rank", MS_AGG_COL_INT },          { "pid", MS_AGG_COL_INT },
  { "tid", MS_AGG_COL_INT },           { "name", MS_AGG_COL_STRING },
  { "allocations", MS_AGG_COL_INT },   { "frees", MS_AGG_COL_INT },
  { "bytes_allocated", MS_AGG_COL_BYTES }, { "bytes_freed", MS_AGG_COL_BYTES },
  { "peak_live_bytes", MS_AGG_COL_BYTES }, { "leaked_bytes", MS_AGG_COL_BYTES },
  { "temporary", MS_AGG_COL_INT },     { "cross_thread_frees", MS_AGG_COL_INT },
  { "efficiency", MS_AGG_COL_FLOAT },  { "alloc_rate", MS_AGG_COL_FLOAT },
  { "cpu_percent", MS_AGG_COL_PERCENT }, { "io_rate", MS_AGG_COL_FLOAT },
  { "role", MS_AGG_COL_STRING },       { "alert", MS_AGG_COL_STRING },
};

static const MsAggColumn stacks_columns[] = {
  { "rank", MS_AGG_COL_INT },          { "allocations", MS_AGG_COL_INT },
  { "bytes_allocated", MS_AGG_COL_BYTES }, { "frees", MS_AGG_COL_INT },
  { "leaked_blocks", MS_AGG_COL_INT }, { "leaked_bytes", MS_AGG_COL_BYTES },
  { "peak_bytes", MS_AGG_COL_BYTES },  { "temporary", MS_AGG_COL_INT },
  { "reallocs", MS_AGG_COL_INT },      STACK_COLUMNS,
};

static const MsAggColumn leaks_columns[] = {
  { "rank", MS_AGG_COL_INT },          { "leaked_blocks", MS_AGG_COL_INT },
  { "leaked_bytes", MS_AGG_COL_BYTES }, { "allocations", MS_AGG_COL_INT },
  { "bytes_allocated", MS_AGG_COL_BYTES }, STACK_COLUMNS,
};

static const MsAggColumn peak_columns[] = {
  { "rank", MS_AGG_COL_INT },    { "bytes", MS_AGG_COL_BYTES }, { "blocks", MS_AGG_COL_INT },
  { "percent", MS_AGG_COL_PERCENT }, STACK_COLUMNS,
};

static const MsAggColumn temporary_columns[] = {
  { "rank", MS_AGG_COL_INT },        { "temporary", MS_AGG_COL_INT },
  { "allocations", MS_AGG_COL_INT }, { "percent", MS_AGG_COL_PERCENT },
  { "temporary_bytes", MS_AGG_COL_BYTES }, STACK_COLUMNS,
};

static const MsAggColumn timeline_columns[] = {
  { "time_ns", MS_AGG_COL_TIME },      { "live_bytes", MS_AGG_COL_BYTES },
  { "live_max_bytes", MS_AGG_COL_BYTES }, { "allocations", MS_AGG_COL_INT },
  { "frees", MS_AGG_COL_INT },         { "bytes_allocated", MS_AGG_COL_BYTES },
};

static const MsAggColumn interactions_columns[] = {
  { "rank", MS_AGG_COL_INT },         { "pid", MS_AGG_COL_INT },
  { "owner_tid", MS_AGG_COL_INT },    { "owner_name", MS_AGG_COL_STRING },
  { "freer_tid", MS_AGG_COL_INT },    { "freer_name", MS_AGG_COL_STRING },
  { "blocks", MS_AGG_COL_INT },       { "bytes", MS_AGG_COL_BYTES },
  { "top_function", MS_AGG_COL_STRING }, { "top_stack", MS_AGG_COL_LONG_STRING },
};

static const MsAggColumn bottlenecks_columns[] = {
  { "rank", MS_AGG_COL_INT },       { "kind", MS_AGG_COL_STRING }, { "severity", MS_AGG_COL_STRING },
  { "subject", MS_AGG_COL_STRING }, { "value", MS_AGG_COL_FLOAT }, { "evidence", MS_AGG_COL_LONG_STRING },
};

static const MsAggColumn sizes_columns[] = {
  { "min_bytes", MS_AGG_COL_INT }, { "max_bytes", MS_AGG_COL_INT }, { "allocations", MS_AGG_COL_INT },
  { "bytes", MS_AGG_COL_BYTES },   { "percent", MS_AGG_COL_PERCENT },
};

static const MsAggColumn labels_columns[] = {
  { "rank", MS_AGG_COL_INT },          { "pid", MS_AGG_COL_INT },
  { "name", MS_AGG_COL_STRING },       { "type", MS_AGG_COL_STRING },
  { "blocks", MS_AGG_COL_INT },        { "bytes", MS_AGG_COL_BYTES },
  { "freed_blocks", MS_AGG_COL_INT },  { "leaked_blocks", MS_AGG_COL_INT },
  { "leaked_bytes", MS_AGG_COL_BYTES }, { "unmatched", MS_AGG_COL_INT },
  { "first_time_ns", MS_AGG_COL_TIME }, { "first_tid", MS_AGG_COL_INT },
};

const MsAggColumn *
ms_agg_report_columns (MsAggReportKind kind, guint *out_n)
{
#define RET(a)                   \
  do                             \
    {                            \
      *out_n = G_N_ELEMENTS (a); \
      return a;                  \
    }                            \
  while (0)
  switch (kind)
    {
    case MS_AGG_REPORT_THREADS: RET (threads_columns);
    case MS_AGG_REPORT_STACKS: RET (stacks_columns);
    case MS_AGG_REPORT_LEAKS: RET (leaks_columns);
    case MS_AGG_REPORT_PEAK: RET (peak_columns);
    case MS_AGG_REPORT_TEMPORARY: RET (temporary_columns);
    case MS_AGG_REPORT_TIMELINE: RET (timeline_columns);
    case MS_AGG_REPORT_INTERACTIONS: RET (interactions_columns);
    case MS_AGG_REPORT_BOTTLENECKS: RET (bottlenecks_columns);
    case MS_AGG_REPORT_SIZES: RET (sizes_columns);
    case MS_AGG_REPORT_LABELS: RET (labels_columns);
    default:
      *out_n = 0;
      return NULL;
    }
#undef RET
}

/* ---- small helpers ----------------------------------------------------- */

static inline guint64
cnt (guint64 n_w)
{
  return ms_agg_count (n_w);
}

static void
set_u64 (JsonObject *o, const char *name, guint64 v)
{
  json_object_set_int_member (o, name, (gint64) MIN (v, (guint64) G_MAXINT64));
}

static void
set_u64_or_null (JsonObject *o, const char *name, guint64 v)
{
  if (v)
    set_u64 (o, name, v);
  else
    json_object_set_null_member (o, name);
}

static void
set_double_or_null (JsonObject *o, const char *name, double v, gboolean valid)
{
  if (valid && isfinite (v))
    json_object_set_double_member (o, name, v);
  else
    json_object_set_null_member (o, name);
}

static double
ratio (guint64 a, guint64 b)
{
  return b ? (double) a / (double) b : 0.0;
}

static guint64
rel_time (const MsAggregator *agg, guint64 t)
{
  return t > agg->origin_ns ? t - agg->origin_ns : 0;
}

static MsAggThread *
thread_at (MsAggReport *self, guint i)
{
  return g_ptr_array_index (self->agg->threads, i);
}

static char *
thread_names (const MsAggThread *t)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < t->names->len; i++)
    {
      if (i)
        g_string_append_c (s, ',');
      g_string_append (s, g_ptr_array_index (t->names, i));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static guint32
process_pid (MsAggReport *self, guint process)
{
  const MsAggProcess *p = g_ptr_array_index (self->agg->processes, process);
  return p->info->pid;
}

typedef enum
{
  END_NO_FILE,   /* no process.mst: nothing is known */
  END_EXIT,      /* its CLOSE record: exit handlers ran */
  END_EXEC,      /* it became another program */
  END_STATUS,    /* memscope-run saw it exit, but it wrote no CLOSE (_exit) */
  END_SIGNAL,    /* memscope-run saw it killed by a signal */
  END_UNKNOWN,   /* no CLOSE: killed, crashed or _exit */
} ProcessEnd;

static const char *const end_names[] = { NULL, "exit", "exec", "_exit", "signal", "unknown" };

/* How process I ended: by its own CLOSE record, by exec, or as
 * memscope-run saw the program it started end (the "exit" INFO of
 * resources.mst, which speaks for the last program of the first pid).
 * *OUT_STATUS and *OUT_SIGNAL are -1 where unknown. */
static ProcessEnd
process_end (MsAggReport *self, guint i, int *out_status, int *out_signal)
{
  const MsAggProcess *p = g_ptr_array_index (self->agg->processes, i);
  const MsAggProcess *root = g_ptr_array_index (self->agg->processes, 0);
  const char *how = g_hash_table_lookup (self->agg->res_info, "exit");
  gboolean seen = how != NULL && p->info->pid == root->info->pid && !p->info->replaced_by_exec;

  *out_status = *out_signal = -1;
  if (seen && sscanf (how, "status %d", out_status) != 1)
    sscanf (how, "signal %d", out_signal);
  if (!p->info->has_process_file)
    return END_NO_FILE;
  if (p->info->closed)
    return END_EXIT;
  if (p->info->replaced_by_exec)
    return END_EXEC;
  if (*out_status >= 0)
    return END_STATUS;
  return *out_signal >= 0 ? END_SIGNAL : END_UNKNOWN;
}

static void
set_int_or_null (JsonObject *o, const char *member, int value)
{
  if (value >= 0)
    json_object_set_int_member (o, member, value);
  else
    json_object_set_null_member (o, member);
}

/* ---- stacks as text ---------------------------------------------------- */

static gboolean
is_wrapper_module (const char *path)
{
  /* libc's strdup and libstdc++'s operator new only forward to malloc:
   * the interesting frame is their caller. */
  if (path == NULL)
    return FALSE;
  const char *base = strrchr (path, '/');
  base = base ? base + 1 : path;
  return g_str_has_prefix (base, "libc.so") || g_str_has_prefix (base, "libc-") || g_str_has_prefix (base, "libstdc++.so")
         || g_str_has_prefix (base, "ld-linux");
}

/* Locations of STACK, leaf first. */
static GPtrArray *
stack_locations (MsAggReport *self, guint32 stack)
{
  GPtrArray *locs = g_ptr_array_new ();
  const MsAggStack *s = ms_aggregator_stack (self->agg, stack);

  for (guint32 id = s->node; id != 0 && locs->len < MAX_FRAMES;)
    {
      const MsAggNode *n = ms_aggregator_node (self->agg, id);
      if (n->parent == 0)
        break; /* the process root */
      const MsAggProcess *p = g_ptr_array_index (self->agg->processes, n->process);
      g_ptr_array_add (locs, (gpointer) ms_symbolizer_resolve (self->sym, p->info, n->process, n->ip, n->time_ns));
      id = n->parent;
    }
  return locs;
}

char *
ms_agg_folded_frame (char *label)
{
  for (char *c = label; *c; c++)
    if (*c == ';')
      *c = ':';
    else if (*c == '\t' || *c == '\n' || *c == '\r')
      *c = ' ';
  return label;
}

static char *
format_location (const MsSymFrame *f)
{
  if (f->file == NULL)
    return NULL;
  return f->line ? g_strdup_printf ("%s:%u", f->file, f->line) : g_strdup (f->file);
}

/* What a location adds to the folded stack and to the grouping key of
 * every stack through it, made once: deep stacks share most of their
 * frames, and formatting each frame of each stack anew was most of the
 * time spent grouping them. */
typedef struct
{
  char *folded;           /* its frames' labels, outermost first, ';'-separated */
  guint32 line_id;        /* the same for locations whose frames name the same lines */
} LocationText;

typedef struct
{
  GHashTable *by_location; /* const MsSymLocation* → LocationText* */
  GHashTable *line_ids;    /* label@file:line of each frame → line_id */
} LocationTexts;

static void
location_text_free (gpointer data)
{
  LocationText *t = data;
  g_free (t->folded);
  g_free (t);
}

static void
location_texts_init (LocationTexts *self)
{
  self->by_location = g_hash_table_new_full (NULL, NULL, NULL, location_text_free);
  self->line_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
location_texts_clear (LocationTexts *self)
{
  g_hash_table_unref (self->by_location);
  g_hash_table_unref (self->line_ids);
}

static const LocationText *
location_text (LocationTexts *self, const MsSymLocation *loc)
{
  LocationText *t = g_hash_table_lookup (self->by_location, loc);

  if (t != NULL)
    return t;
  GString *folded = g_string_new (NULL);
  GString *lines = g_string_new (NULL);
  for (guint f = loc->n_frames; f-- > 0;)
    {
      g_autofree char *label = ms_sym_frame_label (loc, f);
      g_string_append_printf (lines, "%s@%s:%u%s\n", label, loc->frames[f].file ? loc->frames[f].file : "",
                              loc->frames[f].line, loc->frames[f].inlined ? "i" : "");
      if (folded->len)
        g_string_append_c (folded, ';');
      g_string_append (folded, ms_agg_folded_frame (label));
    }
  t = g_new (LocationText, 1);
  t->folded = g_string_free (folded, FALSE);
  gpointer id;
  if (g_hash_table_lookup_extended (self->line_ids, lines->str, NULL, &id))
    {
      t->line_id = GPOINTER_TO_UINT (id);
      g_string_free (lines, TRUE);
    }
  else
    {
      t->line_id = g_hash_table_size (self->line_ids);
      g_hash_table_insert (self->line_ids, g_string_free (lines, FALSE), GUINT_TO_POINTER (t->line_id));
    }
  g_hash_table_insert (self->by_location, (gpointer) loc, t);
  return t;
}

/* Fills TEXT for STACK and returns its grouping key: its process and the
 * lines of its frames, so that return addresses on one line group. A
 * group is one process's: the dashboard's process selector narrows the
 * stacks, and a row's pid says whose code it is. */
static GBytes *
stack_text (MsAggReport *self, LocationTexts *texts, guint32 stack, MsAggStackText *text)
{
  g_autoptr (GPtrArray) locs = stack_locations (self, stack);
  g_autoptr (GString) folded = g_string_new (NULL);
  g_autoptr (GArray) key = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 process = ms_aggregator_node (self->agg, ms_aggregator_stack (self->agg, stack)->node)->process;

  g_array_append_val (key, process);
  if (locs->len == 0)
    {
      text->folded = g_strdup ("[no stack]");
      text->function = g_strdup ("[no stack]");
      return g_bytes_new (key->data, key->len * sizeof (guint32));
    }
  for (guint i = locs->len; i-- > 0;)
    {
      const LocationText *t = location_text (texts, g_ptr_array_index (locs, i));
      if (folded->len)
        g_string_append_c (folded, ';');
      g_string_append (folded, t->folded);
      g_array_append_val (key, t->line_id);
    }
  text->folded = g_string_free (g_steal_pointer (&folded), FALSE);

  const MsSymLocation *pick = g_ptr_array_index (locs, 0);
  for (guint i = 0; i < locs->len; i++)
    {
      const MsSymLocation *loc = g_ptr_array_index (locs, i);
      if (!is_wrapper_module (loc->module))
        {
          pick = loc;
          break;
        }
    }
  text->function = ms_sym_frame_label (pick, 0);
  text->location = format_location (&pick->frames[0]);
  text->module = g_strdup (pick->module);
  return g_bytes_new (key->data, key->len * sizeof (guint32));
}

static void
group_clear (gpointer data)
{
  MsAggGroup *g = data;
  g_free (g->text.folded);
  g_free (g->text.function);
  g_free (g->text.location);
  g_free (g->text.module);
}

static void
build_groups (MsAggReport *self)
{
  MsAggregator *agg = self->agg;
  g_autoptr (GHashTable) index = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                       (GDestroyNotify) g_bytes_unref, NULL);
  LocationTexts texts;

  self->groups = g_array_new (FALSE, TRUE, sizeof (MsAggGroup));
  g_array_set_clear_func (self->groups, group_clear);
  self->stack_group = g_new0 (guint32, agg->stacks->len);
  location_texts_init (&texts);

  for (guint32 i = 0; i < agg->stacks->len; i++)
    {
      const MsAggStack *s = ms_aggregator_stack (agg, i);
      MsAggStackText text = { 0 };
      gpointer found;
      guint32 gi;

      /* stack 0 is always group 0, the events without a stack */
      g_autoptr (GBytes) key = stack_text (self, &texts, i, &text);
      if (i > 0 && g_hash_table_lookup_extended (index, key, NULL, &found))
        {
          gi = GPOINTER_TO_UINT (found);
          g_free (text.folded);
          g_free (text.function);
          g_free (text.location);
          g_free (text.module);
        }
      else
        {
          MsAggGroup g = { .first_stack = i, .text = text, .process = i ? ms_aggregator_node (agg, s->node)->process : 0 };
          g_array_append_val (self->groups, g);
          gi = self->groups->len - 1;
          if (i > 0)
            g_hash_table_insert (index, g_steal_pointer (&key), GUINT_TO_POINTER (gi));
        }
      self->stack_group[i] = gi;

      MsAggGroup *g = &g_array_index (self->groups, MsAggGroup, gi);
      MsAggTally at = ms_aggregator_stack_at_peak (agg, s, FALSE);
      g->n_stacks++;
      g->allocated.n_w += s->allocated.n_w;
      g->allocated.bytes += s->allocated.bytes;
      g->live.n_w += s->live.n_w;
      g->live.bytes += s->live.bytes;
      g->temporary.n_w += s->temporary.n_w;
      g->temporary.bytes += s->temporary.bytes;
      g->at_peak.n_w += at.n_w;
      g->at_peak.bytes += at.bytes;
      g->reallocs_w += s->reallocs_w;
      g->long_chains += s->long_chains;
      g->max_chain = MAX (g->max_chain, s->max_chain);
    }
  location_texts_clear (&texts);
}

JsonArray *
ms_agg_report_group_frames (MsAggReport *self, guint32 group)
{
  JsonArray *frames = json_array_new ();
  g_autoptr (GPtrArray) locs = stack_locations (self, ms_agg_report_group (self, group)->first_stack);

  for (guint i = 0; i < locs->len; i++)
    {
      const MsSymLocation *loc = g_ptr_array_index (locs, i);
      for (guint f = 0; f < loc->n_frames; f++)
        {
          JsonObject *o = json_object_new ();
          g_autofree char *label = ms_sym_frame_label (loc, f);
          static const char *const status[] = { "ok", "no-module", "missing", "stale" };

          json_object_set_string_member (o, "function", label);
          json_object_set_boolean_member (o, "symbolized", loc->frames[f].function != NULL);
          if (loc->frames[f].file)
            json_object_set_string_member (o, "file", loc->frames[f].file);
          else
            json_object_set_null_member (o, "file");
          set_u64 (o, "line", loc->frames[f].line);
          json_object_set_boolean_member (o, "inlined", loc->frames[f].inlined);
          if (loc->module)
            json_object_set_string_member (o, "module", loc->module);
          else
            json_object_set_null_member (o, "module");
          set_u64 (o, "offset", loc->offset);
          set_u64 (o, "address", loc->ip);
          json_object_set_string_member (o, "status", status[loc->status]);
          json_array_add_object_element (frames, o);
        }
    }
  return frames;
}

void
ms_agg_report_set_group_pid (MsAggReport *self, JsonObject *row, guint32 group)
{
  /* the events without a stack are every process's together */
  if (group > 0 || self->agg->processes->len == 1)
    set_u64 (row, "pid", process_pid (self, ms_agg_report_group (self, group)->process));
  else
    json_object_set_null_member (row, "pid");
}

static void
add_stack_columns (MsAggReport *self, JsonObject *row, guint32 group)
{
  const MsAggStackText *t = &ms_agg_report_group (self, group)->text;

  set_u64 (row, "stack_id", group);
  ms_agg_report_set_group_pid (self, row, group);
  json_object_set_string_member (row, "function", t->function);
  if (t->location)
    json_object_set_string_member (row, "location", t->location);
  else
    json_object_set_null_member (row, "location");
  json_object_set_string_member (row, "stack", t->folded);
}

guint64
ms_agg_report_group_value (MsAggReport *self, guint32 group, MsAggWeight weight)
{
  const MsAggGroup *g = ms_agg_report_group (self, group);

  switch (weight)
    {
    case MS_AGG_WEIGHT_COUNT: return cnt (g->allocated.n_w);
    case MS_AGG_WEIGHT_LEAKED: return g->live.bytes;
    case MS_AGG_WEIGHT_BYTES:
    default: return g->allocated.bytes;
    }
}

/* ---- sorting ----------------------------------------------------------- */

typedef struct
{
  guint32 index;
  guint64 key;
  guint64 key2;
} Ranked;

static gint
ranked_desc (gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;

  if (x->key != y->key)
    return x->key < y->key ? 1 : -1;
  if (x->key2 != y->key2)
    return x->key2 < y->key2 ? 1 : -1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Groups with a non-zero KEY, sorted by it (then KEY2), descending. */
typedef guint64 (*GroupKey) (const MsAggGroup *g);

static GArray *
rank_groups (MsAggReport *self, GroupKey key, GroupKey key2)
{
  GArray *r = g_array_new (FALSE, FALSE, sizeof (Ranked));

  for (guint i = 0; i < self->groups->len; i++)
    {
      const MsAggGroup *g = ms_agg_report_group (self, i);
      Ranked x = { i, key (g), key2 ? key2 (g) : 0 };
      if (x.key)
        g_array_append_val (r, x);
    }
  g_array_sort (r, ranked_desc);
  return r;
}

static guint64
key_bytes (const MsAggGroup *g)
{
  return g->allocated.bytes;
}

static guint64
key_count (const MsAggGroup *g)
{
  return g->allocated.n_w;
}

static guint64
key_leaked (const MsAggGroup *g)
{
  return g->live.bytes;
}

static guint64
key_leaked_count (const MsAggGroup *g)
{
  return g->live.n_w;
}

static guint64
key_peak (const MsAggGroup *g)
{
  return g->at_peak.bytes;
}

static guint64
key_temporary (const MsAggGroup *g)
{
  return g->temporary.n_w;
}

/* ---- per-thread metrics ------------------------------------------------ */

static double
thread_seconds (const MsAggThread *t)
{
  guint64 span = t->last_ns > t->first_ns ? t->last_ns - t->first_ns : 0;
  return MAX ((double) span / 1e9, 1e-3);
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  if (values->len == 0)
    return 0;
  g_array_sort (values, cmp_double);
  guint n = values->len;
  double *v = (double *) values->data;
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
compute_metrics (MsAggReport *self)
{
  MsAggregator *agg = self->agg;
  g_autoptr (GArray) rates = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) peaks = g_array_new (FALSE, FALSE, sizeof (double));

  self->metrics = g_new0 (MsAggThreadMetrics, MAX (agg->threads->len, 1));
  for (guint i = 0; i < agg->threads->len; i++)
    {
      MsAggThread *t = thread_at (self, i);
      MsAggThreadMetrics *m = &self->metrics[i];

      m->alloc_rate = t->traced ? (double) cnt (t->allocated.n_w) / thread_seconds (t) : 0;
      m->efficiency = t->allocated.bytes ? ratio (ms_agg_tally_freed (t->allocated, t->live).bytes, t->allocated.bytes) : 1.0;
      m->cpu_percent = m->io_rate = -1;
      if (t->res_samples >= 2 && t->res_last_ns > t->res_first_ns)
        {
          double span = (double) (t->res_last_ns - t->res_first_ns);
          m->cpu_percent = 100.0 * (double) (t->cpu_last_ns - MIN (t->cpu_first_ns, t->cpu_last_ns)) / span;
          m->io_rate = (double) (t->vcs_last - MIN (t->vcs_first, t->vcs_last)) / (span / 1e9);
        }
      if (t->traced && t->allocated.n_w)
        {
          double peak = (double) t->peak_live_bytes;
          g_array_append_val (rates, m->alloc_rate);
          g_array_append_val (peaks, peak);
        }
    }
  self->median_alloc_rate = median (rates);
  self->median_peak_bytes = (guint64) median (peaks);

  for (guint i = 0; i < agg->threads->len; i++)
    {
      MsAggThread *t = thread_at (self, i);
      MsAggThreadMetrics *m = &self->metrics[i];
      const MsAggProcess *p = g_ptr_array_index (agg->processes, t->process);
      double share = ratio (t->peak_live_bytes, p->t->peak_bytes);
      guint64 allocs = cnt (t->allocated.n_w);

      if ((p->t->peak_bytes >= ROLE_MEMORY_PEAK_FLOOR && share >= ROLE_MEMORY_SHARE)
          || (t->peak_live_bytes >= ROLE_MEMORY_PEAK_FLOOR
              && (double) t->peak_live_bytes >= ROLE_MEMORY_PEAK_FACTOR * (double) self->median_peak_bytes
              && agg->threads->len > 1)
          || (m->alloc_rate >= ROLE_MEMORY_RATE_FLOOR
              && m->alloc_rate >= ROLE_MEMORY_RATE_FACTOR * self->median_alloc_rate && agg->threads->len > 1))
        m->role = MS_AGG_ROLE_MEMORY;
      else if (m->cpu_percent >= ROLE_CPU_PERCENT)
        m->role = MS_AGG_ROLE_CPU;
      else if (m->io_rate >= ROLE_IO_RATE)
        m->role = MS_AGG_ROLE_IO;
      else if (allocs < ROLE_LIGHT_ALLOCS && t->peak_live_bytes < ROLE_LIGHT_PEAK && m->cpu_percent < ROLE_LIGHT_CPU)
        m->role = MS_AGG_ROLE_LIGHTWEIGHT;
      else
        m->role = MS_AGG_ROLE_BALANCED;

      if ((t->live.bytes >= ALERT_HIGH_LEAK && ratio (t->live.bytes, t->allocated.bytes) >= ALERT_HIGH_LEAK_SHARE)
          || (t->peak_live_bytes >= ALERT_HIGH_PEAK && share >= ALERT_HIGH_PEAK_SHARE))
        m->alert = MS_AGG_ALERT_HIGH;
      else if (t->live.bytes >= ALERT_MEDIUM_LEAK
               || (t->peak_live_bytes >= ALERT_MEDIUM_PEAK && share >= ALERT_MEDIUM_PEAK_SHARE)
               || (m->alloc_rate >= ALERT_MEDIUM_RATE
                   && m->alloc_rate >= ALERT_MEDIUM_RATE_FACTOR * self->median_alloc_rate))
        m->alert = MS_AGG_ALERT_MEDIUM;
      else
        m->alert = MS_AGG_ALERT_NORMAL;
    }
}

JsonObject *
ms_agg_report_thresholds (MsAggReport *self)
{
  JsonObject *o = json_object_new ();

  json_object_set_double_member (o, "median_alloc_rate", self->median_alloc_rate);
  set_u64 (o, "median_peak_bytes", self->median_peak_bytes);
  json_object_set_double_member (o, "memory_share_of_process_peak", ROLE_MEMORY_SHARE);
  set_u64 (o, "memory_peak_floor_bytes", ROLE_MEMORY_PEAK_FLOOR);
  json_object_set_double_member (o, "memory_peak_factor", ROLE_MEMORY_PEAK_FACTOR);
  json_object_set_double_member (o, "memory_rate_floor", ROLE_MEMORY_RATE_FLOOR);
  json_object_set_double_member (o, "memory_rate_factor", ROLE_MEMORY_RATE_FACTOR);
  json_object_set_double_member (o, "cpu_percent", ROLE_CPU_PERCENT);
  json_object_set_double_member (o, "io_rate", ROLE_IO_RATE);
  set_u64 (o, "lightweight_allocations", ROLE_LIGHT_ALLOCS);
  set_u64 (o, "lightweight_peak_bytes", ROLE_LIGHT_PEAK);
  set_u64 (o, "alert_high_leak_bytes", ALERT_HIGH_LEAK);
  set_u64 (o, "alert_high_peak_bytes", ALERT_HIGH_PEAK);
  set_u64 (o, "alert_medium_leak_bytes", ALERT_MEDIUM_LEAK);
  set_u64 (o, "alert_medium_peak_bytes", ALERT_MEDIUM_PEAK);
  json_object_set_double_member (o, "alert_medium_rate", ALERT_MEDIUM_RATE);
  return o;
}

/* ---- construction ------------------------------------------------------ */

MsAggReport *
ms_agg_report_new (MsAggregator *agg, MsSymbolizer *sym)
{
  MsAggReport *self = g_new0 (MsAggReport, 1);

  self->agg = agg;
  self->sym = sym;
  self->trace = agg->trace;
  self->duration_ns = agg->last_ns > agg->origin_ns ? agg->last_ns - agg->origin_ns : 0;
  compute_metrics (self);
  build_groups (self);
  return self;
}

void
ms_agg_report_free (MsAggReport *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->groups, g_array_unref);
  g_free (self->stack_group);
  g_free (self->metrics);
  g_free (self);
}

/* ---- rows -------------------------------------------------------------- */

static void
emit (MsAggRowFunc func, gpointer user_data, JsonObject *row)
{
  func (row, user_data);
  json_object_unref (row);
}

static void
rows_threads (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (Ranked));

  for (guint i = 0; i < self->agg->threads->len; i++)
    {
      MsAggThread *t = thread_at (self, i);
      Ranked r = { i, t->peak_live_bytes, t->allocated.bytes };
      if (t->traced || t->has_resources)
        g_array_append_val (order, r);
    }
  g_array_sort (order, ranked_desc);
  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      guint i = g_array_index (order, Ranked, k).index;
      MsAggThread *t = thread_at (self, i);
      MsAggThreadMetrics *m = &self->metrics[i];
      JsonObject *row = json_object_new ();
      g_autofree char *names = thread_names (t);

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "pid", process_pid (self, t->process));
      set_u64 (row, "tid", t->tid);
      json_object_set_string_member (row, "name", names);
      set_u64 (row, "allocations", cnt (t->allocated.n_w));
      set_u64 (row, "frees", cnt (t->freed.n_w));
      set_u64 (row, "bytes_allocated", t->allocated.bytes);
      set_u64 (row, "bytes_freed", t->freed.bytes);
      set_u64 (row, "peak_live_bytes", t->peak_live_bytes);
      set_u64 (row, "peak_time_ns", rel_time (self->agg, t->peak_time_ns));
      set_u64 (row, "leaked_blocks", cnt (t->live.n_w));
      set_u64 (row, "leaked_bytes", t->live.bytes);
      set_u64 (row, "temporary", cnt (t->temporary.n_w));
      set_u64 (row, "cross_thread_frees", cnt (t->cross_freed.n_w));
      set_u64 (row, "reallocs", cnt (t->reallocs_w));
      json_object_set_double_member (row, "efficiency", m->efficiency);
      json_object_set_double_member (row, "alloc_rate", m->alloc_rate);
      set_double_or_null (row, "cpu_percent", m->cpu_percent, m->cpu_percent >= 0);
      set_double_or_null (row, "io_rate", m->io_rate, m->io_rate >= 0);
      set_u64 (row, "first_ns", rel_time (self->agg, t->first_ns));
      set_u64 (row, "last_ns", rel_time (self->agg, t->last_ns));
      json_object_set_string_member (row, "role", ms_agg_role_name (m->role));
      json_object_set_string_member (row, "alert", ms_agg_alert_name (m->alert));
      json_object_set_boolean_member (row, "traced", t->traced);
      emit (func, user_data, row);
    }
}

static void
rows_stacks (MsAggReport *self, MsAggWeight weight, guint limit, MsAggRowFunc func, gpointer user_data)
{
  g_autoptr (GArray) order = weight == MS_AGG_WEIGHT_COUNT    ? rank_groups (self, key_count, key_bytes)
                             : weight == MS_AGG_WEIGHT_LEAKED ? rank_groups (self, key_leaked, key_bytes)
                                                              : rank_groups (self, key_bytes, key_count);

  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      guint32 i = g_array_index (order, Ranked, k).index;
      const MsAggGroup *s = ms_agg_report_group (self, i);
      JsonObject *row = json_object_new ();

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "allocations", cnt (s->allocated.n_w));
      set_u64 (row, "bytes_allocated", s->allocated.bytes);
      set_u64 (row, "frees", cnt (ms_agg_tally_freed (s->allocated, s->live).n_w));
      set_u64 (row, "leaked_blocks", cnt (s->live.n_w));
      set_u64 (row, "leaked_bytes", s->live.bytes);
      set_u64 (row, "peak_bytes", s->at_peak.bytes);
      set_u64 (row, "temporary", cnt (s->temporary.n_w));
      set_u64 (row, "reallocs", cnt (s->reallocs_w));
      add_stack_columns (self, row, i);
      emit (func, user_data, row);
    }
}

static void
rows_leaks (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  g_autoptr (GArray) order = rank_groups (self, key_leaked_count, key_leaked);

  /* ranked by bytes, blocks breaking ties; key_leaked_count keeps
   * zero-byte leaks (malloc (0)) in the list */
  for (guint k = 0; k < order->len; k++)
    {
      Ranked *r = &g_array_index (order, Ranked, k);
      guint64 t = r->key;
      r->key = r->key2;
      r->key2 = t;
    }
  g_array_sort (order, ranked_desc);
  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      guint32 i = g_array_index (order, Ranked, k).index;
      const MsAggGroup *s = ms_agg_report_group (self, i);
      JsonObject *row = json_object_new ();

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "leaked_blocks", cnt (s->live.n_w));
      set_u64 (row, "leaked_bytes", s->live.bytes);
      set_u64 (row, "allocations", cnt (s->allocated.n_w));
      set_u64 (row, "bytes_allocated", s->allocated.bytes);
      add_stack_columns (self, row, i);
      emit (func, user_data, row);
    }
}

static void
rows_peak (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  g_autoptr (GArray) order = rank_groups (self, key_peak, NULL);

  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      guint32 i = g_array_index (order, Ranked, k).index;
      MsAggTally at = ms_agg_report_group (self, i)->at_peak;
      JsonObject *row = json_object_new ();

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "bytes", at.bytes);
      set_u64 (row, "blocks", cnt (at.n_w));
      json_object_set_double_member (row, "percent", 100.0 * ratio (at.bytes, self->agg->all.peak_bytes));
      add_stack_columns (self, row, i);
      emit (func, user_data, row);
    }
}

static void
rows_temporary (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  g_autoptr (GArray) order = rank_groups (self, key_temporary, NULL);

  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      guint32 i = g_array_index (order, Ranked, k).index;
      const MsAggGroup *s = ms_agg_report_group (self, i);
      JsonObject *row = json_object_new ();

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "temporary", cnt (s->temporary.n_w));
      set_u64 (row, "allocations", cnt (s->allocated.n_w));
      json_object_set_double_member (row, "percent", 100.0 * ratio (s->temporary.n_w, s->allocated.n_w));
      set_u64 (row, "temporary_bytes", s->temporary.bytes);
      add_stack_columns (self, row, i);
      emit (func, user_data, row);
    }
}

static void
rows_timeline (MsAggReport *self, const MsAggTimeline *tl, guint limit, gboolean from_first_event,
               MsAggRowFunc func, gpointer user_data)
{
  guint64 carry = 0;
  guint step = 1;
  guint first = 0;

  /* A process's timeline starts at its first event: its buckets run from
   * the trace's start, and a program that a script started late (or ran
   * briefly) would fill the report with empty ones. */
  while (from_first_event && first < tl->n && !tl->buckets[first].touched)
    first++;
  /* --top thins the timeline evenly rather than cutting its end */
  if (limit && tl->n - first > limit)
    step = (tl->n - first + limit - 1) / limit;
  for (guint i = first; i < tl->n; i += step)
    {
      MsAggBucket m = { 0 };
      guint64 start_live = carry;
      for (guint j = i; j < MIN (i + step, tl->n); j++)
        {
          const MsAggBucket *b = &tl->buckets[j];
          if (b->touched)
            {
              m.live_max = MAX (m.live_max, MAX (b->live_max, carry));
              carry = b->live_last;
            }
          m.allocs_w += b->allocs_w;
          m.frees_w += b->frees_w;
          m.bytes_allocated += b->bytes_allocated;
        }
      JsonObject *row = json_object_new ();
      set_u64 (row, "time_ns", (guint64) i * tl->width_ns + (tl->origin_ns > self->agg->origin_ns ? tl->origin_ns - self->agg->origin_ns : 0));
      set_u64 (row, "live_bytes", carry);
      set_u64 (row, "live_max_bytes", MAX (m.live_max, MAX (start_live, carry)));
      set_u64 (row, "allocations", cnt (m.allocs_w));
      set_u64 (row, "frees", cnt (m.frees_w));
      set_u64 (row, "bytes_allocated", m.bytes_allocated);
      emit (func, user_data, row);
    }
}

static gint
cmp_pair_stack (gconstpointer a, gconstpointer b)
{
  const guint64 *x = a, *y = b; /* [stack, bytes, n_w] */
  return x[1] != y[1] ? (x[1] < y[1] ? 1 : -1) : (x[0] > y[0]) - (x[0] < y[0]);
}

static void
rows_interactions (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  MsAggregator *agg = self->agg;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (Ranked));
  GArray **per_pair = g_new0 (GArray *, MAX (agg->pairs->len, 1));

  for (gsize i = 0; i < ms_agg_map_capacity (&agg->pair_stacks); i++)
    {
      guint64 key = agg->pair_stacks.keys[i];
      if (key == 0)
        continue;
      const MsAggTally *tally = ms_agg_map_value_at (&agg->pair_stacks, i);
      guint32 pair = (guint32) (key >> 32) - 1;
      guint32 stack = (guint32) (key & 0xffffffffu);
      guint64 entry[3] = { stack < agg->stacks->len ? self->stack_group[stack] : 0, tally->bytes, tally->n_w };
      if (pair >= agg->pairs->len)
        continue;
      if (per_pair[pair] == NULL)
        per_pair[pair] = g_array_new (FALSE, FALSE, sizeof entry);
      /* stacks of one group add up */
      guint k;
      for (k = 0; k < per_pair[pair]->len; k++)
        {
          guint64 *e = &g_array_index (per_pair[pair], guint64, 3 * k);
          if (e[0] == entry[0])
            {
              e[1] += entry[1];
              e[2] += entry[2];
              break;
            }
        }
      if (k == per_pair[pair]->len)
        g_array_append_val (per_pair[pair], entry);
    }
  for (guint i = 0; i < agg->pairs->len; i++)
    {
      const MsAggPair *p = &g_array_index (agg->pairs, MsAggPair, i);
      Ranked r = { i, p->tally.bytes, p->tally.n_w };
      g_array_append_val (order, r);
    }
  g_array_sort (order, ranked_desc);

  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      guint i = g_array_index (order, Ranked, k).index;
      const MsAggPair *p = &g_array_index (agg->pairs, MsAggPair, i);
      MsAggThread *owner = thread_at (self, p->owner), *freer = thread_at (self, p->freer);
      g_autofree char *on = thread_names (owner);
      g_autofree char *fn = thread_names (freer);
      JsonObject *row = json_object_new ();
      JsonArray *stacks = json_array_new ();

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "pid", process_pid (self, owner->process));
      set_u64 (row, "owner_tid", owner->tid);
      json_object_set_string_member (row, "owner_name", on);
      set_u64 (row, "freer_tid", freer->tid);
      json_object_set_string_member (row, "freer_name", fn);
      set_u64 (row, "blocks", cnt (p->tally.n_w));
      set_u64 (row, "bytes", p->tally.bytes);
      if (per_pair[i])
        {
          g_array_sort (per_pair[i], cmp_pair_stack);
          for (guint s = 0; s < per_pair[i]->len && s < TOP_PAIR_STACKS; s++)
            {
              const guint64 *e = &g_array_index (per_pair[i], guint64, 3 * s);
              JsonObject *so = json_object_new ();
              set_u64 (so, "blocks", cnt (e[2]));
              set_u64 (so, "bytes", e[1]);
              add_stack_columns (self, so, (guint32) e[0]);
              if (s == 0)
                {
                  json_object_set_string_member (row, "top_function", json_object_get_string_member (so, "function"));
                  json_object_set_string_member (row, "top_stack", json_object_get_string_member (so, "stack"));
                  set_u64 (row, "top_stack_id", e[0]);
                }
              json_array_add_object_element (stacks, so);
            }
        }
      if (!json_object_has_member (row, "top_function"))
        {
          json_object_set_null_member (row, "top_function");
          json_object_set_null_member (row, "top_stack");
          json_object_set_null_member (row, "top_stack_id");
        }
      json_object_set_array_member (row, "stacks", stacks);
      emit (func, user_data, row);
    }
  for (guint i = 0; i < agg->pairs->len; i++)
    if (per_pair[i])
      g_array_unref (per_pair[i]);
  g_free (per_pair);
}

static void
rows_sizes (const MsAggTally *sizes, guint limit, MsAggRowFunc func, gpointer user_data)
{
  guint64 total = 0;
  guint k = 0;

  for (guint b = 0; b < MS_AGG_SIZE_BUCKETS; b++)
    total += sizes[b].n_w;
  for (guint b = 0; b < MS_AGG_SIZE_BUCKETS && (limit == 0 || k < limit); b++)
    {
      if (sizes[b].n_w == 0)
        continue;
      JsonObject *row = json_object_new ();
      set_u64 (row, "min_bytes", b == 0 ? 0 : G_GUINT64_CONSTANT (1) << (b - 1));
      set_u64 (row, "max_bytes", b == 0 ? 0 : b == 64 ? G_MAXINT64 : (G_GUINT64_CONSTANT (1) << b) - 1);
      set_u64 (row, "allocations", cnt (sizes[b].n_w));
      set_u64 (row, "bytes", sizes[b].bytes);
      json_object_set_double_member (row, "percent", 100.0 * ratio (sizes[b].n_w, total));
      emit (func, user_data, row);
      k++;
    }
}

/* ---- labels ------------------------------------------------------------ */

static gint
label_order (gconstpointer a, gconstpointer b)
{
  const MsAggLabel *x = *(MsAggLabel *const *) a, *y = *(MsAggLabel *const *) b;

  if (x->leaked_bytes != y->leaked_bytes)
    return x->leaked_bytes > y->leaked_bytes ? -1 : 1;
  if (x->bytes != y->bytes)
    return x->bytes > y->bytes ? -1 : 1;
  return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

/* Most leaked first, then most bytes labelled. */
static void
rows_labels (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  const MsAggLabels *labels = &self->agg->labels;
  g_autoptr (GPtrArray) order = g_ptr_array_new ();

  for (guint i = 0; i < labels->labels->len; i++)
    g_ptr_array_add (order, g_ptr_array_index (labels->labels, i));
  g_ptr_array_sort (order, label_order);
  for (guint i = 0; i < order->len && (limit == 0 || i < limit); i++)
    {
      const MsAggLabel *l = g_ptr_array_index (order, i);
      JsonObject *row = json_object_new ();
      set_u64 (row, "rank", i + 1);
      set_u64 (row, "pid", process_pid (self, l->process));
      json_object_set_string_member (row, "name", l->name);
      json_object_set_string_member (row, "type", l->type);
      set_u64 (row, "blocks", l->blocks);
      set_u64 (row, "bytes", l->bytes);
      set_u64 (row, "freed_blocks", l->freed_blocks);
      set_u64 (row, "leaked_blocks", l->leaked_blocks);
      set_u64 (row, "leaked_bytes", l->leaked_bytes);
      set_u64 (row, "unmatched", l->unmatched);
      set_u64 (row, "first_time_ns", rel_time (self->agg, l->first_ns));
      set_u64 (row, "first_tid", thread_at (self, l->first_thread)->tid);
      emit (func, user_data, row);
    }
}

/* ---- bottlenecks ------------------------------------------------------- */

typedef struct
{
  const char *kind;
  const char *severity;
  char *subject;
  double value;
  char *evidence;
  gint64 stack;   /* -1: none */
  gint64 thread;  /* -1: none */
} Finding;

static void
finding_clear (gpointer data)
{
  Finding *f = data;
  g_free (f->subject);
  g_free (f->evidence);
}

static gint
finding_cmp (gconstpointer a, gconstpointer b)
{
  const Finding *x = a, *y = b;
  int sx = strcmp (x->severity, "high") == 0 ? 2 : strcmp (x->severity, "medium") == 0;
  int sy = strcmp (y->severity, "high") == 0 ? 2 : strcmp (y->severity, "medium") == 0;
  if (sx != sy)
    return sy - sx;
  return strcmp (x->kind, y->kind);
}

static double
pearson (const double *x, const double *y, guint n, double *out_slope, double *out_intercept)
{
  double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;

  for (guint i = 0; i < n; i++)
    {
      mx += x[i];
      my += y[i];
    }
  mx /= n;
  my /= n;
  for (guint i = 0; i < n; i++)
    {
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
      sxy += (x[i] - mx) * (y[i] - my);
    }
  if (out_slope)
    *out_slope = sxx > 0 ? sxy / sxx : NAN;
  if (out_intercept)
    *out_intercept = sxx > 0 ? my - (sxy / sxx) * mx : NAN;
  /* rounding can take a perfect correlation a hair past 1 */
  return sxx > 0 && syy > 0 ? CLAMP (sxy / sqrt (sxx * syy), -1.0, 1.0) : NAN;
}

/* r over the resource buckets in which thread T was sampled. */
static double
thread_cpu_alloc_r (MsAggReport *self, const MsAggThread *t, guint *out_n)
{
  MsAggregator *agg = self->agg;
  g_autofree double *x = g_new0 (double, MAX (agg->res_buckets, 1));
  g_autofree double *y = g_new0 (double, MAX (agg->res_buckets, 1));
  guint n = 0;

  *out_n = 0;
  if (t->cpu_series == NULL)
    return NAN;
  for (guint b = 0; b < agg->res_buckets; b++)
    {
      guint64 bstart = agg->res_origin_ns + b * agg->res_width_ns;
      if (bstart + agg->res_width_ns <= t->res_first_ns || bstart > t->res_last_ns)
        continue;
      x[n] = (double) t->cpu_series[b];
      y[n] = (double) t->alloc_series[b];
      n++;
    }
  *out_n = n;
  return n >= 2 ? pearson (x, y, n, NULL, NULL) : NAN;
}

static void
add_finding (GArray *out, const char *kind, const char *severity, char *subject, double value, char *evidence,
             gint64 stack, gint64 thread)
{
  Finding f = { kind, severity, subject, value, evidence, stack, thread };
  g_array_append_val (out, f);
}

static GArray *
find_bottlenecks (MsAggReport *self)
{
  MsAggregator *agg = self->agg;
  GArray *out = g_array_new (FALSE, TRUE, sizeof (Finding));
  double seconds = MAX ((double) self->duration_ns / 1e9, 1e-3);
  guint64 total_allocs = cnt (agg->all.allocated.n_w);

  g_array_set_clear_func (out, finding_clear);

  for (guint i = 1; i < self->groups->len; i++)
    {
      const MsAggGroup *s = ms_agg_report_group (self, i);
      guint64 allocs = cnt (s->allocated.n_w);
      double share = ratio (allocs, total_allocs);
      double rate = (double) allocs / seconds;

      if (allocs >= HOT_SITE_MIN_COUNT && share >= HOT_SITE_SHARE && rate >= HOT_SITE_RATE)
        {
          const MsAggStackText *t = &s->text;
          add_finding (out, "hot-call-site", share >= 0.25 ? "high" : "medium", g_strdup (t->function), rate,
                       g_strdup_printf (_("%" PRIu64 " allocations (%.1f%% of all, %.0f/s, %" PRIu64
                                          " bytes on average) from %s"),
                                        allocs, 100 * share, rate, allocs ? s->allocated.bytes / allocs : 0,
                                        t->location ? t->location : t->function),
                       i, -1);
        }
      if (s->long_chains > 0)
        {
          const MsAggStackText *t = &s->text;
          add_finding (out, "realloc-growth-chain", s->long_chains >= 10 ? "high" : "medium", g_strdup (t->function),
                       (double) s->max_chain,
                       g_strdup_printf (_("%" PRIu64 " blocks grown by %d or more successive reallocs "
                                          "(longest chain %u, %" PRIu64 " reallocs in all): reserve the "
                                          "final size or grow geometrically"),
                                        s->long_chains, MS_AGG_LONG_CHAIN, s->max_chain, cnt (s->reallocs_w)),
                       i, -1);
        }
      guint64 temps = cnt (s->temporary.n_w);
      if (temps >= TEMP_CHURN_MIN && ratio (temps, allocs) >= TEMP_CHURN_SHARE)
        {
          const MsAggStackText *t = &s->text;
          add_finding (out, "temporary-churn", "medium", g_strdup (t->function), (double) temps,
                       g_strdup_printf (_("%" PRIu64 " of its %" PRIu64
                                          " allocations were freed before the thread allocated anything else: "
                                          "a reused or stack buffer would do"),
                                        temps, allocs),
                       i, -1);
        }
    }

  /* Heap growth without plateau: the maximum of each tenth of the
   * timeline rises, and the end is near the peak. */
  const MsAggTimeline *tl = &agg->all.timeline;
  if (tl->n >= GROWTH_SEGMENTS && agg->all.peak_bytes >= GROWTH_MIN_PEAK)
    {
      guint64 seg_max[GROWTH_SEGMENTS] = { 0 };
      guint64 carry = 0, last = 0;
      for (guint b = 0; b < tl->n; b++)
        {
          guint seg = b * GROWTH_SEGMENTS / tl->n;
          if (tl->buckets[b].touched)
            {
              seg_max[seg] = MAX (seg_max[seg], tl->buckets[b].live_max);
              carry = tl->buckets[b].live_last;
            }
          seg_max[seg] = MAX (seg_max[seg], carry);
          last = carry;
        }
      guint rises = 0;
      for (guint s = 1; s < GROWTH_SEGMENTS; s++)
        rises += seg_max[s] > seg_max[s - 1];
      if (rises >= GROWTH_SEGMENTS - 2 && (double) last >= 0.9 * (double) agg->all.peak_bytes)
        add_finding (out, "heap-growth", agg->all.live.bytes >= agg->all.peak_bytes / 2 ? "high" : "medium",
                     g_strdup (_("whole process")), (double) last,
                     g_strdup_printf (_("the live heap rose in %u of %u tenths of the run, from %" PRIu64
                                        " to %" PRIu64 " bytes, without a plateau; %" PRIu64
                                        " bytes were still live at exit"),
                                      rises, GROWTH_SEGMENTS - 1, seg_max[0], last, agg->all.live.bytes),
                     -1, -1);
    }

  for (guint i = 0; i < agg->threads->len; i++)
    {
      const MsAggThread *t = thread_at (self, i);
      guint n;
      double r = thread_cpu_alloc_r (self, t, &n);
      if (n >= TRACKS_MIN_POINTS && isfinite (r) && r >= TRACKS_MIN_R && self->metrics[i].cpu_percent >= TRACKS_MIN_CPU)
        {
          g_autofree char *names = thread_names (t);
          add_finding (out, "cpu-tracks-allocation", r >= 0.9 ? "high" : "medium",
                       g_strdup_printf ("%u %s", t->tid, names), r,
                       g_strdup_printf (_("its CPU use follows its allocation rate (r = %.2f over %u intervals, "
                                          "%.0f%% CPU): allocation is likely on its critical path"),
                                        r, n, self->metrics[i].cpu_percent),
                       -1, i);
        }
    }
  g_array_sort (out, finding_cmp);
  return out;
}

static void
rows_bottlenecks (MsAggReport *self, guint limit, MsAggRowFunc func, gpointer user_data)
{
  g_autoptr (GArray) findings = find_bottlenecks (self);

  for (guint k = 0; k < findings->len && (limit == 0 || k < limit); k++)
    {
      const Finding *f = &g_array_index (findings, Finding, k);
      JsonObject *row = json_object_new ();

      set_u64 (row, "rank", k + 1);
      json_object_set_string_member (row, "kind", f->kind);
      json_object_set_string_member (row, "severity", f->severity);
      json_object_set_string_member (row, "subject", f->subject);
      json_object_set_double_member (row, "value", f->value);
      json_object_set_string_member (row, "evidence", f->evidence);
      if (f->stack >= 0)
        add_stack_columns (self, row, (guint32) f->stack);
      if (f->thread >= 0)
        {
          const MsAggThread *t = thread_at (self, (guint) f->thread);
          set_u64 (row, "tid", t->tid);
          set_u64 (row, "pid", process_pid (self, t->process));
        }
      emit (func, user_data, row);
    }
}

void
ms_agg_report_rows (MsAggReport *self, MsAggReportKind kind, MsAggWeight weight, guint limit, MsAggRowFunc func,
                    gpointer user_data)
{
  switch (kind)
    {
    case MS_AGG_REPORT_THREADS: rows_threads (self, limit, func, user_data); break;
    case MS_AGG_REPORT_STACKS: rows_stacks (self, weight, limit, func, user_data); break;
    case MS_AGG_REPORT_LEAKS: rows_leaks (self, limit, func, user_data); break;
    case MS_AGG_REPORT_PEAK: rows_peak (self, limit, func, user_data); break;
    case MS_AGG_REPORT_TEMPORARY: rows_temporary (self, limit, func, user_data); break;
    case MS_AGG_REPORT_TIMELINE: rows_timeline (self, &self->agg->all.timeline, limit, FALSE, func, user_data); break;
    case MS_AGG_REPORT_INTERACTIONS: rows_interactions (self, limit, func, user_data); break;
    case MS_AGG_REPORT_BOTTLENECKS: rows_bottlenecks (self, limit, func, user_data); break;
    case MS_AGG_REPORT_SIZES: rows_sizes (self->agg->all.sizes, limit, func, user_data); break;
    case MS_AGG_REPORT_LABELS: rows_labels (self, limit, func, user_data); break;
    default: break;
    }
}

/* ---- summary ----------------------------------------------------------- */

static guint
n_traced_threads (MsAggReport *self)
{
  guint n = 0;
  for (guint i = 0; i < self->agg->threads->len; i++)
    n += thread_at (self, i)->traced;
  return n;
}

gboolean
ms_agg_report_has_damage (MsAggReport *self)
{
  return self->agg->damage->len > 0 || self->trace->damage->len > 0;
}

JsonObject *
ms_agg_report_summary (MsAggReport *self)
{
  MsAggregator *agg = self->agg;
  JsonObject *o = json_object_new ();
  guint64 unmatched = 0, fixes = 0, mmapped = 0, mmap_peak = 0;
  guint processes = 0;

  for (guint i = 0; i < agg->processes->len; i++)
    {
      const MsAggProcess *p = g_ptr_array_index (agg->processes, i);
      unmatched += p->unmatched_frees;
      fixes += p->realloc_fixes;
      mmapped += p->mmapped.bytes;
      mmap_peak += p->mmap_peak_bytes;
      processes += p->info->has_process_file || p->info->thread_files->len > 0;
    }

  json_object_set_string_member (o, "program", ((const MsAggProcessInfo *) g_ptr_array_index (self->trace->processes, 0))->name);
  set_u64 (o, "processes", processes);
  set_u64 (o, "threads", n_traced_threads (self));
  set_u64 (o, "allocations", cnt (agg->all.allocated.n_w));
  MsAggTally freed = ms_agg_tally_freed (agg->all.allocated, agg->all.live);
  set_u64 (o, "frees", cnt (freed.n_w));
  set_u64 (o, "reallocs", cnt (agg->all.reallocs_w));
  set_u64 (o, "bytes_allocated", agg->all.allocated.bytes);
  set_u64 (o, "bytes_freed", freed.bytes);
  set_u64 (o, "peak_live_bytes", agg->all.peak_bytes);
  set_u64 (o, "peak_live_blocks", cnt (agg->all.peak_count_w));
  set_u64 (o, "peak_time_ns", rel_time (agg, agg->all.peak_time_ns));
  set_u64 (o, "leaked_blocks", cnt (agg->all.live.n_w));
  set_u64 (o, "leaked_bytes", agg->all.live.bytes);
  set_u64 (o, "temporary_allocations", cnt (agg->all.temporary.n_w));
  set_u64 (o, "temporary_bytes", agg->all.temporary.bytes);
  set_u64 (o, "cross_thread_frees", cnt (agg->all.cross_thread.n_w));
  set_u64 (o, "cross_thread_bytes", agg->all.cross_thread.bytes);
  set_u64 (o, "unique_stacks", agg->stacks->len - 1);
  set_u64 (o, "stack_groups", self->groups->len - 1);
  set_u64 (o, "lost_events", agg->lost_events);
  set_u64 (o, "lost_events_estimated", agg->lost_estimated);
  set_u64 (o, "damaged_files", agg->damage->len + self->trace->damage->len);
  set_u64 (o, "sampled", agg->sampled);
  set_u64 (o, "duration_ns", self->duration_ns);
  set_u64 (o, "unmatched_frees", unmatched);
  set_u64 (o, "realloc_ordering_fixes", fixes);
  set_u64 (o, "mmap_bytes", mmapped);
  set_u64 (o, "mmap_peak_bytes", mmap_peak);
  set_u64 (o, "events", agg->events);
  return o;
}

/* ---- correlations ------------------------------------------------------ */

static JsonObject *
correlation_object (const char *basis, const char *x, const char *y, const double *xs, const double *ys, guint n,
                    guint min_n)
{
  JsonObject *o = json_object_new ();
  double slope = NAN, intercept = NAN, r = NAN;

  json_object_set_string_member (o, "basis", basis);
  json_object_set_string_member (o, "x", x);
  json_object_set_string_member (o, "y", y);
  set_u64 (o, "n", n);
  if (n >= min_n)
    r = pearson (xs, ys, n, &slope, &intercept);
  set_double_or_null (o, "r", r, TRUE);
  set_double_or_null (o, "slope", slope, TRUE);
  set_double_or_null (o, "intercept", intercept, TRUE);
  if (!isfinite (r))
    json_object_set_string_member (o, "reason", n < min_n ? _("too few samples") : _("no variation in one of the two"));
  else
    json_object_set_null_member (o, "reason");
  return o;
}

JsonObject *
ms_agg_report_correlations (MsAggReport *self)
{
  MsAggregator *agg = self->agg;
  JsonObject *o = json_object_new ();
  g_autoptr (GArray) x = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) y = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < agg->threads->len; i++)
    {
      const MsAggThreadMetrics *m = &self->metrics[i];
      if (!thread_at (self, i)->traced || m->cpu_percent < 0)
        continue;
      g_array_append_val (x, m->cpu_percent);
      g_array_append_val (y, m->alloc_rate);
    }
  json_object_set_object_member (o, "cpu_vs_allocation_rate",
                                 correlation_object ("threads", "cpu_percent", "allocations_per_second",
                                                     (double *) x->data, (double *) y->data, x->len, 3));

  /* CPU and I/O over time: the trace has no I/O per thread, so this one
   * compares the processes' resource intervals. */
  g_array_set_size (x, 0);
  g_array_set_size (y, 0);
  for (guint b = 0; b < agg->res_buckets; b++)
    {
      double cpu = 0, io = 0;
      gboolean any = FALSE;
      for (guint i = 0; i < agg->processes->len; i++)
        {
          const MsAggProcess *p = g_ptr_array_index (agg->processes, i);
          if (p->cpu_series == NULL || b == 0)
            continue;
          cpu += (double) p->cpu_series[b];
          io += (double) p->io_series[b];
          any = TRUE;
        }
      if (!any)
        continue;
      cpu = 100.0 * cpu / (double) agg->res_width_ns;
      io = io / ((double) agg->res_width_ns / 1e9);
      g_array_append_val (x, cpu);
      g_array_append_val (y, io);
    }
  json_object_set_object_member (o, "cpu_vs_io",
                                 correlation_object ("intervals", "cpu_percent", "io_bytes_per_second",
                                                     (double *) x->data, (double *) y->data, x->len, 3));
  return o;
}

/* ---- processes --------------------------------------------------------- */

typedef struct
{
  JsonArray *array;
} Collect;

static void
collect_row (JsonObject *row, gpointer user_data)
{
  json_array_add_object_element (((Collect *) user_data)->array, json_object_ref (row));
}

/* The resource series hold at most this many points: a longer run is
 * thinned by merging runs of successive samples into one point. */
#define RES_SERIES_MAX_POINTS 2000u

/* How many successive samples make one point of a series of N. */
static guint
series_group (guint n)
{
  return n <= RES_SERIES_MAX_POINTS ? 1 : (n + RES_SERIES_MAX_POINTS - 1) / RES_SERIES_MAX_POINTS;
}

/* What a cumulative counter gained from FROM to TO (a counter that went
 * backwards, a new process image, gained nothing). */
static double
gain (guint64 from, guint64 to)
{
  return to > from ? (double) (to - from) : 0.0;
}

/* Each point stands for the samples since the previous point: the last
 * one's time, the most RSS and threads among them, and the rates over
 * that interval. The first point's interval is its own samples': with a
 * single sample it has no rate (null). */
static JsonArray *
process_series (const MsAggregator *agg, const MsAggProcess *p)
{
  const GArray *pts = p->res_points;
  guint k = series_group (pts->len);
  JsonArray *out = json_array_new ();

  for (guint start = 0; start < pts->len; start += k)
    {
      guint end = MIN (start + k, pts->len);
      const MsAggResPoint *ref = &g_array_index (pts, MsAggResPoint, start > 0 ? start - 1 : 0);
      const MsAggResPoint *last = &g_array_index (pts, MsAggResPoint, end - 1);
      guint64 rss = 0, threads = 0;
      for (guint i = start; i < end; i++)
        {
          rss = MAX (rss, g_array_index (pts, MsAggResPoint, i).rss);
          threads = MAX (threads, g_array_index (pts, MsAggResPoint, i).threads);
        }
      double seconds = last->time_ns > ref->time_ns ? (double) (last->time_ns - ref->time_ns) / 1e9 : 0.0;
      JsonObject *o = json_object_new ();
      set_u64 (o, "time_ns", rel_time (agg, last->time_ns));
      set_u64 (o, "rss_bytes", rss);
      set_double_or_null (o, "cpu_percent", 100.0 * gain (ref->cpu_ns, last->cpu_ns) / 1e9 / seconds, seconds > 0);
      set_double_or_null (o, "io_read_bytes_per_second", gain (ref->rchar, last->rchar) / seconds, seconds > 0);
      set_double_or_null (o, "io_write_bytes_per_second", gain (ref->wchar, last->wchar) / seconds, seconds > 0);
      set_u64 (o, "threads", threads);
      json_array_add_object_element (out, o);
    }
  return out;
}

/* The machine over time, thinned like the processes' series: the CPU
 * share of all cores over each point's interval, the least memory
 * available and the highest load among its ticks. */
JsonObject *
ms_agg_report_system_timeline (MsAggReport *self)
{
  const MsAggregator *agg = self->agg;
  const GArray *pts = agg->sys_points;
  guint k = series_group (pts->len);
  JsonObject *o = json_object_new ();
  JsonArray *points = json_array_new ();

  /* 0: the monitor did not say */
  set_u64_or_null (o, "n_cpus", agg->sys_n_cpus);
  set_u64_or_null (o, "mem_total_bytes", agg->sys_mem_total);
  set_u64 (o, "interval_ns", agg->res_interval_ns);
  for (guint start = 0; start < pts->len; start += k)
    {
      guint end = MIN (start + k, pts->len);
      guint64 busy = 0, total = 0, available = G_MAXUINT64, load = 0;
      for (guint i = start; i < end; i++)
        {
          const MsAggSysPoint *sp = &g_array_index (pts, MsAggSysPoint, i);
          busy += sp->cpu_busy_ns;
          total += sp->cpu_total_ns;
          available = MIN (available, sp->mem_available);
          load = MAX (load, sp->load1_x100);
        }
      JsonObject *row = json_object_new ();
      set_u64 (row, "time_ns", rel_time (agg, g_array_index (pts, MsAggSysPoint, end - 1).time_ns));
      set_double_or_null (row, "cpu_percent", 100.0 * ratio (busy, total), total > 0);
      set_u64 (row, "mem_available_bytes", available);
      json_object_set_double_member (row, "load1", (double) load / 100.0);
      json_array_add_object_element (points, row);
    }
  json_object_set_array_member (o, "points", points);
  return o;
}

static JsonObject *
process_resources (const MsAggregator *agg, const MsAggProcess *p)
{
  JsonObject *o = json_object_new ();
  double span = (double) (p->res_last_ns - p->res_first_ns);

  set_u64 (o, "samples", p->res_samples);
  set_double_or_null (o, "cpu_percent", span > 0 ? 100.0 * (double) (p->cpu_last_ns - MIN (p->cpu_first_ns, p->cpu_last_ns)) / span : 0,
                      span > 0);
  set_u64 (o, "cpu_ns", p->cpu_last_ns);
  set_u64 (o, "rss_max_bytes", p->rss_max);
  set_u64 (o, "hwm_bytes", p->hwm_max);
  set_u64 (o, "vsize_max_bytes", p->vsize_max);
  set_u64 (o, "threads_max", p->threads_max);
  set_u64 (o, "io_bytes", p->io_last - MIN (p->io_first, p->io_last));
  set_u64 (o, "disk_bytes", p->disk_last - MIN (p->disk_first, p->disk_last));
  set_double_or_null (o, "io_bytes_per_second", span > 0 ? (double) (p->io_last - MIN (p->io_first, p->io_last)) / (span / 1e9) : 0,
                      span > 0);
  json_object_set_array_member (o, "series", process_series (agg, p));
  return o;
}

/* What each group held at its process' own peak, and the groups of each
 * process: a trace of a script that ran a thousand programs has a
 * thousand processes and a quarter of a million stacks, so not every
 * process may look at every stack. */
typedef struct
{
  MsAggTally *at_ppeak;    /* by group; [0], the events without a stack, is any process' */
  guint32 *groups;         /* group indexes, by process */
  guint32 *first;          /* process i's are groups[first[i]] to groups[first[i + 1] - 1] */
} ProcessPeaks;

static void
process_peaks_init (MsAggReport *self, ProcessPeaks *pp)
{
  MsAggregator *agg = self->agg;
  guint n_groups = self->groups->len, n_processes = agg->processes->len;

  pp->at_ppeak = g_new0 (MsAggTally, n_groups);
  for (guint s = 0; s < agg->stacks->len; s++)
    {
      MsAggTally at = ms_aggregator_stack_at_peak (agg, ms_aggregator_stack (agg, s), TRUE);
      pp->at_ppeak[self->stack_group[s]].n_w += at.n_w;
      pp->at_ppeak[self->stack_group[s]].bytes += at.bytes;
    }
  pp->first = g_new0 (guint32, n_processes + 1);
  pp->groups = g_new (guint32, n_groups);
  for (guint gi = 1; gi < n_groups; gi++)
    pp->first[ms_agg_report_group (self, gi)->process + 1]++;
  for (guint i = 0; i < n_processes; i++)
    pp->first[i + 1] += pp->first[i];
  g_autofree guint32 *next = g_memdup2 (pp->first, sizeof (guint32) * (n_processes + 1));
  for (guint gi = 1; gi < n_groups; gi++)
    pp->groups[next[ms_agg_report_group (self, gi)->process]++] = gi;
}

static void
process_peaks_clear (ProcessPeaks *pp)
{
  g_free (pp->at_ppeak);
  g_free (pp->groups);
  g_free (pp->first);
}

/* The stack groups that held the most at process I's own peak. */
static JsonArray *
process_peak_stacks (MsAggReport *self, const ProcessPeaks *pp, guint i)
{
  const MsAggProcess *p = g_ptr_array_index (self->agg->processes, i);
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (Ranked));
  JsonArray *ps = json_array_new ();

  for (guint k = pp->first[i]; k <= pp->first[i + 1]; k++)
    {
      /* the process' own groups, and the events without a stack */
      guint32 gi = k < pp->first[i + 1] ? pp->groups[k] : 0;
      Ranked r = { gi, pp->at_ppeak[gi].bytes, pp->at_ppeak[gi].n_w };
      if (r.key)
        g_array_append_val (order, r);
    }
  g_array_sort (order, ranked_desc);
  for (guint k = 0; k < order->len && k < 10; k++)
    {
      guint32 gi = g_array_index (order, Ranked, k).index;
      JsonObject *row = json_object_new ();
      set_u64 (row, "rank", k + 1);
      set_u64 (row, "bytes", pp->at_ppeak[gi].bytes);
      set_u64 (row, "blocks", cnt (pp->at_ppeak[gi].n_w));
      json_object_set_double_member (row, "percent", 100.0 * ratio (pp->at_ppeak[gi].bytes, p->t->peak_bytes));
      add_stack_columns (self, row, gi);
      json_array_add_object_element (ps, row);
    }
  return ps;
}

JsonArray *
ms_agg_report_processes (MsAggReport *self)
{
  MsAggregator *agg = self->agg;
  JsonArray *out = json_array_new ();
  ProcessPeaks pp;

  process_peaks_init (self, &pp);
  for (guint i = 0; i < agg->processes->len; i++)
    {
      const MsAggProcess *p = g_ptr_array_index (agg->processes, i);
      const MsAggProcessInfo *info = p->info;

      if (!info->has_process_file && info->thread_files->len == 0)
        continue;
      JsonObject *o = json_object_new ();
      set_u64 (o, "pid", info->pid);
      set_u64 (o, "ppid", info->ppid);
      json_object_set_string_member (o, "program", info->name);
      json_object_set_string_member (o, "command_line", info->cmdline);
      if (info->exe)
        json_object_set_string_member (o, "exe", info->exe);
      else
        json_object_set_null_member (o, "exe");
      json_object_set_string_member (o, "directory", info->dir);
      json_object_set_boolean_member (o, "exited_normally", info->closed);
      int status, signal;
      ProcessEnd end = process_end (self, i, &status, &signal);
      if (end_names[end])
        json_object_set_string_member (o, "end", end_names[end]);
      else
        json_object_set_null_member (o, "end");
      set_int_or_null (o, "exit_status", status);
      set_int_or_null (o, "signal", signal);
      json_object_set_boolean_member (o, "sampled", info->sampled || p->weighted);
      set_u64 (o, "threads", p->n_threads);
      set_u64 (o, "thread_files", info->thread_files->len);
      set_u64 (o, "allocations", cnt (p->t->allocated.n_w));
      MsAggTally freed = ms_agg_tally_freed (p->t->allocated, p->t->live);
      set_u64 (o, "frees", cnt (freed.n_w));
      set_u64 (o, "reallocs", cnt (p->t->reallocs_w));
      set_u64 (o, "bytes_allocated", p->t->allocated.bytes);
      set_u64 (o, "bytes_freed", freed.bytes);
      set_u64 (o, "peak_live_bytes", p->t->peak_bytes);
      set_u64 (o, "peak_live_blocks", cnt (p->t->peak_count_w));
      set_u64 (o, "peak_time_ns", rel_time (agg, p->t->peak_time_ns));
      set_u64 (o, "leaked_blocks", cnt (p->t->live.n_w));
      set_u64 (o, "leaked_bytes", p->t->live.bytes);
      set_u64 (o, "temporary_allocations", cnt (p->t->temporary.n_w));
      set_u64 (o, "cross_thread_frees", cnt (p->t->cross_thread.n_w));
      set_u64 (o, "unmatched_frees", p->unmatched_frees);
      set_u64 (o, "realloc_ordering_fixes", p->realloc_fixes);
      set_u64 (o, "lost_events", p->lost_events);
      set_u64 (o, "duration_ns", p->last_ns > p->first_ns ? p->last_ns - p->first_ns : 0);

      JsonObject *mm = json_object_new ();
      set_u64 (mm, "mappings", cnt (p->mmapped.n_w));
      set_u64 (mm, "bytes_mapped", p->mmapped.bytes);
      set_u64 (mm, "bytes_unmapped", p->munmapped.bytes);
      set_u64 (mm, "live_bytes", p->mmap_live.bytes);
      set_u64 (mm, "peak_bytes", p->mmap_peak_bytes);
      set_u64 (mm, "unmatched_munmaps", p->unmatched_munmaps);
      json_object_set_object_member (o, "mmap", mm);

      json_object_set_array_member (o, "peak_stacks", process_peak_stacks (self, &pp, i));

      JsonObject *tl = json_object_new ();
      Collect c = { json_array_new () };
      set_u64 (tl, "bucket_ns", p->t->timeline.width_ns);
      rows_timeline (self, &p->t->timeline, 0, TRUE, collect_row, &c);
      json_object_set_array_member (tl, "points", c.array);
      json_object_set_object_member (o, "timeline", tl);

      c.array = json_array_new ();
      rows_sizes (p->t->sizes, 0, collect_row, &c);
      json_object_set_array_member (o, "sizes", c.array);

      if (p->has_resources)
        json_object_set_object_member (o, "resources", process_resources (agg, p));
      else
        json_object_set_null_member (o, "resources");
      json_array_add_object_element (out, o);
    }
  process_peaks_clear (&pp);
  return out;
}

/* ---- call sites (FREQ) ------------------------------------------------- */

JsonArray *
ms_agg_report_call_sites (MsAggReport *self, guint limit)
{
  MsAggregator *agg = self->agg;
  JsonArray *out = json_array_new ();
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (guint64) * 4); /* process, ip, count, bytes */

  for (guint i = 0; i < agg->processes->len; i++)
    {
      const MsAggProcess *p = g_ptr_array_index (agg->processes, i);
      for (gsize k = 0; k < ms_agg_map_capacity (&p->freq); k++)
        {
          if (p->freq.keys[k] == 0)
            continue;
          const MsAggFreq *f = ms_agg_map_value_at (&p->freq, k);
          guint64 e[4] = { i, p->freq.keys[k], f->count, f->bytes };
          g_array_append_vals (all, e, 1);
        }
    }
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (Ranked));
  for (guint k = 0; k < all->len; k++)
    {
      const guint64 *e = (const guint64 *) (all->data + (gsize) k * 4 * sizeof (guint64));
      Ranked r = { k, e[3], e[2] };
      g_array_append_val (order, r);
    }
  g_array_sort (order, ranked_desc);
  for (guint k = 0; k < order->len && (limit == 0 || k < limit); k++)
    {
      const guint64 *e = (const guint64 *) (all->data + (gsize) g_array_index (order, Ranked, k).index * 4 * sizeof (guint64));
      const MsAggProcess *p = g_ptr_array_index (agg->processes, e[0]);
      const MsSymLocation *loc = ms_symbolizer_resolve (self->sym, p->info, (guint) e[0], e[1], 0);
      g_autofree char *label = ms_sym_frame_label (loc, 0);
      g_autofree char *where = format_location (&loc->frames[0]);
      JsonObject *row = json_object_new ();

      set_u64 (row, "rank", k + 1);
      set_u64 (row, "pid", p->info->pid);
      set_u64 (row, "address", e[1]);
      json_object_set_string_member (row, "function", label);
      if (where)
        json_object_set_string_member (row, "location", where);
      else
        json_object_set_null_member (row, "location");
      set_u64 (row, "allocations", e[2]);
      set_u64 (row, "bytes", e[3]);
      json_array_add_object_element (out, row);
    }
  return out;
}

/* ---- losses and warnings ----------------------------------------------- */

static void
add_damage (JsonArray *files, const MsAggDamage *d)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "file", d->file);
  json_object_set_string_member (o, "message", d->message);
  set_u64 (o, "last_good_offset", d->last_good_offset);
  set_u64 (o, "bytes_skipped", d->bytes_skipped);
  set_u64 (o, "events_lost", d->events_lost);
  json_object_set_boolean_member (o, "estimated", d->estimated);
  json_object_set_boolean_member (o, "truncated", d->truncated);
  json_array_add_object_element (files, o);
}

JsonObject *
ms_agg_report_data_loss (MsAggReport *self)
{
  JsonObject *o = json_object_new ();
  JsonArray *files = json_array_new ();
  JsonArray *incomplete = json_array_new ();
  JsonArray *warnings = json_array_new ();
  GPtrArray *sw = ms_symbolizer_get_warnings (self->sym);

  set_u64 (o, "lost_events", self->agg->lost_events);
  json_object_set_boolean_member (o, "estimated", self->agg->lost_estimated);
  for (guint i = 0; i < self->trace->damage->len; i++)
    add_damage (files, g_ptr_array_index (self->trace->damage, i));
  for (guint i = 0; i < self->agg->damage->len; i++)
    add_damage (files, g_ptr_array_index (self->agg->damage, i));
  json_object_set_array_member (o, "files", files);
  for (guint i = 0; i < self->agg->processes->len; i++)
    {
      const MsAggProcess *p = g_ptr_array_index (self->agg->processes, i);
      int status, signal;
      ProcessEnd end = process_end (self, i, &status, &signal);
      if (end == END_SIGNAL || end == END_UNKNOWN)
        json_array_add_int_element (incomplete, p->info->pid);
    }
  json_object_set_array_member (o, "processes_without_exit", incomplete);
  set_u64 (o, "unknown_stack_refs", self->agg->unknown_stack_refs);
  set_u64 (o, "malformed_events", self->agg->malformed_events);
  for (guint i = 0; i < sw->len; i++)
    json_array_add_string_element (warnings, g_ptr_array_index (sw, i));
  for (guint i = 0; i < self->trace->warnings->len; i++)
    json_array_add_string_element (warnings, g_ptr_array_index (self->trace->warnings, i));
  json_object_set_array_member (o, "warnings", warnings);
  return o;
}

static void
damage_warning (GPtrArray *out, const MsAggDamage *d)
{
  if (d->events_lost)
    g_ptr_array_add (out, g_strdup_printf (_("%s (after the record at byte %" PRIu64 "): %s%" PRIu64
                                             " events lost"),
                                           d->message, d->last_good_offset, d->estimated ? _("about ") : "",
                                           d->events_lost));
  else
    g_ptr_array_add (out, g_strdup_printf (_("%s (after the record at byte %" PRIu64 ")"), d->message,
                                           d->last_good_offset));
}

GPtrArray *
ms_agg_report_warnings (MsAggReport *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *sw = ms_symbolizer_get_warnings (self->sym);

  for (guint i = 0; i < self->trace->damage->len; i++)
    damage_warning (out, g_ptr_array_index (self->trace->damage, i));
  for (guint i = 0; i < self->agg->damage->len; i++)
    damage_warning (out, g_ptr_array_index (self->agg->damage, i));
  for (guint i = 0; i < self->trace->warnings->len; i++)
    g_ptr_array_add (out, g_strdup (g_ptr_array_index (self->trace->warnings, i)));
  for (guint i = 0; i < sw->len; i++)
    g_ptr_array_add (out, g_strdup (g_ptr_array_index (sw, i)));
  for (guint i = 0; i < self->agg->processes->len; i++)
    {
      const MsAggProcess *p = g_ptr_array_index (self->agg->processes, i);
      if (p->dropped_events)
        g_ptr_array_add (out, g_strdup_printf (_("process %u: the recorder dropped %" PRIu64
                                                 " events (see LOST in memscope-trace(5)): totals are low by that much"),
                                               p->info->pid, p->dropped_events));
      int status, signal;
      switch (process_end (self, i, &status, &signal))
        {
        case END_SIGNAL:
          g_ptr_array_add (out, g_strdup_printf (_("process %u was killed by signal %d (%s): what it recorded "
                                                   "until then was analysed"),
                                                 p->info->pid, signal, g_strsignal (signal)));
          break;
        case END_UNKNOWN:
          g_ptr_array_add (out, g_strdup_printf (_("process %u ended without its exit record (killed, crashed, "
                                                   "or it called _exit): what it recorded until then was analysed"),
                                                 p->info->pid));
          break;
        default:
          break;
        }
    }
  if (self->agg->malformed_events)
    g_ptr_array_add (out, g_strdup_printf (_("%" PRIu64 " events at address 0 were ignored (damaged trace)"),
                                           self->agg->malformed_events));
  if (self->agg->unknown_stack_refs)
    g_ptr_array_add (out, g_strdup_printf (_("%" PRIu64 " events named a stack that was never defined "
                                             "(damaged trace): they count under [no stack]"),
                                           self->agg->unknown_stack_refs));
  return out;
}
