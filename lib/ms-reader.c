/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-reader-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "ms-crc32c.h"
#include "ms-error.h"
#include "ms-record-private.h"

#define RESYNC_BLOCK_BYTES 65536

struct _MsReader
{
  char *path;
  int fd;
  MsFileInfo info;
  MsReaderStats stats;

  guint64 next_chunk_offset;   /* where the chunk after the current one starts */
  guint32 expected_seq;
  gboolean finished;           /* end reached and reported */

  /* the current chunk's payload, decompressed */
  MsChunk chunk;
  guint8 *buf;                 /* stored payload */
  gsize buf_size;
  guint8 *raw;                 /* decompressed payload (ZSTD chunks) */
  gsize raw_size;
  ZSTD_DStream *zstd;          /* kept from chunk to chunk: creating one costs more than a chunk */
  const guint8 *pos;
  const guint8 *end;
  MsCodecState state;
  gboolean in_chunk;
  /* an error to report once the records before it are all returned */
  GError *deferred;
};

static gboolean
throw_at (GError **error, int code, guint64 offset, const char *path, const char *what)
{
  g_set_error (error, MS_ERROR, code, _("%s: at byte %" PRIu64 ": %s"), path, offset, what);
  return FALSE;
}

static gboolean
read_exact (MsReader *self, void *buf, gsize len, guint64 offset, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pread (self->fd, (char *) buf + done, len - done, (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Reading “%s”: %s"), self->path, g_strerror (errsv));
          return FALSE;
        }
      if (n == 0)
        return throw_at (error, MS_ERROR_TRUNCATED, offset + done, self->path, _("unexpected end of file"));
      done += (gsize) n;
    }
  return TRUE;
}

static guint16
swap16 (guint16 v, gboolean swap)
{
  return swap ? GUINT16_SWAP_LE_BE (v) : v;
}

static guint32
swap32 (guint32 v, gboolean swap)
{
  return swap ? GUINT32_SWAP_LE_BE (v) : v;
}

static guint64
swap64 (guint64 v, gboolean swap)
{
  return swap ? GUINT64_SWAP_LE_BE (v) : v;
}

static gboolean
read_header (MsReader *self, GError **error)
{
  MsFileHeader h;
  struct stat st;

  if (fstat (self->fd, &st) < 0)
    {
      int errsv = errno;
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Reading “%s”: %s"), self->path, g_strerror (errsv));
      return FALSE;
    }
  self->info.file_bytes = (guint64) st.st_size;

  if ((guint64) st.st_size < MS_FILE_MAGIC_BYTES)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE,
                   _("“%s” is not a memscope trace: it is only %" PRIu64 " bytes long"),
                   self->path, (guint64) st.st_size);
      return FALSE;
    }
  memset (&h, 0, sizeof h);
  gsize have = MIN ((guint64) st.st_size, sizeof h);
  if (!read_exact (self, &h, have, 0, error))
    return FALSE;
  if (memcmp (h.magic, MS_FILE_MAGIC, MS_FILE_MAGIC_BYTES) != 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE,
                   _("“%s” is not a memscope trace (no memscope-trace magic at its start)"), self->path);
      return FALSE;
    }

  gboolean swap = h.byte_order != (G_BYTE_ORDER == G_LITTLE_ENDIAN ? MS_BYTE_ORDER_LITTLE : MS_BYTE_ORDER_BIG);
  if (h.byte_order != MS_BYTE_ORDER_LITTLE && h.byte_order != MS_BYTE_ORDER_BIG)
    return throw_at (error, MS_ERROR_NOT_A_TRACE, 12, self->path, _("unknown byte order in the file header"));

  /* The major version is checked before the checksum: a future header may
   * be laid out differently, and the user needs to hear "too new". */
  guint16 major = swap16 (h.major, swap);
  guint16 minor = swap16 (h.minor, swap);
  if (major > MS_FORMAT_MAJOR)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW,
                   _("“%s” uses trace format %u.%u; this memscope reads %u.x and older: upgrade memscope"),
                   self->path, major, minor, MS_FORMAT_MAJOR);
      return FALSE;
    }
  if (have < sizeof h)
    return throw_at (error, MS_ERROR_TRUNCATED, have, self->path, _("the file header is cut off"));
  if (major == 0)
    return throw_at (error, MS_ERROR_NOT_A_TRACE, 8, self->path, _("trace format version 0 does not exist"));
  if (swap32 (h.header_crc, swap) != ms_crc32c (0, &h, offsetof (MsFileHeader, header_crc)))
    return throw_at (error, MS_ERROR_CORRUPT, 60, self->path, _("the file header checksum does not match"));

  if (h.time_shift > MS_MAX_TIME_SHIFT)
    return throw_at (error, MS_ERROR_CORRUPT, offsetof (MsFileHeader, time_shift), self->path,
                     _("impossible time unit in the file header"));

  guint16 header_bytes = swap16 (h.header_bytes, swap);
  if (header_bytes < sizeof h || header_bytes % 8 != 0)
    return throw_at (error, MS_ERROR_CORRUPT, 14, self->path, _("impossible header size"));

  self->info.major = major;
  self->info.minor = minor;
  self->info.kind = swap32 (h.file_kind, swap);
  self->info.pid = swap32 (h.pid, swap);
  self->info.pointer_bytes = h.pointer_bytes;
  self->info.foreign_byte_order = swap;
  self->info.start_wall_ns = swap64 (h.start_wall_ns, swap);
  self->info.start_mono_ns = swap64 (h.start_mono_ns, swap);
  self->info.time_shift = h.time_shift;
  self->next_chunk_offset = header_bytes;
  return TRUE;
}

MsReader *
ms_reader_open (const char *path, GError **error)
{
  g_autoptr (MsReader) self = g_new0 (MsReader, 1);

  self->path = g_strdup (path);
  self->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (self->fd < 0)
    {
      int errsv = errno;
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Opening “%s”: %s"), path, g_strerror (errsv));
      return NULL;
    }
  if (!read_header (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

const MsFileInfo *
ms_reader_get_info (MsReader *self)
{
  return &self->info;
}

const MsReaderStats *
ms_reader_get_stats (MsReader *self)
{
  return &self->stats;
}

void
ms_reader_free (MsReader *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_clear_error (&self->deferred);
  ZSTD_freeDStream (self->zstd);
  g_free (self->buf);
  g_free (self->raw);
  g_free (self->path);
  g_free (self);
}

static void
ensure (guint8 **buf, gsize *size, gsize want)
{
  if (*size < want)
    {
      g_free (*buf);
      *buf = g_malloc (want);
      *size = want;
    }
}

static gboolean
parse_chunk_header (MsReader *self, const guint8 *bytes, MsChunkHeader *out)
{
  gboolean swap = self->info.foreign_byte_order;

  memcpy (out, bytes, sizeof *out);
  out->magic = swap32 (out->magic, swap);
  out->flags = swap32 (out->flags, swap);
  out->seq = swap32 (out->seq, swap);
  out->span_bytes = swap32 (out->span_bytes, swap);
  out->stored_bytes = swap32 (out->stored_bytes, swap);
  out->raw_bytes = swap32 (out->raw_bytes, swap);
  out->base_time_ns = swap64 (out->base_time_ns, swap);
  out->crc = swap32 (out->crc, swap);

  return out->magic == MS_CHUNK_MAGIC && out->span_bytes >= sizeof (MsChunkHeader)
         && out->span_bytes % 8 == 0 && out->span_bytes <= MS_MAX_CHUNK_SPAN
         && out->reserved == 0 && (out->flags & ~(MS_CHUNK_SEALED | MS_CHUNK_ZSTD)) == 0
         && (out->flags & MS_CHUNK_SEALED
                 ? out->stored_bytes <= out->span_bytes - sizeof (MsChunkHeader) && out->raw_bytes <= MS_MAX_CHUNK_SPAN
                 /* open: stored, raw and crc mean nothing (a writer may have
                  * died while sealing) */
                 : out->flags == 0);
}

/* After damage at OFFSET: the next 8-aligned offset past it where a chunk
 * header parses, or the end of the file. Reads in blocks: constant memory. */
static guint64
resync (MsReader *self, guint64 offset)
{
  g_autofree guint8 *block = g_malloc (RESYNC_BLOCK_BYTES);
  guint64 at = (offset + 8) & ~(guint64) 7;

  while (at + sizeof (MsChunkHeader) <= self->info.file_bytes)
    {
      gsize want = (gsize) MIN ((guint64) RESYNC_BLOCK_BYTES, self->info.file_bytes - at);
      if (!read_exact (self, block, want, at, NULL))
        break;
      for (gsize i = 0; i + sizeof (MsChunkHeader) <= want; i += 8)
        {
          MsChunkHeader h;
          if (parse_chunk_header (self, block + i, &h))
            return at + i;
        }
      /* the last header-sized tail is looked at again by the next block */
      at += want > sizeof (MsChunkHeader) ? (want - sizeof (MsChunkHeader) + 8) & ~(gsize) 7 : want;
    }
  return self->info.file_bytes;
}

static void
skip_damage (MsReader *self, guint64 from, guint64 to)
{
  self->stats.damaged_chunks++;
  self->stats.bytes_skipped += to > from ? to - from : 0;
  self->next_chunk_offset = to;
}

/* Decompresses what there is of a zstd frame; a cut-off frame yields the
 * records it already holds. */
static gsize
decompress (MsReader *self, const guint8 *src, gsize src_len, gsize raw_bytes, gboolean *out_complete)
{
  ZSTD_inBuffer in = { src, src_len, 0 };
  ZSTD_outBuffer out;
  gsize r;

  ensure (&self->raw, &self->raw_size, MAX (raw_bytes, 1));
  out = (ZSTD_outBuffer) { self->raw, raw_bytes, 0 };
  if (self->zstd == NULL)
    self->zstd = ZSTD_createDStream ();
  ZSTD_initDStream (self->zstd);
  do
    r = ZSTD_decompressStream (self->zstd, &out, &in);
  while (!ZSTD_isError (r) && r != 0 && in.pos < in.size && out.pos < out.size);
  *out_complete = !ZSTD_isError (r) && r == 0 && out.pos == raw_bytes;
  return out.pos;
}

/* Whether nothing but a window never begun (no chunk magic) lies at
 * NEXT: a chunk there means the chunk before it was not a writer's last. */
static gboolean
is_last_chunk (MsReader *self, guint64 next)
{
  guint32 magic = 0;

  if (next + sizeof magic > self->info.file_bytes)
    return TRUE;
  if (!read_exact (self, &magic, sizeof magic, next, NULL))
    return TRUE;
  return magic == 0;
}

gboolean
ms_reader_load_chunk (MsReader *self, GError **error)
{
  guint64 offset = self->next_chunk_offset;
  guint64 size = self->info.file_bytes;
  guint8 hbytes[sizeof (MsChunkHeader)];
  MsChunkHeader h;

  self->in_chunk = FALSE;
  if (offset >= size)
    return FALSE;

  if (offset + sizeof h > size)
    {
      skip_damage (self, offset, size);
      return throw_at (error, MS_ERROR_TRUNCATED, offset, self->path, _("the file ends inside a chunk header"));
    }
  if (!read_exact (self, hbytes, sizeof h, offset, error))
    {
      /* the file failed or shrank under us: nothing more can be read */
      skip_damage (self, offset, size);
      return FALSE;
    }
  if (!parse_chunk_header (self, hbytes, &h))
    {
      guint64 next = resync (self, offset);
      guint32 magic;
      memcpy (&magic, hbytes, sizeof magic);
      if (magic == 0 && next == size)
        {
          /* A window the writer had allocated but not begun (the magic is
           * stored last): it stopped right after sealing the chunk before.
           * Nothing is lost. */
          self->next_chunk_offset = size;
          return FALSE;
        }
      skip_damage (self, offset, next);
      return throw_at (error, MS_ERROR_CORRUPT, offset, self->path,
                       _("no valid chunk header here; skipped to the next one"));
    }

  if (!(h.flags & MS_CHUNK_SEALED) && !is_last_chunk (self, offset + h.span_bytes))
    {
      /* Only a writer's last chunk is ever left open; an open chunk with
       * chunks after it had its SEALED flag damaged. */
      skip_damage (self, offset, offset + h.span_bytes);
      return throw_at (error, MS_ERROR_CORRUPT, offset, self->path,
                       _("an unsealed chunk before the end of the file; its records were skipped"));
    }

  if (h.seq != self->expected_seq)
    self->stats.missing_chunks += h.seq > self->expected_seq ? h.seq - self->expected_seq : 1;
  self->expected_seq = h.seq + 1;

  guint64 payload_offset = offset + sizeof h;
  guint64 available = size - payload_offset;
  gboolean sealed = (h.flags & MS_CHUNK_SEALED) != 0;
  gsize stored = sealed ? h.stored_bytes : (gsize) MIN ((guint64) h.span_bytes - sizeof h, available);
  gboolean cut = stored > available;
  gsize have = (gsize) MIN ((guint64) stored, available);

  ensure (&self->buf, &self->buf_size, MAX (have, 1));
  if (!read_exact (self, self->buf, have, payload_offset, error))
    {
      skip_damage (self, offset, size);
      return FALSE;
    }

  self->chunk = (MsChunk) {
    .offset = offset,
    .header = h,
    .payload_file_offset = payload_offset,
  };
  self->next_chunk_offset = offset + h.span_bytes;

  if (sealed && !cut)
    {
      guint32 crc = ms_crc32c (0, hbytes + 8, 24);
      if (ms_crc32c (crc, self->buf, have) != h.crc)
        {
          skip_damage (self, offset, self->next_chunk_offset);
          return throw_at (error, MS_ERROR_CORRUPT, offset, self->path,
                           _("chunk checksum mismatch; its records were skipped"));
        }
    }
  if (cut)
    {
      g_clear_error (&self->deferred);
      throw_at (&self->deferred, MS_ERROR_TRUNCATED, size, self->path,
                _("the file ends inside a chunk; the records before the cut were read"));
      self->stats.damaged_chunks++;
      self->next_chunk_offset = size;
    }
  else if (sealed)
    self->stats.chunks++;
  else
    self->stats.unsealed_chunks++;

  if (h.flags & MS_CHUNK_ZSTD)
    {
      gboolean complete;
      gsize n = decompress (self, self->buf, have, h.raw_bytes, &complete);
      if (!complete && !cut)
        {
          skip_damage (self, offset, self->next_chunk_offset);
          return throw_at (error, MS_ERROR_CORRUPT, offset, self->path, _("chunk does not decompress"));
        }
      self->pos = self->raw;
      self->end = self->raw + n;
      self->chunk.payload_file_offset = G_MAXUINT64;
    }
  else
    {
      self->pos = self->buf;
      self->end = self->buf + have;
    }
  self->chunk.payload = self->pos;
  self->chunk.payload_bytes = (gsize) (self->end - self->pos);
  self->chunk.sealed = sealed && !cut;
  ms_codec_state_init (&self->state, h.base_time_ns);
  self->state.time_shift = self->info.time_shift;
  self->in_chunk = TRUE;
  return TRUE;
}

/* Returns what the writer-side record at POS is worth to a file offset. */
static guint64
record_offset (MsReader *self, const guint8 *pos)
{
  if (self->chunk.payload_file_offset == G_MAXUINT64)
    return self->chunk.offset;
  return self->chunk.payload_file_offset + (guint64) (pos - self->chunk.payload);
}

static gboolean
take_deferred (MsReader *self, GError **error)
{
  if (self->deferred == NULL)
    return FALSE;
  g_propagate_error (error, g_steal_pointer (&self->deferred));
  return TRUE;
}

/* ms_reader_next() but for its fast path: the end of a chunk, records
 * near it, damage, and every kind of record but the hot ones. */
static G_GNUC_NO_INLINE gboolean
next_record (MsReader *self, MsRecord *out_record, GError **error)
{
  for (;;)
    {
      if (self->in_chunk)
        {
          const guint8 *start = self->pos;
          MsDecodeResult r = ms_record_decode (&self->pos, self->end, &self->state, out_record);

          if (r == MS_DECODE_OK)
            {
              out_record->file_offset = record_offset (self, start);
              self->stats.records++;
              if (out_record->kind > MS_RECORD_LAST_KNOWN)
                self->stats.unknown_records++;
              if (out_record->kind == MS_RECORD_CLOSE)
                self->stats.closed = TRUE;
              return TRUE;
            }

          self->in_chunk = FALSE;
          gboolean sealed = self->chunk.sealed;
          if (r == MS_DECODE_END && (!sealed || start == self->end))
            {
              if (take_deferred (self, error))
                return FALSE;
              continue;
            }
          if (take_deferred (self, error))
            return FALSE; /* cut off by the end of the file, not damaged */
          if (!sealed && r == MS_DECODE_SHORT)
            continue; /* a writer stopped mid-record: its tag was never stored */
          self->stats.damaged_chunks++;
          /* bytes of the file: for a compressed chunk, unknown within it */
          if (self->chunk.payload_file_offset != G_MAXUINT64)
            self->stats.bytes_skipped += (guint64) (self->end - start);
          return throw_at (error, MS_ERROR_CORRUPT, record_offset (self, start), self->path,
                           _("malformed record; the rest of its chunk was skipped"));
        }

      if (self->next_chunk_offset >= self->info.file_bytes)
        {
          if (self->finished)
            return FALSE;
          self->finished = TRUE;
          if (!self->stats.closed)
            return throw_at (error, MS_ERROR_INCOMPLETE, self->info.file_bytes, self->path,
                             _("the file ends without its closing record: the program was killed or "
                               "crashed (every record written before that was read)"));
          return FALSE;
        }
      GError *local_error = NULL;
      if (!ms_reader_load_chunk (self, &local_error) && local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
    }
}

gboolean
ms_reader_next (MsReader *self, MsRecord *out_record, GError **error)
{
  /* Nearly every record of a trace is a hot one far from its chunk's end:
   * decoded here, inline, with no test against the end of the data. */
  if (G_LIKELY (self->in_chunk && self->end - self->pos > MS_HOT_READ_MAX
                && ms_record_kind_is_hot (*self->pos)))
    {
      const guint8 *start = self->pos;
      const guint8 *p = start + 1;

      out_record->kind = (MsRecordKind) *start;
      if (G_LIKELY (ms_decode_hot (&p, self->end, FALSE, &self->state, out_record) == MS_DECODE_OK))
        {
          self->pos = p;
          out_record->file_offset = record_offset (self, start);
          self->stats.records++;
          return TRUE;
        }
    }
  return next_record (self, out_record, error);
}

const MsChunk *
ms_reader_get_chunk (MsReader *self)
{
  return self->in_chunk ? &self->chunk : NULL;
}

const char *
ms_reader_get_path (MsReader *self)
{
  return self->path;
}
