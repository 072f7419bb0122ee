/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-agg-map.h"

#include <sys/mman.h>

#define INITIAL_BITS 4
/* Tables this big are mapped: their pages cost nothing until used, and
 * growing releases the old table's pages as they are emptied, so that the
 * peak is not old + new (the live table is most of the aggregator's
 * memory, and the doubling its worst moment). */
#define MAP_THRESHOLD (1024 * 1024)

static void *
table_alloc (gsize bytes)
{
  if (bytes < MAP_THRESHOLD)
    return g_malloc0 (bytes);
  void *p = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    g_error ("out of memory: %" G_GSIZE_FORMAT " bytes for a hash table", bytes);
  return p;
}

static void
table_free (void *p, gsize bytes)
{
  if (p == NULL)
    return;
  if (bytes < MAP_THRESHOLD)
    g_free (p);
  else
    munmap (p, bytes);
}

/* Gives back the whole pages of [P, P + BYTES) of a mapped table. */
static void
table_release (void *p, gsize table_bytes, gsize offset, gsize bytes)
{
  gsize page = 4096;
  guintptr start = ((guintptr) p + offset + page - 1) & ~(guintptr) (page - 1);
  guintptr end = ((guintptr) p + offset + bytes) & ~(guintptr) (page - 1);

  if (table_bytes >= MAP_THRESHOLD && end > start)
    madvise ((void *) start, end - start, MADV_DONTNEED);
}

/* memcpy of a variable size is a call; the tables' values are 4, 8, 12
 * or 16 bytes, and the live table's moves are on the hot path. */
static inline void
copy_value (void *dst, const void *src, gsize bytes)
{
  switch (bytes)
    {
    case 4: memcpy (dst, src, 4); break;
    case 8: memcpy (dst, src, 8); break;
    case 12: memcpy (dst, src, 12); break;
    case 16: memcpy (dst, src, 16); break;
    default: memcpy (dst, src, bytes); break;
    }
}

static void
alloc_table (MsAggMap *self, guint bits)
{
  gsize capacity = (gsize) 1 << bits;

  self->keys = table_alloc (capacity * sizeof (guint64));
  self->values = table_alloc (capacity * self->value_bytes);
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
  gsize capacity = ms_agg_map_capacity (self);

  table_free (self->keys, capacity * sizeof (guint64));
  table_free (self->values, capacity * self->value_bytes);
  self->keys = NULL;
  self->values = NULL;
  self->count = 0;
  self->mask = 0;
}

void
ms_agg_map_grow (MsAggMap *self)
{
  guint64 *old_keys = self->keys;
  guint8 *old_values = self->values;
  gsize old_capacity = self->mask + 1;

  const gsize block = 8192;

  alloc_table (self, 64 - self->shift + 1);
  for (gsize i = 0; i < old_capacity; i++)
    {
      if (old_keys[i] != 0)
        {
          gsize j = ms_agg_map_slot_of (self, old_keys[i]);
          while (self->keys[j] != 0)
            j = (j + 1) & self->mask;
          self->keys[j] = old_keys[i];
          copy_value (ms_agg_map_value_at (self, j), old_values + i * self->value_bytes, self->value_bytes);
          self->count++;
        }
      if ((i + 1) % block == 0)
        {
          gsize from = i + 1 - block;
          table_release (old_keys, old_capacity * sizeof (guint64), from * sizeof (guint64), block * sizeof (guint64));
          table_release (old_values, old_capacity * self->value_bytes, from * self->value_bytes,
                         block * self->value_bytes);
        }
    }
  table_free (old_keys, old_capacity * sizeof (guint64));
  table_free (old_values, old_capacity * self->value_bytes);
}

gboolean
ms_agg_map_remove (MsAggMap *self, guint64 key, void *out_value)
{
  return ms_agg_map_remove_sized (self, key, out_value, self->value_bytes);
}
