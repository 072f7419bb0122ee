/* SPDX-License-Identifier: LGPL-2.1-or-later
 * --report: the analysis and the dashboard, by the programs that make them. */
#pragma once

#include <glib.h>
#include <signal.h>

G_BEGIN_DECLS

/* Runs "memscope-aggregate DIR", then memscope-html on the JSON it wrote,
 * each found next to memscope-run or in PATH, with their standard output
 * sent to stderr (stdout is the program's) and CHILD_MASK as their signal
 * mask. Says so when they are not installed. */
/* Runs memscope-aggregate (and memscope-html) on DIR; their tables go to
 * standard error, or nowhere when QUIET. */
gboolean ms_run_report (const char *dir, const sigset_t *child_mask, gboolean quiet, GError **error);

G_END_DECLS
