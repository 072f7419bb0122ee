/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A constructor allocates 30777 bytes before main, and keeps it. */
#include "victim.h"

static void *early;

__attribute__ ((constructor)) static void
allocate_early (void)
{
  early = malloc (30777);
}

int
main (void)
{
  victim_touch (early);
  return early != NULL ? 0 : 1;
}
