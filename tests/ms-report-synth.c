/* SPDX-License-Identifier: LGPL-2.1-or-later
 * ms-report-synth: makes, from a real comprehensive report, the reports
 * that tests/test-dashboard.sh needs and that no quick workload gives.
 *
 *   ms-report-synth rename IN OUT FROM TO
 *       every string of the report that contains FROM gets TO in its place
 *       (a function named like markup, say);
 *   ms-report-synth scale IN OUT THREADS STACKS
 *       THREADS threads, STACKS stack groups with frames (each under one of
 *       a few dozen callers, so that the flame graph has breadth and depth),
 *       all of them in the hot stacks, every fifth a leak, and a pair of
 *       interacting threads per thread: the size of a large server's report.
 *
 * The output is compact JSON (json-glib, as neither python3 nor jq is sure
 * to be on a build machine). Exit status 2 on errors. */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "test-json.h"

static JsonNode *
load (const char *path)
{
  return ms_test_json_load ("ms-report-synth", path);
}

/* json_node_copy () shares the objects and arrays it copies: the synthetic
 * rows are changed after copying, so they need copies of their own. */
static JsonNode *
deep_copy (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *copy = json_object_new ();
      JsonObjectIter it;
      const char *name;
      JsonNode *member;
      json_object_iter_init (&it, json_node_get_object (node));
      while (json_object_iter_next (&it, &name, &member))
        json_object_set_member (copy, name, deep_copy (member));
      JsonNode *n = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (n, copy);
      return n;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *src = json_node_get_array (node);
      JsonArray *copy = json_array_sized_new (json_array_get_length (src));
      for (guint i = 0; i < json_array_get_length (src); i++)
        json_array_add_element (copy, deep_copy (json_array_get_element (src, i)));
      JsonNode *n = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (n, copy);
      return n;
    }
  return json_node_copy (node);
}

static void
save (JsonNode *root, const char *path)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GError) error = NULL;

  json_generator_set_root (gen, root);
  if (!json_generator_to_file (gen, path, &error))
    {
      g_printerr ("ms-report-synth: %s: %s\n", path, error->message);
      exit (2);
    }
}

static JsonArray *
array_member (JsonObject *o, const char *name)
{
  JsonArray *a = json_object_get_array_member (o, name);
  if (a == NULL)
    {
      g_printerr ("ms-report-synth: the report has no array '%s'\n", name);
      exit (2);
    }
  return a;
}

/* ---- rename ---- */

static void
rename_strings (JsonNode *node, const char *from, const char *to)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter it;
      const char *name;
      JsonNode *member;
      json_object_iter_init (&it, json_node_get_object (node));
      while (json_object_iter_next (&it, &name, &member))
        rename_strings (member, from, to);
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        rename_strings (json_array_get_element (a, i), from, to);
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
           && strstr (json_node_get_string (node), from) != NULL)
    {
      g_autoptr (GString) s = g_string_new (json_node_get_string (node));
      g_string_replace (s, from, to, 0);
      json_node_set_string (node, s->str);
    }
}

/* ---- scale ---- */

static JsonArray *
fresh_array (JsonObject *o, const char *name)
{
  JsonArray *a = json_array_new ();
  json_object_set_array_member (o, name, a);
  return a;
}

/* A frame of a synthetic function, in the template's module. */
static JsonNode *
frame_named (JsonNode *template, const char *function, guint line)
{
  JsonNode *f = deep_copy (template);
  JsonObject *o = json_node_get_object (f);
  json_object_set_string_member (o, "function", function);
  json_object_set_int_member (o, "line", line);
  json_object_set_boolean_member (o, "inlined", FALSE);
  return f;
}

/* Stack group I: alloc_site_I, called by layer_(I % 97), called by
 * component_(I % 13), called by the template's outer frames (main, …). */
static JsonNode *
synth_stack (JsonNode *template, guint i, guint id)
{
  JsonNode *s = deep_copy (template);
  JsonObject *o = json_node_get_object (s);
  JsonArray *old = array_member (o, "frames");
  guint n_old = json_array_get_length (old);
  if (n_old == 0)
    {
      g_printerr ("ms-report-synth: the template stack has no frames\n");
      exit (2);
    }
  JsonNode *model = json_array_get_element (old, 0);
  g_autofree char *site = g_strdup_printf ("alloc_site_%u", i);
  g_autofree char *layer = g_strdup_printf ("layer_%u", i % 97);
  g_autofree char *component = g_strdup_printf ("component_%u", i % 13);

  /* Innermost first: the three new frames, then the template's callers
   * (all its frames but its own innermost one). The folded form is
   * outermost first. */
  JsonArray *frames = json_array_new ();
  json_array_add_element (frames, frame_named (model, site, 100 + i));
  json_array_add_element (frames, frame_named (model, layer, 10 + i % 97));
  json_array_add_element (frames, frame_named (model, component, 1 + i % 13));
  for (guint k = 1; k < n_old; k++)
    json_array_add_element (frames, deep_copy (json_array_get_element (old, k)));
  g_autoptr (GString) folded = g_string_new (NULL);
  for (guint k = n_old; k-- > 1;)
    g_string_append_printf (folded, "%s;",
                            json_object_get_string_member (json_node_get_object (json_array_get_element (old, k)), "function"));
  g_string_append_printf (folded, "%s;%s;%s", component, layer, site);

  gint64 allocations = 1 + i % 500;
  gint64 bytes = 1000 + (gint64) ((i * 7919u) % 100000u);
  json_object_set_array_member (o, "frames", frames);
  json_object_set_int_member (o, "stack_id", id);
  json_object_set_string_member (o, "function", site);
  json_object_set_string_member (o, "stack", folded->str);
  json_object_set_int_member (o, "allocations", allocations);
  json_object_set_int_member (o, "bytes_allocated", bytes);
  json_object_set_int_member (o, "frees", i % 5 == 0 ? allocations - 1 : allocations);
  json_object_set_int_member (o, "leaked_blocks", i % 5 == 0 ? 1 : 0);
  json_object_set_int_member (o, "leaked_bytes", i % 5 == 0 ? bytes / allocations : 0);
  json_object_set_int_member (o, "peak_bytes", bytes / 3);
  json_object_set_int_member (o, "temporary", allocations / 2);
  json_object_set_int_member (o, "reallocs", 0);
  return s;
}

/* A row of a stack table (hot stacks, leaks): the stack group's members
 * that the row's kind has. */
static JsonNode *
row_of (JsonNode *row_template, JsonNode *stack, guint rank)
{
  JsonNode *r = deep_copy (row_template);
  JsonObject *ro = json_node_get_object (r);
  JsonObject *so = json_node_get_object (stack);
  GList *names = json_object_get_members (ro);
  for (GList *l = names; l; l = l->next)
    if (json_object_has_member (so, l->data) && strcmp (l->data, "frames") != 0)
      json_object_set_member (ro, l->data, deep_copy (json_object_get_member (so, l->data)));
  g_list_free (names);
  json_object_set_int_member (ro, "rank", rank);
  return r;
}

static JsonNode *
synth_thread (JsonNode *template, guint i, gint64 tid)
{
  static const char *const roles[] = { "memory-intensive", "cpu-intensive", "io-intensive", "lightweight", "balanced" };
  JsonNode *t = deep_copy (template);
  JsonObject *o = json_node_get_object (t);
  g_autofree char *name = g_strdup_printf ("worker-%u", i);
  gint64 allocations = 1000 + 7 * (gint64) i;

  json_object_set_int_member (o, "rank", i + 1);
  json_object_set_int_member (o, "tid", tid);
  json_object_set_string_member (o, "name", name);
  json_object_set_int_member (o, "allocations", allocations);
  json_object_set_int_member (o, "frees", allocations - i % 3);
  json_object_set_int_member (o, "bytes_allocated", allocations * 512);
  json_object_set_int_member (o, "peak_live_bytes", 100000 - 150 * (gint64) i);
  json_object_set_int_member (o, "leaked_bytes", (i % 3) * 512);
  json_object_set_int_member (o, "leaked_blocks", i % 3);
  json_object_set_double_member (o, "alloc_rate", 1000.0 + i);
  if (i % 7 == 0)
    json_object_set_null_member (o, "cpu_percent");
  else
    json_object_set_double_member (o, "cpu_percent", (double) ((i * 13) % 100));
  json_object_set_string_member (o, "role", roles[i % G_N_ELEMENTS (roles)]);
  json_object_set_string_member (o, "alert", i % 50 == 0 ? "high" : i % 10 == 0 ? "medium" : "normal");
  return t;
}

static int
scale (const char *in, const char *out, guint n_threads, guint n_stacks)
{
  g_autoptr (JsonNode) root = load (in);
  JsonObject *doc = json_node_get_object (root);
  JsonArray *threads = array_member (doc, "threads");
  JsonArray *stacks = array_member (doc, "stacks");
  JsonObject *hot = json_object_get_object_member (doc, "hot_stacks");
  JsonArray *by_bytes = hot ? array_member (hot, "by_bytes") : NULL;
  JsonArray *leaks = array_member (doc, "leaks");
  JsonArray *inter = array_member (doc, "interactions");

  if (json_array_get_length (threads) == 0 || json_array_get_length (stacks) == 0 || by_bytes == NULL
      || json_array_get_length (by_bytes) == 0 || json_array_get_length (leaks) == 0
      || json_array_get_length (inter) == 0)
    {
      g_printerr ("ms-report-synth: %s lacks a thread, stack, hot stack, leak or interaction to copy\n", in);
      return 2;
    }

  /* Templates: copies, as the arrays they come from are replaced. */
  g_autoptr (JsonNode) thread_t = deep_copy (json_array_get_element (threads, 0));
  g_autoptr (JsonNode) stack_t = NULL;
  for (guint i = 0; i < json_array_get_length (stacks) && stack_t == NULL; i++)
    {
      JsonNode *s = json_array_get_element (stacks, i);
      if (json_array_get_length (array_member (json_node_get_object (s), "frames")) >= 2)
        stack_t = deep_copy (s);
    }
  if (stack_t == NULL)
    {
      g_printerr ("ms-report-synth: no stack with two frames or more in %s\n", in);
      return 2;
    }
  g_autoptr (JsonNode) hot_t = deep_copy (json_array_get_element (by_bytes, 0));
  g_autoptr (JsonNode) leak_t = deep_copy (json_array_get_element (leaks, 0));
  g_autoptr (JsonNode) inter_t = deep_copy (json_array_get_element (inter, 0));
  gint64 pid = json_object_get_int_member (json_node_get_object (thread_t), "pid");

  JsonArray *new_threads = fresh_array (doc, "threads");
  for (guint i = 0; i < n_threads; i++)
    json_array_add_element (new_threads, synth_thread (thread_t, i, pid + (gint64) i));

  JsonArray *new_stacks = fresh_array (doc, "stacks");
  JsonArray *new_bytes = fresh_array (hot, "by_bytes");
  JsonArray *new_count = fresh_array (hot, "by_count");
  JsonArray *new_leaks = fresh_array (doc, "leaks");
  for (guint i = 0; i < n_stacks; i++)
    {
      JsonNode *s = synth_stack (stack_t, i, i + 1);
      json_array_add_element (new_stacks, s);
      json_array_add_element (new_bytes, row_of (hot_t, s, i + 1));
      json_array_add_element (new_count, row_of (hot_t, s, i + 1));
      if (i % 5 == 0)
        json_array_add_element (new_leaks, row_of (leak_t, s, i / 5 + 1));
    }

  JsonArray *new_inter = fresh_array (doc, "interactions");
  for (guint i = 0; i + 1 < n_threads; i++)
    {
      JsonNode *r = deep_copy (inter_t);
      JsonObject *o = json_node_get_object (r);
      json_object_set_int_member (o, "rank", i + 1);
      json_object_set_int_member (o, "owner_tid", pid + (gint64) i);
      json_object_set_int_member (o, "freer_tid", pid + (gint64) i + 1);
      json_object_set_int_member (o, "blocks", 1 + i % 40);
      json_object_set_int_member (o, "bytes", 4096 * (gint64) (1 + i % 40));
      json_array_add_element (new_inter, r);
    }

  JsonObject *summary = json_object_get_object_member (doc, "summary");
  if (summary)
    json_object_set_int_member (summary, "threads", n_threads);
  save (root, out);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 6 && strcmp (argv[1], "rename") == 0)
    {
      g_autoptr (JsonNode) root = load (argv[2]);
      rename_strings (root, argv[4], argv[5]);
      save (root, argv[3]);
      return 0;
    }
  if (argc == 6 && strcmp (argv[1], "scale") == 0)
    return scale (argv[2], argv[3], (guint) g_ascii_strtoull (argv[4], NULL, 10),
                  (guint) g_ascii_strtoull (argv[5], NULL, 10));
  g_printerr ("usage: ms-report-synth rename IN OUT FROM TO | scale IN OUT THREADS STACKS\n");
  return 2;
}
