/* SPDX-License-Identifier: LGPL-2.1-or-later
 * What memscope-run checks before it starts anything: that the program
 * exists and is one the preload library can be loaded into, and where
 * that library is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *path;                 /* what execve runs */
  char **argv;                /* and with which arguments */
} MsRunTarget;

/* Finds COMMAND[0] as execvp would (PATH when it has no slash; a file
 * that is neither ELF nor "#!" runs under /bin/sh) and refuses, with a
 * message saying why, a program that is missing or not executable, a
 * statically linked executable, one built for another architecture, and
 * one that the loader runs in secure mode for us (set-user-ID or
 * set-group-ID to someone else, or with file capabilities): the loader
 * ignores LD_PRELOAD then. */
gboolean ms_run_target_resolve (char **command, MsRunTarget *out_target, GError **error);

void ms_run_target_clear (MsRunTarget *target);

#define MS_RUN_PRELOAD_ENV "MEMSCOPE_PRELOAD"
#define MS_RUN_PRELOAD_NAME "libmemscope-preload.so"

/* The preload library: $MEMSCOPE_PRELOAD if set; the one in the build
 * tree when memscope-run runs from its build tree; else the installed one. */
gboolean ms_run_find_preload (char **out_path, GError **error);

/* In the build tree memscope-run is started by libtool's wrapper script,
 * which adds BIN_SH, DUALCASE and the build tree's library directory to
 * the environment: the program must see the user's environment, so this
 * takes them out of ENVP again. Elsewhere it returns ENVP unchanged. */
char **ms_run_undo_libtool_wrapper (char **envp);

G_END_DECLS
