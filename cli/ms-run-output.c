/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-run-output.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "ms-cli-error.h"
#include "ms-cli-util.h"
#include "ms-reader.h"

char *
ms_run_output_default (const char *program, GPid pid)
{
  g_autofree char *base = g_path_get_basename (program);
  g_autofree char *name = g_strdup_printf ("memscope-%s-%d", base, (int) pid);

  return g_canonicalize_filename (name, NULL);
}

static gboolean
is_trace_name (const char *name)
{
  return g_str_has_suffix (name, ".mst");
}

/* Removes what an earlier run wrote: trace files, and PID subdirectories
 * once they hold nothing else. */
static gboolean
remove_old_traces (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  const char *name;

  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (is_trace_name (name) && g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          if (g_unlink (path) < 0)
            return ms_cli_throw_errno (error, errno, _("Removing “%s”"), path);
        }
      else if (ms_cli_is_process_dir_name (name) && g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (!remove_old_traces (path, error))
            return FALSE;
          g_rmdir (path); /* kept if the user put something else in it */
        }
    }
  return TRUE;
}

static gboolean
is_empty_dir (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);

  return d != NULL && g_dir_read_name (d) == NULL;
}

gboolean
ms_run_output_prepare (const char *dir, gboolean force, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *probe = NULL;
  int fd;

  if (g_file_test (dir, G_FILE_TEST_EXISTS) && !g_file_test (dir, G_FILE_TEST_IS_DIR))
    return ms_cli_throw (error, MS_CLI_ERROR_IO, _("“%s” exists and is not a directory"), dir);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return ms_cli_throw_errno (error, errno, _("Cannot create the trace directory “%s”"), dir);

  if (!is_empty_dir (dir, &local_error))
    {
      if (local_error != NULL)
        return ms_cli_throw (error, MS_CLI_ERROR_IO, _("Cannot read the trace directory: %s"),
                             local_error->message);
      if (!force)
        return ms_cli_throw (error, MS_CLI_ERROR_IO,
                             _("The trace directory “%s” is not empty: choose another one with "
                               "--output, or replace the traces in it with --force"),
                             dir);
      if (!remove_old_traces (dir, error))
        return FALSE;
    }

  /* Permissions alone do not tell (root, read-only mounts, ACLs): try. */
  probe = g_strdup_printf ("%s/.memscope-probe-%d", dir, (int) getpid ());
  fd = open (probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ms_cli_throw_errno (error, errno, _("Cannot write in the trace directory “%s”"), dir);
  close (fd);
  g_unlink (probe);
  return TRUE;
}

static void
list_traces (const char *dir, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_traces (path, out);
      else if (is_trace_name (name))
        g_ptr_array_add (out, g_steal_pointer (&path));
    }
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
ms_run_output_list_traces (const char *dir)
{
  GPtrArray *ret = g_ptr_array_new_with_free_func (g_free);

  list_traces (dir, ret);
  g_ptr_array_sort (ret, compare_paths);
  return ret;
}

/* The process that wrote PATH, if it still runs: compacting would rename
 * the file away under its mapping and lose what it writes next. */
static gboolean
writer_is_running (const char *path)
{
  g_autoptr (MsReader) reader = ms_reader_open (path, NULL);
  guint32 pid;

  if (reader == NULL)
    return FALSE;
  pid = ms_reader_get_info (reader)->pid;
  return pid != 0 && pid != (guint32) getpid () && (kill ((pid_t) pid, 0) == 0 || errno == EPERM);
}

gboolean
ms_run_output_compact (const char *dir, guint *out_compacted, guint *out_skipped, GError **error)
{
  g_autoptr (GPtrArray) traces = ms_run_output_list_traces (dir);
  g_autoptr (GError) first_error = NULL;
  guint compacted = 0, skipped = 0;

  for (guint i = 0; i < traces->len; i++)
    {
      const char *path = g_ptr_array_index (traces, i);
      g_autoptr (GError) local_error = NULL;

      if (writer_is_running (path))
        skipped++;
      else if (ms_trace_compact_file (path, 0, &local_error))
        compacted++;
      else if (first_error == NULL)
        first_error = g_steal_pointer (&local_error);
    }
  *out_compacted = compacted;
  *out_skipped = skipped;
  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}
