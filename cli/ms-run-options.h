/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-run's options, checked, and the environment they become: the
 * MEMSCOPE_* variables of the preload shim (memscope-run(1) lists them). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  /* As given on the command line (GOptionEntry storage). */
  char *output;
  char *sampling;
  char *threads;
  char *depth;
  char *min_size;
  char *buffer;
  char *interval;
  gboolean no_follow_children;
  gboolean mmap;
  gboolean no_freq;
  gboolean debug;
  gboolean report;
  gboolean quiet;
  gboolean force;
  char **command;             /* PROGRAM ARG… */

  /* Filled by ms_run_options_check(). */
  guint interval_msec;        /* 0: no resource sampling */
} MsRunOptions;

/* The option table of memscope-run, pointing into OPTIONS. Keep it in sync
 * with man/memscope-run.1. */
GOptionEntry *ms_run_options_entries (MsRunOptions *options);

/* Checks every value; usage errors name the option. */
gboolean ms_run_options_check (MsRunOptions *options, GError **error);

/* The program's environment: ENVP plus LD_PRELOAD (PRELOAD first, before
 * what the user had) and the MEMSCOPE_* variables of the options, which
 * replace inherited ones. MEMSCOPE_OUTPUT is left out: the launcher sets it. */
char **ms_run_options_environ (const MsRunOptions *options, char **envp, const char *preload);

void ms_run_options_clear (MsRunOptions *options);

G_END_DECLS
