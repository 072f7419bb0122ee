/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The names a program gave its blocks (LABEL records, from ms_track_var):
 * per process, name and type, how many blocks were labelled, and what
 * became of them — freed, or still live at the end (leaked). */
#pragma once

#include <glib.h>

#include "ms-agg-map.h"

G_BEGIN_DECLS

typedef struct
{
  guint process;            /* index into the trace's processes */
  char *name;
  char *type;
  guint64 blocks;           /* labelled while live */
  guint64 bytes;            /* their sizes when labelled */
  guint64 freed_blocks;
  guint64 freed_bytes;
  guint64 leaked_blocks;    /* still live at the end of the trace */
  guint64 leaked_bytes;
  guint64 unmatched;        /* labels of an address that was no live block */
  guint64 first_ns;         /* the first label's time */
  guint32 first_thread;     /* the aggregator's index of the thread that labelled first */
} MsAggLabel;

typedef struct
{
  GPtrArray *labels;        /* MsAggLabel*, in order of first appearance */
  GHashTable *index;        /* "process\x1fname\x1ftype" → label index + 1 */
} MsAggLabels;

/* A process's labelled live blocks: address → MsAggLabelled. */
typedef struct
{
  guint64 size;
  guint32 label;            /* index into MsAggLabels.labels */
} MsAggLabelled;

void ms_agg_labels_init (MsAggLabels *self);
void ms_agg_labels_clear (MsAggLabels *self);

/* The program labelled ADDR. BLOCK_SIZE is the live block's size there,
 * or G_MAXUINT64 when no block was live at ADDR. A block labelled again
 * takes the later label. */
void ms_agg_labels_note (MsAggLabels *self, MsAggMap *labelled, guint process, guint32 thread, guint64 addr,
                         guint64 block_size, const char *name, const char *type, guint64 time_ns);

/* The live block at ADDR ended (freed, or moved by realloc). */
static inline void
ms_agg_labels_release (MsAggLabels *self, MsAggMap *labelled, guint64 addr)
{
  MsAggLabelled l;

  if (G_LIKELY (labelled->count == 0) || !ms_agg_map_remove (labelled, addr, &l))
    return;
  MsAggLabel *label = g_ptr_array_index (self->labels, l.label);
  label->freed_blocks++;
  label->freed_bytes += l.size;
}

/* The end of the trace: what is still labelled and live has leaked. */
void ms_agg_labels_finish (MsAggLabels *self, MsAggMap *labelled);

G_END_DECLS
