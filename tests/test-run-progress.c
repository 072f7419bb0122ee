/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The status line's allocation counter (cli/ms-run-progress.c) reads trace
 * files while their writers still write: counts must be exact for what is
 * written, grow as it grows, ignore other kinds of files, and be marked
 * estimated when the work budget cuts decoding short. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>

#include "ms-run-progress.h"
#include "ms-writer.h"

static guint64
now_ns (void)
{
  return (guint64) g_get_monotonic_time () * 1000;
}

static void
create (MsWriter *w, const char *path, MsFileKind kind)
{
  MsWriterOptions options = {
    .kind = kind, .pid = 1234, .chunk_bytes = MS_WRITER_MIN_CHUNK_BYTES,
    .start_mono_ns = now_ns (), .start_wall_ns = 1,
  };

  g_assert_cmpint (ms_writer_create (w, path, &options), ==, 0);
}

static guint64 next_addr = 0x100000;

/* N allocations (and as many frees, which do not count) */
static void
add_events (MsWriter *w, guint n)
{
  MsRecord r;

  for (guint i = 0; i < n; i++)
    {
      memset (&r, 0, sizeof r);
      r.kind = (i % 7 == 0) ? MS_RECORD_REALLOC : MS_RECORD_ALLOC;
      r.time_ns = now_ns ();
      r.u.event.addr = next_addr += 64;
      r.u.event.size = 40 + i % 100;
      r.u.event.weight = MS_WEIGHT_ONE;
      g_assert_cmpint (ms_writer_add (w, &r), ==, 0);
      r.kind = MS_RECORD_FREE;
      g_assert_cmpint (ms_writer_add (w, &r), ==, 0);
    }
}

static void
add_thread_start (MsWriter *w, guint64 tid)
{
  MsRecord r;

  memset (&r, 0, sizeof r);
  r.kind = MS_RECORD_THREAD_START;
  r.time_ns = now_ns ();
  r.u.thread.tid = tid;
  g_assert_cmpint (ms_writer_add (w, &r), ==, 0);
}

static void
test_progress_incremental (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-test-progress-XXXXXX", NULL);
  g_autofree char *child_dir = g_build_filename (dir, "4321", NULL);
  g_autofree char *t0 = g_build_filename (dir, "thread-0.mst", NULL);
  g_autofree char *t1 = g_build_filename (child_dir, "thread-0.mst", NULL);
  g_autofree char *res = g_build_filename (dir, "resources.mst", NULL);
  g_autoptr (MsRunProgress) progress = ms_run_progress_new (dir);
  MsRunProgressCounts counts;
  MsWriter w0, w1, wr;

  g_assert_cmpint (g_mkdir (child_dir, 0700), ==, 0);
  ms_run_progress_update (progress, G_MAXSIZE, &counts);
  g_assert_cmpuint (counts.allocations, ==, 0);

  create (&w0, t0, MS_FILE_KIND_THREAD);
  create (&wr, res, MS_FILE_KIND_RESOURCES);
  add_events (&wr, 50); /* not a thread file: never counted */
  add_thread_start (&w0, 1);
  add_events (&w0, 10); /* the open first chunk */
  ms_run_progress_update (progress, G_MAXSIZE, &counts);
  g_assert_cmpuint (counts.allocations, ==, 10);
  g_assert_cmpuint (counts.threads, ==, 1);
  g_assert_false (counts.estimated);

  add_events (&w0, 5000); /* several sealed chunks and an open one */
  create (&w1, t1, MS_FILE_KIND_THREAD);
  add_thread_start (&w1, 2);
  add_events (&w1, 7);
  ms_run_progress_update (progress, G_MAXSIZE, &counts);
  g_assert_cmpuint (counts.allocations, ==, 5017);
  g_assert_cmpuint (counts.threads, ==, 2);
  ms_run_progress_update (progress, G_MAXSIZE, &counts); /* nothing new */
  g_assert_cmpuint (counts.allocations, ==, 5017);

  add_events (&w1, 3);
  g_assert_cmpint (ms_writer_close (&w1), ==, 0);
  g_assert_cmpint (ms_writer_close (&w0), ==, 0);
  g_assert_cmpint (ms_writer_close (&wr), ==, 0);
  ms_run_progress_update (progress, G_MAXSIZE, &counts);
  g_assert_cmpuint (counts.allocations, ==, 5020);
  g_assert_false (counts.estimated);

  g_unlink (t1);
  g_rmdir (child_dir);
  g_unlink (t0);
  g_unlink (res);
  g_rmdir (dir);
}

static void
test_progress_budget (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-test-progress-XXXXXX", NULL);
  g_autofree char *t0 = g_build_filename (dir, "thread-0.mst", NULL);
  g_autoptr (MsRunProgress) progress = ms_run_progress_new (dir);
  MsRunProgressCounts counts;
  MsWriter w;

  create (&w, t0, MS_FILE_KIND_THREAD);
  add_events (&w, 3000);
  ms_run_progress_update (progress, G_MAXSIZE, &counts);
  g_assert_cmpuint (counts.allocations, ==, 3000);
  add_events (&w, 30000);
  /* no budget: whole chunks are estimated from the rate seen so far */
  ms_run_progress_update (progress, 0, &counts);
  g_assert_true (counts.estimated);
  g_test_message ("estimated %" G_GUINT64_FORMAT " of 33000", counts.allocations);
  g_assert_cmpuint (counts.allocations, >=, 33000 * 8 / 10);
  g_assert_cmpuint (counts.allocations, <=, 33000 * 12 / 10);
  g_assert_cmpint (ms_writer_close (&w), ==, 0);
  g_unlink (t0);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memscope/run/progress/incremental", test_progress_incremental);
  g_test_add_func ("/memscope/run/progress/budget", test_progress_budget);
  return g_test_run ();
}
