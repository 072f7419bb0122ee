/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The real allocator behind the shim, and a small static arena for the
 * calls made before it is known (dlsym itself may call calloc). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ms-macros.h"

typedef struct
{
  void *(*malloc) (size_t);
  void (*free) (void *);
  void *(*calloc) (size_t, size_t);
  void *(*realloc) (void *, size_t);
  int (*posix_memalign) (void **, size_t, size_t);
  void *(*aligned_alloc) (size_t, size_t);
  void *(*memalign) (size_t, size_t);
  void *(*valloc) (size_t);
  void *(*pvalloc) (size_t);
  size_t (*malloc_usable_size) (void *);
  void *(*mmap) (void *, size_t, int, int, int, off_t);
  int (*munmap) (void *, size_t);
  void *(*mremap) (void *, size_t, size_t, int, ...);
  int (*dlclose) (void *);
  int (*pthread_setname_np) (pthread_t, const char *);
  int (*prctl) (int, ...);
} MsRealFunctions;

MS_INTERNAL extern MsRealFunctions ms_real;

/* Looks the real functions up (once) and starts the tracker. Returns false
 * while that is not possible yet (called from inside dlsym). */
MS_INTERNAL bool ms_preload_resolve (void);

#define MS_BOOTSTRAP_ARENA_BYTES (64 * 1024)
MS_INTERNAL extern unsigned char ms_bootstrap_arena[MS_BOOTSTRAP_ARENA_BYTES];

MS_INTERNAL void *ms_bootstrap_alloc (size_t size, size_t alignment, bool zero);
MS_INTERNAL size_t ms_bootstrap_size (const void *ptr);

/* Inline: every free asks. */
static inline bool
ms_bootstrap_owns (const void *ptr)
{
  return (const unsigned char *) ptr >= ms_bootstrap_arena
         && (const unsigned char *) ptr < ms_bootstrap_arena + MS_BOOTSTRAP_ARENA_BYTES;
}

/* mmap and friends before and after resolution (raw system calls first). */
MS_INTERNAL void *ms_preload_real_mmap (void *addr, size_t length, int prot, int flags, int fd, off_t offset);
MS_INTERNAL int ms_preload_real_munmap (void *addr, size_t length);
MS_INTERNAL void *ms_preload_real_mremap (void *old_address, size_t old_size, size_t new_size, int flags,
                                          void *new_address);
