/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The hot records' decoder, inline: ms_record_decode() is built on it, and
 * the reader calls it directly for the records that make up nearly all of
 * a trace, without a call per record. Not installed. */
#pragma once

#include <stdbool.h>

#include "ms-record.h"
#include "ms-varint.h"

MS_BEGIN_DECLS

/* Bytes after the tag that any hot record, malformed or not, is read from
 * at most: REALLOC_SAMPLED's eight fields (dt, size, two addresses of two,
 * stack, weight), each of which stops after MS_VARINT_MAX_BYTES. A record
 * with that much data after its tag needs no test against the end. */
#define MS_HOT_READ_MAX (8 * MS_VARINT_MAX_BYTES)

/* Every function here comes in two versions: CHECKED tests every byte
 * against END; the other is for records that lie wholly before END (the
 * caller makes sure of that), where those tests are most of the work. */

static inline __attribute__ ((always_inline)) bool
ms_decode_varint (const uint8_t **pos, const uint8_t *end, bool checked, uint64_t *out)
{
  const uint8_t *p = *pos;

  /* most fields are one byte: the loop below is for the rest */
  if (MS_LIKELY ((!checked || p < end) && *p < 0x80))
    {
      *out = *p;
      *pos = p + 1;
      return true;
    }
  if (checked)
    return ms_varint_get (pos, end, out) == 0;
  /* two and three bytes (addresses, sizes, times of 128 units and more)
   * without the loop's shift and overflow bookkeeping */
  if (p[1] < 0x80)
    {
      *out = (uint64_t) (p[0] & 0x7f) | (uint64_t) p[1] << 7;
      *pos = p + 2;
      return true;
    }
  if (p[2] < 0x80)
    {
      *out = (uint64_t) (p[0] & 0x7f) | (uint64_t) (p[1] & 0x7f) << 7 | (uint64_t) p[2] << 14;
      *pos = p + 3;
      return true;
    }

  /* ms_varint_get without the tests against the end */
  uint64_t value = 0;
  for (unsigned shift = 0;; shift += 7)
    {
      uint8_t byte = *p++;
      if (shift == 63 && byte > 1)
        return false;
      value |= (uint64_t) (byte & 0x7f) << shift;
      if (!(byte & 0x80))
        break;
      if (shift + 7 > 63)
        return false;
    }
  *pos = p;
  *out = value;
  return true;
}

#define MS_DECODE_GET(var)                                   \
  do                                                         \
    {                                                        \
      if (!ms_decode_varint (&p, end, checked, &(var)))      \
        return MS_DECODE_SHORT;                              \
    }                                                        \
  while (0)

#define MS_DECODE_CHECK(call)                \
  do                                         \
    {                                        \
      MsDecodeResult r_ = (call);            \
      if (r_ != MS_DECODE_OK)                \
        return r_;                           \
    }                                        \
  while (0)

static inline __attribute__ ((always_inline)) MsDecodeResult
ms_decode_addr (const uint8_t **pos, const uint8_t *end, bool checked, MsCodecState *state, uint64_t *out)
{
  const uint8_t *p = *pos;
  uint64_t code;

  MS_DECODE_GET (code);
  if (code & 1)
    {
      if (code != 1)
        return MS_DECODE_MALFORMED;
      MS_DECODE_GET (*out);
    }
  else
    *out = state->prev_addr + ((uint64_t) ms_zigzag_decode (code >> 1) << 4);
  state->prev_addr = *out;
  *pos = p;
  return MS_DECODE_OK;
}

static inline __attribute__ ((always_inline)) MsDecodeResult
ms_decode_time (const uint8_t **pos, const uint8_t *end, bool checked, MsCodecState *state, uint64_t *out)
{
  const uint8_t *p = *pos;
  uint64_t dt;

  MS_DECODE_GET (dt);
  /* Time never goes back (ms_encode_time): a dt that would wrap the clock
   * round is damage, not a time before the previous record's. */
  if (dt > (UINT64_MAX - state->prev_time_ns) >> state->time_shift)
    return MS_DECODE_MALFORMED;
  state->prev_time_ns += dt << state->time_shift;
  *out = state->prev_time_ns;
  *pos = p;
  return MS_DECODE_OK;
}

/* Decodes the hot record of kind r->kind (set by the caller) whose tag was
 * just before *POS; on success advances *POS and STATE, on failure leaves
 * STATE as it was (a caller may try again with more data). */
static inline __attribute__ ((always_inline)) MsDecodeResult
ms_decode_hot (const uint8_t **pos, const uint8_t *end, bool checked, MsCodecState *state, MsRecord *r)
{
  const uint8_t *p = *pos;
  MsCodecState trial = *state;

  r->u.event.size = 0;
  r->u.event.old_addr = 0;
  r->u.event.stack_id = 0;
  r->u.event.weight = MS_WEIGHT_ONE;

  MS_DECODE_CHECK (ms_decode_time (&p, end, checked, &trial, &r->time_ns));
  switch (r->kind)
    {
    case MS_RECORD_ALLOC:
    case MS_RECORD_ALLOC_SAMPLED:
    case MS_RECORD_MMAP:
      MS_DECODE_GET (r->u.event.size);
      MS_DECODE_CHECK (ms_decode_addr (&p, end, checked, &trial, &r->u.event.addr));
      MS_DECODE_GET (r->u.event.stack_id);
      if (r->kind != MS_RECORD_ALLOC)
        MS_DECODE_GET (r->u.event.weight);
      break;
    case MS_RECORD_REALLOC:
    case MS_RECORD_REALLOC_SAMPLED:
      MS_DECODE_GET (r->u.event.size);
      MS_DECODE_CHECK (ms_decode_addr (&p, end, checked, &trial, &r->u.event.old_addr));
      MS_DECODE_CHECK (ms_decode_addr (&p, end, checked, &trial, &r->u.event.addr));
      MS_DECODE_GET (r->u.event.stack_id);
      if (r->kind == MS_RECORD_REALLOC_SAMPLED)
        MS_DECODE_GET (r->u.event.weight);
      break;
    case MS_RECORD_FREE:
      MS_DECODE_CHECK (ms_decode_addr (&p, end, checked, &trial, &r->u.event.addr));
      break;
    case MS_RECORD_MUNMAP:
      MS_DECODE_GET (r->u.event.size);
      MS_DECODE_CHECK (ms_decode_addr (&p, end, checked, &trial, &r->u.event.addr));
      break;
    default:
      return MS_DECODE_MALFORMED;
    }
  *state = trial;
  *pos = p;
  return MS_DECODE_OK;
}

MS_END_DECLS
