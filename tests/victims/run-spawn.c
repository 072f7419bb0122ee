/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-spawn N PROGRAM [ARG…]: runs PROGRAM N times with fork and exec, one
 * after the other, and prints each child's pid: each followed child must
 * get a trace directory of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  int n = argc > 2 ? atoi (argv[1]) : 0;

  if (argc < 3)
    return 2;
  for (int i = 0; i < n; i++)
    {
      int status;
      pid_t pid = fork ();

      if (pid == 0)
        {
          execv (argv[2], argv + 2);
          _exit (127);
        }
      waitpid (pid, &status, 0);
      printf ("%d\n", (int) pid);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        return 1;
    }
  return 0;
}
