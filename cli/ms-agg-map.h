/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsAggMap: an open-addressing hash map from a non-zero 64-bit key to a
 * fixed-size value, for memscope-aggregate's hot tables (live blocks by
 * address, stack ids by file). GHashTable costs ~64 bytes and a pointer
 * chase per entry; this one costs 8 + value bytes per slot, which is what
 * keeps the aggregator within its memory budget per live allocation.
 * Linear probing with backward-shift deletion: no tombstones, so a table
 * that churns through billions of frees stays as short as its live set. */
#pragma once

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 *keys;       /* 0 = empty slot; key 0 is never stored */
  guint8 *values;
  gsize value_bytes;
  gsize mask;          /* capacity - 1; capacity is a power of two */
  guint shift;         /* 64 - log2 (capacity) */
  gsize count;
} MsAggMap;

void ms_agg_map_init (MsAggMap *self, gsize value_bytes);
void ms_agg_map_clear (MsAggMap *self);
/* Makes room for one more key (grows at 3/4 load). */
void ms_agg_map_grow (MsAggMap *self);

static inline gsize
ms_agg_map_slot_of (const MsAggMap *self, guint64 key)
{
  /* Fibonacci hashing: addresses are 16-byte aligned and stack ids small,
   * so the low bits alone would cluster; the product's top bits do not. */
  return (gsize) ((key * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> self->shift);
}

static inline void *
ms_agg_map_value_at (const MsAggMap *self, gsize slot)
{
  return self->values + slot * self->value_bytes;
}

/* The *_sized functions are the others for a VALUE_BYTES known where they
 * are called (sizeof the value type): inlined there, the slot arithmetic
 * and value copies become a few moves instead of multiplies and calls to
 * memcpy and memset. The hot tables use them. */

static inline __attribute__ ((always_inline)) void *
ms_agg_map_value_at_sized (const MsAggMap *self, gsize slot, gsize value_bytes)
{
  return self->values + slot * value_bytes;
}

/* Returns the value stored under KEY, or NULL. */
static inline __attribute__ ((always_inline)) void *
ms_agg_map_lookup_sized (const MsAggMap *self, guint64 key, gsize value_bytes)
{
  if (self->count == 0)
    return NULL;
  for (gsize i = ms_agg_map_slot_of (self, key);; i = (i + 1) & self->mask)
    {
      if (self->keys[i] == key)
        return ms_agg_map_value_at_sized (self, i, value_bytes);
      if (self->keys[i] == 0)
        return NULL;
    }
}

static inline void *
ms_agg_map_lookup (const MsAggMap *self, guint64 key)
{
  return ms_agg_map_lookup_sized (self, key, self->value_bytes);
}

/* Returns the slot for KEY, zero-filled when new; *out_existed says which. */
static inline __attribute__ ((always_inline)) void *
ms_agg_map_insert_sized (MsAggMap *self, guint64 key, gboolean *out_existed, gsize value_bytes)
{
  g_assert (key != 0);
  if (G_UNLIKELY ((self->count + 1) * 4 > (self->mask + 1) * 3))
    ms_agg_map_grow (self);
  for (gsize i = ms_agg_map_slot_of (self, key);; i = (i + 1) & self->mask)
    {
      if (self->keys[i] == key)
        {
          if (out_existed)
            *out_existed = TRUE;
          return ms_agg_map_value_at_sized (self, i, value_bytes);
        }
      if (self->keys[i] == 0)
        {
          self->keys[i] = key;
          self->count++;
          if (out_existed)
            *out_existed = FALSE;
          void *v = ms_agg_map_value_at_sized (self, i, value_bytes);
          memset (v, 0, value_bytes);
          return v;
        }
    }
}

static inline void *
ms_agg_map_insert (MsAggMap *self, guint64 key, gboolean *out_existed)
{
  return ms_agg_map_insert_sized (self, key, out_existed, self->value_bytes);
}

/* Removes KEY, copying its value to OUT_VALUE (may be NULL) first.
 * Returns FALSE when KEY was not there. */
static inline __attribute__ ((always_inline)) gboolean
ms_agg_map_remove_sized (MsAggMap *self, guint64 key, void *out_value, gsize value_bytes)
{
  gsize i, mask = self->mask;
  guint64 *keys = self->keys;

  if (self->count == 0 || key == 0)
    return FALSE;
  for (i = ms_agg_map_slot_of (self, key); keys[i] != key; i = (i + 1) & mask)
    if (keys[i] == 0)
      return FALSE;
  if (out_value)
    memcpy (out_value, ms_agg_map_value_at_sized (self, i, value_bytes), value_bytes);

  /* Backward shift: an entry later in the probe run moves into the hole
   * when its home slot is no further from it than the hole is (cyclic
   * distances), that is when the hole lies on its own probe path. */
  for (gsize j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask)
    {
      gsize home = ms_agg_map_slot_of (self, keys[j]);
      if (((j - home) & mask) < ((j - i) & mask))
        continue;
      keys[i] = keys[j];
      memcpy (ms_agg_map_value_at_sized (self, i, value_bytes), ms_agg_map_value_at_sized (self, j, value_bytes),
              value_bytes);
      i = j;
    }
  keys[i] = 0;
  self->count--;
  return TRUE;
}

gboolean ms_agg_map_remove (MsAggMap *self, guint64 key, void *out_value);

/* Iteration: for (gsize i = 0; i <= map.mask; i++) if (map.keys[i]) … */
static inline gsize
ms_agg_map_capacity (const MsAggMap *self)
{
  return self->keys ? self->mask + 1 : 0;
}

G_END_DECLS
