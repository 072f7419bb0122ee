/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-run-child.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <limits.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms-cli-error.h"

#define OUTPUT_PREFIX "MEMSCOPE_OUTPUT="

/* Filled in by the forked child, in its own copy of memory, from what the
 * parent sends: building it there would need malloc, which is not safe
 * between fork and exec. */
static char output_entry[sizeof OUTPUT_PREFIX + PATH_MAX] = OUTPUT_PREFIX;

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

void
ms_run_child_signals (sigset_t *out_forwarded, sigset_t *out_blocked)
{
  sigemptyset (out_forwarded);
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded_signals); i++)
    sigaddset (out_forwarded, forwarded_signals[i]);
  *out_blocked = *out_forwarded;
  sigaddset (out_blocked, SIGCHLD);
  sigaddset (out_blocked, SIGPIPE);
}

/* Between fork and exec: async-signal-safe calls only. */
G_GNUC_NORETURN static void
child_main (const int go[2], const int exec_result[2], const char *path, char **argv, char **envp,
            const sigset_t *child_mask, const struct rlimit *child_nofile)
{
  gsize used = 0;
  gsize room = sizeof output_entry - sizeof OUTPUT_PREFIX;
  char *dest = output_entry + sizeof OUTPUT_PREFIX - 1;
  int go_fd = go[0], exec_fd = exec_result[1];
  int errsv;

  /* The parent's ends: holding the write end of "go" would keep the read
   * below from ever seeing its end. */
  close (go[1]);
  close (exec_result[0]);

  for (;;)
    {
      gssize n = read (go_fd, dest + used, room - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      used += (gsize) n;
      if (used == room)
        _exit (127);
    }
  if (used == 0)
    _exit (127); /* cancelled: the program never runs */
  dest[used] = '\0';

  setrlimit (RLIMIT_NOFILE, child_nofile);
  sigprocmask (SIG_SETMASK, child_mask, NULL);
  execve (path, argv, envp);
  errsv = errno;
  while (write (exec_fd, &errsv, sizeof errsv) < 0 && errno == EINTR)
    ;
  _exit (127);
}

gboolean
ms_run_child_fork (MsRunChild *child, const char *path, char **argv, char **envp,
                   const sigset_t *child_mask, const struct rlimit *child_nofile, GError **error)
{
  int go[2], exec_result[2];
  guint n = g_strv_length (envp);

  memset (child, 0, sizeof *child);
  child->go_fd = child->exec_fd = -1;
  child->envp = g_new (char *, n + 2);
  memcpy (child->envp, envp, n * sizeof (char *));
  child->envp[n] = output_entry;
  child->envp[n + 1] = NULL;

  if (pipe2 (go, O_CLOEXEC) < 0)
    return ms_cli_throw_errno (error, errno, _("Starting the program"));
  if (pipe2 (exec_result, O_CLOEXEC) < 0)
    {
      int errsv = errno;
      close (go[0]);
      close (go[1]);
      return ms_cli_throw_errno (error, errsv, _("Starting the program"));
    }

  child->pid = fork ();
  if (child->pid == 0)
    child_main (go, exec_result, path, argv, child->envp, child_mask, child_nofile);

  close (go[0]);
  close (exec_result[1]);
  if (child->pid < 0)
    {
      int errsv = errno;
      close (go[1]);
      close (exec_result[0]);
      return ms_cli_throw_errno (error, errsv, _("Starting the program"));
    }
  child->go_fd = go[1];
  child->exec_fd = exec_result[0];
  return TRUE;
}

static void
reap (MsRunChild *child)
{
  while (waitpid (child->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  child->pid = 0;
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
ms_run_child_exec (MsRunChild *child, const char *path, const char *output_dir, GError **error)
{
  gsize len = strlen (output_dir);
  int errsv = 0;
  gssize n;

  if (len == 0 || len >= sizeof output_entry - sizeof OUTPUT_PREFIX)
    {
      ms_run_child_cancel (child);
      return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("The trace directory's path is too long"));
    }
  if (!write_all (child->go_fd, output_dir, len))
    errsv = errno;
  close (child->go_fd);
  child->go_fd = -1;

  do
    n = read (child->exec_fd, &errsv, sizeof errsv);
  while (n < 0 && errno == EINTR);
  close (child->exec_fd);
  child->exec_fd = -1;
  if (n == 0 && errsv == 0)
    return TRUE;

  reap (child);
  return ms_cli_throw_errno (error, errsv != 0 ? errsv : EIO, _("Cannot run “%s”"), path);
}

void
ms_run_child_cancel (MsRunChild *child)
{
  if (child->go_fd >= 0)
    close (child->go_fd);
  if (child->exec_fd >= 0)
    close (child->exec_fd);
  child->go_fd = child->exec_fd = -1;
  if (child->pid > 0)
    reap (child);
}

int
ms_run_child_wait (MsRunChild *child, const sigset_t *forwarded, guint tick_msec, MsRunTickFunc tick,
                   gpointer data)
{
  sigset_t waited = *forwarded;
  struct timespec timeout = { tick_msec / 1000, (long) (tick_msec % 1000) * 1000000L };

  sigaddset (&waited, SIGCHLD);
  for (;;)
    {
      siginfo_t info;
      int status;
      int sig = sigtimedwait (&waited, &info, &timeout);

      if (sig < 0 && errno == EINTR)
        continue;
      if (sig > 0 && sig != SIGCHLD)
        {
          /* The terminal signals the whole foreground process group, the
           * program included (it shares ours): passing such a signal on
           * would deliver it twice. */
          if (info.si_code != SI_KERNEL)
            kill (child->pid, sig);
          continue;
        }
      if (waitpid (child->pid, &status, WNOHANG) == child->pid && (WIFEXITED (status) || WIFSIGNALED (status)))
        {
          child->pid = 0;
          return status;
        }
      if (sig < 0 && tick != NULL)
        tick (data);
    }
}

int
ms_run_child_exit_status (int wait_status)
{
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return WEXITSTATUS (wait_status);
}

void
ms_run_child_clear (MsRunChild *child)
{
  ms_run_child_cancel (child);
  g_clear_pointer (&child->envp, g_free);
}
