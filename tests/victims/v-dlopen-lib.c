/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Loaded by v-dlopen: allocates 30123 bytes from a function of its own
 * and never frees them. */
#include <stdlib.h>

void *plugin_allocate (void);

__attribute__ ((noinline)) void *
plugin_allocate (void)
{
  void *p = malloc (30123);
  __asm__ volatile ("" : : "r"(p) : "memory");
  return p;
}
