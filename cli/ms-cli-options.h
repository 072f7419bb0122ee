/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Option handling shared by the memscope programs: a GOptionContext set up
 * the same way everywhere (translated, with --version), and parsers for
 * option values that report usage errors naming the option. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A context whose --help is translated, with ENTRIES as main entries and
 * a --version option that prints the version and exits. */
GOptionContext *ms_cli_option_context_new (const char *parameter_string,
                                           const char *summary,
                                           const GOptionEntry *entries);

/* Each parses TEXT, the value given to OPTION (its name as the user typed
 * it, for the message), and sets *OUT only on success; on failure they
 * return FALSE with an MS_CLI_ERROR_USAGE error. */

/* A whole decimal number in [MIN, MAX]. */
gboolean ms_cli_parse_uint (const char *option, const char *text, guint64 min, guint64 max,
                            guint64 *out, GError **error);

/* A size in bytes in [MIN, MAX]: a number with an optional binary suffix,
 * K, M or G (KiB, MiB and GiB are accepted too): 4096, 64K, 2M. */
gboolean ms_cli_parse_size (const char *option, const char *text, guint64 min, guint64 max,
                            guint64 *out, GError **error);

/* The index in CHOICES (NULL-terminated) of the word TEXT. */
gboolean ms_cli_parse_choice (const char *option, const char *text, const char *const *choices,
                              guint *out, GError **error);

/* A human-readable size for messages and summaries: "512 bytes", "3.4 MiB". */
char *ms_cli_format_bytes (guint64 bytes);

G_END_DECLS
