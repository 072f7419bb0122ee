/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Starting the program and waiting for it as a shell would: same stdin,
 * stdout, stderr, working directory and process group; signals sent to
 * memscope-run passed on; its exit status or 128+N for death by signal N. */
#pragma once

#include <glib.h>
#include <signal.h>
#include <sys/resource.h>

G_BEGIN_DECLS

typedef struct
{
  GPid pid;
  int go_fd;                  /* the child waits for the trace directory on this pipe */
  int exec_fd;                /* an errno if exec failed; end of file once it succeeded */
  char **envp;
} MsRunChild;

/* The signals forwarded to the program (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2), and all that memscope-run blocks: those, SIGCHLD,
 * which it waits for, and SIGPIPE, so that a closed stderr cannot kill it. */
void ms_run_child_signals (sigset_t *out_forwarded, sigset_t *out_blocked);

/* Forks a child that waits until ms_run_child_exec() sends it the trace
 * directory, then restores CHILD_MASK and CHILD_NOFILE (what memscope-run
 * changed for itself) and runs PATH with ARGV and ENVP plus
 * MEMSCOPE_OUTPUT. Its pid is known before it runs: it names the default
 * trace directory. */
gboolean ms_run_child_fork (MsRunChild *child, const char *path, char **argv, char **envp,
                            const sigset_t *child_mask, const struct rlimit *child_nofile,
                            GError **error);

/* Lets the child run the program with MEMSCOPE_OUTPUT=OUTPUT_DIR, and
 * returns once exec has succeeded; if it failed, reaps the child and says
 * why. */
gboolean ms_run_child_exec (MsRunChild *child, const char *path, const char *output_dir, GError **error);

/* Makes a child that has not run the program yet exit, and reaps it. */
void ms_run_child_cancel (MsRunChild *child);

typedef void (*MsRunTickFunc) (gpointer data);

/* Waits for the program to end and returns its wait status. Signals of
 * FORWARDED that memscope-run receives (they must be blocked) go on to
 * the program, except those the terminal sent to the whole foreground
 * process group, which the program has received already. TICK, if not
 * NULL, is called about every TICK_MSEC meanwhile. */
int ms_run_child_wait (MsRunChild *child, const sigset_t *forwarded, guint tick_msec, MsRunTickFunc tick,
                       gpointer data);

/* A shell's $?: the exit status, or 128+N after death by signal N. */
int ms_run_child_exit_status (int wait_status);

void ms_run_child_clear (MsRunChild *child);

G_END_DECLS
