/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The tracker: records allocations, frees and their stacks per thread into
 * a trace directory. The preload shim drives it from its malloc wrappers;
 * a program can drive it itself through this API (libmemscope.so).
 *
 * Every function here is allocation-free after ms_tracker_start() and
 * safe to call from inside an allocator. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ms-config.h"
#include "ms-macros.h"

MS_BEGIN_DECLS

/**
 * ms_tracker_start:
 * @dir: the trace directory (created 0700 if missing)
 * @config: (nullable): what to record; %NULL for the defaults
 *
 * Starts tracing for the whole process: every thread that then reports an
 * event gets a thread tracker of its own. Writes DIR/process.mst, or
 * DIR/PID/process.mst when DIR already holds another process's trace.
 *
 * Returns: 0, or a negative errno (nothing is traced then)
 * Since: 0.1
 */
MS_PUBLIC int ms_tracker_start (const char *dir, const MsConfig *config);

/**
 * ms_tracker_get_directory:
 *
 * Returns: (nullable) (transfer none): the directory this process's trace
 *   files went into (DIR, DIR/PID or DIR/PID-execN), or %NULL before a
 *   successful ms_tracker_start(); valid until the process forks.
 */
MS_PUBLIC const char *ms_tracker_get_directory (void);

/**
 * ms_tracker_stop:
 *
 * Stops tracing for the whole process: finishes the calling thread's
 * tracker and every idle one, and closes the process file. Other threads
 * finish theirs at their next event.
 */
MS_PUBLIC void ms_tracker_stop (void);

/**
 * ms_tracker_thread_init:
 *
 * Gives the calling thread its thread tracker now (otherwise that happens
 * at its first event). Returns 0 or a negative errno.
 */
MS_PUBLIC int ms_tracker_thread_init (void);

/**
 * ms_tracker_thread_finalize:
 *
 * Finishes the calling thread's tracker: writes its frequency table and the
 * end of the thread, and hands its file to the next thread that starts.
 */
MS_PUBLIC void ms_tracker_thread_finalize (void);

/**
 * ms_tracker_ignore_current_thread:
 *
 * The calling thread's events are never recorded (monitor threads).
 */
MS_PUBLIC void ms_tracker_ignore_current_thread (void);

/**
 * ms_tracker_track_alloc:
 * @ptr: the new block
 * @size: its size in bytes
 *
 * Records an allocation with the caller's stack.
 */
MS_PUBLIC void ms_tracker_track_alloc (void *ptr, size_t size);

/**
 * ms_tracker_track_alloc_with_stack:
 * @ips: (array length=n_ips): return addresses, innermost first
 *
 * Records an allocation with a stack the caller captured.
 */
MS_PUBLIC void ms_tracker_track_alloc_with_stack (void *ptr, size_t size, const uintptr_t *ips, unsigned n_ips);

/**
 * ms_tracker_track_free:
 * @ptr: a block about to be freed: call this before freeing it
 */
MS_PUBLIC void ms_tracker_track_free (void *ptr);

/**
 * ms_tracker_track_realloc:
 * @old_ptr: (nullable): the block that was resized, as passed to realloc
 * @new_ptr: what realloc returned (not %NULL)
 * @size: the new size
 */
MS_PUBLIC void ms_tracker_track_realloc (void *old_ptr, void *new_ptr, size_t size);

/**
 * ms_tracker_label:
 * @ptr: a live block (or any address)
 * @size: its size, or 0 for "the block's own size"
 * @name: a variable name
 * @type: (nullable): a type name
 *
 * Labels the block at @ptr so that reports show the variable's name.
 */
MS_PUBLIC void ms_tracker_label (const void *ptr, size_t size, const char *name, const char *type);

/* The pointed-to type of a pointer, for common types (C11). */
#define MS_POINTEE_TYPE_NAME(p)                                                  \
  _Generic ((p), char *: "char", signed char *: "signed char",                    \
            unsigned char *: "unsigned char", short *: "short",                   \
            unsigned short *: "unsigned short", int *: "int",                     \
            unsigned int *: "unsigned int", long *: "long",                       \
            unsigned long *: "unsigned long", long long *: "long long",           \
            unsigned long long *: "unsigned long long", float *: "float",         \
            double *: "double", void *: "void", char **: "char *",                \
            void **: "void *", default: "?")

/**
 * ms_track_var:
 * @ptr_var: a pointer variable that holds a heap block
 *
 * Labels the block @ptr_var points to with the variable's name and its
 * pointed-to type (for common types; "?" otherwise); the size recorded is
 * 0, "the block's own size", which readers take from its allocation.
 * ms_track_var_as (ptr, Type) names the type explicitly.
 */
#define ms_track_var(ptr_var) \
  ms_tracker_label ((const void *) (ptr_var), 0, #ptr_var, MS_POINTEE_TYPE_NAME (ptr_var))
#define ms_track_var_as(ptr_var, type) \
  ms_tracker_label ((const void *) (ptr_var), 0, #ptr_var, #type)

MS_END_DECLS
