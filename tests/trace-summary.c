/* SPDX-License-Identifier: LGPL-2.1-or-later
 * trace-summary PATH...: for each trace file (or each *.mst of a trace
 * directory, child process directories included) prints its header,
 * what it holds (threads, stacks, allocations, frees, bytes allocated;
 * sampled events weighted), and whether its writer finished.
 *
 * README runs it on a trace of `ls` as the demo until memscope-run exists.
 * The packaging's autopkgtest builds this same file against the installed
 * library with `pkg-config --cflags --libs memscope` alone, so it includes
 * only <memscope.h> and uses only the public API.
 *
 * Exit status: 0 success, 1 usage error, 2 a file could not be read or is
 * damaged (a file whose writer did not finish is only a warning). */
#include <memscope.h>

#include <locale.h>
#include <string.h>

#define SHIM_NAME "libmemscope-preload.so"

/* What the summary counts; sampled events count with their weight. */
typedef struct
{
  guint64 threads, stack_nodes, modules, info;
  double allocs, reallocs, frees, bytes_allocated;
  guint64 lost_events, unknown_records;
} Summary;

static void
add_record (Summary *sum, const MsRecord *r)
{
  switch (r->kind)
    {
    case MS_RECORD_ALLOC:
    case MS_RECORD_ALLOC_SAMPLED:
    case MS_RECORD_REALLOC:
    case MS_RECORD_REALLOC_SAMPLED:
      {
        /* An unsampled event has weight MS_WEIGHT_ONE: it stands for itself. */
        double weight = (double) r->u.event.weight / MS_WEIGHT_ONE;

        if (r->kind == MS_RECORD_ALLOC || r->kind == MS_RECORD_ALLOC_SAMPLED)
          sum->allocs += weight;
        else
          sum->reallocs += weight;
        sum->bytes_allocated += (double) r->u.event.size * weight;
        break;
      }
    case MS_RECORD_FREE: sum->frees++; break;
    case MS_RECORD_STACK_NODE: sum->stack_nodes++; break;
    case MS_RECORD_THREAD_START: sum->threads++; break;
    case MS_RECORD_MODULE_LOAD: sum->modules++; break;
    case MS_RECORD_INFO: sum->info++; break;
    case MS_RECORD_LOST: sum->lost_events += r->u.lost.events; break;
    default:
      if (r->kind > MS_RECORD_LAST_KNOWN)
        sum->unknown_records++;
      break;
    }
}

static void
print_count (const char *name, double value)
{
  if (value > 0)
    g_print ("  %-16s %.0f\n", name, value);
}

static const char *
file_kind_name (MsFileKind kind)
{
  switch (kind)
    {
    case MS_FILE_KIND_PROCESS: return "process";
    case MS_FILE_KIND_THREAD: return "thread";
    case MS_FILE_KIND_RESOURCES: return "resources";
    }
  return "unknown";
}

/* Returns FALSE when PATH cannot be read or is damaged. */
static gboolean
summarize_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  Summary sum = { 0 };
  g_autofree char *cmdline = NULL;
  g_autofree char *shim = NULL;
  gboolean damaged = FALSE;
  const MsFileInfo *info;
  const MsReaderStats *stats;
  MsRecord r;

  if (reader == NULL)
    {
      g_printerr ("%s\n", error->message); /* the reader's messages name the file */
      return FALSE;
    }
  for (;;)
    {
      if (ms_reader_next (reader, &r, &error))
        {
          add_record (&sum, &r);
          if (r.kind == MS_RECORD_MODULE_LOAD && shim == NULL)
            {
              /* Which copy of the shim was loaded: tells an installed
               * run from one that picked up a build tree's. */
              g_autofree char *module = g_strndup (r.u.module.path.data, r.u.module.path.len);

              if (g_str_has_suffix (module, "/" SHIM_NAME))
                shim = g_steal_pointer (&module);
            }
          else if (r.kind == MS_RECORD_INFO && r.u.info.key.len == 7
                   && memcmp (r.u.info.key.data, "cmdline", 7) == 0)
            {
              /* Arguments are separated by NUL bytes. */
              g_free (cmdline);
              cmdline = g_malloc0 (r.u.info.value.len + 1);
              memcpy (cmdline, r.u.info.value.data, r.u.info.value.len);
              for (guint32 i = 0; i + 1 < r.u.info.value.len; i++)
                if (cmdline[i] == '\0')
                  cmdline[i] = ' ';
            }
          continue;
        }
      if (error == NULL)
        break;
      g_printerr ("%s%s\n", g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE) ? "warning: " : "",
                  error->message);
      damaged = damaged || !g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE);
      g_clear_error (&error);
    }

  info = ms_reader_get_info (reader);
  stats = ms_reader_get_stats (reader);
  g_print ("%s: %s file, format %u.%u, pid %u, %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
           " records, %s\n", path, file_kind_name (info->kind), info->major, info->minor, info->pid,
           info->file_bytes, stats->records, stats->closed ? "closed" : "not closed");
  if (cmdline != NULL)
    g_print ("  cmdline %s\n", cmdline);
  if (shim != NULL)
    g_print ("  shim %s\n", shim);
  print_count ("threads", sum.threads);
  print_count ("stack_nodes", sum.stack_nodes);
  print_count ("modules", sum.modules);
  print_count ("info", sum.info);
  print_count ("allocs", sum.allocs);
  print_count ("reallocs", sum.reallocs);
  print_count ("frees", sum.frees);
  print_count ("bytes_allocated", sum.bytes_allocated);
  print_count ("lost_events", sum.lost_events);
  print_count ("unknown_records", sum.unknown_records);
  return !damaged;
}

/* g_ptr_array_sort passes pointers to the elements. */
static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Every *.mst of DIR in name order, then the directories of child processes. */
static gboolean
summarize_dir (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gboolean ok = TRUE;
  const char *name;

  if (d == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);

      if (g_str_has_suffix (names->pdata[i], ".mst"))
        ok = summarize_file (path) && ok;
    }
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        ok = summarize_dir (path) && ok;
    }
  return ok;
}

int
main (int argc, char **argv)
{
  gboolean ok = TRUE;

  /* GLib's messages are UTF-8: without the locale they print as '?'. */
  setlocale (LC_ALL, "");
  if (argc < 2 || argv[1][0] == '-')
    {
      g_printerr ("usage: %s TRACE-DIR-OR-FILE...\n", argv[0]);
      return 1;
    }
  for (int i = 1; i < argc; i++)
    ok = (g_file_test (argv[i], G_FILE_TEST_IS_DIR) ? summarize_dir (argv[i]) : summarize_file (argv[i])) && ok;
  return ok ? 0 : 2;
}
