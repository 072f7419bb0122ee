/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Six call sites of known volume, every block freed at once; the sampling
 * tests compare estimates with these exact totals:
 *   site_a 400000 x 64 B, site_b 100000 x 512 B, site_c 40000 x 2048 B,
 *   site_d 20000 x 8192 B, site_e 4000 x 20480 B, site_f 400 x 102400 B */
#include "victim.h"

#define SITE(name, count, size)                  \
  NOINLINE static void name (void)               \
  {                                              \
    for (long i = 0; i < (count); i++)           \
      {                                          \
        void *p = malloc (size);                 \
        victim_touch (p);                        \
        free (p);                                \
      }                                          \
  }

SITE (site_a, 400000, 64)
SITE (site_b, 100000, 512)
SITE (site_c, 40000, 2048)
SITE (site_d, 20000, 8192)
SITE (site_e, 4000, 20480)
SITE (site_f, 400, 102400)

int
main (void)
{
  site_a ();
  site_b ();
  site_c ();
  site_d ();
  site_e ();
  site_f ();
  return 0;
}
