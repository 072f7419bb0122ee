/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Which allocations to record when sampling, with what weight, and the
 * exact per-call-site frequency table that is kept whatever is sampled. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-config.h"
#include "ms-format.h"
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

/* Tiered policy constants, also in memscope-run(1). */
#define MS_TIERED_LARGE_BYTES (10u * 1024u)
#define MS_TIERED_MEDIUM_BYTES 1024u
#define MS_TIERED_HOT_SITE_COUNT 4096u
#define MS_TIERED_HOT_BOOST 4u

/* The decisions below return an allocation's weight in MS_WEIGHT_ONE
 * units (the inverse of its probability), or 0 to skip it. Inline: the
 * common answer, "skip", is a countdown decrement; the random draw for
 * the next countdown happens only when one runs out (the _hit functions). */

MS_INTERNAL uint64_t ms_sampler_tiered_hit (MsSamplerState *self, unsigned rate);
MS_INTERNAL uint64_t ms_sampler_bytes_hit (MsSamplerState *self, uint64_t size, uint64_t mean_bytes);

/* MS_SAMPLING_TIERED, for SIZE bytes from a call site that has made
 * SITE_COUNT allocations so far (this one included). */
static inline uint64_t
ms_sampler_decide_tiered (MsSamplerState *self, uint64_t size, uint64_t site_count)
{
  if (size > MS_TIERED_LARGE_BYTES)
    return MS_WEIGHT_ONE;
  unsigned rate = (size >= MS_TIERED_MEDIUM_BYTES ? 1u : 0u) + (site_count >= MS_TIERED_HOT_SITE_COUNT ? 2u : 0u);
  if (MS_LIKELY (self->until_sample[rate] > 0))
    {
      self->until_sample[rate]--;
      return 0;
    }
  return ms_sampler_tiered_hit (self, rate);
}

/* The tiered decision when it is "skip": true, and the countdown moves;
 * else false, and nothing changed (ms_sampler_decide_tiered then). */
static inline __attribute__ ((always_inline)) bool
ms_sampler_tiered_skips (MsSamplerState *self, uint64_t size, uint64_t site_count)
{
  if (size > MS_TIERED_LARGE_BYTES)
    return false;
  unsigned rate = (size >= MS_TIERED_MEDIUM_BYTES ? 1u : 0u) + (site_count >= MS_TIERED_HOT_SITE_COUNT ? 2u : 0u);
  if (self->until_sample[rate] == 0)
    return false;
  self->until_sample[rate]--;
  return true;
}

/* The same as ms_sampler_tiered_skips, for MS_SAMPLING_BYTES. */
static inline __attribute__ ((always_inline)) bool
ms_sampler_bytes_skips (MsSamplerState *self, uint64_t size)
{
  if (self->bytes_until_sample <= (int64_t) size)
    return false;
  self->bytes_until_sample -= (int64_t) size;
  return true;
}

/* MS_SAMPLING_BYTES: Poisson sampling, one sample point per MEAN_BYTES on
 * average. */
static inline uint64_t
ms_sampler_decide_bytes (MsSamplerState *self, uint64_t size, uint64_t mean_bytes)
{
  self->bytes_until_sample -= (int64_t) size;
  if (MS_LIKELY (self->bytes_until_sample > 0))
    return 0;
  return ms_sampler_bytes_hit (self, size, mean_bytes);
}

/* exp and ln without libm, which the shim must not pull in (DT_NEEDED is
 * libc and libunwind only); good to ~1e-8 relative. */
MS_INTERNAL double ms_math_exp_neg (double x);
MS_INTERNAL double ms_math_ln (double x);

/* ---- per-call-site frequency table (one per thread slot) ---- */

typedef struct
{
  uint64_t count;     /* 0: an empty entry */
  uint64_t ip;
  uint64_t bytes;     /* not next to count: two adds, not a vector op */
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
/* The rest of ms_freq_table_add: a longer probe, or a new site. */
MS_INTERNAL uint64_t ms_freq_table_add_slow (MsFreqTable *self, uint64_t ip, uint64_t size);

/* The low bits of a return address as they are (as the unwinder's rule
 * cache takes them): the sites of one function never meet, and no multiply
 * sits on the path of every allocation. */
static inline uint32_t
ms_freq_table_slot (uint64_t ip, uint32_t capacity)
{
  return (uint32_t) ip & (capacity - 1);
}

/* The entry of IP when it is found at once, without changing anything:
 * the site of the last call again (loops), or a site in its first slot
 * (a few sites taking turns); else NULL. */
static inline __attribute__ ((always_inline)) MsFreqEntry *
ms_freq_table_find_fast (MsFreqTable *self, uint64_t ip)
{
  MsFreqEntry *e = self->last;
  if (MS_LIKELY (e != NULL && e->ip == ip))
    return e;
  e = &self->table[ms_freq_table_slot (ip, self->capacity)];
  if (MS_LIKELY (e->ip == ip && e->count != 0))
    return e;
  return NULL;
}

/* Counts one allocation of SIZE at the entry E of this table; returns the
 * site's count so far (including this one). */
static inline __attribute__ ((always_inline)) uint64_t
ms_freq_table_count (MsFreqTable *self, MsFreqEntry *e, uint64_t size)
{
  self->last = e;
  e->bytes += size;
  return ++e->count;
}

/* Counts one allocation of SIZE at IP; returns the site's count so far
 * (including this one), or 0 when the table could not grow. */
static inline uint64_t
ms_freq_table_add (MsFreqTable *self, uint64_t ip, uint64_t size)
{
  MsFreqEntry *e = ms_freq_table_find_fast (self, ip);
  if (MS_LIKELY (e != NULL))
    return ms_freq_table_count (self, e, size);
  return ms_freq_table_add_slow (self, ip, size);
}

/* ---- process-wide set of recorded live addresses, lock-free ----
 * Needed only when sampling: a free is written only if its allocation was. */

MS_INTERNAL int ms_live_set_init (uint32_t capacity_log2);
MS_INTERNAL bool ms_live_set_insert (uint64_t addr);
/* Removes ADDR; returns whether it was there. */
MS_INTERNAL bool ms_live_set_remove (uint64_t addr);
MS_INTERNAL void ms_live_set_clear (void);

/* How many live addresses hash to each bucket (ms-sampler.c): a free
 * whose bucket counts 0, nearly every free of an unsampled block, is
 * answered from this 256 KiB array alone. */
#define MS_LIVE_BUCKETS_LOG2 17
MS_INTERNAL extern uint16_t *ms_live_buckets;

/* Where ADDR goes among 2^LOG2 entries (LOG2 >= 12): each 64 KiB of the
 * address space to a run of 4096 entries chosen by a hash of it, and each
 * 16-byte granule in it to its own entry of the run. The live blocks of a
 * thread lie close together in the heap: they then share a few pages and
 * cache lines of the set, rather than faulting in all of its 16 MiB and
 * missing the cache on every free. */
static inline uint64_t
ms_live_index (uint64_t addr, unsigned log2)
{
  uint64_t run = ((addr >> 16) * 0x9e3779b97f4a7c15ull) >> (64 - (log2 - 12));
  return run << 12 | ((addr >> 4) & 0xfff);
}

static inline uint16_t *
ms_live_bucket (uint64_t addr)
{
  return &ms_live_buckets[ms_live_index (addr, MS_LIVE_BUCKETS_LOG2)];
}

/* False when ADDR is surely not in the set; only after ms_live_set_init
 * succeeded. */
static inline bool
ms_live_set_may_contain (uint64_t addr)
{
  return __atomic_load_n (ms_live_bucket (addr), __ATOMIC_ACQUIRE) != 0;
}

MS_END_DECLS
