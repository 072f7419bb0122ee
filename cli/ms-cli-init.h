/* SPDX-License-Identifier: LGPL-2.1-or-later
 * What every memscope program does first. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The variable that points the message catalogues somewhere else than the
 * installed LOCALEDIR: tests use it to try translations before install. */
#define MS_CLI_LOCALEDIR_ENV "MEMSCOPE_LOCALEDIR"

/* Sets the locale from the environment, binds the gettext domain (to
 * $MEMSCOPE_LOCALEDIR when set, else the configured localedir) with UTF-8
 * output, and sets the program name used in messages. */
void ms_cli_init (const char *prgname);

/* The directory the message catalogues were bound to by ms_cli_init(). */
const char *ms_cli_get_localedir (void);

G_END_DECLS
