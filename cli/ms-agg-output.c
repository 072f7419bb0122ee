/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-agg-output.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define TEXT_STRING_MAX 48
#define TEXT_LONG_MAX 160

/* JSON limits: the files stay readable, stdout has --top. */
#define JSON_HOT_STACKS 50
#define JSON_LEAKS 1000
#define JSON_PEAK_STACKS 50
#define JSON_TEMPORARY 50
#define JSON_INTERACTIONS 200
#define JSON_CALL_SITES 200
#define JSON_EXTRA_STACKS 500
#define JSON_RANKING 20

char *
ms_agg_format_bytes (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double v = (double) bytes;
  guint u = 0;

  if (bytes < 1024)
    return g_strdup_printf ("%" PRIu64 " B", bytes);
  v /= 1024;
  while (v >= 1024 && u + 1 < G_N_ELEMENTS (units))
    {
      v /= 1024;
      u++;
    }
  return g_strdup_printf ("%.1f %s", v, units[u]);
}

/* ---- cells ------------------------------------------------------------- */

static char *
sanitize (const char *s)
{
  char *r = g_strdup (s);

  for (char *c = r; *c; c++)
    if (*c == '\t' || *c == '\n' || *c == '\r')
      *c = ' ';
  return r;
}

static char *
cell (JsonObject *row, const MsAggColumn *col, gboolean text)
{
  JsonNode *n = json_object_get_member (row, col->name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return g_strdup ("-");
  switch (col->type)
    {
    case MS_AGG_COL_INT:
      return g_strdup_printf ("%" PRId64, json_node_get_int (n));
    case MS_AGG_COL_BYTES:
      return text ? ms_agg_format_bytes ((guint64) json_node_get_int (n))
                  : g_strdup_printf ("%" PRId64, json_node_get_int (n));
    case MS_AGG_COL_TIME:
      return text ? g_strdup_printf ("%.3fs", (double) json_node_get_int (n) / 1e9)
                  : g_strdup_printf ("%" PRId64, json_node_get_int (n));
    case MS_AGG_COL_FLOAT:
      return g_strdup_printf (text ? "%.2f" : "%.6g", json_node_get_double (n));
    case MS_AGG_COL_PERCENT:
      return g_strdup_printf ("%.2f", json_node_get_double (n));
    case MS_AGG_COL_STRING:
    case MS_AGG_COL_LONG_STRING:
    default:
      return sanitize (json_node_get_string (n) ? json_node_get_string (n) : "-");
    }
}

static gboolean
is_numeric (MsAggColType t)
{
  return t != MS_AGG_COL_STRING && t != MS_AGG_COL_LONG_STRING;
}

/* ---- tables ------------------------------------------------------------ */

struct _MsAggTable
{
  FILE *out;
  MsAggFormat format;
  char *name;
  const MsAggColumn *columns;
  guint n_columns;
  gboolean estimated;
  GPtrArray *rows;        /* JsonObject*, for text and JSON */
};

MsAggTable *
ms_agg_table_new (FILE *out, MsAggFormat format, const char *name, const MsAggColumn *columns, guint n_columns,
                  gboolean estimated)
{
  MsAggTable *self = g_new0 (MsAggTable, 1);

  self->out = out;
  self->format = format;
  self->name = g_strdup (name);
  self->columns = columns;
  self->n_columns = n_columns;
  self->estimated = estimated;
  self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  if (format == MS_AGG_FORMAT_TSV)
    {
      for (guint c = 0; c < n_columns; c++)
        fprintf (out, "%s%s", c ? "\t" : "", columns[c].name);
      fputc ('\n', out);
    }
  return self;
}

void
ms_agg_table_add (JsonObject *row, gpointer user_data)
{
  MsAggTable *self = user_data;

  if (self->format == MS_AGG_FORMAT_TSV)
    {
      for (guint c = 0; c < self->n_columns; c++)
        {
          g_autofree char *v = cell (row, &self->columns[c], FALSE);
          fprintf (self->out, "%s%s", c ? "\t" : "", v);
        }
      fputc ('\n', self->out);
      return;
    }
  g_ptr_array_add (self->rows, json_object_ref (row));
}

static char *
clip (const char *s, guint max, gboolean keep_end)
{
  glong len = g_utf8_strlen (s, -1);

  if ((guint) len <= max)
    return g_strdup (s);
  if (keep_end)
    return g_strconcat ("...", g_utf8_offset_to_pointer (s, len - (max - 3)), NULL);
  g_autofree char *head = g_utf8_substring (s, 0, max - 3);
  return g_strconcat (head, "...", NULL);
}

static void
finish_text (MsAggTable *self)
{
  guint n = self->n_columns;
  g_autofree guint *width = g_new0 (guint, n);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);

  if (self->estimated)
    fprintf (self->out, "%s\n", _("(sampled trace: counts and bytes are estimates)"));
  if (self->rows->len == 0)
    {
      fprintf (self->out, _("No %s to report.\n"), self->name);
      return;
    }
  for (guint c = 0; c < n; c++)
    width[c] = (guint) strlen (self->columns[c].name);
  for (guint r = 0; r < self->rows->len; r++)
    for (guint c = 0; c < n; c++)
      {
        g_autofree char *v = cell (g_ptr_array_index (self->rows, r), &self->columns[c], TRUE);
        char *shown = self->columns[c].type == MS_AGG_COL_LONG_STRING
                          ? clip (v, TEXT_LONG_MAX, strcmp (self->columns[c].name, "stack") == 0 ||
                                                        strcmp (self->columns[c].name, "top_stack") == 0)
                          : clip (v, TEXT_STRING_MAX, FALSE);
        if (self->columns[c].type != MS_AGG_COL_LONG_STRING)
          width[c] = MAX (width[c], (guint) g_utf8_strlen (shown, -1));
        g_ptr_array_add (cells, shown);
      }

  /* The long columns (stacks, evidence) go on their own line under the row. */
  for (guint c = 0; c < n; c++)
    if (self->columns[c].type != MS_AGG_COL_LONG_STRING)
      fprintf (self->out, "%s%*s", c ? "  " : "", is_numeric (self->columns[c].type) ? (int) width[c] : -(int) width[c],
               self->columns[c].name);
  fputc ('\n', self->out);
  for (guint r = 0; r < self->rows->len; r++)
    {
      for (guint c = 0; c < n; c++)
        {
          const char *v = g_ptr_array_index (cells, r * n + c);
          if (self->columns[c].type == MS_AGG_COL_LONG_STRING)
            continue;
          /* %*s pads bytes, not characters: pad by hand for UTF-8 names */
          guint len = (guint) g_utf8_strlen (v, -1);
          if (c)
            fputs ("  ", self->out);
          if (is_numeric (self->columns[c].type))
            fprintf (self->out, "%*s%s", (int) (width[c] - len), "", v);
          else
            fprintf (self->out, "%s%*s", v, c + 1 < n ? (int) (width[c] - len) : 0, "");
        }
      fputc ('\n', self->out);
      for (guint c = 0; c < n; c++)
        if (self->columns[c].type == MS_AGG_COL_LONG_STRING)
          fprintf (self->out, "    %s\n", (const char *) g_ptr_array_index (cells, r * n + c));
    }
}

static void
print_json (FILE *out, JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *data = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, node);
  data = json_generator_to_data (gen, NULL);
  fprintf (out, "%s\n", data);
}

static JsonObject *
json_header (const char *report, gboolean estimated)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "report", report);
  json_object_set_string_member (o, "schema_version", MS_AGG_SCHEMA_VERSION);
  json_object_set_boolean_member (o, "estimated", estimated);
  return o;
}

void
ms_agg_table_finish (MsAggTable *self)
{
  if (self->format == MS_AGG_FORMAT_TEXT)
    finish_text (self);
  else if (self->format == MS_AGG_FORMAT_JSON)
    {
      JsonObject *o = json_header (self->name, self->estimated);
      JsonArray *rows = json_array_new ();
      for (guint r = 0; r < self->rows->len; r++)
        json_array_add_object_element (rows, json_object_ref (g_ptr_array_index (self->rows, r)));
      json_object_set_array_member (o, "rows", rows);
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), o);
      json_object_unref (o);
      print_json (self->out, node);
    }
  g_ptr_array_unref (self->rows);
  g_free (self->name);
  g_free (self);
}

/* ---- stdout reports ---------------------------------------------------- */

static void
print_summary (MsAggReport *report, FILE *out, MsAggFormat format)
{
  g_autoptr (JsonObject) s = ms_agg_report_summary (report);
  g_autoptr (GList) members = json_object_get_members (s);

  if (format == MS_AGG_FORMAT_JSON)
    {
      JsonObject *o = json_header ("summary", report->agg->sampled);
      json_object_set_object_member (o, "summary", json_object_ref (s));
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), o);
      json_object_unref (o);
      print_json (out, node);
      return;
    }
  if (format == MS_AGG_FORMAT_TEXT && report->agg->sampled)
    fprintf (out, "%s\n", _("(sampled trace: counts and bytes are estimates)"));
  for (GList *l = members; l; l = l->next)
    {
      const char *key = l->data;
      JsonNode *n = json_object_get_member (s, key);
      g_autofree char *v = NULL;

      if (JSON_NODE_TYPE (n) == JSON_NODE_VALUE && json_node_get_value_type (n) == G_TYPE_STRING)
        v = sanitize (json_node_get_string (n));
      else if (format == MS_AGG_FORMAT_TEXT && (g_str_has_suffix (key, "_bytes") || g_str_has_prefix (key, "bytes_")))
        v = ms_agg_format_bytes ((guint64) json_node_get_int (n));
      else if (format == MS_AGG_FORMAT_TEXT && g_str_has_suffix (key, "_ns"))
        v = g_strdup_printf ("%.3fs", (double) json_node_get_int (n) / 1e9);
      else
        v = g_strdup_printf ("%" PRId64, json_node_get_int (n));
      if (format == MS_AGG_FORMAT_TSV)
        fprintf (out, "%s\t%s\n", key, v);
      else
        fprintf (out, "%-24s %s\n", key, v);
    }
}

static gint
cmp_value_desc (gconstpointer a, gconstpointer b)
{
  const guint64 *x = a, *y = b; /* [value, stack] */
  return x[0] != y[0] ? (x[0] < y[0] ? 1 : -1) : (x[1] > y[1]) - (x[1] < y[1]);
}

static void
print_collapsed (MsAggReport *report, FILE *out, MsAggReportKind kind, MsAggWeight weight, guint top)
{
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint64) * 2);

  for (guint i = 0; i < report->groups->len; i++)
    {
      const MsAggGroup *g = ms_agg_report_group (report, i);
      guint64 v;
      switch (kind)
        {
        case MS_AGG_REPORT_LEAKS: v = g->live.bytes; break;
        case MS_AGG_REPORT_PEAK: v = g->at_peak.bytes; break;
        case MS_AGG_REPORT_TEMPORARY: v = ms_agg_count (g->temporary.n_w); break;
        default: v = ms_agg_report_group_value (report, i, weight); break;
        }
      guint64 e[2] = { v, i };
      if (v)
        g_array_append_vals (order, e, 1);
    }
  if (top && order->len > top)
    {
      /* biggest first, then cut; flame graph tools do not mind the order */
      g_array_sort (order, cmp_value_desc);
      g_array_set_size (order, top);
    }
  for (guint k = 0; k < order->len; k++)
    {
      const guint64 *e = (const guint64 *) (order->data + (gsize) k * 2 * sizeof (guint64));
      const MsAggGroup *g = ms_agg_report_group (report, (guint32) e[1]);
      /* Several processes: each one's stacks under a root frame of its own,
       * as perf's collapsed stacks have, so that a flame graph keeps them
       * apart (the stackless events are all of them together). */
      if (report->agg->processes->len > 1 && e[1] != 0)
        {
          const MsAggProcess *p = g_ptr_array_index (report->agg->processes, g->process);
          g_autofree char *root = ms_agg_folded_frame (g_strdup (p->info->name));
          fprintf (out, "%s-%u;", root, (guint) p->info->pid);
        }
      fprintf (out, "%s %" PRIu64 "\n", g->text.folded, e[0]);
    }
}

gboolean
ms_agg_print_report (MsAggReport *report, FILE *out, MsAggReportKind kind, MsAggFormat format, MsAggWeight weight,
                     guint top, GError **error)
{
  if (format == MS_AGG_FORMAT_COLLAPSED)
    {
      if (kind == MS_AGG_REPORT_SUMMARY)
        kind = MS_AGG_REPORT_STACKS;
      if (kind != MS_AGG_REPORT_STACKS && kind != MS_AGG_REPORT_LEAKS && kind != MS_AGG_REPORT_PEAK
          && kind != MS_AGG_REPORT_TEMPORARY)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--format=collapsed prints call stacks: use it with --report=stacks, leaks, peak or temporary"));
          return FALSE;
        }
      print_collapsed (report, out, kind, weight, top);
      return TRUE;
    }
  if (kind == MS_AGG_REPORT_SUMMARY)
    {
      print_summary (report, out, format);
      return TRUE;
    }

  guint n;
  const MsAggColumn *cols = ms_agg_report_columns (kind, &n);
  MsAggTable *t = ms_agg_table_new (out, format, ms_agg_report_kind_name (kind), cols, n, report->agg->sampled);
  ms_agg_report_rows (report, kind, weight, top, ms_agg_table_add, t);
  ms_agg_table_finish (t);
  return TRUE;
}

/* ---- the JSON documents ------------------------------------------------ */

typedef struct
{
  JsonArray *array;
  GHashTable *stacks;     /* stack ids referenced, for the "stacks" table */
} Collector;

static void
note_stack (Collector *c, JsonObject *row)
{
  if (json_object_has_member (row, "stack_id") && !json_object_get_null_member (row, "stack_id"))
    g_hash_table_add (c->stacks, GUINT_TO_POINTER ((guint) json_object_get_int_member (row, "stack_id")));
}

static void
collect (JsonObject *row, gpointer user_data)
{
  Collector *c = user_data;

  note_stack (c, row);
  if (json_object_has_member (row, "stacks"))
    {
      JsonArray *inner = json_object_get_array_member (row, "stacks");
      for (guint i = 0; i < json_array_get_length (inner); i++)
        note_stack (c, json_array_get_object_element (inner, i));
    }
  json_array_add_object_element (c->array, json_object_ref (row));
}

static JsonArray *
rows_array (MsAggReport *report, GHashTable *stacks, MsAggReportKind kind, MsAggWeight weight, guint limit)
{
  Collector c = { json_array_new (), stacks };

  ms_agg_report_rows (report, kind, weight, limit, collect, &c);
  return c.array;
}

static JsonObject *
trace_object (MsAggReport *report)
{
  const MsAggTraceDir *trace = report->trace;
  const MsAggProcessInfo *root = g_ptr_array_index (trace->processes, 0);
  JsonObject *o = json_object_new ();
  const char *sampling = g_hash_table_lookup (root->info, "sampling");
  const char *version = g_hash_table_lookup (root->info, "memscope_version");

  json_object_set_string_member (o, "directory", trace->dir);
  json_object_set_string_member (o, "program", root->name);
  json_object_set_string_member (o, "command_line", root->cmdline);
  if (root->exe)
    json_object_set_string_member (o, "exe", root->exe);
  else
    json_object_set_null_member (o, "exe");
  json_object_set_int_member (o, "pid", root->pid);
  json_object_set_int_member (o, "start_wall_ns", (gint64) MIN (root->start_wall_ns, (guint64) G_MAXINT64));
  json_object_set_int_member (o, "start_mono_ns", (gint64) MIN (report->agg->origin_ns, (guint64) G_MAXINT64));
  json_object_set_string_member (o, "sampling", sampling ? sampling : "exact");
  json_object_set_boolean_member (o, "sampled", report->agg->sampled);
  if (version)
    json_object_set_string_member (o, "recorder_version", version);
  else
    json_object_set_null_member (o, "recorder_version");
  return o;
}

static JsonObject *
document (const char *report_name, MsAggReport *report)
{
  JsonObject *o = json_object_new ();
  JsonObject *gen = json_object_new ();

  json_object_set_string_member (o, "report", report_name);
  json_object_set_string_member (o, "schema_version", MS_AGG_SCHEMA_VERSION);
  json_object_set_string_member (gen, "name", "memscope-aggregate");
  json_object_set_string_member (gen, "version", PACKAGE_VERSION);
  json_object_set_object_member (o, "generator", gen);
  json_object_set_boolean_member (o, "estimated", report->agg->sampled);
  json_object_set_object_member (o, "trace", trace_object (report));
  return o;
}

static JsonObject *
stack_entry (MsAggReport *report, guint32 id)
{
  const MsAggGroup *g = ms_agg_report_group (report, id);
  const MsAggStackText *t = &g->text;
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "stack_id", id);
  ms_agg_report_set_group_pid (report, o, id);
  json_object_set_string_member (o, "function", t->function);
  if (t->location)
    json_object_set_string_member (o, "location", t->location);
  else
    json_object_set_null_member (o, "location");
  if (t->module)
    json_object_set_string_member (o, "module", t->module);
  else
    json_object_set_null_member (o, "module");
  json_object_set_string_member (o, "stack", t->folded);
  json_object_set_int_member (o, "addresses", g->n_stacks);
  json_object_set_int_member (o, "allocations", (gint64) ms_agg_count (g->allocated.n_w));
  json_object_set_int_member (o, "bytes_allocated", (gint64) g->allocated.bytes);
  json_object_set_int_member (o, "frees", (gint64) ms_agg_count (ms_agg_tally_freed (g->allocated, g->live).n_w));
  json_object_set_int_member (o, "leaked_blocks", (gint64) ms_agg_count (g->live.n_w));
  json_object_set_int_member (o, "leaked_bytes", (gint64) g->live.bytes);
  json_object_set_int_member (o, "peak_bytes", (gint64) g->at_peak.bytes);
  json_object_set_int_member (o, "temporary", (gint64) ms_agg_count (g->temporary.n_w));
  json_object_set_int_member (o, "reallocs", (gint64) ms_agg_count (g->reallocs_w));
  json_object_set_int_member (o, "max_realloc_chain", g->max_chain);
  json_object_set_array_member (o, "frames", ms_agg_report_group_frames (report, id));
  return o;
}

static gint
cmp_uint (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(gconstpointer *) a), y = GPOINTER_TO_UINT (*(gconstpointer *) b);
  return (x > y) - (x < y);
}

JsonNode *
ms_agg_comprehensive_json (MsAggReport *report)
{
  MsAggregator *agg = report->agg;
  JsonObject *o = document ("comprehensive", report);
  g_autoptr (GHashTable) stacks = g_hash_table_new (NULL, NULL);

  json_object_set_object_member (o, "summary", ms_agg_report_summary (report));
  json_object_set_array_member (o, "processes", ms_agg_report_processes (report));
  json_object_set_array_member (o, "threads", rows_array (report, stacks, MS_AGG_REPORT_THREADS, 0, 0));

  JsonObject *hot = json_object_new ();
  json_object_set_array_member (hot, "by_bytes",
                                rows_array (report, stacks, MS_AGG_REPORT_STACKS, MS_AGG_WEIGHT_BYTES, JSON_HOT_STACKS));
  json_object_set_array_member (hot, "by_count",
                                rows_array (report, stacks, MS_AGG_REPORT_STACKS, MS_AGG_WEIGHT_COUNT, JSON_HOT_STACKS));
  json_object_set_object_member (o, "hot_stacks", hot);
  json_object_set_array_member (o, "leaks", rows_array (report, stacks, MS_AGG_REPORT_LEAKS, 0, JSON_LEAKS));

  JsonObject *peak = json_object_new ();
  json_object_set_int_member (peak, "bytes", (gint64) agg->all.peak_bytes);
  json_object_set_int_member (peak, "blocks", (gint64) ms_agg_count (agg->all.peak_count_w));
  json_object_set_int_member (peak, "time_ns", (gint64) (agg->all.peak_time_ns > agg->origin_ns ? agg->all.peak_time_ns - agg->origin_ns : 0));
  json_object_set_int_member (peak, "time_mono_ns", (gint64) MIN (agg->all.peak_time_ns, (guint64) G_MAXINT64));
  json_object_set_array_member (peak, "stacks", rows_array (report, stacks, MS_AGG_REPORT_PEAK, 0, JSON_PEAK_STACKS));
  json_object_set_object_member (o, "peak", peak);

  JsonObject *temp = json_object_new ();
  json_object_set_int_member (temp, "allocations", (gint64) ms_agg_count (agg->all.temporary.n_w));
  json_object_set_int_member (temp, "bytes", (gint64) agg->all.temporary.bytes);
  json_object_set_array_member (temp, "stacks", rows_array (report, stacks, MS_AGG_REPORT_TEMPORARY, 0, JSON_TEMPORARY));
  json_object_set_object_member (o, "temporary", temp);

  JsonObject *tl = json_object_new ();
  json_object_set_int_member (tl, "bucket_ns", (gint64) agg->all.timeline.width_ns);
  json_object_set_array_member (tl, "points", rows_array (report, stacks, MS_AGG_REPORT_TIMELINE, 0, 0));
  json_object_set_object_member (o, "timeline", tl);
  json_object_set_object_member (o, "system_timeline", ms_agg_report_system_timeline (report));

  json_object_set_array_member (o, "sizes", rows_array (report, stacks, MS_AGG_REPORT_SIZES, 0, 0));
  json_object_set_array_member (o, "labels", rows_array (report, stacks, MS_AGG_REPORT_LABELS, 0, 0));
  json_object_set_array_member (o, "interactions",
                                rows_array (report, stacks, MS_AGG_REPORT_INTERACTIONS, 0, JSON_INTERACTIONS));
  json_object_set_array_member (o, "bottlenecks", rows_array (report, stacks, MS_AGG_REPORT_BOTTLENECKS, 0, 0));
  json_object_set_object_member (o, "correlations", ms_agg_report_correlations (report));
  json_object_set_array_member (o, "call_sites", ms_agg_report_call_sites (report, JSON_CALL_SITES));

  /* Beyond the stacks named above, the biggest by bytes: a later
   * --diff against this file then sees most of the heap. */
  json_array_unref (rows_array (report, stacks, MS_AGG_REPORT_STACKS, MS_AGG_WEIGHT_BYTES, JSON_EXTRA_STACKS));
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, stacks);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (ids, key);
  g_ptr_array_sort (ids, cmp_uint);
  JsonArray *table = json_array_new ();
  for (guint i = 0; i < ids->len; i++)
    json_array_add_object_element (table, stack_entry (report, GPOINTER_TO_UINT (g_ptr_array_index (ids, i))));
  json_object_set_array_member (o, "stacks", table);

  json_object_set_object_member (o, "data_loss", ms_agg_report_data_loss (report));
  JsonNode *node = json_node_init_object (json_node_alloc (), o);
  json_object_unref (o);
  return node;
}

typedef struct
{
  const char *name;
  const char *member;    /* in the thread row */
} Ranking;

static gint
cmp_row_value (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const char *member = user_data;
  JsonObject *x = *(JsonObject *const *) a, *y = *(JsonObject *const *) b;
  double vx = json_object_get_null_member (x, member) ? -1 : json_object_get_double_member (x, member);
  double vy = json_object_get_null_member (y, member) ? -1 : json_object_get_double_member (y, member);
  return vx != vy ? (vx < vy ? 1 : -1) : 0;
}

/* A process' resources without their series, which are the comprehensive
 * report's (json_node_copy() would share the object). */
static JsonNode *
resources_summary (JsonNode *resources)
{
  if (!JSON_NODE_HOLDS_OBJECT (resources))
    return json_node_copy (resources);
  JsonObject *from = json_node_get_object (resources);
  JsonObject *to = json_object_new ();
  g_autoptr (GList) names = json_object_get_members (from); /* in their order */
  for (GList *l = names; l; l = l->next)
    if (strcmp (l->data, "series") != 0)
      json_object_set_member (to, l->data, json_node_copy (json_object_get_member (from, l->data)));
  JsonNode *node = json_node_init_object (json_node_alloc (), to);
  json_object_unref (to);
  return node;
}

JsonNode *
ms_agg_resource_rankings_json (MsAggReport *report)
{
  static const Ranking rankings[] = {
    { "by_peak_memory", "peak_live_bytes" },   { "by_bytes_allocated", "bytes_allocated" },
    { "by_allocation_rate", "alloc_rate" },    { "by_cpu", "cpu_percent" },
    { "by_io", "io_rate" },                    { "by_leaked_bytes", "leaked_bytes" },
  };
  MsAggregator *agg = report->agg;
  JsonObject *o = document ("resource_rankings", report);
  g_autoptr (GHashTable) unused = g_hash_table_new (NULL, NULL);
  JsonArray *threads = rows_array (report, unused, MS_AGG_REPORT_THREADS, 0, 0);
  JsonObject *sys = json_object_new ();
  const char *v;

  if (agg->sys_n_cpus)
    json_object_set_int_member (sys, "n_cpus", (gint64) agg->sys_n_cpus);
  else
    json_object_set_null_member (sys, "n_cpus");
  if (agg->sys_mem_total)
    json_object_set_int_member (sys, "mem_total_bytes", (gint64) agg->sys_mem_total);
  else
    json_object_set_null_member (sys, "mem_total_bytes");
  json_object_set_int_member (sys, "interval_ns", (gint64) agg->res_interval_ns);
  if ((v = g_hash_table_lookup (agg->res_info, "gpu")))
    json_object_set_string_member (sys, "gpu", v);
  else
    json_object_set_null_member (sys, "gpu");
  json_object_set_boolean_member (sys, "sampled", agg->res_buckets > 0);
  json_object_set_object_member (o, "system", sys);

  JsonArray *procs = json_array_new ();
  g_autoptr (JsonArray) full = ms_agg_report_processes (report);
  for (guint i = 0; i < json_array_get_length (full); i++)
    {
      JsonObject *p = json_array_get_object_element (full, i);
      JsonObject *q = json_object_new ();
      json_object_set_int_member (q, "pid", json_object_get_int_member (p, "pid"));
      json_object_set_string_member (q, "program", json_object_get_string_member (p, "program"));
      json_object_set_int_member (q, "peak_live_bytes", json_object_get_int_member (p, "peak_live_bytes"));
      json_object_set_member (q, "resources", resources_summary (json_object_get_member (p, "resources")));
      json_array_add_object_element (procs, q);
    }
  json_object_set_array_member (o, "processes", procs);

  JsonObject *ranks = json_object_new ();
  for (guint r = 0; r < G_N_ELEMENTS (rankings); r++)
    {
      g_autoptr (GPtrArray) rows = g_ptr_array_new ();
      JsonArray *out = json_array_new ();
      for (guint i = 0; i < json_array_get_length (threads); i++)
        {
          JsonObject *t = json_array_get_object_element (threads, i);
          if (!json_object_get_null_member (t, rankings[r].member))
            g_ptr_array_add (rows, t);
        }
      g_ptr_array_sort_with_data (rows, cmp_row_value, (gpointer) rankings[r].member);
      for (guint i = 0; i < rows->len && i < JSON_RANKING; i++)
        {
          JsonObject *t = g_ptr_array_index (rows, i);
          JsonObject *e = json_object_new ();
          json_object_set_int_member (e, "rank", i + 1);
          json_object_set_int_member (e, "pid", json_object_get_int_member (t, "pid"));
          json_object_set_int_member (e, "tid", json_object_get_int_member (t, "tid"));
          json_object_set_string_member (e, "name", json_object_get_string_member (t, "name"));
          json_object_set_double_member (e, "value", json_object_get_double_member (t, rankings[r].member));
          json_array_add_object_element (out, e);
        }
      json_object_set_array_member (ranks, rankings[r].name, out);
    }
  json_object_set_object_member (o, "rankings", ranks);

  JsonObject *roles = json_object_new (), *alerts = json_object_new ();
  for (guint r = MS_AGG_ROLE_MEMORY; r <= MS_AGG_ROLE_BALANCED; r++)
    json_object_set_int_member (roles, ms_agg_role_name (r), 0);
  for (guint a = MS_AGG_ALERT_NORMAL; a <= MS_AGG_ALERT_HIGH; a++)
    json_object_set_int_member (alerts, ms_agg_alert_name (a), 0);
  for (guint i = 0; i < json_array_get_length (threads); i++)
    {
      JsonObject *t = json_array_get_object_element (threads, i);
      const char *role = json_object_get_string_member (t, "role");
      const char *alert = json_object_get_string_member (t, "alert");
      json_object_set_int_member (roles, role, json_object_get_int_member (roles, role) + 1);
      json_object_set_int_member (alerts, alert, json_object_get_int_member (alerts, alert) + 1);
    }
  json_object_set_object_member (o, "roles", roles);
  json_object_set_object_member (o, "alerts", alerts);
  json_object_set_object_member (o, "thresholds", ms_agg_report_thresholds (report));
  json_object_set_object_member (o, "correlations", ms_agg_report_correlations (report));
  json_object_set_array_member (o, "threads", threads);

  JsonNode *node = json_node_init_object (json_node_alloc (), o);
  json_object_unref (o);
  return node;
}

static gboolean
write_node (JsonNode *node, const char *path, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len;
  g_autofree char *data = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 1);
  json_generator_set_root (gen, node);
  data = json_generator_to_data (gen, &len);
  if (!g_file_set_contents (path, data, (gssize) len, error))
    {
      g_prefix_error (error, _("Writing the report: "));
      return FALSE;
    }
  return TRUE;
}

gboolean
ms_agg_write_json_files (MsAggReport *report, const char *dir, const char *prefix, GError **error)
{
  g_autofree char *name1 = g_strdup_printf ("%s_comprehensive.json", prefix);
  g_autofree char *name2 = g_strdup_printf ("%s_resource_rankings.json", prefix);
  g_autofree char *path1 = g_build_filename (dir, name1, NULL);
  g_autofree char *path2 = g_build_filename (dir, name2, NULL);
  g_autoptr (JsonNode) doc1 = ms_agg_comprehensive_json (report);
  g_autoptr (JsonNode) doc2 = ms_agg_resource_rankings_json (report);

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), _("Creating “%s”: %s"), dir,
                   g_strerror (errsv));
      return FALSE;
    }
  return write_node (doc1, path1, error) && write_node (doc2, path2, error);
}
