/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A program traces itself with the tracker API, then asks libmemscope for
 * the comprehensive analysis: the JSON must hold exactly its workload. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "ms-error.h"
#include "ms-export.h"
#include "ms-tracker.h"
#include "test-util.h"

static gint64
summary_int (JsonObject *root, const char *key)
{
  JsonObject *summary = json_object_get_object_member (root, "summary");
  g_assert_nonnull (summary);
  g_assert_true (json_object_has_member (summary, key));
  return json_object_get_int_member (summary, key);
}

static void
test_export_self_trace (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-test-export-XXXXXX", NULL);
  g_autofree char *trace = g_build_filename (dir, "trace", NULL);
  g_autofree char *out = g_build_filename (dir, "reports", NULL);
  g_autofree char *json_path = NULL;
  g_autoptr (GError) error = NULL;
  void *blocks[3];

  g_assert_cmpint (ms_tracker_start (trace, NULL), ==, 0);
  g_assert_cmpstr (ms_tracker_get_directory (), ==, trace);
  for (int i = 0; i < 3; i++)
    {
      blocks[i] = malloc (1000 * (i + 1));
      ms_tracker_track_alloc (blocks[i], 1000 * (i + 1));
    }
  ms_tracker_track_free (blocks[0]);
  free (blocks[0]);
  ms_tracker_stop ();

  g_assert_cmpint (g_mkdir (out, 0700), ==, 0);
  g_assert_true (ms_export_comprehensive (trace, out, "selfie", &json_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (json_path, "/selfie_comprehensive.json"));

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, json_path, &error));
  g_assert_no_error (error);
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (summary_int (root, "allocations"), ==, 3);
  g_assert_cmpint (summary_int (root, "frees"), ==, 1);
  g_assert_cmpint (summary_int (root, "leaked_blocks"), ==, 2);
  g_assert_cmpint (summary_int (root, "leaked_bytes"), ==, 5000);

  /* without a prefix, the report is found whatever the aggregator named it */
  g_clear_pointer (&json_path, g_free);
  g_assert_true (ms_export_comprehensive (trace, NULL, NULL, &json_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (json_path, trace));

  free (blocks[1]);
  free (blocks[2]);
  ms_test_rm_rf (dir);
}

static void
test_export_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("MEMSCOPE_AGGREGATE"));

  g_assert_false (ms_export_comprehensive ("/nonexistent/trace", NULL, NULL, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/trace"));
  g_clear_error (&error);

  g_setenv ("MEMSCOPE_AGGREGATE", "/nonexistent/memscope-aggregate", TRUE);
  g_assert_false (ms_export_comprehensive ("/tmp", NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_setenv ("MEMSCOPE_AGGREGATE", saved, TRUE);
}

int
main (int argc, char **argv)
{
  g_autofree char *aggregate = g_build_filename (g_getenv ("MS_TOP_BUILDDIR"), "cli", "memscope-aggregate", NULL);

  g_test_init (&argc, &argv, NULL);
  g_setenv ("MEMSCOPE_AGGREGATE", aggregate, TRUE);
  g_test_add_func ("/memscope/export/self-trace", test_export_self_trace);
  g_test_add_func ("/memscope/export/errors", test_export_errors);
  return g_test_run ();
}
