/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The loaded objects of the process (path, address range, load bias,
 * build-id), so that raw return addresses can be symbolised offline, even
 * for code that was dlclose'd before the end. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

#define MS_BUILD_ID_MAX 64

typedef struct
{
  uint64_t start;   /* lowest mapped address of the PT_LOAD segments */
  uint64_t size;    /* up to the end of the highest one */
  uint64_t bias;    /* dlpi_addr */
  uint8_t build_id[MS_BUILD_ID_MAX];
  uint32_t build_id_len;
  const char *path; /* valid during the callback only */
} MsModule;

typedef void (*MsModuleFunc) (void *user_data, const MsModule *module, bool loaded);

/* Compares the loaded objects with those seen last time and calls FUNC for
 * each one that appeared (loaded = true) or went away (false). The first
 * call reports everything. Not thread-safe: the caller serialises. */
MS_INTERNAL void ms_module_map_update (MsModuleFunc func, void *user_data);

/* Forgets what was seen (a forked child reports everything again). */
MS_INTERNAL void ms_module_map_reset (void);

/* Whether ADDR lies in an object reported so far. Lock-free and
 * approximate under a concurrent update: a wrong "no" costs a rescan. */
MS_INTERNAL bool ms_module_map_contains (uint64_t addr);

/* A number that changes whenever the loader adds or removes an object
 * (dlpi_adds + dlpi_subs); cheap. */
MS_INTERNAL uint64_t ms_module_map_generation (void);

/* The address range of the object that contains ADDR; false if none. */
MS_INTERNAL bool ms_module_map_find_range (uintptr_t addr, uintptr_t *out_start, uintptr_t *out_end);

MS_END_DECLS
