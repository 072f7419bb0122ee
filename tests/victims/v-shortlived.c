/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-shortlived TOTAL BATCH: TOTAL threads, BATCH at a time, each making
 * 3 malloc/free pairs of 30001..30003 bytes and leaking nothing. */
#include <pthread.h>

#include "victim.h"

static void *
work (void *arg)
{
  for (int i = 0; i < 3; i++)
    {
      void *p = malloc (30001 + (size_t) i);
      victim_touch (p);
      free (p);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  long total = victim_arg (argc, argv, 1, 20000);
  long batch = victim_arg (argc, argv, 2, 8);
  pthread_t t[64];

  if (batch > 64)
    batch = 64;
  for (long done = 0; done < total; done += batch)
    {
      long n = total - done < batch ? total - done : batch;
      for (long i = 0; i < n; i++)
        if (pthread_create (&t[i], NULL, work, NULL) != 0)
          return 1;
      for (long i = 0; i < n; i++)
        pthread_join (t[i], NULL);
    }
  return 0;
}
