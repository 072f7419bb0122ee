/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Event timestamps: CLOCK_MONOTONIC nanoseconds, read cheaply.
 *
 * clock_gettime costs ~45 ns here (a quarter of an exact-mode event).
 * Where the kernel itself trusts the TSC (clocksource "tsc": invariant and
 * synchronised across CPUs), the tracker reads the TSC (~15 ns) and turns
 * it into CLOCK_MONOTONIC nanoseconds with one linear function that every
 * thread shares, calibrated against clock_gettime over the first 20 ms.
 * One function for all threads keeps cross-thread order exactly as the TSC
 * has it; the drift from CLOCK_MONOTONIC is the calibration's error,
 * ~1e-6 (1 ms an hour). Until calibrated, and where the TSC is not the
 * clocksource, it is clock_gettime. */
#pragma once

#include <stdint.h>
#include <time.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

typedef struct
{
  int mode;            /* MS_CLOCK_MODE_* */
  uint64_t tsc_anchor; /* the TSC and the ns it stands for */
  uint64_t ns_anchor;
  uint64_t mult;       /* ns per tick, 32.32 fixed point */
} MsClockTsc;

enum
{
  MS_CLOCK_MODE_SYSCALL = 0,    /* clock_gettime only */
  MS_CLOCK_MODE_CALIBRATING = 1,
  MS_CLOCK_MODE_SWITCHING = 2,  /* one thread is publishing the function */
  MS_CLOCK_MODE_TSC = 3,
};

MS_INTERNAL extern MsClockTsc ms_clock_tsc;

/* Decides whether the TSC may be used and starts calibrating. */
MS_INTERNAL void ms_clock_init (void);

MS_INTERNAL uint64_t ms_clock_slow_ns (void);

#if defined(__x86_64__)
# include <x86intrin.h>
#endif

/* ORDERED: the reading may not move before earlier loads (an allocation's
 * time must come after the block was obtained). A free's time, taken
 * before the block is released, needs no fence: RDTSC executes before it
 * retires, and the releasing stores retire after it. */
static inline uint64_t
ms_clock_now_ns (int ordered)
{
#if defined(__x86_64__)
  if (MS_LIKELY (__atomic_load_n (&ms_clock_tsc.mode, __ATOMIC_ACQUIRE) == MS_CLOCK_MODE_TSC))
    {
      if (ordered)
        _mm_lfence ();
      uint64_t ticks = __rdtsc () - ms_clock_tsc.tsc_anchor;
      return ms_clock_tsc.ns_anchor + (uint64_t) (((unsigned __int128) ticks * ms_clock_tsc.mult) >> 32);
    }
#endif
  (void) ordered;
  return ms_clock_slow_ns ();
}

MS_END_DECLS
