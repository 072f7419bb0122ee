/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-aggregate [OPTION…] TRACE-DIR: from a trace directory to
 * answers — PREFIX_comprehensive.json and PREFIX_resource_rankings.json,
 * and one table on stdout for people (text) or pipelines (TSV).
 * Keep the options in sync with man/memscope-aggregate.1. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ms-agg-diff.h"
#include "ms-agg-output.h"
#include "ms-agg-run.h"
#include "ms-cli-error.h"
#include "ms-cli-init.h"
#include "ms-cli-options.h"

/* --fail-on-growth tripped: a CI gate, distinct from data errors. */
#define MS_AGG_EXIT_GROWTH 3
#define TEXT_DEFAULT_TOP 20

static char *opt_output_dir;
static char *opt_prefix;
static char *opt_report;
static char *opt_format;
static char *opt_weight;
static char *opt_top;
static char *opt_diff;
static char *opt_fail_on_growth;
static gboolean opt_strict;
static char **opt_debug_dirs;
static char *opt_sysroot;
static char *opt_jobs;
static char **opt_args;

static const GOptionEntry entries[] = {
  { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output_dir,
    N_("Write the JSON reports into DIR (default: the trace directory)"), N_("DIR") },
  { "prefix", 0, 0, G_OPTION_ARG_STRING, &opt_prefix,
    N_("Name the JSON reports PREFIX_*.json (default: the program's name)"), N_("PREFIX") },
  { "report", 'r', 0, G_OPTION_ARG_STRING, &opt_report,
    N_("Table to print: summary, threads, stacks, leaks, peak, temporary, timeline, interactions, bottlenecks, "
       "sizes, labels (default: summary)"),
    N_("REPORT") },
  { "format", 'f', 0, G_OPTION_ARG_STRING, &opt_format,
    N_("text, tsv, json or collapsed (default: text on a terminal, tsv otherwise)"), N_("FORMAT") },
  { "weight", 'w', 0, G_OPTION_ARG_STRING, &opt_weight,
    N_("Order stacks and weigh folded stacks by bytes, count or leaked (default: bytes)"), N_("WEIGHT") },
  { "top", 'n', 0, G_OPTION_ARG_STRING, &opt_top,
    N_("Print at most N rows; 0 for all (default: 20 as text, all otherwise)"), N_("N") },
  { "diff", 0, 0, G_OPTION_ARG_FILENAME, &opt_diff,
    N_("Compare with an earlier run: its trace directory or its PREFIX_comprehensive.json"), N_("BASE") },
  { "fail-on-growth", 0, 0, G_OPTION_ARG_STRING, &opt_fail_on_growth,
    N_("With --diff: exit with status 3 when leaked or peak bytes grew by more than BYTES"), N_("BYTES") },
  { "strict", 0, 0, G_OPTION_ARG_NONE, &opt_strict,
    N_("Exit with status 2 when a trace file is damaged or cut short (the reports are still written)"), NULL },
  { "debug-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_debug_dirs,
    N_("Look for debug information (by build-id or debuglink) in DIR too; may be repeated"), N_("DIR") },
  { "sysroot", 0, 0, G_OPTION_ARG_FILENAME, &opt_sysroot,
    N_("Find the recorded binaries under DIR (a copy of the traced machine's file system)"), N_("DIR") },
  { "jobs", 'j', 0, G_OPTION_ARG_STRING, &opt_jobs,
    N_("Decode thread files with N threads (default: one per processor, at most 8)"), N_("N") },
  /* no arg_description: the context's parameter string names TRACE-DIR */
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_args, NULL, NULL },
  G_OPTION_ENTRY_NULL
};

static const char *const report_choices[] = {
  "summary", "threads", "stacks", "leaks", "peak", "temporary", "timeline", "interactions", "bottlenecks", "sizes",
  "labels", NULL,
};
static const char *const format_choices[] = { "text", "tsv", "json", "collapsed", NULL };
static const char *const weight_choices[] = { "bytes", "count", "leaked", NULL };

typedef struct
{
  MsAggReportKind report;
  MsAggFormat format;
  MsAggWeight weight;
  guint top;
  guint64 growth_limit;
  gboolean fail_on_growth;
  MsAggRunOptions run;
} Options;

static gboolean
parse_options (int *argc, char ***argv, Options *out, GError **error)
{
  g_autoptr (GOptionContext) context = ms_cli_option_context_new (
    _("TRACE-DIR"), _("Analyse a memscope trace: write the JSON reports and print one table."), entries);
  guint choice;
  guint64 n;

  g_option_context_set_description (
    context, _("Exit status: 0 on success (damaged files are analysed as far as they go, with a warning), 1 for "
               "a usage error, 2 for an unreadable trace (or damage with --strict), 3 when --fail-on-growth "
               "trips."));
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (opt_args == NULL || opt_args[0] == NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("No trace directory given"));
  if (opt_args[1] != NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("Give one trace directory, not “%s” too"), opt_args[1]);

  memset (out, 0, sizeof *out);
  out->report = MS_AGG_REPORT_SUMMARY;
  if (opt_report && !ms_cli_parse_choice ("--report", opt_report, report_choices, &choice, error))
    return FALSE;
  if (opt_report)
    out->report = choice;
  out->format = isatty (STDOUT_FILENO) ? MS_AGG_FORMAT_TEXT : MS_AGG_FORMAT_TSV;
  if (opt_format && !ms_cli_parse_choice ("--format", opt_format, format_choices, &choice, error))
    return FALSE;
  if (opt_format)
    out->format = choice;
  if (opt_weight && !ms_cli_parse_choice ("--weight", opt_weight, weight_choices, &choice, error))
    return FALSE;
  if (opt_weight)
    out->weight = choice;
  out->top = out->format == MS_AGG_FORMAT_TEXT ? TEXT_DEFAULT_TOP : 0;
  if (opt_top)
    {
      if (!ms_cli_parse_uint ("--top", opt_top, 0, G_MAXUINT, &n, error))
        return FALSE;
      out->top = (guint) n;
    }
  if (opt_fail_on_growth)
    {
      if (opt_diff == NULL)
        return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("--fail-on-growth needs --diff"));
      if (!ms_cli_parse_size ("--fail-on-growth", opt_fail_on_growth, 0, G_MAXINT64, &out->growth_limit, error))
        return FALSE;
      out->fail_on_growth = TRUE;
    }
  if (opt_jobs)
    {
      if (!ms_cli_parse_uint ("--jobs", opt_jobs, 1, 64, &n, error))
        return FALSE;
      out->run.jobs = (guint) n;
    }
  out->run.sysroot = opt_sysroot;
  out->run.debug_dirs = (const char *const *) opt_debug_dirs;
  return TRUE;
}

/* Trace directories hold one thread file per concurrent thread: let the
 * merge keep them all open. */
static void
raise_file_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

/* A program name as a file name prefix: no directory separators. */
static char *
safe_prefix (const char *name)
{
  char *p = g_strdup (name && *name ? name : "memscope");

  for (char *c = p; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '.' && *c != '-' && *c != '_' && *c != '+')
      *c = '_';
  if (p[0] == '.')
    p[0] = '_';
  return p;
}

static int
run_diff (MsAggRun *run, const Options *opt, GError **error)
{
  g_autoptr (MsAggDiffSide) base = NULL;
  g_autoptr (MsAggDiffSide) current = ms_agg_diff_side_from_report (run->report);
  g_autoptr (MsAggRun) base_run = NULL;

  if (g_file_test (opt_diff, G_FILE_TEST_IS_DIR))
    {
      base_run = ms_agg_run_new (opt_diff, &opt->run, error);
      if (base_run == NULL)
        {
          g_prefix_error (error, _("The --diff base: "));
          return -1;
        }
      base = ms_agg_diff_side_from_report (base_run->report);
    }
  else if ((base = ms_agg_diff_side_from_json (opt_diff, error)) == NULL)
    {
      g_prefix_error (error, _("The --diff base: "));
      return -1;
    }

  ms_agg_diff_print (base, current, stdout, opt->format, opt->top);
  g_autofree char *what = NULL;
  if (opt->fail_on_growth && ms_agg_diff_grew (base, current, opt->growth_limit, &what))
    {
      fflush (stdout);
      g_printerr ("%s: %s\n", g_get_prgname (), what);
      return MS_AGG_EXIT_GROWTH;
    }
  return MS_CLI_EXIT_OK;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  Options opt;
  int status = MS_CLI_EXIT_OK;

  ms_cli_init ("memscope-aggregate");
  if (!parse_options (&argc, &argv, &opt, &error))
    return ms_cli_report_error (error);
  raise_file_limit ();

  const char *dir = opt_args[0];
  g_autoptr (MsAggRun) run = ms_agg_run_new (dir, &opt.run, &error);
  if (run == NULL)
    return ms_cli_report_error (error);

  const MsAggProcessInfo *root = g_ptr_array_index (run->trace->processes, 0);
  g_autofree char *prefix = safe_prefix (opt_prefix ? opt_prefix : root->name);
  if (!ms_agg_write_json_files (run->report, opt_output_dir ? opt_output_dir : dir, prefix, &error))
    return ms_cli_report_error (error);

  if (opt_diff)
    {
      status = run_diff (run, &opt, &error);
      if (status < 0)
        return ms_cli_report_error (error);
    }
  else if (!ms_agg_print_report (run->report, stdout, opt.report, opt.format, opt.weight, opt.top, &error))
    return ms_cli_report_error (error);

  /* Warnings after the table: on a terminal they are what is read last. */
  fflush (stdout);
  g_autoptr (GPtrArray) warnings = ms_agg_report_warnings (run->report);
  for (guint i = 0; i < warnings->len; i++)
    ms_cli_warning ("%s", (const char *) g_ptr_array_index (warnings, i));
  if (run->agg->sampled)
    ms_cli_warning ("%s", _("the trace was sampled: counts and bytes are estimates"));

  if (ferror (stdout))
    {
      ms_cli_throw (&error, MS_CLI_ERROR_IO, _("Writing to standard output failed"));
      return ms_cli_report_error (error);
    }
  if (opt_strict && ms_agg_report_has_damage (run->report) && status == MS_CLI_EXIT_OK)
    {
      g_printerr (_("%s: damaged trace files (--strict)\n"), g_get_prgname ());
      return MS_CLI_EXIT_FAILURE;
    }
  return status;
}
