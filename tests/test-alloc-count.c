/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "test-alloc-count.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

static volatile bool counting;
static unsigned long n_calls;

void
ms_test_alloc_count_start (void)
{
  __atomic_store_n (&n_calls, 0, __ATOMIC_RELAXED);
  counting = true;
}

unsigned long
ms_test_alloc_count_get (void)
{
  return __atomic_load_n (&n_calls, __ATOMIC_RELAXED);
}

unsigned long
ms_test_alloc_count_stop (void)
{
  counting = false;
  return ms_test_alloc_count_get ();
}

#if MS_TEST_CAN_COUNT_ALLOCS
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void __libc_free (void *ptr);
extern void *__libc_memalign (size_t alignment, size_t size);

static inline void
count (void)
{
  if (counting)
    __atomic_add_fetch (&n_calls, 1, __ATOMIC_RELAXED);
}

void *
malloc (size_t size)
{
  count ();
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  count ();
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  count ();
  return __libc_realloc (ptr, size);
}

void
free (void *ptr)
{
  count ();
  __libc_free (ptr);
}

void *
memalign (size_t alignment, size_t size)
{
  count ();
  return __libc_memalign (alignment, size);
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  count ();
  return __libc_memalign (alignment, size);
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
  count ();
  if (alignment % sizeof (void *) != 0 || (alignment & (alignment - 1)) != 0)
    return EINVAL;
  void *p = __libc_memalign (alignment, size);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}
#endif
