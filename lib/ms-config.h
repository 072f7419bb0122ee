/* SPDX-License-Identifier: LGPL-2.1-or-later
 * What to record: the seeds' SamplingConfig, from the environment
 * (MEMSCOPE_*) or filled in by a program that instruments itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

typedef enum
{
  MS_SAMPLING_EXACT = 0,  /* every event */
  MS_SAMPLING_TIERED = 1, /* > 10 KiB always, 1-10 KiB 10 %, < 1 KiB 1 %, hot call sites boosted */
  MS_SAMPLING_BYTES = 2,  /* Poisson: on average one sample per sample_bytes allocated */
} MsSamplingMode;

#define MS_CONFIG_MAX_DEPTH 256
#define MS_CONFIG_THREADS_MAX 256

typedef struct
{
  MsSamplingMode sampling;
  uint64_t sample_bytes;              /* mean bytes between samples, MS_SAMPLING_BYTES */
  uint32_t depth;                     /* frames kept per stack, 1..MS_CONFIG_MAX_DEPTH */
  uint64_t min_size;                  /* smaller allocations are not recorded (still counted in the frequency table) */
  size_t buffer_bytes;                /* per-thread window of the trace file */
  bool freq_table;                    /* write the per-call-site frequency table */
  bool track_mmap;                    /* record anonymous mmap/munmap/mremap */
  bool follow_children;               /* exec'd children keep the shim */
  bool debug;                         /* say what the shim does on stderr */
  char threads[MS_CONFIG_THREADS_MAX];/* comma-separated globs of thread names; "" = all */
} MsConfig;

/**
 * ms_config_init:
 * @config: (out): the defaults: exact, depth 64, 64 KiB buffer, frequency table on
 */
MS_PUBLIC void ms_config_init (MsConfig *config);

/**
 * ms_config_parse_sampling:
 * Parses "exact", "tiered" or "bytes:N" into @config. Returns 0 or -EINVAL.
 */
MS_PUBLIC int ms_config_parse_sampling (MsConfig *config, const char *text);

/**
 * ms_config_load_env:
 * Reads MEMSCOPE_SAMPLING, MEMSCOPE_DEPTH, MEMSCOPE_MIN_SIZE, MEMSCOPE_BUFFER,
 * MEMSCOPE_FREQ, MEMSCOPE_MMAP, MEMSCOPE_THREADS, MEMSCOPE_FOLLOW_CHILDREN and
 * MEMSCOPE_DEBUG over the values in @config. Allocation-free. Returns 0, or
 * -EINVAL naming the first bad variable in @out_bad_name (the others are
 * still applied).
 */
MS_PUBLIC int ms_config_load_env (MsConfig *config, const char **out_bad_name);

/* Whether NAME matches one of the comma-separated shell globs in PATTERNS
 * ("" matches everything). Allocation-free. */
MS_PUBLIC bool ms_config_threads_match (const char *patterns, const char *name);

MS_END_DECLS
