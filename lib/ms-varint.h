/* SPDX-License-Identifier: LGPL-2.1-or-later
 * LEB128 and zig-zag, the integer encodings of memscope-trace(5).
 * Header-only so that the writer's hot path inlines them. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

#define MS_VARINT_MAX_BYTES 10

/* Writes VALUE at OUT (which has room for MS_VARINT_MAX_BYTES); returns the
 * position after it. */
static inline uint8_t *
ms_varint_put (uint8_t *out, uint64_t value)
{
  while (value >= 0x80)
    {
      *out++ = (uint8_t) (value | 0x80);
      value >>= 7;
    }
  *out++ = (uint8_t) value;
  return out;
}

static inline size_t
ms_varint_size (uint64_t value)
{
  size_t n = 1;
  while (value >= 0x80)
    {
      value >>= 7;
      n++;
    }
  return n;
}

/* Reads a varint from [*pos, end). Returns 0 and advances *pos, or -1 when
 * the input ends first or the value does not fit in 64 bits. */
static inline int
ms_varint_get (const uint8_t **pos, const uint8_t *end, uint64_t *out_value)
{
  const uint8_t *p = *pos;
  uint64_t value = 0;
  unsigned shift = 0;

  for (;;)
    {
      if (p >= end)
        return -1;
      uint8_t byte = *p++;
      if (shift == 63 && byte > 1)
        return -1;
      value |= (uint64_t) (byte & 0x7f) << shift;
      if (!(byte & 0x80))
        break;
      shift += 7;
      if (shift > 63)
        return -1;
    }
  *pos = p;
  *out_value = value;
  return 0;
}

static inline uint64_t
ms_zigzag_encode (int64_t value)
{
  return ((uint64_t) value << 1) ^ (uint64_t) (value >> 63);
}

static inline int64_t
ms_zigzag_decode (uint64_t value)
{
  return (int64_t) (value >> 1) ^ -(int64_t) (value & 1);
}

MS_END_DECLS
