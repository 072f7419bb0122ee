/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-run-options.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ms-cli-error.h"
#include "ms-cli-options.h"
#include "ms-monitor.h"
#include "ms-writer.h"

/* Limits of the shim's settings; the shim checks them again. */
#define MAX_DEPTH 256
#define MAX_THREADS_BYTES 255
#define MAX_BUFFER_BYTES (64u * 1024u * 1024u)

GOptionEntry *
ms_run_options_entries (MsRunOptions *o)
{
  /* Keep in sync with man/memscope-run.1 (a test compares --help with it). */
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
      N_("Write the traces into DIR (default: ./memscope-PROGRAM-PID)"), N_("DIR") },
    { "sampling", 0, 0, G_OPTION_ARG_STRING, &o->sampling,
      N_("Record every event (exact, the default), a size-tiered sample (tiered), or one sample per N bytes allocated (bytes:N)"),
      N_("exact|tiered|bytes:N") },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &o->threads,
      N_("Track only the threads whose name matches one of these shell patterns"), N_("GLOB[,GLOB…]") },
    { "depth", 0, 0, G_OPTION_ARG_STRING, &o->depth,
      N_("Record at most N frames of each call stack (default 64)"), N_("N") },
    { "min-size", 0, 0, G_OPTION_ARG_STRING, &o->min_size,
      N_("Record only allocations of at least SIZE bytes (per-call-site totals still count all)"), N_("SIZE") },
    { "buffer", 0, 0, G_OPTION_ARG_STRING, &o->buffer,
      N_("Per-thread buffer size (default 64K)"), N_("SIZE") },
    { "no-follow-children", 0, 0, G_OPTION_ARG_NONE, &o->no_follow_children,
      N_("Do not profile the programs that the program starts"), NULL },
    { "mmap", 0, 0, G_OPTION_ARG_NONE, &o->mmap,
      N_("Record anonymous mmap and munmap too"), NULL },
    { "no-freq", 0, 0, G_OPTION_ARG_NONE, &o->no_freq,
      N_("Do not write the per-call-site frequency table"), NULL },
    { "debug", 0, 0, G_OPTION_ARG_NONE, &o->debug,
      N_("Let the preload library say on stderr what it does"), NULL },
    { "interval", 0, 0, G_OPTION_ARG_STRING, &o->interval,
      N_("Sample CPU, memory and I/O every MSEC milliseconds (default 100; 0: never)"), N_("MSEC") },
    { "report", 0, 0, G_OPTION_ARG_NONE, &o->report,
      N_("When the program has ended, write the JSON analysis and the HTML dashboard"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
      N_("Print no status line and no summary"), NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &o->force,
      N_("Reuse a trace directory that is not empty, replacing the traces in it"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->command, NULL,
      N_("-- PROGRAM [ARG…]") },
    G_OPTION_ENTRY_NULL
  };

  return g_memdup2 (entries, sizeof entries);
}

/* "bytes:N" with N a size; "exact" and "tiered" as they are. */
static gboolean
check_sampling (const char *text, GError **error)
{
  guint64 bytes;

  if (g_str_equal (text, "exact") || g_str_equal (text, "tiered"))
    return TRUE;
  if (g_str_has_prefix (text, "bytes:"))
    return ms_cli_parse_size ("--sampling=bytes:N", text + 6, 1, G_MAXUINT32, &bytes, error);
  return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                       _("Invalid value “%s” for --sampling: expected exact, tiered or bytes:N"), text);
}

static gboolean
check_threads (const char *text, GError **error)
{
  g_auto (GStrv) globs = g_strsplit (text, ",", -1);

  if (strlen (text) > MAX_THREADS_BYTES)
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                         _("Invalid value for --threads: longer than %u bytes"), MAX_THREADS_BYTES);

  for (guint i = 0; globs[i] != NULL; i++)
    if (*globs[i] == '\0')
      return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                           _("Invalid value “%s” for --threads: a pattern is empty"), text);
  return TRUE;
}

gboolean
ms_run_options_check (MsRunOptions *o, GError **error)
{
  guint64 value;

  if (o->command == NULL || o->command[0] == NULL || *o->command[0] == '\0')
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("No program given: memscope-run [OPTION…] -- PROGRAM [ARG…]"));
  if (o->output != NULL && *o->output == '\0')
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("The directory given to --output is empty"));
  if (o->sampling != NULL && !check_sampling (o->sampling, error))
    return FALSE;
  if (o->threads != NULL && !check_threads (o->threads, error))
    return FALSE;
  if (o->depth != NULL && !ms_cli_parse_uint ("--depth", o->depth, 1, MAX_DEPTH, &value, error))
    return FALSE;
  if (o->min_size != NULL && !ms_cli_parse_size ("--min-size", o->min_size, 0, G_MAXINT64, &value, error))
    return FALSE;
  /* the shim rounds it up to whole pages */
  if (o->buffer != NULL
      && !ms_cli_parse_size ("--buffer", o->buffer, MS_WRITER_MIN_CHUNK_BYTES, MAX_BUFFER_BYTES, &value, error))
    return FALSE;
  o->interval_msec = MS_MONITOR_DEFAULT_INTERVAL_MSEC;
  if (o->interval != NULL)
    {
      if (!ms_cli_parse_uint ("--interval", o->interval, 0, MS_MONITOR_MAX_INTERVAL_MSEC, &value, error))
        return FALSE;
      if (value != 0 && value < MS_MONITOR_MIN_INTERVAL_MSEC)
        return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                             _("Invalid value “%s” for --interval: it must be 0 or between %u and %u"),
                             o->interval, MS_MONITOR_MIN_INTERVAL_MSEC, MS_MONITOR_MAX_INTERVAL_MSEC);
      o->interval_msec = (guint) value;
    }
  return TRUE;
}

static char *
size_in_bytes (const char *text)
{
  guint64 value = 0;

  ms_cli_parse_size ("", text, 0, G_MAXUINT64, &value, NULL);
  return g_strdup_printf ("%" PRIu64, value);
}

static char **
setenv_take (char **envp, const char *name, char *value)
{
  envp = g_environ_setenv (envp, name, value, TRUE);
  g_free (value);
  return envp;
}

char **
ms_run_options_environ (const MsRunOptions *o, char **envp, const char *preload)
{
  char **ret = g_strdupv (envp);
  const char *user_preload = g_environ_getenv (ret, "LD_PRELOAD");

  /* Ours first, so that our malloc is the one the program's calls reach
   * even when the user preloads another library. */
  if (user_preload != NULL && *user_preload != '\0')
    ret = setenv_take (ret, "LD_PRELOAD", g_strdup_printf ("%s:%s", preload, user_preload));
  else
    ret = g_environ_setenv (ret, "LD_PRELOAD", preload, TRUE);

  ret = g_environ_unsetenv (ret, "MEMSCOPE_OUTPUT");
  ret = g_environ_setenv (ret, "MEMSCOPE_FOLLOW_CHILDREN", o->no_follow_children ? "0" : "1", TRUE);
  if (o->sampling != NULL)
    {
      if (g_str_has_prefix (o->sampling, "bytes:"))
        {
          g_autofree char *bytes = size_in_bytes (o->sampling + 6);
          ret = setenv_take (ret, "MEMSCOPE_SAMPLING", g_strconcat ("bytes:", bytes, NULL));
        }
      else
        ret = g_environ_setenv (ret, "MEMSCOPE_SAMPLING", o->sampling, TRUE);
    }
  if (o->threads != NULL)
    ret = g_environ_setenv (ret, "MEMSCOPE_THREADS", o->threads, TRUE);
  if (o->depth != NULL)
    ret = g_environ_setenv (ret, "MEMSCOPE_DEPTH", o->depth, TRUE);
  if (o->min_size != NULL)
    ret = setenv_take (ret, "MEMSCOPE_MIN_SIZE", size_in_bytes (o->min_size));
  if (o->buffer != NULL)
    ret = setenv_take (ret, "MEMSCOPE_BUFFER", size_in_bytes (o->buffer));
  if (o->no_freq)
    ret = g_environ_setenv (ret, "MEMSCOPE_FREQ", "0", TRUE);
  if (o->mmap)
    ret = g_environ_setenv (ret, "MEMSCOPE_MMAP", "1", TRUE);
  if (o->debug)
    ret = g_environ_setenv (ret, "MEMSCOPE_DEBUG", "1", TRUE);
  return ret;
}

void
ms_run_options_clear (MsRunOptions *o)
{
  g_clear_pointer (&o->output, g_free);
  g_clear_pointer (&o->sampling, g_free);
  g_clear_pointer (&o->threads, g_free);
  g_clear_pointer (&o->depth, g_free);
  g_clear_pointer (&o->min_size, g_free);
  g_clear_pointer (&o->buffer, g_free);
  g_clear_pointer (&o->interval, g_free);
  g_clear_pointer (&o->command, g_strfreev);
}
