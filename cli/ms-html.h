/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-html's work: the dashboard template (data/dashboard.html,
 * compiled in) filled in with its style, its script, the title and the two
 * JSON reports of memscope-aggregate, streamed into one self-contained
 * HTML file that is written atomically. */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct
{
  const char *title;      /* NULL: "memscope — PROGRAM" (trace.program of the report) */
  const char *rankings;   /* NULL: PREFIX_resource_rankings.json beside the report, if it is there */
  const char *output;     /* NULL: PREFIX_dashboard.html beside the report; "-": standard output */
} MsHtmlOptions;

/* Writes the dashboard of REPORT, a PREFIX_comprehensive.json. On success
 * *OUT_PATH (optional) is the file written, NULL for standard output. On
 * failure nothing is left behind: MS_CLI_ERROR_IO when a file cannot be
 * read or written, MS_CLI_ERROR_DATA when a report is not one that this
 * program can show. */
gboolean ms_html_write_dashboard (const char *report, const MsHtmlOptions *options, char **out_path,
                                  GError **error);

/* Writes the LEN bytes of JSON text DATA to OUT so that they can stand in
 * an HTML <script> element: every "<" becomes \u003c, and U+2028 and
 * U+2029 their \u escapes. These occur only inside strings in JSON, where
 * the escapes mean the same characters: JSON.parse() gives back the very
 * same value. Returns FALSE when writing failed (errno set). */
gboolean ms_html_write_json (FILE *out, const char *data, gsize len);

G_END_DECLS
