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
  double t = (v.d - 1) / (v.d + 1);                  /* [0, 1/3) */
  double t2 = t * t, sum = 0, power = t;
  for (int i = 1; i <= 21; i += 2)
    {
      sum += power / i;
      power *= t2;
    }
  return e * LN2 + 2 * sum;
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

void
ms_sampler_state_init (MsSamplerState *self, uint64_t seed, const MsConfig *config)
{
  self->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
  (void) next_random (self);
  self->bytes_until_sample = config->sampling == MS_SAMPLING_BYTES ? poisson_gap (self, config->sample_bytes) : 0;
}

static uint64_t
weight_of (double p)
{
  double w = MS_WEIGHT_ONE / p;
  return w > 1.8e19 ? UINT64_MAX : (uint64_t) (w + 0.5);
}

uint64_t
ms_sampler_decide (MsSamplerState *self, const MsConfig *config, uint64_t size, uint64_t site_count)
{
  if (size < config->min_size)
    return 0;

  switch (config->sampling)
    {
    case MS_SAMPLING_EXACT:
      return MS_WEIGHT_ONE;

    case MS_SAMPLING_TIERED:
      {
        uint32_t one_in;
        if (size > MS_TIERED_LARGE_BYTES)
          return MS_WEIGHT_ONE;
        one_in = size >= MS_TIERED_MEDIUM_BYTES ? 10 : 100;
        if (site_count >= MS_TIERED_HOT_SITE_COUNT)
          one_in = one_in > MS_TIERED_HOT_BOOST ? one_in / MS_TIERED_HOT_BOOST : 1;
        if (one_in == 1)
          return MS_WEIGHT_ONE;
        /* an exact integer ratio keeps weights exact: 1 in 25 weighs 25 */
        if (next_random (self) % one_in != 0)
          return 0;
        return (uint64_t) one_in * MS_WEIGHT_ONE;
      }

    case MS_SAMPLING_BYTES:
      self->bytes_until_sample -= (int64_t) size;
      if (self->bytes_until_sample > 0)
        return 0;
      self->bytes_until_sample = poisson_gap (self, config->sample_bytes);
      /* P(at least one sample point in SIZE bytes) = 1 - exp(-size/mean) */
      return weight_of (1.0 - ms_math_exp_neg ((double) size / (double) config->sample_bytes));
    }
  return MS_WEIGHT_ONE;
}

/* ---- frequency table ---- */

#define FREQ_INITIAL_CAPACITY 512u

static inline uint32_t
freq_slot (uint64_t ip, uint32_t capacity)
{
  return (uint32_t) ((ip * 0x9e3779b97f4a7c15ull) >> 32) & (capacity - 1);
}

int
ms_freq_table_init (MsFreqTable *self)
{
  self->table = anon_map (FREQ_INITIAL_CAPACITY * sizeof (MsFreqEntry));
  self->capacity = self->table ? FREQ_INITIAL_CAPACITY : 0;
  self->used = 0;
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
      uint32_t s = freq_slot (e->ip, capacity);
      while (table[s].count != 0)
        s = (s + 1) & (capacity - 1);
      table[s] = *e;
    }
  ms_sys_munmap (self->table, self->capacity * sizeof (MsFreqEntry));
  self->table = table;
  self->capacity = capacity;
  return 0;
}

uint64_t
ms_freq_table_add (MsFreqTable *self, uint64_t ip, uint64_t size)
{
  uint32_t s = freq_slot (ip, self->capacity);

  for (;;)
    {
      MsFreqEntry *e = &self->table[s];
      if (e->count == 0)
        break;
      if (e->ip == ip)
        {
          e->bytes += size;
          return ++e->count;
        }
      s = (s + 1) & (self->capacity - 1);
    }
  if ((self->used + 1) * 2 > self->capacity)
    {
      if (freq_grow (self) < 0)
        return 0;
      return ms_freq_table_add (self, ip, size);
    }
  self->table[s] = (MsFreqEntry) { .ip = ip, .count = 1, .bytes = size };
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

int
ms_live_set_init (uint32_t capacity_log2)
{
  size_t bytes = (size_t) 8 << capacity_log2;

  if (live_table)
    return 0;
  live_table = anon_map (bytes);
  if (live_table == NULL)
    return -ENOMEM;
  live_mask = ((uint64_t) 1 << capacity_log2) - 1;
  return 0;
}

void
ms_live_set_clear (void)
{
  if (live_table)
    memset (live_table, 0, (live_mask + 1) * 8);
}

static inline uint64_t
live_slot (uint64_t addr)
{
  return ((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 20;
}

bool
ms_live_set_insert (uint64_t addr)
{
  if (live_table == NULL || addr <= LIVE_TOMBSTONE)
    return false;
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
  return false;
}

bool
ms_live_set_remove (uint64_t addr)
{
  if (live_table == NULL || addr <= LIVE_TOMBSTONE)
    return false;
  uint64_t s = live_slot (addr);
  for (uint32_t i = 0; i < LIVE_MAX_PROBES; i++, s++)
    {
      uint64_t *w = &live_table[s & live_mask];
      uint64_t v = __atomic_load_n (w, __ATOMIC_ACQUIRE);
      if (v == LIVE_EMPTY)
        return false;
      if (v == addr)
        return __atomic_compare_exchange_n (w, &v, LIVE_TOMBSTONE, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
  return false;
}
