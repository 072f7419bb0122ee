/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-html [OPTION…] COMPREHENSIVE-JSON: the dashboard of a
 * memscope-aggregate report, one HTML file that works offline.
 * Keep the options in sync with man/memscope-html.1. */
#include "config.h"

#include <glib/gi18n.h>

#include "ms-cli-error.h"
#include "ms-cli-init.h"
#include "ms-cli-options.h"
#include "ms-html.h"

static char *opt_output;
static char *opt_title;
static char *opt_rankings;
static gboolean opt_quiet;
static char **opt_args;

static const GOptionEntry entries[] = {
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
    N_("Write the dashboard to FILE, - for standard output (default: PREFIX_dashboard.html beside the report)"),
    N_("FILE") },
  { "title", 0, 0, G_OPTION_ARG_STRING, &opt_title,
    N_("The page's title (default: “memscope — PROGRAM”)"), N_("TEXT") },
  { "rankings", 0, 0, G_OPTION_ARG_FILENAME, &opt_rankings,
    N_("Show the resource rankings of FILE (default: PREFIX_resource_rankings.json beside the report, if it is there)"),
    N_("FILE") },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, N_("Do not say where the dashboard was written"), NULL },
  /* no arg_description: the context's parameter string names the report */
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_args, NULL, NULL },
  G_OPTION_ENTRY_NULL
};

static gboolean
parse_options (int *argc, char ***argv, GError **error)
{
  g_autoptr (GOptionContext) context = ms_cli_option_context_new (
    _("COMPREHENSIVE-JSON"),
    _("Make the HTML dashboard of a memscope-aggregate report (its PREFIX_comprehensive.json): one file that "
      "works offline."),
    entries);

  g_option_context_set_description (
    context, _("Exit status: 0 on success, 1 for a usage error, 2 when a report cannot be read or is not one, or "
               "the dashboard cannot be written."));
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (opt_args == NULL || opt_args[0] == NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("No report given: give the PREFIX_comprehensive.json "
                                                      "that memscope-aggregate wrote"));
  if (opt_args[1] != NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("Give one report, not “%s” too"), opt_args[1]);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *written = NULL;

  ms_cli_init ("memscope-html");
  if (!parse_options (&argc, &argv, &error))
    return ms_cli_report_error (error);

  MsHtmlOptions options = { opt_title, opt_rankings, opt_output };
  if (!ms_html_write_dashboard (opt_args[0], &options, &written, &error))
    return ms_cli_report_error (error);
  /* (standard output may be the dashboard itself: then nothing else) */
  if (written && !opt_quiet)
    g_print (_("Dashboard written to %s\n"), written);
  return MS_CLI_EXIT_OK;
}
