/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-threads THREADS PER_THREAD: every thread makes PER_THREAD malloc/free
 * pairs of sizes 30001 + (i % 500), all at once (a barrier starts them). */
#include <pthread.h>

#include "victim.h"

static long per_thread;
static pthread_barrier_t barrier;

static void *
work (void *arg)
{
  pthread_barrier_wait (&barrier);
  for (long i = 0; i < per_thread; i++)
    {
      void *p = malloc (30001 + (size_t) (i % 500));
      victim_touch (p);
      free (p);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  long n = victim_arg (argc, argv, 1, 8);
  per_thread = victim_arg (argc, argv, 2, 1000);
  pthread_t *t = calloc ((size_t) n, sizeof *t);

  pthread_barrier_init (&barrier, NULL, (unsigned) n);
  for (long i = 0; i < n; i++)
    if (pthread_create (&t[i], NULL, work, NULL) != 0)
      return 1;
  for (long i = 0; i < n; i++)
    pthread_join (t[i], NULL);
  free (t);
  return 0;
}
