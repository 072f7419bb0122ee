/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-cli-init.h"

#include <glib/gi18n.h>
#include <locale.h>

static const char *localedir = LOCALEDIR;

void
ms_cli_init (const char *prgname)
{
  const char *override = g_getenv (MS_CLI_LOCALEDIR_ENV);

  setlocale (LC_ALL, "");
  if (override != NULL && *override != '\0')
    localedir = override;
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname (prgname);
}

const char *
ms_cli_get_localedir (void)
{
  return localedir;
}
