/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-agg-run.h"

MsAggRun *
ms_agg_run_new (const char *dir, const MsAggRunOptions *options, GError **error)
{
  g_autoptr (MsAggRun) self = g_new0 (MsAggRun, 1);

  self->trace = ms_agg_trace_dir_open (dir, error);
  if (self->trace == NULL)
    return NULL;
  self->agg = ms_aggregator_new (self->trace);
  ms_aggregator_load_resources (self->agg, self->trace->resources_path);

  g_autoptr (MsAggMerge) merge = ms_agg_merge_new (self->trace, options ? options->jobs : 0);
  ms_aggregator_run (self->agg, merge);

  self->sym = ms_symbolizer_new (options ? options->sysroot : NULL, options ? options->debug_dirs : NULL);
  self->report = ms_agg_report_new (self->agg, self->sym);
  return g_steal_pointer (&self);
}

void
ms_agg_run_free (MsAggRun *self)
{
  if (self == NULL)
    return;
  /* the report borrows the others */
  ms_agg_report_free (self->report);
  ms_symbolizer_free (self->sym);
  ms_aggregator_free (self->agg);
  ms_agg_trace_dir_free (self->trace);
  g_free (self);
}
