/* SPDX-License-Identifier: LGPL-2.1-or-later
 * CRC-32C (Castagnoli), the checksum of memscope-trace(5) headers and chunks. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

/* Continues CRC (0 to start) over LEN bytes of DATA. Allocation-free and
 * safe to call from inside malloc. */
MS_PUBLIC uint32_t ms_crc32c (uint32_t crc, const void *data, size_t len);

MS_END_DECLS
