/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The status line memscope-run keeps up to date on a terminal. */
#pragma once

#include <glib.h>

#include "ms-monitor.h"

G_BEGIN_DECLS

typedef struct _MsRunStatus MsRunStatus;

/* A status line on stderr, or NULL when stderr is not a terminal. MONITOR
 * (nullable) gives RSS and threads; the allocations are counted in DIR. */
MsRunStatus *ms_run_status_new (const char *dir, MsMonitor *monitor);

/* Redraws the line, unless memscope-run is in the background: writing to
 * the terminal would stop it there. */
void ms_run_status_update (MsRunStatus *self);

/* Erases the line and frees SELF. */
void ms_run_status_free (MsRunStatus *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsRunStatus, ms_run_status_free)

G_END_DECLS
