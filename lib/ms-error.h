/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The MS_ERROR domain of libmemscope's GLib half. */
#pragma once

#include <glib.h>

#include "ms-macros.h"

G_BEGIN_DECLS

#define MS_ERROR (ms_error_quark ())

typedef enum
{
  /* The file could not be opened or read; the message carries strerror. */
  MS_ERROR_IO,
  /* The file is not a memscope trace (bad magic or header checksum). */
  MS_ERROR_NOT_A_TRACE,
  /* The file's major version is newer than this library reads. */
  MS_ERROR_FORMAT_TOO_NEW,
  /* Damaged data: a checksum mismatch, a malformed record or chunk. Reading
   * may go on: the next call resumes after the damage. */
  MS_ERROR_CORRUPT,
  /* The file ends in the middle of a chunk or header. */
  MS_ERROR_TRUNCATED,
  /* The file ends without its closing record: the writer did not finish
   * (crashed, killed, or still running). Every record it wrote was read. */
  MS_ERROR_INCOMPLETE,
  /* An argument or situation the call cannot handle. */
  MS_ERROR_FAILED,
} MsError;

MS_PUBLIC GQuark ms_error_quark (void);

G_END_DECLS
