/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-daemon DONE-FILE: closes every descriptor from 3 to 1023, becomes a
 * daemon (which forks), then makes 50 allocations of 30050 bytes (leaked)
 * and 10 malloc/free pairs of 30060, and finally creates DONE-FILE. */
#include <fcntl.h>
#include <unistd.h>

#include "victim.h"

int
main (int argc, char **argv)
{
  const char *done = argv[1];

  for (int fd = 3; fd < 1024; fd++)
    close (fd);
  if (daemon (1, 1) < 0)
    return 1;
  for (int i = 0; i < 50; i++)
    victim_touch (malloc (30050));
  for (int i = 0; i < 10; i++)
    {
      void *p = malloc (30060);
      victim_touch (p);
      free (p);
    }
  int fd = open (done, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  return fd < 0;
}
