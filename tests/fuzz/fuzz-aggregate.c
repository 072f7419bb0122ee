/* SPDX-License-Identifier: LGPL-2.1-or-later
 * libFuzzer target for memscope-aggregate: an input is a whole trace
 * directory (a process, its thread files, resources, a child process),
 * and goes through everything the program does with one: the merge, the
 * aggregation, symbolisation, every report in every format, both JSON
 * documents and a diff against itself. No crash, no hang, bounded memory
 * (the sanitizers and libFuzzer's limits check those), and:
 *
 *   - the tallies agree: what is live in all stacks, in all threads and in
 *     all processes is what is live in the whole trace, in count and in
 *     bytes (a block is retired with the very weight and size it came
 *     with, so this holds for sampled traces too);
 *   - the peak is at least what leaked;
 *   - a run diffed against itself shows no growth.
 *
 * Input layout: records of [file id: 1 byte][length: 3 bytes LE][bytes];
 * the id picks one of the paths below. Sealed chunks rarely keep a valid
 * CRC-32C under mutation, which would keep the fuzzer out of the decoder,
 * so every input is also tried with its checksums repaired. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ms-agg-diff.h"
#include "ms-agg-output.h"
#include "ms-agg-run.h"
#include "ms-crc32c.h"
#include "ms-format.h"
#include "test-util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const paths[] = {
  "process.mst", "thread-0.mst", "thread-1.mst", "thread-2.mst", "resources.mst", "777/process.mst", "777/thread-0.mst",
};

static char *work_dir;

static void
remove_work_dir (void)
{
  if (work_dir)
    ms_test_rm_rf (work_dir);
}

static const char *
get_work_dir (void)
{
  if (work_dir == NULL)
    {
      const char *base = g_getenv ("MS_FUZZ_TMPDIR");
      if (base == NULL)
        base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
      g_autofree char *tmpl = g_build_filename (base, "ms-fuzz-agg-XXXXXX", NULL);
      work_dir = g_mkdtemp (g_steal_pointer (&tmpl));
      g_assert_nonnull (work_dir);
      atexit (remove_work_dir);
    }
  return work_dir;
}

/* Recomputes the header's and every sealed chunk's CRC-32C in place. */
static void
repair_checksums (guint8 *data, gsize size)
{
  MsFileHeader h;

  if (size < sizeof h)
    return;
  memcpy (&h, data, sizeof h);
  h.header_crc = ms_crc32c (0, data, offsetof (MsFileHeader, header_crc));
  memcpy (data + offsetof (MsFileHeader, header_crc), &h.header_crc, sizeof h.header_crc);

  gsize at = h.header_bytes >= sizeof h ? h.header_bytes : sizeof h;
  while (at + sizeof (MsChunkHeader) <= size)
    {
      MsChunkHeader c;
      memcpy (&c, data + at, sizeof c);
      if (c.span_bytes < sizeof c || c.span_bytes % 8)
        return;
      if ((c.flags & MS_CHUNK_SEALED) && c.stored_bytes <= size - at - sizeof c)
        {
          guint32 crc = ms_crc32c (0, data + at + 8, 24);
          c.crc = ms_crc32c (crc, data + at + sizeof c, c.stored_bytes);
          memcpy (data + at + offsetof (MsChunkHeader, crc), &c.crc, sizeof c.crc);
        }
      at += c.span_bytes;
    }
}

static void
write_files (const char *dir, const uint8_t *data, size_t size, gboolean repair)
{
  g_autofree char *child = g_build_filename (dir, "777", NULL);

  g_mkdir (child, 0700);
  while (size >= 4)
    {
      guint id = data[0] % G_N_ELEMENTS (paths);
      gsize len = MIN ((gsize) (data[1] | data[2] << 8 | data[3] << 16), size - 4);
      g_autofree char *path = g_build_filename (dir, paths[id], NULL);
      g_autofree guint8 *copy = g_memdup2 (data + 4, len);

      if (repair)
        repair_checksums (copy, len);
      g_file_set_contents (path, (const char *) copy, (gssize) len, NULL);
      data += 4 + len;
      size -= 4 + len;
    }
}

static void
print_everything (MsAggReport *report)
{
  FILE *null = fopen ("/dev/null", "w");

  g_assert_nonnull (null);
  for (guint k = 0; k < MS_AGG_REPORT_N; k++)
    for (guint f = MS_AGG_FORMAT_TEXT; f <= MS_AGG_FORMAT_COLLAPSED; f++)
      {
        g_autoptr (GError) error = NULL;
        ms_agg_print_report (report, null, k, f, MS_AGG_WEIGHT_BYTES, f == MS_AGG_FORMAT_TEXT ? 20 : 0, &error);
      }
  fclose (null);
}

static void
check_invariants (MsAggRun *run)
{
  MsAggregator *agg = run->agg;

  MsAggTally stacks = { 0 }, threads = { 0 };
  for (guint i = 0; i < agg->stacks->len; i++)
    {
      const MsAggStack *s = ms_aggregator_stack (agg, i);
      stacks.n_w += s->live.n_w;
      stacks.bytes += s->live.bytes;
      g_assert_cmpuint (s->live.n_w, <=, s->allocated.n_w);
    }
  for (guint i = 0; i < agg->threads->len; i++)
    {
      const MsAggThread *t = g_ptr_array_index (agg->threads, i);
      threads.n_w += t->live.n_w;
      threads.bytes += t->live.bytes;
    }
  g_assert_cmpuint (stacks.n_w, ==, agg->all.live.n_w);
  g_assert_cmpuint (stacks.bytes, ==, agg->all.live.bytes);
  g_assert_cmpuint (threads.n_w, ==, agg->all.live.n_w);
  g_assert_cmpuint (threads.bytes, ==, agg->all.live.bytes);
  g_assert_cmpuint (agg->all.peak_bytes, >=, agg->all.live.bytes);

  g_autoptr (MsAggDiffSide) a = ms_agg_diff_side_from_report (run->report);
  g_autoptr (MsAggDiffSide) b = ms_agg_diff_side_from_report (run->report);
  g_autofree char *what = NULL;
  g_assert_false (ms_agg_diff_grew (a, b, 0, &what));
}

static void
run_once (const char *dir)
{
  g_autoptr (GError) error = NULL;
  /* no binary of the fuzzed module map is ever opened: libdw's parsers
   * are not what is fuzzed here, and reading the system's would be slow */
  MsAggRunOptions options = { .jobs = 1, .sysroot = "/nonexistent-fuzz-sysroot" };
  g_autoptr (MsAggRun) run = ms_agg_run_new (dir, &options, &error);

  if (run == NULL)
    return; /* a clear error: no trace, a newer format */
  check_invariants (run);
  print_everything (run->report);
  json_node_unref (ms_agg_comprehensive_json (run->report));
  json_node_unref (ms_agg_resource_rankings_json (run->report));
  g_ptr_array_unref (ms_agg_report_warnings (run->report));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  for (int repair = 0; repair <= 1; repair++)
    {
      g_autofree char *dir = g_build_filename (get_work_dir (), "t", NULL);
      ms_test_rm_rf (dir);
      g_mkdir (dir, 0700);
      write_files (dir, data, size, repair);
      run_once (dir);
    }
  return 0;
}
