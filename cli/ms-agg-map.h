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

/* Returns the value stored under KEY, or NULL. */
static inline void *
ms_agg_map_lookup (const MsAggMap *self, guint64 key)
{
  if (self->count == 0)
    return NULL;
  for (gsize i = ms_agg_map_slot_of (self, key);; i = (i + 1) & self->mask)
    {
      if (self->keys[i] == key)
        return ms_agg_map_value_at (self, i);
      if (self->keys[i] == 0)
        return NULL;
    }
}

/* Returns the slot for KEY, zero-filled when new; *out_existed says which. */
static inline void *
ms_agg_map_insert (MsAggMap *self, guint64 key, gboolean *out_existed)
{
  g_assert (key != 0);
  if ((self->count + 1) * 4 > (self->mask + 1) * 3)
    ms_agg_map_grow (self);
  for (gsize i = ms_agg_map_slot_of (self, key);; i = (i + 1) & self->mask)
    {
      if (self->keys[i] == key)
        {
          if (out_existed)
            *out_existed = TRUE;
          return ms_agg_map_value_at (self, i);
        }
      if (self->keys[i] == 0)
        {
          self->keys[i] = key;
          self->count++;
          if (out_existed)
            *out_existed = FALSE;
          void *v = ms_agg_map_value_at (self, i);
          memset (v, 0, self->value_bytes);
          return v;
        }
    }
}

/* Removes KEY, copying its value to OUT_VALUE (may be NULL) first.
 * Returns FALSE when KEY was not there. */
gboolean ms_agg_map_remove (MsAggMap *self, guint64 key, void *out_value);

/* Iteration: for (gsize i = 0; i <= map.mask; i++) if (map.keys[i]) … */
static inline gsize
ms_agg_map_capacity (const MsAggMap *self)
{
  return self->keys ? self->mask + 1 : 0;
}

G_END_DECLS
