/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-sigterm READY-FILE: creates READY-FILE once its SIGTERM handler is
 * in place, then waits for SIGTERM (at most 20 s) and exits 0 on it, 1
 * without it: the signal must reach the program through memscope-run. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got_term;

static void
on_term (int sig)
{
  got_term = sig;
}

int
main (int argc, char **argv)
{
  struct sigaction sa = { .sa_handler = on_term };
  FILE *ready;

  if (argc < 2)
    return 2;
  sigaction (SIGTERM, &sa, NULL);
  ready = fopen (argv[1], "w");
  if (ready == NULL)
    return 2;
  fclose (ready);
  for (int i = 0; i < 2000 && !got_term; i++)
    usleep (10000);
  if (!got_term)
    return 1;
  printf ("got SIGTERM\n");
  return 0;
}
