/* SPDX-License-Identifier: LGPL-2.1-or-later
 * libmemscope-preload.so: interposes the allocator and hands each event to
 * the tracker. Thin on purpose: resolve, call, record. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "ms-preload-bootstrap.h"
#include "ms-tracker-private.h"

#define EXPORT __attribute__ ((visibility ("default")))
/* The wrapper's frame record: the tracker unwinds from the wrapper's
 * caller on, without walking its own frames, and takes the wrapper's
 * return address as the call site. Asking for it gives the wrapper a frame
 * pointer (three instructions). */
#define FRAME (__builtin_frame_address (0))
/* An allocation for the tracker, unless sampling leaves it out: that
 * common case is decided inline, with no call. */
static inline __attribute__ ((always_inline)) void
track_alloc (void *ptr, size_t size, const void *frame)
{
  if (!ms_tracker_alloc_skipped (size, ((const uintptr_t *) frame)[1]))
    ms_tracker_on_alloc (ptr, size, frame, MS_RECORD_ALLOC);
}

EXPORT void *
malloc (size_t size)
{
  if (MS_UNLIKELY (ms_real.malloc == NULL) && !ms_preload_resolve ())
    return ms_bootstrap_alloc (size, 16, false);

  void *ptr = ms_real.malloc (size);
  if (MS_LIKELY (ptr != NULL))
    track_alloc (ptr, size, FRAME);
  return ptr;
}

EXPORT void
free (void *ptr)
{
  if (ptr == NULL || MS_UNLIKELY (ms_bootstrap_owns (ptr)))
    return;
  if (MS_UNLIKELY (ms_real.free == NULL) && !ms_preload_resolve ())
    return; /* cannot happen for a block the real allocator made */

  /* Recorded first: once the block is back in the allocator, another
   * thread may be handed the address, and its allocation must come after
   * this free in the merged timeline. */
  if (!ms_tracker_free_unrecorded (ptr))
    ms_tracker_on_free (ptr);
  ms_real.free (ptr);
}

EXPORT void *
calloc (size_t nmemb, size_t size)
{
  size_t total;

  if (__builtin_mul_overflow (nmemb, size, &total))
    {
      errno = ENOMEM;
      return NULL;
    }
  /* dlsym may call calloc while the real one is being looked up */
  if (MS_UNLIKELY (ms_real.calloc == NULL) && !ms_preload_resolve ())
    return ms_bootstrap_alloc (total, 16, true);

  void *ptr = ms_real.calloc (nmemb, size);
  if (MS_LIKELY (ptr != NULL))
    track_alloc (ptr, total, FRAME);
  return ptr;
}

/* Inlined: FRAME must stay the caller's own, which a tail call to this
 * would have popped. */
static inline __attribute__ ((always_inline)) void *
realloc_at (void *old_ptr, size_t size, const void *frame)
{
  if (MS_UNLIKELY (ms_bootstrap_owns (old_ptr)))
    {
      /* out of the bootstrap arena, into the real allocator */
      size_t old_size = ms_bootstrap_size (old_ptr);
      if (size == 0)
        return NULL;
      void *ptr = malloc (size);
      if (ptr != NULL)
        memcpy (ptr, old_ptr, old_size < size ? old_size : size);
      return ptr;
    }
  if (MS_UNLIKELY (ms_real.realloc == NULL) && !ms_preload_resolve ())
    return old_ptr == NULL ? ms_bootstrap_alloc (size, 16, false) : NULL;

  if (old_ptr != NULL && size == 0)
    {
      /* glibc frees here and returns NULL: a free, recorded before it */
      ms_tracker_on_free (old_ptr);
      void *ptr = ms_real.realloc (old_ptr, 0);
      if (ptr != NULL)
        ms_tracker_on_alloc (ptr, 0, frame, MS_RECORD_ALLOC);
      return ptr;
    }

  bool old_recorded = ms_tracker_on_realloc_begin (old_ptr);
  void *ptr = ms_real.realloc (old_ptr, size);
  ms_tracker_on_realloc_end (old_ptr, old_recorded, ptr, size, frame);
  return ptr;
}

EXPORT void *
realloc (void *old_ptr, size_t size)
{
  return realloc_at (old_ptr, size, FRAME);
}

EXPORT void *
reallocarray (void *old_ptr, size_t nmemb, size_t size)
{
  size_t total;

  if (__builtin_mul_overflow (nmemb, size, &total))
    {
      errno = ENOMEM;
      return NULL;
    }
  return realloc_at (old_ptr, total, FRAME);
}

EXPORT int
posix_memalign (void **memptr, size_t alignment, size_t size)
{
  if (MS_UNLIKELY (ms_real.posix_memalign == NULL) && !ms_preload_resolve ())
    {
      void *ptr = ms_bootstrap_alloc (size, alignment, false);
      if (ptr == NULL)
        return ENOMEM;
      *memptr = ptr;
      return 0;
    }

  int ret = ms_real.posix_memalign (memptr, alignment, size);
  if (ret == 0) /* *memptr is unspecified on failure */
    track_alloc (*memptr, size, FRAME);
  return ret;
}

/* The four other aligned allocators share one shape: the real call, then
 * the record when it succeeded. */
#define ALIGNED_WRAPPER(name, params, args, align_expr)                        \
  EXPORT void *name params                                                     \
  {                                                                            \
    if (MS_UNLIKELY (ms_real.name == NULL) && !ms_preload_resolve ())          \
      return ms_bootstrap_alloc (size, align_expr, false);                     \
    void *ptr = ms_real.name args;                                             \
    if (MS_LIKELY (ptr != NULL))                                               \
      track_alloc (ptr, size, FRAME);                                          \
    return ptr;                                                                \
  }

ALIGNED_WRAPPER (aligned_alloc, (size_t alignment, size_t size), (alignment, size), alignment)
ALIGNED_WRAPPER (memalign, (size_t alignment, size_t size), (alignment, size), alignment)
ALIGNED_WRAPPER (valloc, (size_t size), (size), 4096)
ALIGNED_WRAPPER (pvalloc, (size_t size), (size), 4096)

EXPORT size_t
malloc_usable_size (void *ptr)
{
  if (MS_UNLIKELY (ms_bootstrap_owns (ptr)))
    return ms_bootstrap_size (ptr);
  if (MS_UNLIKELY (ms_real.malloc_usable_size == NULL) && !ms_preload_resolve ())
    return 0;
  return ms_real.malloc_usable_size (ptr);
}

/* ---- anonymous mappings (MEMSCOPE_MMAP=1) ---- */

/* Inlined, as realloc_at is. */
static inline __attribute__ ((always_inline)) void *
track_mapping (void *ptr, size_t length, int flags, const void *frame)
{
  if (ptr != MAP_FAILED && (flags & MAP_ANONYMOUS) && ms_tracker_tracks_mmap ())
    ms_tracker_on_alloc (ptr, length, frame, MS_RECORD_MMAP);
  return ptr;
}

EXPORT void *
mmap (void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
  return track_mapping (ms_preload_real_mmap (addr, length, prot, flags, fd, offset), length, flags, FRAME);
}

EXPORT void *
mmap64 (void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
  return track_mapping (ms_preload_real_mmap (addr, length, prot, flags, fd, offset), length, flags, FRAME);
}

EXPORT int
munmap (void *addr, size_t length)
{
  if (ms_tracker_tracks_mmap ())
    ms_tracker_on_munmap (addr, length);
  return ms_preload_real_munmap (addr, length);
}

EXPORT void *
mremap (void *old_address, size_t old_size, size_t new_size, int flags, ...)
{
  void *new_address = NULL;

  if (flags & MREMAP_FIXED)
    {
      va_list ap;
      va_start (ap, flags);
      new_address = va_arg (ap, void *);
      va_end (ap);
    }
  void *ptr = ms_preload_real_mremap (old_address, old_size, new_size, flags, new_address);
  if (ptr != MAP_FAILED && ms_tracker_tracks_mmap ())
    {
      ms_tracker_on_munmap (old_address, old_size);
      ms_tracker_on_alloc (ptr, new_size, FRAME, MS_RECORD_MMAP);
    }
  return ptr;
}

/* ---- the loader and thread names ---- */

EXPORT int
dlclose (void *handle)
{
  if (MS_UNLIKELY (ms_real.dlclose == NULL) && !ms_preload_resolve ())
    return -1;
  int ret = ms_real.dlclose (handle);
  ms_tracker_on_modules_changed ();
  return ret;
}

EXPORT int
pthread_setname_np (pthread_t thread, const char *name)
{
  if (MS_UNLIKELY (ms_real.pthread_setname_np == NULL) && !ms_preload_resolve ())
    return ENOSYS;
  int ret = ms_real.pthread_setname_np (thread, name);
  if (ret == 0)
    ms_tracker_on_thread_renamed ();
  return ret;
}

EXPORT int
prctl (int option, ...)
{
  va_list ap;
  unsigned long arg2, arg3, arg4, arg5;

  /* prctl takes up to four more word-sized arguments; glibc's own wrapper
   * reads them the same way whatever the option */
  va_start (ap, option);
  arg2 = va_arg (ap, unsigned long);
  arg3 = va_arg (ap, unsigned long);
  arg4 = va_arg (ap, unsigned long);
  arg5 = va_arg (ap, unsigned long);
  va_end (ap);

  if (MS_UNLIKELY (ms_real.prctl == NULL) && !ms_preload_resolve ())
    {
      errno = ENOSYS;
      return -1;
    }
  int ret = ms_real.prctl (option, arg2, arg3, arg4, arg5);
  if (ret == 0 && option == PR_SET_NAME)
    ms_tracker_on_thread_renamed ();
  return ret;
}
