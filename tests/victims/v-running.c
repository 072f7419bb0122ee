/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A thread still running at exit: "worker" makes 100 malloc/free pairs of
 * 30001 bytes in worker_allocate, tells main, and blocks forever; main
 * then exits. The worker's call-site totals must still be in the trace. */
#include <pthread.h>
#include <unistd.h>

#include "victim.h"

static int ready[2];

NOINLINE static void
worker_allocate (void)
{
  for (int i = 0; i < 100; i++)
    {
      void *p = malloc (30001);
      victim_touch (p);
      free (p);
    }
}

static void *
worker (void *arg)
{
  worker_allocate ();
  if (write (ready[1], "x", 1) != 1)
    abort ();
  for (;;)
    pause ();
}

int
main (void)
{
  pthread_t t;
  char c;

  if (pipe (ready) < 0 || pthread_create (&t, NULL, worker, NULL) != 0 || read (ready[0], &c, 1) != 1)
    return 1;
  return 0;
}
