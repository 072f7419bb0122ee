/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-run-report.h"

#include <glib/gi18n.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "ms-cli-error.h"
#include "ms-export.h"
#include "ms-cli-util.h"

typedef struct
{
  const sigset_t *mask;
  gboolean discard_output;
} ChildSetup;

/* memscope-run blocks the signals it forwards; the report's programs
 * must get them as usual. Their output never mixes with the program's
 * standard output: it goes to standard error, or nowhere.
 * Runs between fork and exec. */
static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;
  int fd = setup->discard_output ? open ("/dev/null", O_WRONLY | O_CLOEXEC) : STDERR_FILENO;

  if (fd >= 0)
    dup2 (fd, STDOUT_FILENO);
  sigprocmask (SIG_SETMASK, setup->mask, NULL);
}

static gboolean
run (const char *program, const char *argument, const ChildSetup *setup, GError **error)
{
  const char *argv[] = { program, argument, NULL };
  int wait_status = 0;

  /* g_spawn_sync waits with waitpid: SIGCHLD may stay blocked. */
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, child_setup,
                     (gpointer) setup, NULL, NULL, &wait_status, error)
      || !g_spawn_check_wait_status (wait_status, error))
    {
      g_prefix_error (error, _("Running %s: "), program);
      return FALSE;
    }
  return TRUE;
}

gboolean
ms_run_report (const char *dir, const sigset_t *child_mask, gboolean quiet, GError **error)
{
  /* memscope-aggregate's table would repeat memscope-run's summary. */
  ChildSetup aggregate_setup = { child_mask, TRUE };
  ChildSetup html_setup = { child_mask, quiet };
  g_autofree char *aggregate = ms_cli_find_program ("memscope-aggregate");
  g_autofree char *html = ms_cli_find_program ("memscope-html");
  g_autofree char *json = NULL;

  if (aggregate == NULL)
    {
      ms_cli_warning (_("The report is not available yet: memscope-aggregate was found neither "
                        "next to memscope-run nor in PATH"));
      return TRUE;
    }
  if (!run (aggregate, dir, &aggregate_setup, error))
    return FALSE;
  if (html == NULL)
    {
      ms_cli_warning (_("The dashboard is not available yet: memscope-html was found neither "
                        "next to memscope-run nor in PATH"));
      return TRUE;
    }
  json = ms_find_comprehensive_report (dir);
  if (json == NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_FAILED,
                         _("memscope-aggregate wrote no *_comprehensive.json in “%s”"), dir);
  return run (html, json, &html_setup, error);
}
