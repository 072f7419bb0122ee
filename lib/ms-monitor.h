/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsMonitor: samples the resources of running processes (CPU, memory,
 * context switches, page faults, I/O, threads) and of the system (per-core
 * CPU, load, memory, network, disks, NVIDIA GPUs) at a fixed interval, and
 * writes them into a trace file of kind MS_FILE_KIND_RESOURCES.
 *
 * memscope-run uses it from the parent process. A program that instruments
 * itself can run it in-process: the sampling thread is the monitor's own
 * and is never tracked as part of the workload. */
#pragma once

#include <glib.h>

#include "ms-macros.h"

G_BEGIN_DECLS

typedef struct _MsMonitor MsMonitor;

#define MS_MONITOR_DEFAULT_INTERVAL_MSEC 100
#define MS_MONITOR_MIN_INTERVAL_MSEC 10
#define MS_MONITOR_MAX_INTERVAL_MSEC 60000

/* What a run of the monitor saw, over every watched process together. */
typedef struct
{
  guint64 samples;            /* ticks taken */
  guint64 duration_ns;        /* from the first tick to the latest */
  gdouble peak_cpu_percent;   /* CPU time between two ticks over wall time, 100 = one core */
  guint64 peak_rss_bytes;     /* resident memory, summed over the processes of one tick */
  guint64 io_operations;      /* read and write system calls made while monitored (syscr + syscw) */
  guint64 io_read_bytes;      /* bytes read while monitored (rchar) */
  guint64 io_write_bytes;     /* bytes written while monitored (wchar) */
  guint peak_threads;         /* threads, summed over the processes of one tick */
  guint processes;            /* processes sampled at least once */
  guint64 current_rss_bytes;  /* at the latest tick */
  guint current_threads;      /* at the latest tick */
  gboolean gpu;               /* NVIDIA GPUs were sampled */
  guint64 reserved[6];
} MsMonitorSummary;

/**
 * ms_monitor_new:
 * @path: a directory, to write `resources.mst` in it and watch the
 *   processes of its `PID/` subdirectories as they appear (the children
 *   that the preload shim follows); or the path of the file to create
 * @interval_msec: time between samples, from %MS_MONITOR_MIN_INTERVAL_MSEC
 *   to %MS_MONITOR_MAX_INTERVAL_MSEC
 * @error: return location for an error (MS_ERROR_IO, MS_ERROR_FAILED)
 *
 * Creates the file (it must not exist). Nothing is sampled until
 * ms_monitor_start() or ms_monitor_sample().
 *
 * Returns: (transfer full) (nullable): a new monitor
 * Since: 0.1
 */
MS_PUBLIC MsMonitor *ms_monitor_new (const char *path, guint interval_msec, GError **error);

/**
 * ms_monitor_add_pid:
 * @pid: a process to watch, with all its threads, until it exits
 *
 * May be called at any time, from any thread.
 * Since: 0.1
 */
MS_PUBLIC void ms_monitor_add_pid (MsMonitor *self, GPid pid);

/**
 * ms_monitor_add_info:
 * @key: a name
 * @value: its value, which may hold NUL bytes
 * @value_len: the length of @value, or -1 if it is NUL-terminated
 *
 * Writes an INFO record (@key = @value) into the file. The monitor writes
 * `interval_msec`, `gpu` and, unless given here first, `command` (the first
 * watched process's arguments separated by NUL bytes) itself.
 * Since: 0.1
 */
MS_PUBLIC void ms_monitor_add_info (MsMonitor *self, const char *key, const char *value, gssize value_len);

/**
 * ms_monitor_start:
 *
 * Takes a first sample now, in the calling thread, so that even a process
 * that ends at once has one; then starts the sampling thread, which takes
 * one every interval.
 *
 * Returns: %FALSE with @error set if the thread could not be started
 * Since: 0.1
 */
MS_PUBLIC gboolean ms_monitor_start (MsMonitor *self, GError **error);

/**
 * ms_monitor_sample:
 *
 * Takes one sample now, in the calling thread: for programs that want
 * samples at points of their own choosing. Safe while the thread runs.
 * Since: 0.1
 */
MS_PUBLIC void ms_monitor_sample (MsMonitor *self);

/**
 * ms_monitor_stop:
 *
 * Stops the sampling thread (if running), then finishes and closes the
 * file. The summary stays available.
 *
 * Returns: %FALSE with @error set (MS_ERROR_IO) if samples could not be
 *   written, for example on a full disk
 * Since: 0.1
 */
MS_PUBLIC gboolean ms_monitor_stop (MsMonitor *self, GError **error);

/**
 * ms_monitor_get_summary:
 * @out_summary: (out caller-allocates): peaks and totals so far
 *
 * Safe to call while the monitor runs.
 * Since: 0.1
 */
MS_PUBLIC void ms_monitor_get_summary (MsMonitor *self, MsMonitorSummary *out_summary);

/**
 * ms_monitor_free:
 *
 * Stops the monitor if needed, and frees it.
 * Since: 0.1
 */
MS_PUBLIC void ms_monitor_free (MsMonitor *self);

/**
 * ms_monitor_gpu_available:
 *
 * Returns: %TRUE if NVIDIA's NVML library (libnvidia-ml.so.1) can be
 *   loaded and reports at least one device: GPUs will then be sampled
 * Since: 0.1
 */
MS_PUBLIC gboolean ms_monitor_gpu_available (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsMonitor, ms_monitor_free)

G_END_DECLS
