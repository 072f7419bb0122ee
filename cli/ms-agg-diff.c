/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-agg-diff.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ms-error.h"

typedef struct
{
  gint64 leaked;
  gint64 peak;
  gint64 allocated;
  gint64 allocations;
  char *function;
} Values;

struct _MsAggDiffSide
{
  Values totals;
  GHashTable *stacks;     /* folded → Values* */
  gboolean estimated;
};

static void
values_free (Values *v)
{
  g_free (v->function);
  g_free (v);
}

static MsAggDiffSide *
side_new (void)
{
  MsAggDiffSide *self = g_new0 (MsAggDiffSide, 1);
  self->stacks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) values_free);
  return self;
}

void
ms_agg_diff_side_free (MsAggDiffSide *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->stacks);
  g_free (self);
}

/* The same folded text can come from distinct stacks (two processes, or
 * addresses that symbolise alike): they add up. */
static Values *
side_entry (MsAggDiffSide *self, const char *folded, const char *function)
{
  Values *v = g_hash_table_lookup (self->stacks, folded);

  if (v == NULL)
    {
      v = g_new0 (Values, 1);
      v->function = g_strdup (function);
      g_hash_table_insert (self->stacks, g_strdup (folded), v);
    }
  return v;
}

MsAggDiffSide *
ms_agg_diff_side_from_report (MsAggReport *report)
{
  MsAggDiffSide *self = side_new ();
  MsAggregator *agg = report->agg;

  self->totals.leaked = (gint64) agg->all.live.bytes;
  self->totals.peak = (gint64) agg->all.peak_bytes;
  self->totals.allocated = (gint64) agg->all.allocated.bytes;
  self->totals.allocations = (gint64) ms_agg_count (agg->all.allocated.n_w);
  self->estimated = agg->sampled;
  for (guint i = 0; i < report->groups->len; i++)
    {
      const MsAggGroup *s = ms_agg_report_group (report, i);
      if (s->allocated.n_w == 0 && s->live.n_w == 0)
        continue;
      Values *v = side_entry (self, s->text.folded, s->text.function);
      v->leaked += (gint64) s->live.bytes;
      v->peak += (gint64) s->at_peak.bytes;
      v->allocated += (gint64) s->allocated.bytes;
      v->allocations += (gint64) ms_agg_count (s->allocated.n_w);
    }
  return self;
}

static gint64
int_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_int (n) : 0;
}

MsAggDiffSide *
ms_agg_diff_side_from_json (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (MsAggDiffSide) self = side_new ();
  g_autoptr (GError) local_error = NULL;

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Reading “%s”: %s"), path, local_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *kind = o && json_object_has_member (o, "report") ? json_object_get_string_member (o, "report") : NULL;
  const char *version = o && json_object_has_member (o, "schema_version") ? json_object_get_string_member (o, "schema_version") : NULL;
  if (g_strcmp0 (kind, "comprehensive") != 0 || version == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE,
                   _("“%s” is not a memscope-aggregate PREFIX_comprehensive.json: give that file or a trace directory"),
                   path);
      return NULL;
    }
  if (g_ascii_strtoull (version, NULL, 10) > g_ascii_strtoull (MS_AGG_SCHEMA_VERSION, NULL, 10))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW,
                   _("“%s” has report schema %s; this memscope-aggregate reads %s and older: upgrade memscope"), path,
                   version, MS_AGG_SCHEMA_VERSION);
      return NULL;
    }

  JsonNode *summary_node = json_object_get_member (o, "summary");
  JsonNode *stacks_node = json_object_get_member (o, "stacks");
  if (summary_node == NULL || !JSON_NODE_HOLDS_OBJECT (summary_node) || stacks_node == NULL
      || !JSON_NODE_HOLDS_ARRAY (stacks_node))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_CORRUPT, _("“%s” has no summary or stacks"), path);
      return NULL;
    }
  JsonObject *summary = json_node_get_object (summary_node);
  self->totals.leaked = int_member (summary, "leaked_bytes");
  self->totals.peak = int_member (summary, "peak_live_bytes");
  self->totals.allocated = int_member (summary, "bytes_allocated");
  self->totals.allocations = int_member (summary, "allocations");
  self->estimated = int_member (summary, "sampled") != 0;

  JsonArray *stacks = json_node_get_array (stacks_node);
  for (guint i = 0; i < json_array_get_length (stacks); i++)
    {
      JsonNode *en = json_array_get_element (stacks, i);
      if (!JSON_NODE_HOLDS_OBJECT (en))
        continue;
      JsonObject *e = json_node_get_object (en);
      JsonNode *folded = json_object_get_member (e, "stack");
      JsonNode *function = json_object_get_member (e, "function");
      if (folded == NULL || json_node_get_value_type (folded) != G_TYPE_STRING)
        continue;
      Values *v = side_entry (self, json_node_get_string (folded),
                              function && json_node_get_value_type (function) == G_TYPE_STRING
                                  ? json_node_get_string (function)
                                  : NULL);
      v->leaked += int_member (e, "leaked_bytes");
      v->peak += int_member (e, "peak_bytes");
      v->allocated += int_member (e, "bytes_allocated");
      v->allocations += int_member (e, "allocations");
    }
  return g_steal_pointer (&self);
}

static const MsAggColumn diff_columns[] = {
  { "delta_leaked_bytes", MS_AGG_COL_INT },    { "delta_peak_bytes", MS_AGG_COL_INT },
  { "delta_bytes_allocated", MS_AGG_COL_INT }, { "delta_allocations", MS_AGG_COL_INT },
  { "leaked_bytes", MS_AGG_COL_BYTES },        { "base_leaked_bytes", MS_AGG_COL_BYTES },
  { "peak_bytes", MS_AGG_COL_BYTES },          { "base_peak_bytes", MS_AGG_COL_BYTES },
  { "bytes_allocated", MS_AGG_COL_BYTES },     { "base_bytes_allocated", MS_AGG_COL_BYTES },
  { "allocations", MS_AGG_COL_INT },           { "base_allocations", MS_AGG_COL_INT },
  { "function", MS_AGG_COL_STRING },           { "stack", MS_AGG_COL_LONG_STRING },
};

static JsonObject *
diff_row (const char *folded, const char *function, const Values *b, const Values *c)
{
  static const Values zero;
  JsonObject *row = json_object_new ();

  b = b ? b : &zero;
  c = c ? c : &zero;
  json_object_set_int_member (row, "delta_leaked_bytes", c->leaked - b->leaked);
  json_object_set_int_member (row, "delta_peak_bytes", c->peak - b->peak);
  json_object_set_int_member (row, "delta_bytes_allocated", c->allocated - b->allocated);
  json_object_set_int_member (row, "delta_allocations", c->allocations - b->allocations);
  json_object_set_int_member (row, "leaked_bytes", c->leaked);
  json_object_set_int_member (row, "base_leaked_bytes", b->leaked);
  json_object_set_int_member (row, "peak_bytes", c->peak);
  json_object_set_int_member (row, "base_peak_bytes", b->peak);
  json_object_set_int_member (row, "bytes_allocated", c->allocated);
  json_object_set_int_member (row, "base_bytes_allocated", b->allocated);
  json_object_set_int_member (row, "allocations", c->allocations);
  json_object_set_int_member (row, "base_allocations", b->allocations);
  json_object_set_string_member (row, "function", function ? function : "?");
  json_object_set_string_member (row, "stack", folded);
  return row;
}

static gint64
abs64 (gint64 v)
{
  return v < 0 ? -v : v;
}

static gint
cmp_rows (gconstpointer a, gconstpointer b)
{
  JsonObject *x = *(JsonObject *const *) a, *y = *(JsonObject *const *) b;
  static const char *const keys[] = { "delta_leaked_bytes", "delta_peak_bytes", "delta_bytes_allocated" };

  /* growth first, biggest first; shrinking after, biggest first */
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      gint64 vx = json_object_get_int_member (x, keys[k]), vy = json_object_get_int_member (y, keys[k]);
      if ((vx > 0) != (vy > 0))
        return vx > 0 ? -1 : 1;
      if (abs64 (vx) != abs64 (vy))
        return abs64 (vx) > abs64 (vy) ? -1 : 1;
    }
  return g_strcmp0 (json_object_get_string_member (x, "stack"), json_object_get_string_member (y, "stack"));
}

void
ms_agg_diff_print (const MsAggDiffSide *base, const MsAggDiffSide *current, FILE *out, MsAggFormat format, guint top)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, current->stacks);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const Values *c = value;
      g_ptr_array_add (rows, diff_row (key, c->function, g_hash_table_lookup (base->stacks, key), c));
    }
  g_hash_table_iter_init (&it, base->stacks);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (!g_hash_table_contains (current->stacks, key))
      g_ptr_array_add (rows, diff_row (key, ((const Values *) value)->function, value, NULL));

  /* rows that did not change say nothing */
  for (guint i = rows->len; i-- > 0;)
    {
      JsonObject *r = g_ptr_array_index (rows, i);
      if (json_object_get_int_member (r, "delta_leaked_bytes") == 0 && json_object_get_int_member (r, "delta_peak_bytes") == 0
          && json_object_get_int_member (r, "delta_bytes_allocated") == 0
          && json_object_get_int_member (r, "delta_allocations") == 0)
        g_ptr_array_remove_index_fast (rows, i);
    }
  g_ptr_array_sort (rows, cmp_rows);

  MsAggTable *t = ms_agg_table_new (out, format == MS_AGG_FORMAT_COLLAPSED ? MS_AGG_FORMAT_TSV : format, "diff",
                                    diff_columns, G_N_ELEMENTS (diff_columns),
                                    base->estimated || current->estimated);
  g_autoptr (JsonObject) total = diff_row ("[total]", "[total]", &base->totals, &current->totals);
  ms_agg_table_add (total, t);
  for (guint i = 0; i < rows->len && (top == 0 || i < top); i++)
    ms_agg_table_add (g_ptr_array_index (rows, i), t);
  ms_agg_table_finish (t);
}

gboolean
ms_agg_diff_grew (const MsAggDiffSide *base, const MsAggDiffSide *current, guint64 threshold, char **out_what)
{
  gint64 leaked = current->totals.leaked - base->totals.leaked;
  gint64 peak = current->totals.peak - base->totals.peak;

  if (leaked > 0 && (guint64) leaked > threshold)
    {
      *out_what = g_strdup_printf (_("leaked bytes grew by %" PRId64 " (from %" PRId64 " to %" PRId64
                                     "), more than the %" PRIu64 " allowed"),
                                   leaked, base->totals.leaked, current->totals.leaked, threshold);
      return TRUE;
    }
  if (peak > 0 && (guint64) peak > threshold)
    {
      *out_what = g_strdup_printf (_("peak live bytes grew by %" PRId64 " (from %" PRId64 " to %" PRId64
                                     "), more than the %" PRIu64 " allowed"),
                                   peak, base->totals.peak, current->totals.peak, threshold);
      return TRUE;
    }
  return FALSE;
}
