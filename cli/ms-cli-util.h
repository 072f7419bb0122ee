/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Small helpers of the memscope programs: where they run from, how to
 * find each other, descriptors that close themselves. */
#pragma once

#include <glib.h>
#include <unistd.h>

G_BEGIN_DECLS

/* The directory of the running executable (/proc/self/exe), with libtool's
 * ".libs" stripped: in the build tree that is where the sibling programs'
 * wrappers are. NULL if /proc is not mounted. */
char *ms_cli_get_program_dir (void);

/* NAME next to the running program, else on PATH; NULL if neither. */
char *ms_cli_find_program (const char *name);

/* Whether NAME is that of a process's subdirectory in a trace directory:
 * PID (a forked child) or PID-execN (a program exec'd by a process of the
 * run), as memscope-trace(5) says. */
gboolean ms_cli_is_process_dir_name (const char *name);

/* A file descriptor closed when it goes out of scope (GLib 2.74 has no
 * g_autofd). */
static inline void
ms_cli_close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}
#define ms_cli_autofd __attribute__ ((cleanup (ms_cli_close_fd))) int

G_END_DECLS
