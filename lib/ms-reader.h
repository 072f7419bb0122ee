/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsReader: streams the records of one trace file, in constant memory,
 * and tells exactly what it could not read and where. */
#pragma once

#include <glib.h>

#include "ms-format.h"
#include "ms-macros.h"
#include "ms-record.h"

G_BEGIN_DECLS

typedef struct _MsReader MsReader;

typedef struct
{
  guint16 major;
  guint16 minor;
  MsFileKind kind;
  guint32 pid;
  guint8 pointer_bytes;
  gboolean foreign_byte_order; /* written on a machine of the other endianness */
  guint64 start_wall_ns;
  guint64 start_mono_ns;
  guint8 time_shift;           /* record times are whole multiples of 2^time_shift ns */
  guint64 file_bytes;
} MsFileInfo;

typedef struct
{
  guint64 records;          /* records returned */
  guint64 unknown_records;  /* records of kinds this library does not know, returned as such */
  guint64 chunks;           /* chunks read whole */
  guint64 damaged_chunks;   /* chunks skipped or cut short because of damage */
  guint64 missing_chunks;   /* gaps in the chunk sequence numbers */
  guint64 bytes_skipped;    /* bytes of the file that could not be read */
  guint64 unsealed_chunks;  /* chunks a writer left open (it died or is running) */
  gboolean closed;          /* a CLOSE record was read */
} MsReaderStats;

/**
 * ms_reader_open:
 * @path: a trace file
 * @error: return location for an error (MS_ERROR_IO, MS_ERROR_NOT_A_TRACE,
 *   MS_ERROR_FORMAT_TOO_NEW)
 *
 * Returns: (transfer full) (nullable): a reader positioned before the first record.
 * Since: 0.1
 */
MS_PUBLIC MsReader *ms_reader_open (const char *path, GError **error);

/**
 * ms_reader_get_info:
 *
 * Returns: (transfer none): what the file header says.
 */
MS_PUBLIC const MsFileInfo *ms_reader_get_info (MsReader *self);

/**
 * ms_reader_get_stats:
 *
 * Returns: (transfer none): counters so far; final once ms_reader_next()
 *   returned %FALSE with no error.
 */
MS_PUBLIC const MsReaderStats *ms_reader_get_stats (MsReader *self);

/**
 * ms_reader_next:
 * @self: a reader
 * @out_record: (out caller-allocates): the next record; strings in it are
 *   borrowed until the next call
 * @error: damage found in the file, with its byte offset
 *
 * Returns: %TRUE with a record; %FALSE with @error set when the file is
 *   damaged there (call again to go on after the damage); %FALSE with
 *   @error unset at the end.
 */
MS_PUBLIC gboolean ms_reader_next (MsReader *self, MsRecord *out_record, GError **error);

MS_PUBLIC void ms_reader_free (MsReader *self);

/**
 * ms_trace_compact_file:
 * @path: a finished trace file
 * @level: zstd level (1-19; 0 chooses the default)
 * @error: return location for an error
 *
 * Rewrites @path with packed, zstd-compressed chunks: first into a new file
 * beside it, then renamed over it, so an interruption leaves the original.
 * A file with damaged chunks is left as it is and an error returned.
 *
 * Returns: %TRUE on success
 */
MS_PUBLIC gboolean ms_trace_compact_file (const char *path, int level, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsReader, ms_reader_free)

G_END_DECLS
