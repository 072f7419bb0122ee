/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-run [OPTION…] -- PROGRAM [ARG…]: runs PROGRAM with the preload
 * library recording its allocations, samples its resources meanwhile,
 * and exits with its exit status. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ms-cli-error.h"
#include "ms-cli-init.h"
#include "ms-cli-options.h"
#include "ms-monitor.h"
#include "ms-run-child.h"
#include "ms-run-options.h"
#include "ms-run-output.h"
#include "ms-run-report.h"
#include "ms-run-status.h"
#include "ms-run-summary.h"
#include "ms-run-target.h"

#define STATUS_TICK_MSEC 500

/* Only --help prints the GPU line: loading NVML takes a while. */
static gboolean
wants_help (int argc, char **argv)
{
  for (int i = 1; i < argc && argv[i][0] == '-' && strcmp (argv[i], "--") != 0; i++)
    if (g_str_has_prefix (argv[i], "--help") || strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "-?") == 0)
      return TRUE;
  return FALSE;
}

static char *
help_description (gboolean with_gpu)
{
  return g_strdup_printf (
    "%s\n\n%s\n\n%s",
    _("The program runs with the preload library libmemscope-preload.so, which records its "
      "allocations (and those of the programs it starts) into the trace directory; memscope-run "
      "samples its CPU, memory, I/O and threads into the same directory, and prints a summary "
      "at the end. The MEMSCOPE_* environment variables of memscope-run(1) apply too."),
    !with_gpu ? ""
    : ms_monitor_gpu_available ()
      ? _("GPU sampling: available (NVIDIA NVML found).")
      : _("GPU sampling: not available (no NVIDIA driver: libnvidia-ml.so.1 or a device is missing)."),
    _("Exit status: the program's, or 128+N if it died of signal N; 1 for a usage error, 2 when "
      "memscope-run could not start the program."));
}

/* Per-thread /proc files stay open between samples: take what the hard
 * limit allows. The program gets the original limit back. */
static void
raise_file_limit (struct rlimit *out_original)
{
  struct rlimit raised;

  if (getrlimit (RLIMIT_NOFILE, out_original) < 0)
    return;
  raised = *out_original;
  raised.rlim_cur = raised.rlim_max;
  setrlimit (RLIMIT_NOFILE, &raised);
}

static void
status_tick (gpointer data)
{
  ms_run_status_update (data);
}

/* NUL-separated, as the process file's cmdline */
static GString *
joined_command (char **command)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; command[i] != NULL; i++)
    g_string_append_len (s, command[i], (gssize) strlen (command[i]) + (command[i + 1] != NULL ? 1 : 0));
  return s;
}

typedef struct
{
  MsRunOptions options;
  MsRunTarget target;
  MsRunChild child;
  char *preload;
  char *output_dir;
  char **envp;
  MsMonitor *monitor;
  sigset_t forwarded;
  sigset_t original_mask;
  struct rlimit original_nofile;
} Run;

static void
run_clear (Run *run)
{
  ms_run_child_clear (&run->child);
  g_clear_pointer (&run->monitor, ms_monitor_free);
  ms_run_target_clear (&run->target);
  ms_run_options_clear (&run->options);
  g_clear_pointer (&run->preload, g_free);
  g_clear_pointer (&run->output_dir, g_free);
  g_clear_pointer (&run->envp, g_strfreev);
}

/* Everything up to the program running; nothing of it is left behind on
 * failure but the trace directory. */
static gboolean
start (Run *run, GError **error)
{
  sigset_t blocked;
  g_auto (GStrv) environ_copy = ms_run_undo_libtool_wrapper (g_get_environ ());

  if (!ms_run_target_resolve (run->options.command, &run->target, error)
      || !ms_run_find_preload (&run->preload, error))
    return FALSE;
  if (run->options.output != NULL)
    {
      run->output_dir = g_canonicalize_filename (run->options.output, NULL);
      if (!ms_run_output_prepare (run->output_dir, run->options.force, error))
        return FALSE;
    }

  raise_file_limit (&run->original_nofile);
  ms_run_child_signals (&run->forwarded, &blocked);
  sigprocmask (SIG_BLOCK, &blocked, &run->original_mask);
  run->envp = ms_run_options_environ (&run->options, environ_copy, run->preload);
  if (!ms_run_child_fork (&run->child, run->target.path, run->target.argv, run->envp, &run->original_mask,
                          &run->original_nofile, error))
    return FALSE;

  if (run->output_dir == NULL)
    {
      run->output_dir = ms_run_output_default (run->options.command[0], run->child.pid);
      if (!ms_run_output_prepare (run->output_dir, run->options.force, error))
        return FALSE;
    }
  if (run->options.interval_msec > 0)
    {
      run->monitor = ms_monitor_new (run->output_dir, run->options.interval_msec, error);
      if (run->monitor == NULL)
        return FALSE;
    }
  if (!ms_run_child_exec (&run->child, run->target.path, run->output_dir, error))
    return FALSE;
  if (run->monitor != NULL)
    {
      g_autoptr (GString) command = joined_command (run->options.command);
      g_autoptr (GError) local_error = NULL;

      ms_monitor_add_info (run->monitor, "command", command->str, (gssize) command->len);
      ms_monitor_add_pid (run->monitor, run->child.pid);
      if (!ms_monitor_start (run->monitor, &local_error))
        {
          ms_cli_warning ("%s", local_error->message);
          g_clear_pointer (&run->monitor, ms_monitor_free);
        }
    }
  return TRUE;
}

/* After the program: the resource file closed, the traces compacted, the
 * summary and the report. Problems here are warnings: the program ran. */
static void
finish (Run *run, int wait_status)
{
  MsMonitorSummary monitor_summary = { 0 };
  MsRunSummary summary;
  g_autoptr (GError) error = NULL;
  guint compacted = 0, skipped = 0;

  if (run->monitor != NULL)
    {
      g_autofree char *how = WIFSIGNALED (wait_status) ? g_strdup_printf ("signal %d", WTERMSIG (wait_status))
                                                       : g_strdup_printf ("status %d", WEXITSTATUS (wait_status));
      ms_monitor_add_info (run->monitor, "exit", how, -1);
      if (!ms_monitor_stop (run->monitor, &error))
        ms_cli_warning ("%s", error->message);
      g_clear_error (&error);
      ms_monitor_get_summary (run->monitor, &monitor_summary);
    }
  if (!run->options.quiet)
    ms_run_summary_compute (run->output_dir, &summary);
  if (!ms_run_output_compact (run->output_dir, &compacted, &skipped, &error))
    ms_cli_warning (_("Compressing the traces: %s"), error->message);
  g_clear_error (&error);
  if (skipped > 0)
    ms_cli_warning (_("%u trace files were left uncompressed: programs started by the program are "
                      "still writing them"),
                    skipped);

  if (!run->options.quiet)
    {
      if (WIFSIGNALED (wait_status))
        g_printerr (_("%s: %s was killed by signal %d (%s)\n"), g_get_prgname (), run->options.command[0],
                    WTERMSIG (wait_status), g_strsignal (WTERMSIG (wait_status)));
      else
        g_printerr (_("%s: %s exited with status %d\n"), g_get_prgname (), run->options.command[0],
                    WEXITSTATUS (wait_status));
      ms_run_summary_print (&summary, run->monitor != NULL ? &monitor_summary : NULL, run->output_dir);
      ms_run_summary_clear (&summary);
    }
  if (run->options.report && !ms_run_report (run->output_dir, &run->original_mask, run->options.quiet, &error))
    ms_cli_warning ("%s", error->message);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autofree GOptionEntry *entries = NULL;
  g_autofree char *description = NULL;
  Run run = { 0 };
  int wait_status;

  ms_cli_init ("memscope-run");
  entries = ms_run_options_entries (&run.options);
  context = ms_cli_option_context_new (NULL, _("Profile the memory of PROGRAM and everything it starts."),
                                       entries);
  /* Options after PROGRAM are the program's. */
  g_option_context_set_strict_posix (context, TRUE);
  description = help_description (wants_help (argc, argv));
  g_option_context_set_description (context, description);

  if (!g_option_context_parse (context, &argc, &argv, &error) || !ms_run_options_check (&run.options, &error)
      || !start (&run, &error))
    {
      int status = ms_cli_report_error (error);
      run_clear (&run);
      return status;
    }

  {
    g_autoptr (MsRunStatus) status = run.options.quiet ? NULL : ms_run_status_new (run.output_dir, run.monitor);
    wait_status = ms_run_child_wait (&run.child, &run.forwarded, STATUS_TICK_MSEC,
                                     status != NULL ? status_tick : NULL, status);
  }
  finish (&run, wait_status);
  run_clear (&run);
  return ms_run_child_exit_status (wait_status);
}
