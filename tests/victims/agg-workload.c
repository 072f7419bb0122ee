/* SPDX-License-Identifier: LGPL-2.1-or-later
 * agg-workload [LEAKS [SPIN-MSEC]]: allocations known exactly, for memscope-aggregate's
 * end-to-end test (tests/test-aggregate.sh finds the lines it expects by
 * the MARK comments):
 *   make_block: 200 blocks of 30000..30199 bytes, each freed at once
 *     (temporary allocations), 6,019,900 bytes in all;
 *   produce, in a second thread: 100 blocks of 30800 bytes, all live
 *     together, handed to the main thread, which frees them (cross-thread);
 *   leak_more: LEAKS (default 3) blocks of 30900 bytes, never freed,
 *     allocated by an inlined helper;
 *   then the main thread keeps a CPU busy for SPIN-MSEC (default 0)
 *     milliseconds, for the resource monitor to see, allocating nothing. */
#include <pthread.h>
#include <time.h>

#include "victim.h"

#define HANDED 100

static void *handed[HANDED];
void *volatile kept[64];

NOINLINE static void *
make_block (size_t size)
{
  void *p = malloc (size); /* MARK:make_block */
  victim_touch (p);
  return p;
}

static inline __attribute__ ((always_inline)) void *
inlined_alloc (size_t size)
{
  void *p = malloc (size); /* MARK:inlined_alloc */
  victim_touch (p);
  return p;
}

NOINLINE static void
leak_more (int i)
{
  kept[i] = inlined_alloc (30900); /* MARK:leak_more */
}

NOINLINE static void *
produce (void *arg)
{
  for (int i = 0; i < HANDED; i++)
    handed[i] = malloc (30800); /* MARK:produce */
  return arg;
}

int
main (int argc, char **argv)
{
  long leaks = victim_arg (argc, argv, 1, 3);
  pthread_t worker;

  for (int i = 0; i < 200; i++)
    free (make_block (30000 + (size_t) i));

  if (pthread_create (&worker, NULL, produce, NULL) != 0 || pthread_join (worker, NULL) != 0)
    return 1;
  for (int i = 0; i < HANDED; i++)
    free (handed[i]);

  for (int i = 0; i < leaks && i < 64; i++)
    leak_more (i); /* MARK:main */

  long spin = victim_arg (argc, argv, 2, 0);
  struct timespec start, now;
  clock_gettime (CLOCK_MONOTONIC, &start);
  do
    clock_gettime (CLOCK_MONOTONIC, &now);
  while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < spin);
  return 0;
}
