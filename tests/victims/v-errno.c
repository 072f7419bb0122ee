/* SPDX-License-Identifier: LGPL-2.1-or-later
 * errno across every allocator entry point: prints errno after each call
 * made with errno set to a marker. Run bare and under the shim, the two
 * outputs must be the same: tracking never changes what errno says. */
#include <errno.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "victim.h"

#define CHECK(name, call)                \
  do                                     \
    {                                    \
      errno = 4242;                      \
      call;                              \
      victim_touch (p); /* keeps the call */ \
      victim_touch (q);                  \
      printf ("%s %d\n", name, errno);   \
    }                                    \
  while (0)

int
main (void)
{
  void *p = NULL, *q = NULL;

  for (int round = 0; round < 3; round++) /* the first round sets things up */
    {
      CHECK ("malloc", p = malloc (30001));
      CHECK ("realloc", p = realloc (p, 30002));
      CHECK ("free", free (p));
      CHECK ("calloc", p = calloc (2, 15001));
      CHECK ("reallocarray", p = reallocarray (p, 3, 10001));
      CHECK ("free", free (p));
      CHECK ("posix_memalign", (void) posix_memalign (&q, 64, 30003));
      CHECK ("free", free (q));
      CHECK ("aligned_alloc", p = aligned_alloc (64, 30016));
      CHECK ("malloc_usable_size", (void) malloc_usable_size (p));
      CHECK ("free", free (p));
      CHECK ("memalign", p = memalign (64, 30004));
      CHECK ("free", free (p));
      CHECK ("valloc", p = valloc (30005));
      CHECK ("free", free (p));
      CHECK ("mmap", p = mmap (NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      CHECK ("munmap", munmap (p, 65536));
      CHECK ("prctl", prctl (PR_SET_NAME, "errno-test", 0, 0, 0));
      /* failures set errno, and must set the same one */
      CHECK ("malloc-huge", p = malloc ((size_t) -1 / 2));
      CHECK ("calloc-overflow", p = calloc ((size_t) -1 / 2, 4));
    }
  return 0;
}
