/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A decoded trace record, and the codec that turns records into the bytes of
 * memscope-trace(5) and back. The codec is allocation-free: the writer in
 * the target and every reader share it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-format.h"
#include "ms-macros.h"

MS_BEGIN_DECLS

/* Strings and byte strings inside a record point into the reader's buffer:
 * they are not NUL-terminated and stay valid until the next record is read. */
typedef struct
{
  const char *data;
  uint32_t len;
} MsBytes;

typedef struct
{
  MsRecordKind kind;      /* may be a kind this library does not know (see unknown) */
  uint64_t time_ns;       /* CLOCK_MONOTONIC, absolute */
  uint64_t file_offset;   /* where the record starts in the file; for a compressed chunk, the chunk */
  union
  {
    /* ALLOC, FREE, REALLOC, *_SAMPLED, MMAP, MUNMAP */
    struct
    {
      uint64_t addr;
      uint64_t size;      /* 0 for FREE */
      uint64_t old_addr;  /* REALLOC only */
      uint64_t stack_id;  /* 0: no stack */
      uint64_t weight;    /* MS_WEIGHT_ONE unless sampled */
    } event;
    struct
    {
      uint64_t id;
      uint64_t parent;    /* 0: root */
      uint64_t ip;        /* raw return address */
    } stack_node;
    /* THREAD_START, THREAD_NAME (name set), THREAD_END */
    struct
    {
      uint64_t tid;
      MsBytes name;
    } thread;
    struct
    {
      uint64_t start;
      uint64_t size;
      uint64_t bias;      /* load bias (dlpi_addr) */
      MsBytes build_id;
      MsBytes path;
    } module;             /* MODULE_LOAD; MODULE_UNLOAD sets start only */
    struct
    {
      uint64_t events;
      uint64_t reason;    /* MsLostReason */
    } lost;
    struct
    {
      uint64_t tid;
      uint64_t ip;        /* the allocation's immediate call site */
      uint64_t count;
      uint64_t bytes;
    } freq;
    struct
    {
      MsBytes key;
      MsBytes value;
    } info;
    struct
    {
      uint64_t scope;     /* MsResourceScope */
      uint64_t id;
      uint32_t n_values;
      uint64_t values[MS_MAX_RESOURCE_VALUES];
    } resource;
    struct
    {
      uint64_t addr;
      uint64_t size;
      MsBytes name;
      MsBytes type;
    } label;
    struct
    {
      uint64_t allocs;
      uint64_t frees;
      uint64_t bytes_allocated;
      uint64_t bytes_freed;
      uint64_t lost;
    } close;
    /* a sized kind this library does not know */
    struct
    {
      MsBytes payload;
    } unknown;
  } u;
} MsRecord;

/* Delta state of one chunk: every chunk starts afresh, so chunks decode
 * independently (in parallel, or after a damaged one). */
typedef struct
{
  uint64_t prev_time_ns;
  uint64_t prev_addr;
  uint32_t time_shift; /* the file header's: dt counts 2^time_shift ns */
} MsCodecState;

/* Starts a chunk of a file whose header says time_shift 0; set
 * state->time_shift afterwards for any other. */
static inline void
ms_codec_state_init (MsCodecState *state, uint64_t base_time_ns)
{
  state->prev_time_ns = base_time_ns;
  state->prev_addr = 0;
  state->time_shift = 0;
}

static inline bool
ms_record_kind_is_hot (unsigned kind)
{
  return kind > 0 && kind < MS_RECORD_FIRST_SIZED;
}

/* Encodes everything of RECORD but its tag at OUT, which has room for
 * ms_record_max_bytes (RECORD); returns the bytes written after the tag.
 * The caller stores the tag byte (record->kind) last. Returns 0 for a kind
 * that cannot be encoded (unknown or END). */
MS_PUBLIC size_t ms_record_encode_body (uint8_t *out, MsCodecState *state, const MsRecord *record);

/* Upper bound of the encoded size of RECORD, tag included. */
MS_PUBLIC size_t ms_record_max_bytes (const MsRecord *record);

typedef enum
{
  MS_DECODE_OK = 0,
  MS_DECODE_END = 1,        /* a 0 tag: no more records in this chunk */
  MS_DECODE_SHORT = -1,     /* the record runs past the end of the data */
  MS_DECODE_MALFORMED = -2, /* impossible field values, or an unknown hot kind */
} MsDecodeResult;

/* Decodes one record from [*pos, end). On MS_DECODE_OK advances *pos and
 * fills RECORD (file_offset is the caller's). Unknown sized kinds decode as
 * themselves with u.unknown set. */
MS_PUBLIC MsDecodeResult ms_record_decode (const uint8_t **pos,
                                           const uint8_t *end,
                                           MsCodecState *state,
                                           MsRecord *record);

MS_END_DECLS

#include "ms-varint.h"

/* Hot-path field encoders, used by ms_record_encode_body and inlined into
 * the tracker. Address code: the difference from the previous address in the chunk;
 * 16-byte aligned differences (every malloc result on x86-64) are stored
 * divided by 16, with the low bit 0. Code 1 announces an absolute address. */
static inline uint8_t *
ms_encode_addr (uint8_t *out, MsCodecState *state, uint64_t addr)
{
  uint64_t delta = addr - state->prev_addr;

  state->prev_addr = addr;
  if (MS_LIKELY ((delta & 15) == 0))
    return ms_varint_put (out, ms_zigzag_encode ((int64_t) delta >> 4) << 1);
  *out++ = 1;
  return ms_varint_put (out, addr);
}

static inline uint8_t *
ms_encode_time (uint8_t *out, MsCodecState *state, uint64_t time_ns)
{
  /* A record timed before its predecessor (clock taken on another thread
   * for a shared file) is stored as simultaneous: time never goes back.
   * Times are rounded down to the file's unit. */
  uint64_t dt = time_ns > state->prev_time_ns ? (time_ns - state->prev_time_ns) >> state->time_shift : 0;

  state->prev_time_ns += dt << state->time_shift;
  return ms_varint_put (out, dt);
}
