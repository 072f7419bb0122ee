/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-sampler.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "ms-format.h"
#include "ms-sys.h"

static void *
anon_map (size_t bytes)
{
  void *p = ms_sys_mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return ms_sys_is_error ((long) p) ? NULL : p;
}

/* ---- math ---- */

#define LN2 0.69314718055994530942

double
ms_math_exp_neg (double x)
{
  if (x <= 0)
    return 1.0;
  if (x > 700)
    return 0.0;
  int k = (int) (x / LN2);
  double r = x - k * LN2; /* [0, ln 2) */
  double term = 1.0, sum = 1.0;
  for (int i = 1; i <= 14; i++)
    {
      term *= -r / i;
      sum += term;
    }
  /* times 2^-k, built from the exponent bits */
  union { double d; uint64_t u; } scale = { .u = (uint64_t) (1023 - k) << 52 };
  return sum * scale.d;
}

double
ms_math_ln (double x)
{
  union { double d; uint64_t u; } v = { .d = x };

  if (!(x > 0))
    return -1e308;
  int e = (int) ((v.u >> 52) & 0x7ff) - 1023;
  v.u = (v.u & ((1ull << 52) - 1)) | (1023ull << 52); /* mantissa in [1, 2) */
  if (v.d > 1.41421356237309504880)
    {
      v.d *= 0.5; /* into [sqrt 1/2, sqrt 2): the series below converges fast */
      e++;
    }
  /* ln m = 2 atanh t = 2 (t + t^3/3 + t^5/5 + ...), |t| < 0.172: to t^15
   * the error is below 1e-13, in Horner form with no division but one */
  double t = (v.d - 1) / (v.d + 1);
  double t2 = t * t;
  double sum = 1.0 / 15;
  sum = sum * t2 + 1.0 / 13;
  sum = sum * t2 + 1.0 / 11;
  sum = sum * t2 + 1.0 / 9;
  sum = sum * t2 + 1.0 / 7;
  sum = sum * t2 + 1.0 / 5;
  sum = sum * t2 + 1.0 / 3;
  sum = sum * t2 + 1.0;
  return e * LN2 + 2 * t * sum;
}

/* ---- decisions ---- */

static inline uint64_t
next_random (MsSamplerState *self)
{
  uint64_t x = self->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  self->rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

/* uniform in (0, 1] */
static inline double
uniform (MsSamplerState *self)
{
  return ((next_random (self) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

static int64_t
poisson_gap (MsSamplerState *self, uint64_t mean_bytes)
{
  double gap = -ms_math_ln (uniform (self)) * (double) mean_bytes;
  return gap > 9e18 ? INT64_MAX : (int64_t) gap + 1;
}

static const uint32_t tiered_one_in[MS_TIERED_N_RATES] = {
  100, 10, 100 / MS_TIERED_HOT_BOOST, 10 / MS_TIERED_HOT_BOOST > 1 ? 10 / MS_TIERED_HOT_BOOST : 1,
};

/* 1 / ln (1 - 1/one_in) of each rate, for the geometric draws: filled by
 * ms_sampler_state_init, with the same values every time */
static double tiered_inv_ln_q[MS_TIERED_N_RATES];

/* Allocations to skip before the next sample at rate 1/ONE_IN, so that
 * each allocation is kept independently with that probability: the gap
 * is geometric, P(gap = k) = (1-p)^k p. */
static uint32_t
geometric_gap (MsSamplerState *self, unsigned rate)
{
  if (tiered_one_in[rate] <= 1)
    return 0;
  double inv_ln_q;
  __atomic_load (&tiered_inv_ln_q[rate], &inv_ln_q, __ATOMIC_RELAXED);
  double gap = ms_math_ln (uniform (self)) * inv_ln_q;
  return gap > 4e9 ? UINT32_MAX : (uint32_t) gap;
}

void
ms_sampler_state_init (MsSamplerState *self, uint64_t seed, const MsConfig *config)
{
  for (unsigned i = 0; i < MS_TIERED_N_RATES; i++)
    if (tiered_one_in[i] > 1)
      {
        double v = 1.0 / ms_math_ln (1.0 - 1.0 / tiered_one_in[i]);
        __atomic_store (&tiered_inv_ln_q[i], &v, __ATOMIC_RELAXED);
      }
  self->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
  (void) next_random (self);
  self->bytes_until_sample = config->sampling == MS_SAMPLING_BYTES ? poisson_gap (self, config->sample_bytes) : 0;
  for (unsigned i = 0; i < MS_TIERED_N_RATES; i++)
    self->until_sample[i] = geometric_gap (self, i);
}

static uint64_t
weight_of (double p)
{
  double w = MS_WEIGHT_ONE / p;
  return w > 1.8e19 ? UINT64_MAX : (uint64_t) (w + 0.5);
}

uint64_t
ms_sampler_tiered_hit (MsSamplerState *self, unsigned rate)
{
  self->until_sample[rate] = geometric_gap (self, rate);
  /* an exact integer ratio keeps weights exact: 1 in 25 weighs 25 */
  return (uint64_t) tiered_one_in[rate] * MS_WEIGHT_ONE;
}

uint64_t
ms_sampler_bytes_hit (MsSamplerState *self, uint64_t size, uint64_t mean_bytes)
{
  self->bytes_until_sample = poisson_gap (self, mean_bytes);
  /* P(at least one sample point in SIZE bytes) = 1 - exp(-size/mean) */
  return weight_of (1.0 - ms_math_exp_neg ((double) size / (double) mean_bytes));
}

/* ---- frequency table ---- */

#define FREQ_INITIAL_CAPACITY 512u

int
ms_freq_table_init (MsFreqTable *self)
{
  self->table = anon_map (FREQ_INITIAL_CAPACITY * sizeof (MsFreqEntry));
  self->capacity = self->table ? FREQ_INITIAL_CAPACITY : 0;
  self->used = 0;
  self->last = NULL;
  return self->table ? 0 : -ENOMEM;
}

void
ms_freq_table_destroy (MsFreqTable *self)
{
  if (self->table)
    ms_sys_munmap (self->table, self->capacity * sizeof (MsFreqEntry));
  memset (self, 0, sizeof *self);
}

void
ms_freq_table_clear (MsFreqTable *self)
{
  if (self->used)
    memset (self->table, 0, self->capacity * sizeof (MsFreqEntry));
  self->used = 0;
  self->last = NULL;
}

static int
freq_grow (MsFreqTable *self)
{
  uint32_t capacity = self->capacity * 2;
  MsFreqEntry *table = anon_map ((size_t) capacity * sizeof (MsFreqEntry));

  if (table == NULL)
    return -ENOMEM;
  for (uint32_t i = 0; i < self->capacity; i++)
    {
      MsFreqEntry *e = &self->table[i];
      if (e->count == 0)
        continue;
      uint32_t s = ms_freq_table_slot (e->ip, capacity);
      while (table[s].count != 0)
        s = (s + 1) & (capacity - 1);
      table[s] = *e;
    }
  /* The old array stays mapped: at process exit another thread reads the
   * table of a thread still running (ms-tracker.c), and must never touch
   * unmapped memory. Doubling keeps the waste below the table's size. */
  __atomic_store_n (&self->table, table, __ATOMIC_RELEASE);
  __atomic_store_n (&self->capacity, capacity, __ATOMIC_RELEASE);
  self->last = NULL;
  return 0;
}

uint64_t
ms_freq_table_add_slow (MsFreqTable *self, uint64_t ip, uint64_t size)
{
  uint32_t s = ms_freq_table_slot (ip, self->capacity);
  for (;;)
    {
      MsFreqEntry *e = &self->table[s];
      if (e->count == 0)
        break;
      if (e->ip == ip)
        {
          self->last = e;
          e->bytes += size;
          return ++e->count;
        }
      s = (s + 1) & (self->capacity - 1);
    }
  if ((self->used + 1) * 2 > self->capacity)
    {
      if (freq_grow (self) < 0)
        return 0;
      return ms_freq_table_add_slow (self, ip, size);
    }
  self->table[s] = (MsFreqEntry) { .ip = ip, .count = 1, .bytes = size };
  self->last = &self->table[s];
  self->used++;
  return 1;
}

/* ---- live set ---- */

/* Open addressing over 64-bit words: 0 empty, 1 tombstone, else an
 * address. Inserts claim an empty or tombstone word with a CAS; the same
 * address is never live twice, so no two inserts race for one value. */
#define LIVE_EMPTY 0ull
#define LIVE_TOMBSTONE 1ull
#define LIVE_MAX_PROBES 64u

static uint64_t *live_table;
static uint64_t live_mask;
static unsigned live_log2;

/* A counter is raised before its address goes in and lowered after it
 * comes out, so that a present address never finds its bucket at 0. */
uint16_t *ms_live_buckets;

int
ms_live_set_init (uint32_t capacity_log2)
{
  size_t bytes = (size_t) 8 << capacity_log2;

  if (live_table)
    return 0;
  live_table = anon_map (bytes);
  ms_live_buckets = anon_map (sizeof (uint16_t) << MS_LIVE_BUCKETS_LOG2);
  if (live_table == NULL || ms_live_buckets == NULL)
    {
      live_table = NULL;
      return -ENOMEM;
    }
  live_mask = ((uint64_t) 1 << capacity_log2) - 1;
  live_log2 = capacity_log2;
  return 0;
}

void
ms_live_set_clear (void)
{
  if (live_table)
    {
      memset (live_table, 0, (live_mask + 1) * 8);
      memset (ms_live_buckets, 0, sizeof (uint16_t) << MS_LIVE_BUCKETS_LOG2);
    }
}

static inline uint64_t
live_slot (uint64_t addr)
{
  return ms_live_index (addr, live_log2);
}

bool
ms_live_set_insert (uint64_t addr)
{
  if (live_table == NULL || addr <= LIVE_TOMBSTONE)
    return false;
  uint16_t *bucket = ms_live_bucket (addr);
  __atomic_add_fetch (bucket, 1, __ATOMIC_ACQ_REL);
  uint64_t s = live_slot (addr);
  for (uint32_t i = 0; i < LIVE_MAX_PROBES; i++, s++)
    {
      uint64_t *w = &live_table[s & live_mask];
      uint64_t v = __atomic_load_n (w, __ATOMIC_RELAXED);
      if (v > LIVE_TOMBSTONE)
        continue;
      if (__atomic_compare_exchange_n (w, &v, addr, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return true;
    }
  __atomic_sub_fetch (bucket, 1, __ATOMIC_ACQ_REL);
  return false;
}

bool
ms_live_set_remove (uint64_t addr)
{
  if (live_table == NULL || addr <= LIVE_TOMBSTONE)
    return false;
  uint16_t *bucket = ms_live_bucket (addr);
  if (__atomic_load_n (bucket, __ATOMIC_ACQUIRE) == 0)
    return false;
  uint64_t s = live_slot (addr);
  for (uint32_t i = 0; i < LIVE_MAX_PROBES; i++, s++)
    {
      uint64_t *w = &live_table[s & live_mask];
      uint64_t v = __atomic_load_n (w, __ATOMIC_ACQUIRE);
      if (v == LIVE_EMPTY)
        return false;
      if (v == addr)
        {
          if (!__atomic_compare_exchange_n (w, &v, LIVE_TOMBSTONE, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return false;
          __atomic_sub_fetch (bucket, 1, __ATOMIC_ACQ_REL);
          return true;
        }
    }
  return false;
}
