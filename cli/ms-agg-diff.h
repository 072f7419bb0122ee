/* SPDX-License-Identifier: LGPL-2.1-or-later
 * --diff: what grew and shrank between two runs, per call stack. Stacks
 * are matched by their folded text (function names, or module+offset),
 * never by address: the two runs had different address layouts. */
#pragma once

#include <stdio.h>

#include "ms-agg-output.h"

G_BEGIN_DECLS

typedef struct _MsAggDiffSide MsAggDiffSide;

/* Every stack of a finished report. */
MsAggDiffSide *ms_agg_diff_side_from_report (MsAggReport *report);
/* A PREFIX_comprehensive.json written earlier (its "stacks" table). */
MsAggDiffSide *ms_agg_diff_side_from_json (const char *path, GError **error);
void ms_agg_diff_side_free (MsAggDiffSide *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAggDiffSide, ms_agg_diff_side_free)

/* Prints the comparison as a table (first row: "[total]"). */
void ms_agg_diff_print (const MsAggDiffSide *base, const MsAggDiffSide *current, FILE *out, MsAggFormat format,
                        guint top);

/* TRUE when leaked or peak bytes grew by more than THRESHOLD; *OUT_WHAT
 * says which and by how much. */
gboolean ms_agg_diff_grew (const MsAggDiffSide *base, const MsAggDiffSide *current, guint64 threshold,
                           char **out_what);

G_END_DECLS
