/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-agg-map.h"

#define INITIAL_BITS 4

static void
alloc_table (MsAggMap *self, guint bits)
{
  gsize capacity = (gsize) 1 << bits;

  self->keys = g_new0 (guint64, capacity);
  self->values = g_malloc0 (capacity * self->value_bytes);
  self->mask = capacity - 1;
  self->shift = 64 - bits;
  self->count = 0;
}

void
ms_agg_map_init (MsAggMap *self, gsize value_bytes)
{
  memset (self, 0, sizeof *self);
  self->value_bytes = value_bytes;
  alloc_table (self, INITIAL_BITS);
}

void
ms_agg_map_clear (MsAggMap *self)
{
  g_clear_pointer (&self->keys, g_free);
  g_clear_pointer (&self->values, g_free);
  self->count = 0;
  self->mask = 0;
}

void
ms_agg_map_grow (MsAggMap *self)
{
  guint64 *old_keys = self->keys;
  guint8 *old_values = self->values;
  gsize old_capacity = self->mask + 1;

  alloc_table (self, 64 - self->shift + 1);
  for (gsize i = 0; i < old_capacity; i++)
    {
      if (old_keys[i] == 0)
        continue;
      gsize j = ms_agg_map_slot_of (self, old_keys[i]);
      while (self->keys[j] != 0)
        j = (j + 1) & self->mask;
      self->keys[j] = old_keys[i];
      memcpy (ms_agg_map_value_at (self, j), old_values + i * self->value_bytes, self->value_bytes);
      self->count++;
    }
  g_free (old_keys);
  g_free (old_values);
}

gboolean
ms_agg_map_remove (MsAggMap *self, guint64 key, void *out_value)
{
  gsize i;

  if (self->count == 0 || key == 0)
    return FALSE;
  for (i = ms_agg_map_slot_of (self, key); self->keys[i] != key; i = (i + 1) & self->mask)
    if (self->keys[i] == 0)
      return FALSE;
  if (out_value)
    memcpy (out_value, ms_agg_map_value_at (self, i), self->value_bytes);

  /* Backward-shift: pull every later entry of the probe run whose home
   * slot does not lie cyclically in (i, j] into the hole. */
  for (gsize j = (i + 1) & self->mask; self->keys[j] != 0; j = (j + 1) & self->mask)
    {
      gsize home = ms_agg_map_slot_of (self, self->keys[j]);
      gboolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays)
        continue;
      self->keys[i] = self->keys[j];
      memcpy (ms_agg_map_value_at (self, i), ms_agg_map_value_at (self, j), self->value_bytes);
      i = j;
    }
  self->keys[i] = 0;
  self->count--;
  return TRUE;
}
