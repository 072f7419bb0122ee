/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Compaction: the writer in the target stores raw chunks (cheap, crash-safe);
 * once the program has ended, each file is rewritten with packed chunks,
 * zstd-compressed where that is smaller. */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ms-crc32c.h"
#include "ms-error.h"
#include "ms-reader-private.h"

#define DEFAULT_LEVEL 6

typedef struct
{
  int fd;
  const char *path;
  guint64 offset;
} Output;

static gboolean
write_all (Output *out, const void *data, gsize len, GError **error)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write (out->fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Writing “%s”: %s"), out->path, g_strerror (errsv));
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
      out->offset += (guint64) n;
    }
  return TRUE;
}

/* Compacted chunks are bigger than a writer's windows: zstd finds more to
 * share in 4 MiB than in 64 KiB. Records are decoded and encoded again
 * with one codec state per packed chunk. */
#define PACKED_RAW_BYTES (4u * 1024u * 1024u)

typedef struct
{
  Output *out;
  unsigned time_shift;
  guint32 seq;
  ZSTD_CCtx *cctx;
  int level;
  GByteArray *scratch;
  GByteArray *raw;       /* the packed chunk being filled */
  MsCodecState state;
  guint64 base_time_ns;
} Packer;

static gboolean
write_chunk (Packer *pk, const guint8 *payload, gsize raw, guint64 base_time_ns, GError **error)
{
  Output *out = pk->out;
  const guint8 *stored = payload;
  gsize stored_bytes = raw;
  guint32 flags = MS_CHUNK_SEALED;

  g_byte_array_set_size (pk->scratch, (guint) ZSTD_compressBound (raw));
  gsize z = ZSTD_compressCCtx (pk->cctx, pk->scratch->data, pk->scratch->len, payload, raw, pk->level);
  if (!ZSTD_isError (z) && z < raw)
    {
      stored = pk->scratch->data;
      stored_bytes = z;
      flags |= MS_CHUNK_ZSTD;
    }

  if (sizeof (MsChunkHeader) + stored_bytes + 7 > MS_MAX_CHUNK_SPAN)
    {
      /* only hostile input gets here (a writer's chunk is a window):
       * never rename a file no reader would read over one it can */
      g_set_error (error, MS_ERROR, MS_ERROR_FAILED,
                   _("Not compacting “%s”: a chunk would exceed the format's limit"), out->path);
      return FALSE;
    }

  MsChunkHeader h = {
    .magic = MS_CHUNK_MAGIC,
    .seq = pk->seq++,
    .span_bytes = (guint32) ((sizeof h + stored_bytes + 7) & ~(gsize) 7),
    .stored_bytes = (guint32) stored_bytes,
    .raw_bytes = (guint32) raw,
    .base_time_ns = base_time_ns,
  };
  h.crc = ms_crc32c (ms_crc32c (0, (const guint8 *) &h + 8, 24), stored, stored_bytes);
  h.flags = flags;

  static const guint8 zeros[8];
  return write_all (out, &h, sizeof h, error) && write_all (out, stored, stored_bytes, error)
         && write_all (out, zeros, h.span_bytes - sizeof h - stored_bytes, error);
}

static gboolean
flush (Packer *pk, GError **error)
{
  if (pk->raw->len == 0)
    return TRUE;
  gboolean ok = write_chunk (pk, pk->raw->data, pk->raw->len, pk->base_time_ns, error);
  g_byte_array_set_size (pk->raw, 0);
  return ok;
}

/* The bytes of CHUNK's payload that hold whole records (all of a sealed
 * chunk, those before the first empty tag of one a writer left open), and
 * whether each record is of a kind this library can encode again. */
static gsize
valid_payload_bytes (const MsChunk *chunk, unsigned time_shift, gboolean *out_all_known)
{
  const guint8 *pos = chunk->payload;
  const guint8 *end = pos + chunk->payload_bytes;
  MsCodecState state;
  MsRecord record;

  *out_all_known = TRUE;
  ms_codec_state_init (&state, chunk->header.base_time_ns);
  state.time_shift = time_shift;
  while (ms_record_decode (&pos, end, &state, &record) == MS_DECODE_OK)
    if (record.kind > MS_RECORD_LAST_KNOWN)
      *out_all_known = FALSE;
  return chunk->sealed ? chunk->payload_bytes : (gsize) (pos - chunk->payload);
}

static gboolean
pack (Packer *pk, const MsChunk *chunk, GError **error)
{
  gboolean all_known;
  gsize valid = valid_payload_bytes (chunk, pk->time_shift, &all_known);

  if (!all_known)
    {
      /* a later minor version's kinds cannot be encoded again: that
       * chunk keeps its own bytes */
      return flush (pk, error) && write_chunk (pk, chunk->payload, valid, chunk->header.base_time_ns, error);
    }

  /* Its times must come out the same from the packed chunk: they are
   * whole units from its base, so it joins only a packed chunk that its
   * base follows by whole units (a writer's chunks always do; a damaged
   * file's need not), else it starts the next one. */
  guint64 base = chunk->header.base_time_ns;
  guint64 unit_mask = ((guint64) 1 << pk->time_shift) - 1;
  if (pk->raw->len > 0 && (base < pk->state.prev_time_ns || ((base - pk->base_time_ns) & unit_mask) != 0)
      && !flush (pk, error))
    return FALSE;

  const guint8 *pos = chunk->payload;
  const guint8 *end = pos + valid;
  MsCodecState in;
  MsRecord record;

  ms_codec_state_init (&in, base);
  in.time_shift = pk->time_shift;
  while (ms_record_decode (&pos, end, &in, &record) == MS_DECODE_OK)
    {
      if (pk->raw->len == 0)
        {
          pk->base_time_ns = chunk->header.base_time_ns;
          ms_codec_state_init (&pk->state, pk->base_time_ns);
          pk->state.time_shift = pk->time_shift;
        }
      guint at = pk->raw->len;
      g_byte_array_set_size (pk->raw, at + (guint) ms_record_max_bytes (&record));
      gsize body = ms_record_encode_body (pk->raw->data + at + 1, &pk->state, &record);
      pk->raw->data[at] = (guint8) record.kind;
      g_byte_array_set_size (pk->raw, at + 1 + (guint) body);
      if (pk->raw->len >= PACKED_RAW_BYTES && !flush (pk, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_header (Output *out, const MsFileInfo *info, GError **error)
{
  MsFileHeader h = { 0 };

  memcpy (h.magic, MS_FILE_MAGIC, MS_FILE_MAGIC_BYTES);
  h.major = info->major;
  h.minor = info->minor;
  h.byte_order = G_BYTE_ORDER == G_LITTLE_ENDIAN ? MS_BYTE_ORDER_LITTLE : MS_BYTE_ORDER_BIG;
  h.pointer_bytes = info->pointer_bytes;
  h.header_bytes = sizeof h;
  h.file_kind = info->kind;
  h.pid = info->pid;
  h.start_wall_ns = info->start_wall_ns;
  h.start_mono_ns = info->start_mono_ns;
  h.time_shift = info->time_shift;
  h.header_crc = ms_crc32c (0, &h, offsetof (MsFileHeader, header_crc));
  return write_all (out, &h, sizeof h, error);
}

gboolean
ms_trace_compact_file (const char *path, int level, GError **error)
{
  g_autoptr (MsReader) reader = ms_reader_open (path, error);
  g_autofree char *tmp_path = NULL;
  g_autoptr (GByteArray) scratch = g_byte_array_new ();
  Output out;
  gboolean ok = TRUE;

  if (reader == NULL)
    return FALSE;
  if (ms_reader_get_info (reader)->minor > MS_FORMAT_MINOR)
    {
      /* its header may carry fields this version would drop */
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW,
                   _("Not compacting “%s”: it uses trace format %u.%u, newer than this memscope's %u.%u"),
                   path, ms_reader_get_info (reader)->major, ms_reader_get_info (reader)->minor,
                   MS_FORMAT_MAJOR, MS_FORMAT_MINOR);
      return FALSE;
    }
  if (level <= 0)
    level = DEFAULT_LEVEL;

  tmp_path = g_strdup_printf ("%s.compact-XXXXXX", path);
  out = (Output) { g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0600), tmp_path, 0 };
  if (out.fd < 0)
    {
      int errsv = errno;
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Creating “%s”: %s"), tmp_path, g_strerror (errsv));
      return FALSE;
    }

  g_autoptr (GByteArray) raw = g_byte_array_new ();
  Packer pk = {
    .out = &out,
    .time_shift = ms_reader_get_info (reader)->time_shift,
    .cctx = ZSTD_createCCtx (),
    .level = level,
    .scratch = scratch,
    .raw = raw,
  };
  ok = write_header (&out, ms_reader_get_info (reader), error);
  while (ok)
    {
      GError *local_error = NULL;
      if (!ms_reader_load_chunk (reader, &local_error))
        {
          if (local_error != NULL)
            {
              g_propagate_prefixed_error (error, local_error, _("Not compacting, the file is damaged: "));
              ok = FALSE;
            }
          break;
        }
      const MsChunk *chunk = ms_reader_get_chunk (reader);
      if ((chunk->header.flags & MS_CHUNK_SEALED) && !chunk->sealed)
        {
          /* a sealed chunk the file ends inside: cut short after the
           * writer finished, so the original keeps the evidence */
          g_set_error (error, MS_ERROR, MS_ERROR_TRUNCATED,
                       _("Not compacting “%s”: it ends inside the chunk at byte %" PRIu64), path,
                       chunk->offset);
          ok = FALSE;
          break;
        }
      ok = pack (&pk, chunk, error);
    }
  if (ok)
    ok = flush (&pk, error);
  ZSTD_freeCCtx (pk.cctx);

  if (ok && fsync (out.fd) < 0)
    {
      int errsv = errno;
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Writing “%s”: %s"), tmp_path, g_strerror (errsv));
      ok = FALSE;
    }
  close (out.fd);
  if (ok && g_rename (tmp_path, path) < 0)
    {
      int errsv = errno;
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Renaming “%s”: %s"), tmp_path, g_strerror (errsv));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp_path);
  return ok;
}
