/* SPDX-License-Identifier: LGPL-2.1-or-later
 * One thread, every allocator entry point, and leaks from three call paths.
 * Totals in the band (tests/test-preload.sh checks them):
 *   100 malloc/free pairs of 30001..30100 bytes
 *   calloc (3, 10001) = 30003 bytes, freed
 *   realloc chain 30010 -> 30020 -> 30030 -> free
 *   posix_memalign, aligned_alloc, memalign, valloc of 30040..30043, freed
 *   leaks: 2 x 30500 in leak_alpha, 3 x 30600 in leak_beta, 4 x 30700 in leak_gamma */
#include <malloc.h>
#include <unistd.h>

#include "victim.h"

/* not static: the compiler must not prove the leaks unused and drop them */
void *volatile victim_keep[16];
static int n_keep;

NOINLINE static void
leak_alpha (void)
{
  victim_keep[n_keep++] = malloc (30500);
}

NOINLINE static void
leak_beta (void)
{
  victim_keep[n_keep++] = malloc (30600);
}

NOINLINE static void
leak_gamma (void)
{
  victim_keep[n_keep++] = malloc (30700);
}

int
main (void)
{
  for (int i = 0; i < 100; i++)
    {
      void *p = malloc (30001 + i);
      victim_touch (p);
      free (p);
    }

  void *c = calloc (3, 10001);
  victim_touch (c);
  free (c);

  void *r = malloc (30010);
  r = realloc (r, 30020);
  r = realloc (r, 30030);
  free (r);

  void *a;
  if (posix_memalign (&a, 64, 30040) == 0)
    {
      victim_touch (a);
      free (a);
    }
  void *b = aligned_alloc (128, 30041);
  victim_touch (b);
  free (b);
  b = memalign (256, 30042);
  victim_touch (b);
  free (b);
  b = valloc (30043);
  victim_touch (b);
  free (b);

  /* volatile bounds: loops the compiler cannot unroll into several call
   * sites, so each function leaks from exactly one stack */
  static volatile int n_alpha = 2, n_beta = 3, n_gamma = 4;
  for (int i = 0; i < n_alpha; i++)
    leak_alpha ();
  for (int i = 0; i < n_beta; i++)
    leak_beta ();
  for (int i = 0; i < n_gamma; i++)
    leak_gamma ();

  printf ("basic done\n");
  return 7;
}
