/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-trace(5) in C: the on-disk layout of a trace file, version 1.0.
 * man/memscope-trace.5 is the normative description; keep the two in sync. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

#define MS_FORMAT_MAJOR 1
#define MS_FORMAT_MINOR 0

/* PNG-style: the high byte catches 7-bit transfers, CR LF / LF catch newline
 * translation, ^Z stops "type" on DOS. */
#define MS_FILE_MAGIC "\x89MST\r\n\x1a\n"
#define MS_FILE_MAGIC_BYTES 8

#define MS_BYTE_ORDER_LITTLE 1
#define MS_BYTE_ORDER_BIG 2

typedef enum
{
  MS_FILE_KIND_PROCESS = 1,   /* process-wide records: modules, config, info */
  MS_FILE_KIND_THREAD = 2,    /* events of one or more threads, one after the other */
  MS_FILE_KIND_RESOURCES = 3, /* resource samples written by the monitor */
} MsFileKind;

/* The file header, at offset 0. Fields are in the writer's byte order,
 * named by byte_order; the reader swaps. */
typedef struct
{
  uint8_t magic[8];           /* MS_FILE_MAGIC */
  uint16_t major;             /* MS_FORMAT_MAJOR of the writer */
  uint16_t minor;             /* MS_FORMAT_MINOR of the writer */
  uint8_t byte_order;         /* MS_BYTE_ORDER_* */
  uint8_t pointer_bytes;      /* sizeof (void *) in the traced process */
  uint16_t header_bytes;      /* sizeof (MsFileHeader): where chunk 0 starts */
  uint32_t file_kind;         /* MsFileKind */
  uint32_t pid;               /* process that wrote the file */
  uint64_t start_wall_ns;     /* CLOCK_REALTIME at creation, ns since the Unix epoch */
  uint64_t start_mono_ns;     /* CLOCK_MONOTONIC at creation, ns: the time base of every record */
  uint8_t time_shift;         /* record time deltas count units of 2^time_shift ns (0..20) */
  uint8_t reserved0[3];       /* 0 */
  uint32_t reserved[4];       /* 0; room for 1.x additions without moving crc */
  uint32_t header_crc;        /* CRC-32C of bytes [0, 60) */
} MsFileHeader;

/* Chunk flags. SEALED is stored last, after every other header field. */
#define MS_CHUNK_SEALED 0x1u /* stored_bytes, raw_bytes and crc are valid */
#define MS_CHUNK_ZSTD 0x2u   /* payload is one zstd frame of raw_bytes */

#define MS_CHUNK_MAGIC 0x4b43534du /* "MSCK" read as a little-endian u32 */

/* Every chunk starts with this header; chunks follow each other through
 * span_bytes. A writer that dies leaves its last chunk unsealed: its
 * payload then ends at the first record whose tag byte is 0. */
typedef struct
{
  uint32_t magic;          /* MS_CHUNK_MAGIC: lets a reader resynchronise after damage */
  uint32_t flags;          /* MS_CHUNK_*; 0 while the writer is still filling it */
  uint32_t seq;            /* 0, 1, 2 ... within the file: a gap means chunks were lost */
  uint32_t span_bytes;     /* from this header to the next chunk header (multiple of 8) */
  uint32_t stored_bytes;   /* payload bytes as stored (after the header) */
  uint32_t raw_bytes;      /* payload bytes once decompressed (= stored_bytes unless ZSTD) */
  uint64_t base_time_ns;   /* CLOCK_MONOTONIC; the first record's time is relative to it */
  uint32_t crc;            /* CRC-32C of header bytes [8, 32) followed by the stored payload */
  uint32_t reserved;       /* 0 */
} MsChunkHeader;

/* Record kinds. The first byte of every record is its kind (the "tag");
 * 0 never starts a record and marks the end of an unsealed chunk's data.
 *
 * Kinds below MS_RECORD_FIRST_SIZED are the hot events: their fields follow
 * the tag directly, because a length byte per event would cost 15 % of the
 * trace. Their layout is frozen for major version 1; a minor version adds
 * only sized kinds. Sized kinds carry a LEB128 payload length right after
 * the tag, so any reader can skip a kind it does not know. */
typedef enum
{
  MS_RECORD_END = 0x00,
  /* hot: dt, size, addr, stack */
  MS_RECORD_ALLOC = 0x01,
  /* hot: dt, addr */
  MS_RECORD_FREE = 0x02,
  /* hot: dt, size, old_addr, addr, stack */
  MS_RECORD_REALLOC = 0x03,
  /* hot: ALLOC followed by weight */
  MS_RECORD_ALLOC_SAMPLED = 0x04,
  /* hot: REALLOC followed by weight */
  MS_RECORD_REALLOC_SAMPLED = 0x05,
  /* hot: dt, size, addr, stack, weight (anonymous mmap, MEMSCOPE_MMAP=1) */
  MS_RECORD_MMAP = 0x06,
  /* hot: dt, size, addr */
  MS_RECORD_MUNMAP = 0x07,

  MS_RECORD_FIRST_SIZED = 0x10,
  MS_RECORD_STACK_NODE = 0x10,     /* dt, id, parent, ip */
  MS_RECORD_THREAD_START = 0x11,   /* dt, tid */
  MS_RECORD_THREAD_NAME = 0x12,    /* dt, tid, name */
  MS_RECORD_THREAD_END = 0x13,     /* dt, tid */
  MS_RECORD_MODULE_LOAD = 0x14,    /* dt, start, size, bias, build_id, path */
  MS_RECORD_MODULE_UNLOAD = 0x15,  /* dt, start */
  MS_RECORD_LOST = 0x16,           /* dt, events, reason */
  MS_RECORD_FREQ = 0x17,           /* dt, tid, ip, count, bytes */
  MS_RECORD_INFO = 0x18,           /* dt, key, value */
  MS_RECORD_RESOURCE = 0x19,       /* dt, scope, id, n, value[n] */
  MS_RECORD_LABEL = 0x1a,          /* dt, addr, size, name, type */
  MS_RECORD_CLOSE = 0x1b,          /* dt, allocs, frees, bytes_allocated, bytes_freed, lost */
  MS_RECORD_LAST_KNOWN = 0x1b,
} MsRecordKind;

/* Why events were lost (MS_RECORD_LOST reason). */
typedef enum
{
  MS_LOST_REASON_UNKNOWN = 0,
  MS_LOST_REASON_WRITE_FAILED = 1, /* the output could not grow: errno in the INFO "error" */
  MS_LOST_REASON_NO_SPACE = 2,     /* ENOSPC / EDQUOT */
  MS_LOST_REASON_STACK_TABLE_FULL = 3,
  MS_LOST_REASON_INTERNAL = 4,
} MsLostReason;

/* Resource sample scopes (MS_RECORD_RESOURCE); memscope-trace(5) lists the
 * value order of each. A newer writer may append values; readers ignore
 * values past the ones they know. */
typedef enum
{
  MS_RESOURCE_PROCESS = 1, /* id = pid */
  MS_RESOURCE_THREAD = 2,  /* id = tid */
  MS_RESOURCE_SYSTEM = 3,  /* id = 0 */
  MS_RESOURCE_CPU = 4,     /* id = core index */
  MS_RESOURCE_GPU = 5,     /* id = device index */
} MsResourceScope;

/* Value order of each resource scope. Counters are cumulative since the
 * process (or boot) started, as /proc gives them; readers difference
 * successive samples for rates. Times are ns, sizes bytes. */
typedef enum
{
  MS_RES_PROC_RSS = 0, MS_RES_PROC_HWM, MS_RES_PROC_VSIZE, MS_RES_PROC_UTIME_NS,
  MS_RES_PROC_STIME_NS, MS_RES_PROC_VOLUNTARY_CS, MS_RES_PROC_INVOLUNTARY_CS,
  MS_RES_PROC_MINFLT, MS_RES_PROC_MAJFLT, MS_RES_PROC_RCHAR, MS_RES_PROC_WCHAR,
  MS_RES_PROC_SYSCR, MS_RES_PROC_SYSCW, MS_RES_PROC_READ_BYTES, MS_RES_PROC_WRITE_BYTES,
  MS_RES_PROC_THREADS, MS_RES_PROC_N_VALUES
} MsResourceProcessValue;

typedef enum
{
  MS_RES_THREAD_UTIME_NS = 0, MS_RES_THREAD_STIME_NS, MS_RES_THREAD_VOLUNTARY_CS,
  MS_RES_THREAD_INVOLUNTARY_CS, MS_RES_THREAD_MINFLT, MS_RES_THREAD_MAJFLT,
  MS_RES_THREAD_PID, MS_RES_THREAD_N_VALUES
} MsResourceThreadValue;

typedef enum
{
  MS_RES_SYS_MEM_TOTAL = 0, MS_RES_SYS_MEM_AVAILABLE, MS_RES_SYS_LOAD1_X100,
  MS_RES_SYS_LOAD5_X100, MS_RES_SYS_LOAD15_X100, MS_RES_SYS_NET_RX_BYTES,
  MS_RES_SYS_NET_TX_BYTES, MS_RES_SYS_DISK_READ_SECTORS, MS_RES_SYS_DISK_WRITE_SECTORS,
  MS_RES_SYS_N_CPUS, MS_RES_SYS_N_VALUES
} MsResourceSystemValue;

typedef enum
{
  MS_RES_CPU_USER_NS = 0, MS_RES_CPU_NICE_NS, MS_RES_CPU_SYSTEM_NS, MS_RES_CPU_IDLE_NS,
  MS_RES_CPU_IOWAIT_NS, MS_RES_CPU_IRQ_NS, MS_RES_CPU_SOFTIRQ_NS, MS_RES_CPU_STEAL_NS,
  MS_RES_CPU_N_VALUES
} MsResourceCpuValue;

typedef enum
{
  MS_RES_GPU_UTIL_PERCENT = 0, MS_RES_GPU_MEM_USED, MS_RES_GPU_MEM_TOTAL, MS_RES_GPU_N_VALUES
} MsResourceGpuValue;

/* Weights of sampled events are fixed point: 1.0 is this value. */
#define MS_WEIGHT_ONE 65536u

/* The coarsest time unit a file may use: 2^20 ns, about a millisecond. */
#define MS_MAX_TIME_SHIFT 20

/* Upper bounds that keep a reader's memory bounded on hostile input. */
#define MS_MAX_CHUNK_SPAN (64u * 1024u * 1024u)
#define MS_MAX_STRING_BYTES 65536u
#define MS_MAX_RESOURCE_VALUES 256u

/* Bytes one hot record can take at most: tag + 6 varints of 10 bytes. */
#define MS_HOT_RECORD_MAX_BYTES 64u

MS_STATIC_ASSERT (sizeof (MsFileHeader) == 64);
MS_STATIC_ASSERT (offsetof (MsFileHeader, start_wall_ns) == 24);
MS_STATIC_ASSERT (offsetof (MsFileHeader, time_shift) == 40);
MS_STATIC_ASSERT (offsetof (MsFileHeader, header_crc) == 60);
MS_STATIC_ASSERT (sizeof (MsChunkHeader) == 40);
MS_STATIC_ASSERT (offsetof (MsChunkHeader, base_time_ns) == 24);
MS_STATIC_ASSERT (offsetof (MsChunkHeader, crc) == 32);

MS_END_DECLS
