/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-fork [EXEC-PATH]: the parent allocates 5 x 30011 (leaked) and forks;
 * the child allocates 7 x 30022 (leaked) and, given EXEC-PATH, execs it
 * (v-basic, say); otherwise it exits. The parent waits and allocates
 * 1 x 30033 more. */
#include <sys/wait.h>
#include <unistd.h>

#include "victim.h"

int
main (int argc, char **argv)
{
  for (int i = 0; i < 5; i++)
    victim_touch (malloc (30011));
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    return 1;
  if (pid == 0)
    {
      for (int i = 0; i < 7; i++)
        victim_touch (malloc (30022));
      if (argc > 1)
        {
          execl (argv[1], argv[1], (char *) NULL);
          _exit (127);
        }
      exit (0);
    }
  int status;
  waitpid (pid, &status, 0);
  victim_touch (malloc (30033));
  printf ("child %d status %d\n", (int) pid, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  return 0;
}
