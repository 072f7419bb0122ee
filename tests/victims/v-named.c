/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Threads by name, for MEMSCOPE_THREADS: "worker-1" and "worker-2" make
 * 100 malloc/free pairs of 30001 each; "io-1" makes 100 of 30002; "tmp"
 * makes 100 of 30003, renames itself "worker-3" (prctl), then 100 of
 * 30004. With MEMSCOPE_THREADS=worker-* exactly 300 are recorded. */
#include <pthread.h>
#include <sys/prctl.h>

#include "victim.h"

typedef struct
{
  const char *name;
  size_t size;
  int rename;
} Job;

static void
churn (size_t size)
{
  for (int i = 0; i < 100; i++)
    {
      void *p = malloc (size);
      victim_touch (p);
      free (p);
    }
}

static void *
work (void *arg)
{
  Job *job = arg;
  prctl (PR_SET_NAME, job->name, 0, 0, 0);
  churn (job->size);
  if (job->rename)
    {
      prctl (PR_SET_NAME, "worker-3", 0, 0, 0);
      churn (30004);
    }
  return NULL;
}

int
main (void)
{
  Job jobs[] = { { "worker-1", 30001, 0 }, { "worker-2", 30001, 0 }, { "io-1", 30002, 0 }, { "tmp", 30003, 1 } };
  pthread_t t[4];

  for (int i = 0; i < 4; i++)
    pthread_create (&t[i], NULL, work, &jobs[i]);
  for (int i = 0; i < 4; i++)
    pthread_join (t[i], NULL);
  return 0;
}
