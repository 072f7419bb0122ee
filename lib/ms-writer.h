/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsWriter: appends records to a trace file from anywhere, malloc included.
 *
 * Records go straight into a MAP_SHARED window of the file, so what was
 * written survives the process dying in any way (the page cache owns it).
 * The file descriptor is closed as soon as a window is mapped, so programs
 * that close every descriptor cannot break the writer. The writer never
 * allocates and never locks: one writer belongs to one thread at a time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-format.h"
#include "ms-macros.h"
#include "ms-record.h"

MS_BEGIN_DECLS

#define MS_WRITER_PATH_MAX 4096
#define MS_WRITER_MIN_CHUNK_BYTES (16u * 1024u)
#define MS_WRITER_DEFAULT_CHUNK_BYTES (64u * 1024u)

typedef struct
{
  MsFileKind kind;
  uint32_t pid;
  size_t chunk_bytes;      /* window size: a multiple of the page size, >= MS_WRITER_MIN_CHUNK_BYTES */
  uint64_t start_mono_ns;  /* CLOCK_MONOTONIC at creation */
  uint64_t start_wall_ns;  /* CLOCK_REALTIME at creation */
  unsigned time_shift;     /* record times in units of 2^time_shift ns (0: exact) */
} MsWriterOptions;

/* Caller-allocated (the preload keeps writers in mmap'd slots); treat the
 * fields as private. */
typedef struct
{
  char path[MS_WRITER_PATH_MAX];
  uint8_t *window;          /* mapped [window_offset, window_offset + window_bytes) */
  size_t window_bytes;
  uint64_t window_offset;
  MsChunkHeader *chunk;     /* the open chunk, inside window */
  uint8_t *payload;         /* its first payload byte */
  uint8_t *pos;             /* where the next record's tag goes */
  uint8_t *limit;           /* ordinary records end before this */
  uint8_t *hard_limit;      /* the slack up to here is kept for LOST and CLOSE */
  MsCodecState state;
  uint32_t seq;
  uint32_t time_shift;
  int error;                /* first negative errno that stopped the writer, or 0 */
  uint64_t records;         /* records committed */
  uint64_t lost;            /* records refused since the writer stopped */
} MsWriter;

/* Creates PATH (O_EXCL, mode 0600, no symlink followed) and writes its
 * header. Returns 0 or a negative errno. */
MS_PUBLIC int ms_writer_create (MsWriter *self, const char *path, const MsWriterOptions *options);

/* Returns where a record of at most MAX_BYTES (tag included) can be
 * written, or NULL when the writer cannot take it (then it is counted as
 * lost). Moves to a new chunk when this one is full: that, and only that,
 * makes system calls. After it, encode with self->state. */
MS_PUBLIC uint8_t *ms_writer_reserve (MsWriter *self, size_t max_bytes);

/* Publishes the record at REC (from ms_writer_reserve) whose body, after
 * the tag, is BODY_BYTES long; the tag byte is stored last. */
static inline void
ms_writer_commit (MsWriter *self, uint8_t *rec, size_t body_bytes, uint8_t tag)
{
  __atomic_store_n (rec, tag, __ATOMIC_RELEASE);
  self->pos = rec + 1 + body_bytes;
  self->records++;
}

/* Encodes and appends RECORD. Returns 0, or a negative errno (the record
 * is then counted as lost). */
MS_PUBLIC int ms_writer_add (MsWriter *self, const MsRecord *record);

/* Like ms_writer_add, but may use the slack kept at the end of each chunk:
 * for the LOST and CLOSE records that must get out after a failure. */
MS_PUBLIC int ms_writer_add_final (MsWriter *self, const MsRecord *record);

/* Seals the open chunk, trims the file to what was written and unmaps it.
 * Returns 0 or the first negative errno the writer met. */
MS_PUBLIC int ms_writer_close (MsWriter *self);

/* Unmaps without touching the file: for a forked child, whose copy of the
 * parent's writer must not write into the parent's file. */
MS_PUBLIC void ms_writer_abandon (MsWriter *self);

MS_END_DECLS
