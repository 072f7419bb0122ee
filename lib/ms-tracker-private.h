/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The tracker's entry points for the preload shim; not installed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-format.h"
#include "ms-sampler.h"
#include "ms-tracker.h"

MS_BEGIN_DECLS

/* ---- the event path's state, shared with the shim's inline fast paths ---- */

typedef enum
{
  MS_THREAD_UNKNOWN = 0, /* no event seen yet: attach on the next one */
  MS_THREAD_TRACKED,
  MS_THREAD_IGNORED,     /* name does not match MEMSCOPE_THREADS, or told to */
  MS_THREAD_DONE,        /* finished (thread exit, stop): never again */
} MsThreadMode;

typedef struct MsTrackerSlot MsTrackerSlot;

/* One thread's state. What the event path reads first comes first: one
 * cache line holds the gate, the epoch, the frequency table and the
 * sampler's countdowns. */
typedef struct
{
  union
  {
    struct
    {
      uint8_t busy;       /* inside the tracker: nested allocations pass through */
      uint8_t mode;       /* MsThreadMode */
    };
    uint16_t gate;        /* both, tested at once: MS_THREAD_GATE_OPEN lets an event in */
  };
  uint8_t exit_rounds;
  uint8_t ignored_by_request;
  uint32_t epoch;         /* the global epoch last acted on */
  MsFreqTable *freq;      /* the slot's, while tracked */
  MsTrackerSlot *slot;
  MsSamplerState sampler;
  uint32_t tid;
  char name[16];
} MsTrackerThread;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define MS_THREAD_GATE_OPEN ((uint16_t) (MS_THREAD_TRACKED << 8))
#else
# define MS_THREAD_GATE_OPEN ((uint16_t) MS_THREAD_TRACKED)
#endif

/* initial-exec: the shim is loaded at start-up, so the TLS block is static
 * and no access ever calls into the loader (which could call malloc). */
MS_INTERNAL extern __thread MsTrackerThread ms_tracker_tls __attribute__ ((tls_model ("initial-exec")));

/* How allocations are chosen, from the configuration. */
typedef enum
{
  MS_POLICY_ALL = 0, /* exact: every allocation of at least min_size */
  MS_POLICY_TIERED,
  MS_POLICY_BYTES,
} MsTrackerPolicy;

/* Which inline test may skip an allocation (ms_tracker_alloc_skipped). */
typedef enum
{
  MS_SKIP_NEVER = 0, /* exact, no min_size: every allocation is recorded */
  MS_SKIP_TIERED,    /* tiered, no min_size (sites are always counted) */
  MS_SKIP_ANY,       /* any other mix of policy, min_size and counting */
} MsTrackerSkip;

/* What the event path needs of the configuration, worked out once at
 * start so that each event costs a few compares: one cache line, written
 * only at start and when the epoch moves. */
typedef struct
{
  /* Bumped when every thread must look again at shared state: stop,
   * a thread renamed. Threads compare it with their own copy per event. */
  uint32_t epoch;
  uint8_t policy;       /* MsTrackerPolicy */
  uint8_t count_sites;  /* the frequency table is kept (or tiered needs it) */
  /* Some allocations are left out (sampling, min_size), so frees are
   * looked up in the live set: set once that exists. */
  uint8_t sampling;
  uint8_t skip;         /* MsTrackerSkip, set with sampling */
  uint32_t depth;       /* frames kept */
  uint64_t min_size;
  uint64_t sample_bytes;
  uintptr_t own_start, own_end; /* our own code, trimmed from stacks */
} MsTrackerHot;

MS_INTERNAL extern MsTrackerHot ms_tracker_hot;

/* The common case of an allocation when sampling, decided with nothing to
 * call, inline in the shim's wrappers: its site found at once in the
 * frequency table, and too small for min_size or skipped by the sampler's
 * countdown. Then it is counted, and true; else nothing changed and the
 * tracker must have the event (ms_tracker_on_alloc). */
static inline __attribute__ ((always_inline)) bool
ms_tracker_alloc_skipped (uint64_t size, uintptr_t call_site)
{
  const MsTrackerHot *hot = &ms_tracker_hot;
  MsTrackerThread *t = &ms_tracker_tls;
  bool skipped = false;

  if (t->gate != MS_THREAD_GATE_OPEN || t->epoch != __atomic_load_n (&hot->epoch, __ATOMIC_RELAXED)
      || hot->skip == MS_SKIP_NEVER)
    return false;
  t->busy = 1;
  MsFreqEntry *e = NULL;
  if (MS_LIKELY (hot->skip == MS_SKIP_TIERED))
    {
      if ((e = ms_freq_table_find_fast (t->freq, call_site)) != NULL
          && (skipped = ms_sampler_tiered_skips (&t->sampler, size, e->count + 1)))
        ms_freq_table_count (t->freq, e, size);
    }
  else if (!hot->count_sites || (e = ms_freq_table_find_fast (t->freq, call_site)) != NULL)
    {
      if (size < hot->min_size)
        skipped = true;
      else if (hot->policy == MS_POLICY_TIERED)
        skipped = ms_sampler_tiered_skips (&t->sampler, size, e != NULL ? e->count + 1 : 0);
      else if (hot->policy == MS_POLICY_BYTES)
        skipped = ms_sampler_bytes_skips (&t->sampler, size);
      if (skipped && e != NULL)
        ms_freq_table_count (t->freq, e, size);
    }
  t->busy = 0;
  return skipped;
}

/* When sampling, the free of a block that was not recorded (nearly all)
 * is not written: true when the live set's bucket counts say so, with
 * nothing of this thread's to look at. Else ms_tracker_on_free. */
static inline bool
ms_tracker_free_unrecorded (void *ptr)
{
  return __atomic_load_n (&ms_tracker_hot.sampling, __ATOMIC_ACQUIRE)
         && !ms_live_set_may_contain ((uint64_t) (uintptr_t) ptr);
}

/* Reads MEMSCOPE_* and starts tracing. Called once from the shim's
 * constructor, after the real allocator is resolved. */
MS_INTERNAL void ms_tracker_start_from_env (void);

/* Finishes everything at process exit (the shim's destructor). */
MS_INTERNAL void ms_tracker_process_exit (void);

/* FRAME is the frame record of the interposed function, as
 * __builtin_frame_address (0) gives it there: the stack is unwound from
 * its caller on, and its return address is the call site that the
 * frequency table counts. KIND: MS_RECORD_ALLOC or MS_RECORD_MMAP. */
MS_INTERNAL void ms_tracker_on_alloc (void *ptr, size_t size, const void *frame, MsRecordKind kind);
/* Both do the whole work whatever the case: the inline fast paths above
 * (ms_tracker_alloc_skipped, ms_tracker_free_unrecorded) only answer the
 * common case before them. */
MS_INTERNAL void ms_tracker_on_free (void *ptr);
MS_INTERNAL void ms_tracker_on_munmap (void *ptr, size_t size);
/* realloc: before calls ms_tracker_on_realloc_begin (the old block may go
 * away inside libc); after, _end with the result (NULL on failure). */
MS_INTERNAL bool ms_tracker_on_realloc_begin (void *old_ptr);
MS_INTERNAL void ms_tracker_on_realloc_end (void *old_ptr, bool old_was_recorded, void *new_ptr,
                                            size_t size, const void *frame);
/* dlclose returned: look for unloaded objects (and any new ones). */
MS_INTERNAL void ms_tracker_on_modules_changed (void);
/* Some thread's name changed (pthread_setname_np, prctl). */
MS_INTERNAL void ms_tracker_on_thread_renamed (void);
/* Whether MEMSCOPE_MMAP asked for mmap tracking. */
MS_INTERNAL bool ms_tracker_tracks_mmap (void);

MS_END_DECLS
