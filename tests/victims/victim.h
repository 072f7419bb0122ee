/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Helpers for the test victims: programs whose allocations are known
 * exactly. Their own blocks use sizes in [VICTIM_MIN_SIZE, VICTIM_MAX_SIZE],
 * a band the C library's own allocations never use, so the tests can tell
 * them apart. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VICTIM_MIN_SIZE 30001
#define VICTIM_MAX_SIZE 30999
#define NOINLINE __attribute__ ((noinline, noclone))

/* Keeps the compiler from dropping an allocation it can see is unused. */
static inline void
victim_touch (void *p)
{
  __asm__ volatile ("" : : "r"(p) : "memory");
}

static inline long
victim_arg (int argc, char **argv, int i, long fallback)
{
  return argc > i ? strtol (argv[i], NULL, 10) : fallback;
}
