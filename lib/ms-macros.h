/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Macros shared by every memscope header. */
#pragma once

#ifdef __cplusplus
# define MS_BEGIN_DECLS extern "C" {
# define MS_END_DECLS }
#else
# define MS_BEGIN_DECLS
# define MS_END_DECLS
#endif

/* Exported from libmemscope.so.0 (the version script has the final word). */
#define MS_PUBLIC __attribute__ ((visibility ("default")))
/* Shared between lib/ files, never exported. */
#define MS_INTERNAL __attribute__ ((visibility ("hidden")))

#define MS_LIKELY(x) __builtin_expect (!!(x), 1)
#define MS_UNLIKELY(x) __builtin_expect (!!(x), 0)

#ifdef __cplusplus
# define MS_STATIC_ASSERT(e) static_assert (e, #e)
#else
# define MS_STATIC_ASSERT(e) _Static_assert (e, #e)
#endif
