/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Stack capture for the tracker: the return addresses of the calling
 * thread, innermost first.
 *
 * x86-64 has a fast path of its own: it reads each function's DWARF call
 * frame information (.eh_frame) once, keeps the resulting rule in a table
 * shared by all threads, and then walks frames with two loads each.
 * libunwind's unw_backtrace does the same walk, but keeps a 256 KiB table
 * per thread (2^14 entries, all written at creation), which alone would
 * cost a 500-thread server 128 MiB. Frames the fast path cannot follow
 * (signal frames, unusual CFA rules) fall back to libunwind's unw_step. */
#pragma once

#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

/* Fills IPS with up to MAX return addresses, starting with the caller of
 * ms_unwind; returns how many. Allocation-free after the first call per
 * new code address; safe inside malloc. */
MS_INTERNAL int ms_unwind (uint64_t *ips, int max);

/* Like ms_unwind, but starting with the caller of the function whose frame
 * record (saved frame pointer, then return address) is at FRAME, as
 * __builtin_frame_address (0) gives it in that function: the frames in
 * between (the tracker's, below the preload's wrappers) are never walked.
 * Where MS_UNWIND_FROM_IS_EXACT is 0 the frames in between come first. */
MS_INTERNAL int ms_unwind_from (const void *frame, uint64_t *ips, int max);

#if defined(__x86_64__)
# define MS_UNWIND_FROM_IS_EXACT 1
#else
# define MS_UNWIND_FROM_IS_EXACT 0
#endif

/* Counters for tests and benchmarks. */
typedef struct
{
  uint64_t rules;     /* distinct return addresses whose rule is cached */
  uint64_t fallbacks; /* stacks handed to libunwind */
} MsUnwindStats;

MS_INTERNAL void ms_unwind_get_stats (MsUnwindStats *out);

MS_END_DECLS
