/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The reader (ms-reader.h) reads a file from its start; a status line
 * updated twice a second needs only what is new. So this walks the chunk
 * chain itself: sealed chunks up to their stored size, the open chunk up
 * to its first empty tag (writers store a record's tag byte last), and
 * remembers where it stopped with the codec state there. */
#include "config.h"

#include "ms-run-progress.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ms-cli-util.h"
#include "ms-format.h"
#include "ms-record.h"
#include "ms-run-output.h"

typedef struct
{
  gboolean ignored;           /* not a thread file of this machine's byte order */
  gboolean started;           /* the header was read */
  guint64 chunk_offset;       /* of the chunk being read */
  guint32 consumed;           /* payload bytes of that chunk already decoded */
  MsCodecState state;         /* the codec state after them */
} FileState;

struct _MsRunProgress
{
  char *dir;
  GHashTable *files;          /* path → FileState */
  guint8 *buf;
  gsize buf_size;
  MsRunProgressCounts counts;
  guint64 decoded_bytes;      /* for the records-per-byte rate */
  guint64 decoded_allocations;
  MsRecord record;
};

MsRunProgress *
ms_run_progress_new (const char *dir)
{
  MsRunProgress *self = g_new0 (MsRunProgress, 1);

  self->dir = g_strdup (dir);
  self->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
ms_run_progress_free (MsRunProgress *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->files);
  g_free (self->buf);
  g_free (self->dir);
  g_free (self);
}

static gboolean
read_header (int fd, FileState *f)
{
  MsFileHeader header;
  const guint8 native = G_BYTE_ORDER == G_LITTLE_ENDIAN ? MS_BYTE_ORDER_LITTLE : MS_BYTE_ORDER_BIG;

  if (pread (fd, &header, sizeof header, 0) != (gssize) sizeof header)
    return FALSE; /* not written yet */
  f->started = TRUE;
  f->ignored = memcmp (header.magic, MS_FILE_MAGIC, MS_FILE_MAGIC_BYTES) != 0 || header.byte_order != native
               || header.file_kind != MS_FILE_KIND_THREAD || header.header_bytes < sizeof header;
  f->chunk_offset = header.header_bytes;
  return TRUE;
}

/* Decodes [consumed, limit) of the chunk's payload; stops early at an
 * empty tag, where an open chunk's data ends for now. */
static void
decode_payload (MsRunProgress *self, int fd, FileState *f, guint64 payload_offset, guint32 limit)
{
  gsize want = limit - f->consumed;
  const guint8 *pos, *end;
  gssize got;

  if (self->buf_size < want)
    {
      self->buf_size = want;
      self->buf = g_realloc (self->buf, want);
    }
  got = pread (fd, self->buf, want, (off_t) (payload_offset + f->consumed));
  if (got <= 0)
    return;
  pos = self->buf;
  end = self->buf + got;
  while (pos < end)
    {
      const guint8 *start = pos;
      MsCodecState state = f->state;

      if (ms_record_decode (&pos, end, &state, &self->record) != MS_DECODE_OK)
        break;
      f->state = state;
      f->consumed += (guint32) (pos - start);
      self->decoded_bytes += (guint64) (pos - start);
      switch (self->record.kind)
        {
        case MS_RECORD_ALLOC:
        case MS_RECORD_ALLOC_SAMPLED:
        case MS_RECORD_REALLOC:
        case MS_RECORD_REALLOC_SAMPLED:
          self->counts.allocations++;
          self->decoded_allocations++;
          break;
        case MS_RECORD_THREAD_START:
          self->counts.threads++;
          break;
        default:
          break;
        }
    }
}

static void
update_file (MsRunProgress *self, const char *path, FileState *f, gsize *budget)
{
  ms_cli_autofd fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0 || (!f->started && !read_header (fd, f)) || f->ignored)
    return;

  for (;;)
    {
      MsChunkHeader chunk;
      gboolean sealed;
      guint32 limit;

      if (pread (fd, &chunk, sizeof chunk, (off_t) f->chunk_offset) != (gssize) sizeof chunk
          || chunk.magic != MS_CHUNK_MAGIC || chunk.span_bytes <= sizeof chunk
          || chunk.span_bytes > MS_MAX_CHUNK_SPAN)
        return; /* the writer has not got there yet */
      /* Writers set SEALED after the rest: a sealed chunk read here is whole. */
      sealed = (chunk.flags & MS_CHUNK_SEALED) != 0;
      if (f->consumed == 0)
        ms_codec_state_init (&f->state, chunk.base_time_ns);
      limit = sealed ? MIN (chunk.stored_bytes, chunk.span_bytes - (guint32) sizeof chunk)
                     : chunk.span_bytes - (guint32) sizeof chunk;

      if (chunk.flags & MS_CHUNK_ZSTD)
        ; /* compacted: the run is over, and the summary counts it */
      else if (sealed && *budget < limit - f->consumed && self->decoded_bytes > 0)
        {
          /* Behind a busy program: estimate rather than fall further back. */
          guint64 rest = limit - f->consumed;
          self->counts.allocations += rest * self->decoded_allocations / self->decoded_bytes;
          self->counts.estimated = TRUE;
        }
      else if (f->consumed < limit)
        {
          guint32 before = f->consumed;
          decode_payload (self, fd, f, f->chunk_offset + sizeof chunk, limit);
          *budget -= MIN (*budget, (gsize) (f->consumed - before));
        }

      if (!sealed)
        return;
      f->chunk_offset += chunk.span_bytes;
      f->consumed = 0;
    }
}

void
ms_run_progress_update (MsRunProgress *self, gsize budget_bytes, MsRunProgressCounts *out_counts)
{
  g_autoptr (GPtrArray) traces = ms_run_output_list_traces (self->dir);

  for (guint i = 0; i < traces->len; i++)
    {
      const char *path = g_ptr_array_index (traces, i);
      FileState *f = g_hash_table_lookup (self->files, path);

      if (f == NULL)
        {
          f = g_new0 (FileState, 1);
          g_hash_table_insert (self->files, g_strdup (path), f);
        }
      update_file (self, path, f, &budget_bytes);
    }
  *out_counts = self->counts;
}
