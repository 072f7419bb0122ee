/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The comprehensive analysis of a trace, for programs that trace
 * themselves: what memscope-aggregate(1) writes, asked for from C. */
#pragma once

#include <glib.h>

#include "ms-macros.h"

G_BEGIN_DECLS

/**
 * ms_export_comprehensive:
 * @trace_dir: a trace directory (ms_tracker_get_directory() after
 *   ms_tracker_stop(), say)
 * @output_dir: (nullable): where the reports go; %NULL for @trace_dir
 * @prefix: (nullable): the reports' name prefix; %NULL for the program's name
 * @out_json_path: (out) (optional) (transfer full): the path of
 *   PREFIX_comprehensive.json
 * @error: return location for an error
 *
 * Writes PREFIX_comprehensive.json and PREFIX_resource_rankings.json by
 * running memscope-aggregate: the one named by the environment variable
 * MEMSCOPE_AGGREGATE, else the installed one, else the first on PATH.
 *
 * Returns: %TRUE when the reports were written
 * Since: 0.1
 */
/**
 * ms_find_comprehensive_report:
 * @dir: a directory memscope-aggregate wrote its reports into
 *
 * Returns: (transfer full) (nullable): the path of the newest
 *   *_comprehensive.json in @dir, or %NULL when there is none
 * Since: 0.1
 */
MS_PUBLIC char *ms_find_comprehensive_report (const char *dir);

MS_PUBLIC gboolean ms_export_comprehensive (const char *trace_dir,
                                            const char *output_dir,
                                            const char *prefix,
                                            char **out_json_path,
                                            GError **error);

G_END_DECLS
