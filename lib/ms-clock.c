/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-clock.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>

#include "ms-sys.h"

#define CALIBRATION_NS 20000000ull

MsClockTsc ms_clock_tsc;
static uint64_t calibration_tsc, calibration_ns;

static uint64_t
monotonic_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* The kernel has checked the TSC (invariant, synchronised, stable) when it
 * chose it as the clocksource; a VM that migrates would have it switch. */
static int
kernel_uses_tsc (void)
{
  char buf[32];
  int fd = ms_sys_open ("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  long n = ms_syscall6 (SYS_read, fd, (long) buf, sizeof buf - 1, 0, 0, 0);
  ms_sys_close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  return strcmp (buf, "tsc\n") == 0;
}

void
ms_clock_init (void)
{
#if defined(__x86_64__)
  if (__atomic_load_n (&ms_clock_tsc.mode, __ATOMIC_ACQUIRE) != MS_CLOCK_MODE_SYSCALL || !kernel_uses_tsc ())
    return;
  calibration_ns = monotonic_ns ();
  calibration_tsc = __rdtsc ();
  __atomic_store_n (&ms_clock_tsc.mode, MS_CLOCK_MODE_CALIBRATING, __ATOMIC_RELEASE);
#endif
}

uint64_t
ms_clock_slow_ns (void)
{
  uint64_t ns = monotonic_ns ();
#if defined(__x86_64__)
  if (__atomic_load_n (&ms_clock_tsc.mode, __ATOMIC_RELAXED) != MS_CLOCK_MODE_CALIBRATING
      || ns - calibration_ns < CALIBRATION_NS)
    return ns;

  int expected = MS_CLOCK_MODE_CALIBRATING;
  if (!__atomic_compare_exchange_n (&ms_clock_tsc.mode, &expected, MS_CLOCK_MODE_SWITCHING, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return ns;
  uint64_t tsc = __rdtsc ();
  uint64_t ticks = tsc - calibration_tsc;
  if (ticks == 0 || tsc < calibration_tsc)
    {
      __atomic_store_n (&ms_clock_tsc.mode, MS_CLOCK_MODE_SYSCALL, __ATOMIC_RELEASE);
      return ns;
    }
  ms_clock_tsc.mult = (uint64_t) (((unsigned __int128) (ns - calibration_ns) << 32) / ticks);
  /* anchored here, so the function meets clock_gettime where it takes over */
  ms_clock_tsc.tsc_anchor = tsc;
  ms_clock_tsc.ns_anchor = ns;
  __atomic_store_n (&ms_clock_tsc.mode, MS_CLOCK_MODE_TSC, __ATOMIC_RELEASE);
#endif
  return ns;
}
