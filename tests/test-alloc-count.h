/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Counting the allocator calls a piece of code makes: a test program
 * linked with test-alloc-count.c defines malloc and friends itself,
 * forwarding to glibc's __libc_* entry points; glibc and GLib bind to
 * these definitions too, because the executable comes first in symbol
 * lookup. Under a sanitizer, which owns malloc, nothing is defined and
 * MS_TEST_CAN_COUNT_ALLOCS is 0. */
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define MS_TEST_CAN_COUNT_ALLOCS 0
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#  define MS_TEST_CAN_COUNT_ALLOCS 0
# endif
#endif
#ifndef MS_TEST_CAN_COUNT_ALLOCS
# define MS_TEST_CAN_COUNT_ALLOCS 1
#endif

/* Counts from now on, from zero. Any thread's calls count, which can
 * only make a test stricter. */
void ms_test_alloc_count_start (void);
/* The calls (malloc, calloc, realloc, free, the memalign family) made
 * since the start so far; counting goes on. */
unsigned long ms_test_alloc_count_get (void);
/* Stops counting and returns the count. */
unsigned long ms_test_alloc_count_stop (void);
