/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-aggregate's writers: one table on stdout as text, TSV, JSON or
 * folded stacks, and the two JSON documents written into the trace (or
 * -o) directory. */
#pragma once

#include <stdio.h>

#include "ms-agg-report.h"

G_BEGIN_DECLS

typedef enum
{
  MS_AGG_FORMAT_TEXT,
  MS_AGG_FORMAT_TSV,
  MS_AGG_FORMAT_JSON,
  MS_AGG_FORMAT_COLLAPSED,
} MsAggFormat;

/* A table being written: TSV rows go out as they come, text and JSON at
 * ms_agg_table_finish() (text aligns its columns). */
typedef struct _MsAggTable MsAggTable;

MsAggTable *ms_agg_table_new (FILE *out, MsAggFormat format, const char *name, const MsAggColumn *columns,
                              guint n_columns, gboolean estimated);
/* An MsAggRowFunc: USER_DATA is the table. */
void ms_agg_table_add (JsonObject *row, gpointer user_data);
void ms_agg_table_finish (MsAggTable *self);

/* Prints report KIND of REPORT on OUT. FALSE (G_OPTION_ERROR) when the
 * format does not apply to the report. */
gboolean ms_agg_print_report (MsAggReport *report, FILE *out, MsAggReportKind kind, MsAggFormat format,
                              MsAggWeight weight, guint top, GError **error);

/* Writes DIR/PREFIX_comprehensive.json and DIR/PREFIX_resource_rankings.json. */
gboolean ms_agg_write_json_files (MsAggReport *report, const char *dir, const char *prefix, GError **error);

/* The two documents, for tests and --format=json. */
JsonNode *ms_agg_comprehensive_json (MsAggReport *report);
JsonNode *ms_agg_resource_rankings_json (MsAggReport *report);

/* "12.3 MiB", newly allocated. */
char *ms_agg_format_bytes (guint64 bytes);

G_END_DECLS
