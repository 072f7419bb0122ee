/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-crc32c.h"

#include <stdbool.h>
#include <string.h>

#define CRC32C_POLY_REFLECTED 0x82f63b78u

/* Slicing-by-8 tables, built once; 8 KiB of .bss rather than a generated
 * source file. */
static uint32_t table[8][256];
static bool table_ready;

static void
build_table (void)
{
  for (uint32_t i = 0; i < 256; i++)
    {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (CRC32C_POLY_REFLECTED & -(c & 1));
      table[0][i] = c;
    }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
  __atomic_store_n (&table_ready, true, __ATOMIC_RELEASE);
}

static uint32_t
crc32c_soft (uint32_t crc, const uint8_t *p, size_t len)
{
  /* Two threads racing here both build identical tables: harmless. */
  if (!__atomic_load_n (&table_ready, __ATOMIC_ACQUIRE))
    build_table ();

  while (len >= 8)
    {
      uint64_t w;
      memcpy (&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      w = __builtin_bswap64 (w);
#endif
      w ^= crc;
      crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff]
            ^ table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff]
            ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
      p += 8;
      len -= 8;
    }
  while (len--)
    crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__ ((target ("sse4.2"))) static uint32_t
crc32c_sse42 (uint32_t crc, const uint8_t *p, size_t len)
{
  uint64_t c = crc;
  while (len >= 8)
    {
      uint64_t w;
      memcpy (&w, p, 8);
      c = __builtin_ia32_crc32di (c, w);
      p += 8;
      len -= 8;
    }
  uint32_t c32 = (uint32_t) c;
  while (len--)
    c32 = __builtin_ia32_crc32qi (c32, *p++);
  return c32;
}

static bool
have_sse42 (void)
{
  static int cached = -1; /* racing initialisers agree */
  int v = __atomic_load_n (&cached, __ATOMIC_RELAXED);
  if (v < 0)
    {
      __builtin_cpu_init ();
      v = __builtin_cpu_supports ("sse4.2") ? 1 : 0;
      __atomic_store_n (&cached, v, __ATOMIC_RELAXED);
    }
  return v;
}
#endif

uint32_t
ms_crc32c (uint32_t crc, const void *data, size_t len)
{
  crc = ~crc;
#if defined(__x86_64__)
  if (have_sse42 ())
    return ~crc32c_sse42 (crc, data, len);
#endif
  return ~crc32c_soft (crc, data, len);
}
