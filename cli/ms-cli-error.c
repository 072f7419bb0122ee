/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-cli-error.h"

#include <glib/gi18n.h>

G_DEFINE_QUARK (ms-cli-error-quark, ms_cli_error)

gboolean
ms_cli_throw (GError **error, MsCliError code, const char *format, ...)
{
  va_list args;

  if (error == NULL)
    return FALSE;
  g_return_val_if_fail (*error == NULL, FALSE);
  va_start (args, format);
  *error = g_error_new_valist (MS_CLI_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

gboolean
ms_cli_throw_errno (GError **error, int errsv, const char *format, ...)
{
  va_list args;
  g_autofree char *prefix = NULL;

  va_start (args, format);
  prefix = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MS_CLI_ERROR, MS_CLI_ERROR_IO, "%s: %s", prefix, g_strerror (errsv));
  return FALSE;
}

int
ms_cli_exit_status_for_error (const GError *error)
{
  if (error == NULL)
    return MS_CLI_EXIT_OK;
  if (error->domain == G_OPTION_ERROR
      || (error->domain == MS_CLI_ERROR && error->code == MS_CLI_ERROR_USAGE))
    return MS_CLI_EXIT_USAGE;
  return MS_CLI_EXIT_FAILURE;
}

int
ms_cli_report_error (const GError *error)
{
  int status = ms_cli_exit_status_for_error (error);

  g_printerr ("%s: %s\n", g_get_prgname (), error->message);
  if (status == MS_CLI_EXIT_USAGE)
    /* TRANSLATORS: %s is the program's name */
    g_printerr (_("Try “%s --help” for more information.\n"), g_get_prgname ());
  return status;
}

void
ms_cli_warning (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* TRANSLATORS: the first %s is the program's name, the second the message */
  g_printerr (_("%s: warning: %s\n"), g_get_prgname (), message);
}
