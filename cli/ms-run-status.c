/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-run-status.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "ms-cli-options.h"
#include "ms-run-progress.h"

/* Decoding work per update: a busy program's trace grows faster than it
 * is worth reading for a status line; the rest is estimated. */
#define PROGRESS_BUDGET_BYTES (4u * 1024u * 1024u)

struct _MsRunStatus
{
  MsMonitor *monitor;
  MsRunProgress *progress;
  gint64 start_usec;
  gboolean drawn;
};

MsRunStatus *
ms_run_status_new (const char *dir, MsMonitor *monitor)
{
  MsRunStatus *self;

  if (!isatty (STDERR_FILENO))
    return NULL;
  self = g_new0 (MsRunStatus, 1);
  self->monitor = monitor;
  self->progress = ms_run_progress_new (dir);
  self->start_usec = g_get_monotonic_time ();
  return self;
}

static gboolean
in_foreground (void)
{
  return tcgetpgrp (STDERR_FILENO) == getpgrp ();
}

void
ms_run_status_update (MsRunStatus *self)
{
  MsRunProgressCounts counts;
  MsMonitorSummary monitor = { 0 };
  g_autofree char *rss = NULL;
  gdouble elapsed = (gdouble) (g_get_monotonic_time () - self->start_usec) / G_USEC_PER_SEC;

  if (!in_foreground ())
    return;
  ms_run_progress_update (self->progress, PROGRESS_BUDGET_BYTES, &counts);
  if (self->monitor != NULL)
    ms_monitor_get_summary (self->monitor, &monitor);
  rss = ms_cli_format_bytes (monitor.current_rss_bytes);
  /* \r and "erase to the end of the line": one line, redrawn in place */
  fprintf (stderr, "\r\033[K");
  if (self->monitor != NULL)
    fprintf (stderr, _("memscope: %.1f s, RSS %s, %u threads, %s%" PRIu64 " allocations"), elapsed,
             rss, monitor.current_threads, counts.estimated ? "≈" : "", counts.allocations);
  else
    fprintf (stderr, _("memscope: %.1f s, %s%" PRIu64 " allocations"), elapsed,
             counts.estimated ? "≈" : "", counts.allocations);
  fflush (stderr);
  self->drawn = TRUE;
}

void
ms_run_status_free (MsRunStatus *self)
{
  if (self == NULL)
    return;
  if (self->drawn && in_foreground ())
    {
      fprintf (stderr, "\r\033[K");
      fflush (stderr);
    }
  ms_run_progress_free (self->progress);
  g_free (self);
}
