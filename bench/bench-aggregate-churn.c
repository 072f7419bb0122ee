/* SPDX-License-Identifier: LGPL-2.1-or-later
 * bench-aggregate-churn THREADS ITERATIONS: the seeds' mt_churn shape for
 * bench/bench-aggregate.sh, at any thread count (bench/churn stops at 64):
 * THREADS threads at once, each replacing a random one of 32 live blocks
 * ITERATIONS times (16 B - 4 KiB) from two call paths, then freeing all. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define POOL 32

static long iterations;

__attribute__ ((noinline)) static void *
small_object (size_t size)
{
  return malloc (size);
}

__attribute__ ((noinline)) static void *
big_object (size_t size)
{
  return calloc (1, size);
}

static void *
worker (void *arg)
{
  void *pool[POOL] = { 0 };
  uint64_t s = 0x9E3779B97F4A7C15ull ^ (uintptr_t) arg;

  for (long i = 0; i < iterations; i++)
    {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      unsigned k = (unsigned) (s >> 40) % POOL;
      free (pool[k]);
      pool[k] = (s & 7) ? small_object (16 + s % 240) : big_object (256 + s % 3840);
    }
  for (int k = 0; k < POOL; k++)
    free (pool[k]);
  return NULL;
}

int
main (int argc, char **argv)
{
  int threads = argc > 1 ? atoi (argv[1]) : 30;
  iterations = argc > 2 ? atol (argv[2]) : 10000;
  pthread_t *t;

  if (threads < 1 || threads > 100000 || iterations < 0)
    return 2;
  t = calloc ((size_t) threads, sizeof *t);
  for (int i = 0; i < threads; i++)
    if (pthread_create (&t[i], NULL, worker, (void *) (uintptr_t) (i + 1)) != 0)
      return 1;
  for (int i = 0; i < threads; i++)
    pthread_join (t[i], NULL);
  free (t);
  return 0;
}
