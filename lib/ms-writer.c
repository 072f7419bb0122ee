/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "ms-crc32c.h"
#include "ms-sys.h"

/* Room kept at the end of every chunk for a LOST and a CLOSE record, so
 * that a writer which cannot grow its file can still say so. */
#define FINAL_SLACK_BYTES 160u

static size_t
round_up8 (size_t n)
{
  return (n + 7) & ~(size_t) 7;
}

static uint8_t
native_byte_order (void)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return MS_BYTE_ORDER_BIG;
#else
  return MS_BYTE_ORDER_LITTLE;
#endif
}

/* Maps [offset, offset + window_bytes) of the file, allocating its blocks
 * first: a store into a sparse page that the disk cannot back would be a
 * SIGBUS in the profiled program, where a failed fallocate is an error code. */
static int
map_at (MsWriter *self, uint64_t offset, int open_flags, uint8_t **out_map)
{
  int fd = ms_sys_open (self->path, open_flags | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return fd;

  int r = ms_sys_fallocate (fd, 0, (long) offset, (long) self->window_bytes);
  if (r == -EOPNOTSUPP)
    r = ms_sys_ftruncate (fd, (long) (offset + self->window_bytes));
  if (r < 0)
    {
      ms_sys_close (fd);
      return r;
    }

  void *map = ms_sys_mmap (NULL, self->window_bytes, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_POPULATE, fd, (long) offset);
  ms_sys_close (fd);
  if (ms_sys_is_error ((long) map))
    return (int) (long) map;
  *out_map = map;
  return 0;
}

static void
open_chunk (MsWriter *self, uint8_t *at)
{
  MsChunkHeader *c = (MsChunkHeader *) at;
  uint8_t *window_end = self->window + self->window_bytes;

  /* flags stay 0 (the file is zero-filled) until the chunk is sealed; the
   * magic is stored last, so a header without it is one never begun */
  c->seq = self->seq++;
  c->span_bytes = (uint32_t) (window_end - at);
  c->base_time_ns = self->state.prev_time_ns;
  __atomic_store_n (&c->magic, MS_CHUNK_MAGIC, __ATOMIC_RELEASE);

  self->chunk = c;
  self->payload = at + sizeof (MsChunkHeader);
  self->pos = self->payload;
  self->hard_limit = window_end;
  self->limit = window_end - FINAL_SLACK_BYTES;
  ms_codec_state_init (&self->state, c->base_time_ns);
  self->state.time_shift = self->time_shift;
}

static void
seal_chunk (MsWriter *self)
{
  MsChunkHeader *c = self->chunk;
  uint32_t used = (uint32_t) (self->pos - self->payload);

  /* The checksum covers header bytes 8..31 as they will be: build them on
   * the side, so the file's header changes only in the last few stores. */
  MsChunkHeader h = *c;
  h.stored_bytes = used;
  h.raw_bytes = used;
  uint32_t crc = ms_crc32c (ms_crc32c (0, (const uint8_t *) &h + 8, 24), self->payload, used);
  c->stored_bytes = used;
  c->raw_bytes = used;
  c->crc = crc;
  __atomic_store_n (&c->flags, MS_CHUNK_SEALED, __ATOMIC_RELEASE);
}

int
ms_writer_create (MsWriter *self, const char *path, const MsWriterOptions *options)
{
  size_t len = strlen (path);

  memset (self, 0, sizeof *self);
  if (len >= sizeof self->path)
    return -ENAMETOOLONG;
  if (options->chunk_bytes < MS_WRITER_MIN_CHUNK_BYTES || options->chunk_bytes > MS_MAX_CHUNK_SPAN
      || options->chunk_bytes % 4096 != 0 || options->time_shift > MS_MAX_TIME_SHIFT)
    return -EINVAL;
  memcpy (self->path, path, len + 1);
  self->window_bytes = options->chunk_bytes;
  self->time_shift = options->time_shift;
  /* every time in the file, chunk bases included, is a whole unit */
  self->state.prev_time_ns = options->start_mono_ns >> options->time_shift << options->time_shift;

  int r = map_at (self, 0, O_CREAT | O_EXCL, &self->window);
  if (r < 0)
    {
      /* an empty file would only be mistaken for a damaged trace */
      if (r != -EEXIST)
        ms_syscall6 (SYS_unlinkat, -100 /* AT_FDCWD */, (long) self->path, 0, 0, 0, 0);
      self->error = r;
      return r;
    }
  self->window_offset = 0;

  MsFileHeader *h = (MsFileHeader *) self->window;
  memcpy (h->magic, MS_FILE_MAGIC, MS_FILE_MAGIC_BYTES);
  h->major = MS_FORMAT_MAJOR;
  h->minor = MS_FORMAT_MINOR;
  h->byte_order = native_byte_order ();
  h->pointer_bytes = sizeof (void *);
  h->header_bytes = sizeof (MsFileHeader);
  h->file_kind = options->kind;
  h->pid = options->pid;
  h->start_wall_ns = options->start_wall_ns;
  h->start_mono_ns = options->start_mono_ns;
  h->time_shift = (uint8_t) options->time_shift;
  h->header_crc = ms_crc32c (0, h, offsetof (MsFileHeader, header_crc));

  open_chunk (self, self->window + sizeof (MsFileHeader));
  return 0;
}

static int
next_chunk (MsWriter *self)
{
  if (self->error)
    return self->error;

  uint8_t *map;
  uint64_t offset = self->window_offset + self->window_bytes;
  int r = map_at (self, offset, 0, &map);
  if (r < 0)
    {
      /* Keep the open chunk: its slack still takes LOST and CLOSE. */
      self->error = r;
      return r;
    }
  seal_chunk (self);
  ms_sys_munmap (self->window, self->window_bytes);
  self->window = map;
  self->window_offset = offset;
  open_chunk (self, self->window);
  return 0;
}

uint8_t *
ms_writer_reserve (MsWriter *self, size_t max_bytes)
{
  if (MS_LIKELY (self->pos + max_bytes <= self->limit))
    return self->pos;

  if (self->window == NULL || self->error
      || max_bytes > self->window_bytes - sizeof (MsChunkHeader) - FINAL_SLACK_BYTES
      || next_chunk (self) < 0)
    {
      self->lost++;
      return NULL;
    }
  return self->pos;
}

static int
add_record (MsWriter *self, const MsRecord *record, bool final)
{
  size_t max = ms_record_max_bytes (record);
  uint8_t *rec;

  if (final && self->window != NULL && self->pos + max <= self->hard_limit)
    rec = self->pos;
  else if ((rec = ms_writer_reserve (self, max)) == NULL)
    return self->error ? self->error : -ENOSPC;

  size_t body = ms_record_encode_body (rec + 1, &self->state, record);
  if (body == 0)
    return -EINVAL;
  ms_writer_commit (self, rec, body, (uint8_t) record->kind);
  return 0;
}

int
ms_writer_add (MsWriter *self, const MsRecord *record)
{
  return add_record (self, record, false);
}

int
ms_writer_add_final (MsWriter *self, const MsRecord *record)
{
  return add_record (self, record, true);
}

int
ms_writer_close (MsWriter *self)
{
  if (self->window == NULL)
    return self->error;

  if (self->chunk->flags == 0)
    {
      /* Shrink the last chunk to what it holds; the file follows. */
      uint64_t chunk_offset = self->window_offset + (uint64_t) ((uint8_t *) self->chunk - self->window);
      size_t used = (size_t) (self->pos - self->payload);
      size_t span = round_up8 (sizeof (MsChunkHeader) + used);

      self->chunk->span_bytes = (uint32_t) span;
      seal_chunk (self);

      int fd = ms_sys_open (self->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
      if (fd >= 0)
        {
          ms_sys_ftruncate (fd, (long) (chunk_offset + span));
          ms_sys_close (fd);
        }
    }
  ms_sys_munmap (self->window, self->window_bytes);
  self->window = NULL;
  self->chunk = NULL;
  self->pos = self->limit = self->hard_limit = NULL;
  return self->error;
}

void
ms_writer_abandon (MsWriter *self)
{
  if (self->window != NULL)
    ms_sys_munmap (self->window, self->window_bytes);
  self->window = NULL;
  self->chunk = NULL;
  self->pos = self->limit = self->hard_limit = NULL;
}
