/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Which allocations to record when sampling, with what weight, and the
 * exact per-call-site frequency table that is kept whatever is sampled. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-config.h"
#include "ms-macros.h"

MS_BEGIN_DECLS

/* ---- per-thread decision state ---- */

/* Tiered rates, in "one in N": small, medium, and the two boosted ones */
#define MS_TIERED_N_RATES 4

typedef struct
{
  uint64_t rng;                 /* xorshift64* state, never 0 */
  int64_t bytes_until_sample;   /* MS_SAMPLING_BYTES: the Poisson countdown */
  /* MS_SAMPLING_TIERED: allocations left before the next sample, one
   * geometric countdown per rate, so that the common "not sampled" costs a
   * decrement and no random number */
  uint32_t until_sample[MS_TIERED_N_RATES];
} MsSamplerState;

MS_INTERNAL void ms_sampler_state_init (MsSamplerState *self, uint64_t seed, const MsConfig *config);

/* Decides whether an allocation of SIZE from a call site that has made
 * SITE_COUNT allocations so far is recorded. Returns its weight in
 * MS_WEIGHT_ONE units (the inverse of its probability), or 0 to skip it. */
MS_INTERNAL uint64_t ms_sampler_decide (MsSamplerState *self, const MsConfig *config,
                                        uint64_t size, uint64_t site_count);

/* Tiered policy constants, also in memscope-run(1). */
#define MS_TIERED_LARGE_BYTES (10u * 1024u)
#define MS_TIERED_MEDIUM_BYTES 1024u
#define MS_TIERED_HOT_SITE_COUNT 4096u
#define MS_TIERED_HOT_BOOST 4u

/* exp and ln without libm, which the shim must not pull in (DT_NEEDED is
 * libc and libunwind only); good to ~1e-8 relative. */
MS_INTERNAL double ms_math_exp_neg (double x);
MS_INTERNAL double ms_math_ln (double x);

/* ---- per-call-site frequency table (one per thread slot) ---- */

typedef struct
{
  uint64_t ip;
  uint64_t count;
  uint64_t bytes;
} MsFreqEntry;

typedef struct
{
  MsFreqEntry *table; /* mmap'd */
  uint32_t capacity;  /* power of two */
  uint32_t used;
  MsFreqEntry *last;  /* the entry hit last: loops allocate from one site */
} MsFreqTable;

MS_INTERNAL int ms_freq_table_init (MsFreqTable *self);
MS_INTERNAL void ms_freq_table_destroy (MsFreqTable *self);
MS_INTERNAL void ms_freq_table_clear (MsFreqTable *self);
/* Counts one allocation of SIZE at IP; returns the site's count so far
 * (including this one), or 0 when the table could not grow. */
MS_INTERNAL uint64_t ms_freq_table_add (MsFreqTable *self, uint64_t ip, uint64_t size);

/* ---- process-wide set of recorded live addresses, lock-free ----
 * Needed only when sampling: a free is written only if its allocation was. */

MS_INTERNAL int ms_live_set_init (uint32_t capacity_log2);
MS_INTERNAL bool ms_live_set_insert (uint64_t addr);
/* Removes ADDR; returns whether it was there. */
MS_INTERNAL bool ms_live_set_remove (uint64_t addr);
MS_INTERNAL void ms_live_set_clear (void);

MS_END_DECLS
