/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-kill N: allocates N blocks of 30300 bytes, then says "ready N" on
 * stdout and waits to be killed. */
#include <unistd.h>

#include "victim.h"

int
main (int argc, char **argv)
{
  long n = victim_arg (argc, argv, 1, 10000);
  for (long i = 0; i < n; i++)
    victim_touch (malloc (30300));
  printf ("ready %ld\n", n);
  fflush (stdout);
  for (;;)
    pause ();
}
