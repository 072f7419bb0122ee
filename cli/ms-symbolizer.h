/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsSymbolizer: offline symbolisation of recorded return addresses with
 * libdwfl, from the module map each process recorded. Each (process, ip)
 * is resolved once; binaries are found by path (under --sysroot) and by
 * build-id (under the debug directories); a binary rebuilt since the run
 * is reported as stale instead of being trusted. */
#pragma once

#include <glib.h>

#include "ms-agg-trace.h"

G_BEGIN_DECLS

typedef struct
{
  char *function;         /* NULL when no symbol covers the address */
  char *file;             /* NULL when there is no line information */
  guint line;
  gboolean inlined;       /* this frame was inlined into the next one */
} MsSymFrame;

typedef enum
{
  MS_SYM_OK,              /* the module's binary was found and matches */
  MS_SYM_NO_MODULE,       /* no recorded module covers the address */
  MS_SYM_MISSING,         /* the binary is not there (or not readable) */
  MS_SYM_STALE,           /* the binary's build-id differs from the recorded one */
} MsSymStatus;

typedef struct
{
  guint64 ip;
  MsSymStatus status;
  const char *module;     /* the module's path as recorded; NULL for MS_SYM_NO_MODULE */
  guint64 offset;         /* ip - load bias: the address in the binary */
  guint n_frames;         /* >= 1: innermost (inlined) first, the real function last */
  MsSymFrame *frames;    /* the symbolizer's, shared by every location at this offset of the binary */
} MsSymLocation;

typedef struct _MsSymbolizer MsSymbolizer;

/* SYSROOT (nullable) prefixes every module path; DEBUG_DIRS (nullable)
 * are searched by build-id and debuglink before /usr/lib/debug. */
MsSymbolizer *ms_symbolizer_new (const char *sysroot, const char *const *debug_dirs);
void ms_symbolizer_free (MsSymbolizer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSymbolizer, ms_symbolizer_free)

/* Resolves the return address IP recorded by PROCESS (whose index in the
 * trace is PROCESS_INDEX) at TIME_NS. The result lives as long as SELF. */
const MsSymLocation *ms_symbolizer_resolve (MsSymbolizer *self, const MsAggProcessInfo *process,
                                            guint process_index, guint64 ip, guint64 time_ns);

/* One line per module that could not be used: missing, stale, unreadable. */
GPtrArray *ms_symbolizer_get_warnings (MsSymbolizer *self);

/* How many distinct addresses were resolved (each only once). */
guint ms_symbolizer_get_n_resolved (MsSymbolizer *self);

/* "function" or "module+0xoffset" (or "0xip"), newly allocated. */
char *ms_sym_frame_label (const MsSymLocation *loc, guint frame);

G_END_DECLS
