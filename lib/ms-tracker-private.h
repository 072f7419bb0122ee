/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The tracker's entry points for the preload shim; not installed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-format.h"
#include "ms-tracker.h"

MS_BEGIN_DECLS

/* Reads MEMSCOPE_* and starts tracing. Called once from the shim's
 * constructor, after the real allocator is resolved. */
MS_INTERNAL void ms_tracker_start_from_env (void);

/* Finishes everything at process exit (the shim's destructor). */
MS_INTERNAL void ms_tracker_process_exit (void);

/* CALL_SITE is the immediate return address into the program (for the
 * frequency table). KIND: MS_RECORD_ALLOC or MS_RECORD_MMAP. */
MS_INTERNAL void ms_tracker_on_alloc (void *ptr, size_t size, uintptr_t call_site, MsRecordKind kind);
MS_INTERNAL void ms_tracker_on_free (void *ptr);
MS_INTERNAL void ms_tracker_on_munmap (void *ptr, size_t size);
/* realloc: before calls ms_tracker_on_realloc_begin (the old block may go
 * away inside libc); after, _end with the result (NULL on failure). */
MS_INTERNAL bool ms_tracker_on_realloc_begin (void *old_ptr);
MS_INTERNAL void ms_tracker_on_realloc_end (void *old_ptr, bool old_was_recorded, void *new_ptr,
                                            size_t size, uintptr_t call_site);
/* dlclose returned: look for unloaded objects (and any new ones). */
MS_INTERNAL void ms_tracker_on_modules_changed (void);
/* Some thread's name changed (pthread_setname_np, prctl). */
MS_INTERNAL void ms_tracker_on_thread_renamed (void);
/* Whether MEMSCOPE_MMAP asked for mmap tracking. */
MS_INTERNAL bool ms_tracker_tracks_mmap (void);

MS_END_DECLS
