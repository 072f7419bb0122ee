/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-exit CODE | segv: allocates a little, then exits with CODE or dies
 * of SIGSEGV: memscope-run must pass either on as a shell would. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
  char *block = malloc (40007);

  /* The compiler may drop a block nobody can see: show it this one. */
  __asm__ volatile ("" : : "r"(block) : "memory");
  memset (block, 1, 40007);
  if (argc > 1 && strcmp (argv[1], "segv") == 0)
    {
      /* A real fault, as a crashing program has: raise() would not go
       * through the kernel's fault path. */
      volatile int *null = NULL;
      signal (SIGSEGV, SIG_DFL);
      *null = block[0];
    }
  free (block);
  return argc > 1 ? atoi (argv[1]) : 0;
}
