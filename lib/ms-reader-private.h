/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Chunk-level access to a reader, for compaction and tests; not installed. */
#pragma once

#include "ms-reader.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 offset;               /* of the chunk header */
  MsChunkHeader header;         /* in native byte order */
  guint64 payload_file_offset;  /* G_MAXUINT64 for a compressed chunk */
  const guint8 *payload;        /* decompressed; valid until the next load */
  gsize payload_bytes;
  gboolean sealed;              /* sealed, checksum verified, not cut off */
} MsChunk;

/* Loads the next chunk. FALSE with ERROR on damage (reading may go on),
 * FALSE without at the end. */
MS_INTERNAL gboolean ms_reader_load_chunk (MsReader *self, GError **error);
MS_INTERNAL const MsChunk *ms_reader_get_chunk (MsReader *self);
MS_INTERNAL const char *ms_reader_get_path (MsReader *self);

G_END_DECLS
