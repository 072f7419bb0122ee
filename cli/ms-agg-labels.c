/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-agg-labels.h"

static void
label_free (gpointer data)
{
  MsAggLabel *label = data;

  g_free (label->name);
  g_free (label->type);
  g_free (label);
}

void
ms_agg_labels_init (MsAggLabels *self)
{
  self->labels = g_ptr_array_new_with_free_func (label_free);
  self->index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
ms_agg_labels_clear (MsAggLabels *self)
{
  g_clear_pointer (&self->labels, g_ptr_array_unref);
  g_clear_pointer (&self->index, g_hash_table_unref);
}

static MsAggLabel *
label_for (MsAggLabels *self, guint process, const char *name, const char *type, guint32 thread,
           guint64 time_ns, guint32 *out_index)
{
  /* The unit separator cannot be part of a C identifier or type name. */
  char *key = g_strdup_printf ("%u\x1f%s\x1f%s", process, name, type);
  gpointer found = g_hash_table_lookup (self->index, key);
  MsAggLabel *label;

  if (found != NULL)
    {
      g_free (key);
      *out_index = GPOINTER_TO_UINT (found) - 1;
      return g_ptr_array_index (self->labels, *out_index);
    }
  label = g_new0 (MsAggLabel, 1);
  label->process = process;
  label->name = g_strdup (name);
  label->type = g_strdup (type);
  label->first_ns = time_ns;
  label->first_thread = thread;
  g_ptr_array_add (self->labels, label);
  *out_index = self->labels->len - 1;
  g_hash_table_insert (self->index, key, GUINT_TO_POINTER (self->labels->len));
  return label;
}

void
ms_agg_labels_note (MsAggLabels *self, MsAggMap *labelled, guint process, guint32 thread, guint64 addr,
                    guint64 block_size, const char *name, const char *type, guint64 time_ns)
{
  guint32 index;
  MsAggLabel *label = label_for (self, process, name, type, thread, time_ns, &index);

  if (block_size == G_MAXUINT64 || addr == 0)
    {
      label->unmatched++;
      return;
    }

  gboolean existed;
  MsAggLabelled *l = ms_agg_map_insert (labelled, addr, &existed);
  if (existed)
    {
      /* relabelled: the block counts for its latest label only */
      MsAggLabel *before = g_ptr_array_index (self->labels, l->label);
      before->blocks--;
      before->bytes -= l->size;
    }
  l->size = block_size;
  l->label = index;
  label->blocks++;
  label->bytes += block_size;
}

void
ms_agg_labels_finish (MsAggLabels *self, MsAggMap *labelled)
{
  for (gsize i = 0; i < ms_agg_map_capacity (labelled); i++)
    if (labelled->keys[i] != 0)
      {
        const MsAggLabelled *l = ms_agg_map_value_at (labelled, i);
        MsAggLabel *label = g_ptr_array_index (self->labels, l->label);
        label->leaked_blocks++;
        label->leaked_bytes += l->size;
      }
  ms_agg_map_clear (labelled);
}
