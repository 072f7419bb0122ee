/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The MS_CLI_ERROR domain of the command-line programs, and the one place
 * where an error becomes an exit status (DESIGN.md: 0 success, 1 usage
 * error, 2 data or I/O error). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MS_CLI_ERROR (ms_cli_error_quark ())

typedef enum
{
  /* The command line is wrong: an unknown option, a bad value, a missing
   * argument. Exit status 1; the message suggests --help. */
  MS_CLI_ERROR_USAGE,
  /* A file or directory could not be created, read or written; the
   * message names it and carries strerror. Exit status 2. */
  MS_CLI_ERROR_IO,
  /* The input is not what it should be (not a trace, damaged, an
   * executable memscope cannot profile). Exit status 2. */
  MS_CLI_ERROR_DATA,
  /* Anything else that stopped the program. Exit status 2. */
  MS_CLI_ERROR_FAILED,
} MsCliError;

#define MS_CLI_EXIT_OK 0
#define MS_CLI_EXIT_USAGE 1
#define MS_CLI_EXIT_FAILURE 2

GQuark ms_cli_error_quark (void);

/* Both set ERROR and return FALSE, so that a failure is one line:
 *   return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("…"), …); */
gboolean ms_cli_throw (GError **error, MsCliError code, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* MS_CLI_ERROR_IO with "MESSAGE: strerror (ERRSV)". */
gboolean ms_cli_throw_errno (GError **error, int errsv, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* 1 for MS_CLI_ERROR_USAGE and GOptionContext's own errors, 2 for the rest. */
int ms_cli_exit_status_for_error (const GError *error);

/* Prints "PROGRAM: MESSAGE" on stderr (and a hint to --help for usage
 * errors) and returns ms_cli_exit_status_for_error (ERROR): main() ends
 * with  return ms_cli_report_error (error); */
int ms_cli_report_error (const GError *error);

/* Prints "PROGRAM: warning: MESSAGE" on stderr, for what does not stop
 * the program. */
void ms_cli_warning (const char *format, ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
