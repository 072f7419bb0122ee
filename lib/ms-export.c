/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-export.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "ms-error.h"

/* The analysis lives in memscope-aggregate, with libdw and json-glib;
 * running it keeps this library free of both, and gives a program the
 * very reports a user would get. */
static char *
find_aggregate (void)
{
  const char *env = g_getenv ("MEMSCOPE_AGGREGATE");
  g_autofree char *installed = g_build_filename (MS_BINDIR, "memscope-aggregate", NULL);

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);
  return g_find_program_in_path ("memscope-aggregate");
}

/* The newest: the prefix defaults to a name only the aggregator knows. */
char *
ms_find_comprehensive_report (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *ret_path = NULL;
  gint64 newest = G_MININT64;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      GStatBuf st;
      g_autofree char *path = NULL;
      if (!g_str_has_suffix (name, "_comprehensive.json"))
        continue;
      path = g_build_filename (dir, name, NULL);
      if (g_stat (path, &st) == 0 && (gint64) st.st_mtime >= newest)
        {
          newest = st.st_mtime;
          g_free (ret_path);
          ret_path = g_steal_pointer (&path);
        }
    }
  return g_steal_pointer (&ret_path);
}

gboolean
ms_export_comprehensive (const char *trace_dir, const char *output_dir, const char *prefix, char **out_json_path,
                         GError **error)
{
  g_autofree char *program = find_aggregate ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err_text = NULL;
  int status;

  g_return_val_if_fail (trace_dir != NULL, FALSE);
  if (program == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FAILED,
                   _("memscope-aggregate was not found (install memscope, or set MEMSCOPE_AGGREGATE)"));
      return FALSE;
    }
  g_ptr_array_add (argv, program);
  g_ptr_array_add (argv, (char *) "--report=summary");
  g_ptr_array_add (argv, (char *) "--format=tsv");
  if (output_dir != NULL)
    {
      g_ptr_array_add (argv, (char *) "--output-dir");
      g_ptr_array_add (argv, (char *) output_dir);
    }
  if (prefix != NULL)
    {
      g_ptr_array_add (argv, (char *) "--prefix");
      g_ptr_array_add (argv, (char *) prefix);
    }
  g_ptr_array_add (argv, (char *) "--");
  g_ptr_array_add (argv, (char *) trace_dir);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                     &err_text, &status, error))
    {
      g_prefix_error (error, _("Running %s: "), program);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_strstrip (err_text);
      g_set_error (error, MS_ERROR, MS_ERROR_FAILED, _("%s failed on “%s”: %s"), program, trace_dir,
                   *err_text ? err_text : _("no message"));
      return FALSE;
    }

  if (out_json_path != NULL)
    {
      const char *dir = output_dir ? output_dir : trace_dir;
      char *path = prefix ? g_strdup_printf ("%s/%s_comprehensive.json", dir, prefix)
                          : ms_find_comprehensive_report (dir);
      if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, MS_ERROR, MS_ERROR_FAILED, _("%s wrote no comprehensive report in “%s”"), program, dir);
          g_free (path);
          return FALSE;
        }
      *out_json_path = path;
    }
  return TRUE;
}
