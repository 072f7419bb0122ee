/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-preload-bootstrap.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ms-sys.h"
#include "ms-tracker-private.h"

MsRealFunctions ms_real;

/* ---- bootstrap arena ---- */

/* glibc 2.36's dlsym allocates nothing, but dlerror paths, other preloads
 * and older C libraries do: 64 KiB is far more than they need. Blocks are
 * never reused; free() ignores them. */
#define ARENA_BYTES MS_BOOTSTRAP_ARENA_BYTES
#define HEADER_BYTES 16

unsigned char ms_bootstrap_arena[ARENA_BYTES] __attribute__ ((aligned (4096)));
static size_t arena_used;

void *
ms_bootstrap_alloc (size_t size, size_t alignment, bool zero)
{
  if (alignment < 16 || (alignment & (alignment - 1)) != 0)
    alignment = 16;
  if (alignment > 4096 || size > ARENA_BYTES)
    goto full;

  /* claim [start, start + HEADER + pad + size) with a CAS: two threads
   * may race here before the real allocator is known */
  size_t start = __atomic_load_n (&arena_used, __ATOMIC_RELAXED);
  size_t user, end;
  do
    {
      user = (start + HEADER_BYTES + alignment - 1) & ~(alignment - 1);
      end = user + ((size + 15) & ~(size_t) 15);
      if (end > ARENA_BYTES)
        goto full;
    }
  while (!__atomic_compare_exchange_n (&arena_used, &start, end, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));

  memcpy (ms_bootstrap_arena + user - sizeof (size_t), &size, sizeof size);
  (void) zero; /* the arena is .bss and never reused: already zero */
  return ms_bootstrap_arena + user;

full:;
  static const char msg[] = "memscope: bootstrap arena exhausted before the real allocator was found\n";
  (void) ms_sys_write (2, msg, sizeof msg - 1);
  abort ();
}

size_t
ms_bootstrap_size (const void *ptr)
{
  size_t size;
  memcpy (&size, (const uint8_t *) ptr - sizeof (size_t), sizeof size);
  return size;
}

/* ---- resolution ---- */

static void *
required (const char *name)
{
  void *f = dlsym (RTLD_NEXT, name);
  if (f == NULL)
    {
      /* the one case where the shim cannot let the program run: there is
       * no allocator to forward to */
      static const char prefix[] = "memscope: cannot find the real ";
      (void) ms_sys_write (2, prefix, sizeof prefix - 1);
      (void) ms_sys_write (2, name, strlen (name));
      (void) ms_sys_write (2, "\n", 1);
      abort ();
    }
  return f;
}

bool
ms_preload_resolve (void)
{
  static int resolving; /* dlsym calling back into us */
  static int started;

  if (__atomic_load_n (&ms_real.malloc, __ATOMIC_ACQUIRE) != NULL)
    return true;
  if (__atomic_exchange_n (&resolving, 1, __ATOMIC_ACQ_REL))
    return false;

  MsRealFunctions r;
  r.free = required ("free");
  r.calloc = required ("calloc");
  r.realloc = required ("realloc");
  r.posix_memalign = required ("posix_memalign");
  r.aligned_alloc = required ("aligned_alloc");
  r.memalign = required ("memalign");
  r.valloc = required ("valloc");
  r.pvalloc = required ("pvalloc");
  r.malloc_usable_size = required ("malloc_usable_size");
  r.mmap = dlsym (RTLD_NEXT, "mmap");
  r.munmap = dlsym (RTLD_NEXT, "munmap");
  r.mremap = dlsym (RTLD_NEXT, "mremap");
  r.dlclose = required ("dlclose");
  r.pthread_setname_np = required ("pthread_setname_np");
  r.prctl = required ("prctl");
  r.malloc = required ("malloc");
  /* every pointer before malloc: malloc != NULL is the "resolved" flag */
  memcpy ((char *) &ms_real + sizeof r.malloc, (char *) &r + sizeof r.malloc, sizeof r - sizeof r.malloc);
  __atomic_store_n (&ms_real.malloc, r.malloc, __ATOMIC_RELEASE);

  /* Started from the first allocation rather than waiting for our
   * constructor: libraries initialised before us (libstdc++'s emergency
   * pool) allocate too, and those allocations belong in the trace. */
  if (!__atomic_exchange_n (&started, 1, __ATOMIC_ACQ_REL))
    ms_tracker_start_from_env ();
  return true;
}

__attribute__ ((constructor)) static void
preload_init (void)
{
  ms_preload_resolve ();
}

__attribute__ ((destructor)) static void
preload_fini (void)
{
  ms_tracker_process_exit ();
}

/* ---- mmap before and after resolution ---- */

void *
ms_preload_real_mmap (void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
  if (ms_real.mmap != NULL)
    return ms_real.mmap (addr, length, prot, flags, fd, offset);
  void *p = ms_sys_mmap (addr, length, prot, flags, fd, (long) offset);
  if (ms_sys_is_error ((long) p))
    {
      errno = (int) -(long) p;
      return MAP_FAILED;
    }
  return p;
}

int
ms_preload_real_munmap (void *addr, size_t length)
{
  if (ms_real.munmap != NULL)
    return ms_real.munmap (addr, length);
  int r = ms_sys_munmap (addr, length);
  if (r < 0)
    {
      errno = -r;
      return -1;
    }
  return 0;
}

void *
ms_preload_real_mremap (void *old_address, size_t old_size, size_t new_size, int flags, void *new_address)
{
  if (ms_real.mremap != NULL)
    return ms_real.mremap (old_address, old_size, new_size, flags, new_address);
  long r = ms_syscall6 (SYS_mremap, (long) old_address, (long) old_size, (long) new_size, flags,
                        (long) new_address, 0);
  if (ms_sys_is_error (r))
    {
      errno = (int) -r;
      return MAP_FAILED;
    }
  return (void *) r;
}
