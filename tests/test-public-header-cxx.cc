// SPDX-License-Identifier: LGPL-2.1-or-later
// The C++ side of test-public-header.c: <memscope.h> must compile as C++
// (extern "C" linkage, no C-only constructs in its inline functions) and
// its autoptr cleanup must work from C++.
#include <memscope.h>

#include <glib/gstdio.h>

#include <string>

MS_STATIC_ASSERT (sizeof (MsFileHeader) == 64);

static void
test_write_and_read (void)
{
  g_autoptr (GError) error = nullptr;
  g_autofree char *dir = g_dir_make_tmp ("ms-test-header-cxx-XXXXXX", &error);
  g_assert_no_error (error);
  const std::string path = std::string (dir) + "/t.mst";

  MsWriterOptions options = {};
  options.kind = MS_FILE_KIND_THREAD;
  options.pid = 77;
  options.chunk_bytes = MS_WRITER_MIN_CHUNK_BYTES;
  options.start_mono_ns = 1000;
  options.start_wall_ns = 2000;

  MsWriter writer;
  g_assert_cmpint (ms_writer_create (&writer, path.c_str (), &options), ==, 0);

  MsRecord name = {};
  name.kind = MS_RECORD_THREAD_NAME;
  name.time_ns = 1500;
  name.u.thread.tid = 78;
  name.u.thread.name.data = "worker";
  name.u.thread.name.len = 6;
  g_assert_cmpint (ms_writer_add (&writer, &name), ==, 0);

  MsRecord close = {};
  close.kind = MS_RECORD_CLOSE;
  close.time_ns = 1600;
  close.u.close.allocs = 5;
  g_assert_cmpint (ms_writer_add_final (&writer, &close), ==, 0);
  g_assert_cmpint (ms_writer_close (&writer), ==, 0);

  {
    g_autoptr (MsReader) reader = ms_reader_open (path.c_str (), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ms_reader_get_info (reader)->pid, ==, 77);

    MsRecord got;
    g_assert_true (ms_reader_next (reader, &got, &error));
    g_assert_cmpint (got.kind, ==, MS_RECORD_THREAD_NAME);
    g_assert_cmpuint (got.u.thread.tid, ==, 78);
    const std::string got_name (got.u.thread.name.data, got.u.thread.name.len);
    g_assert_cmpstr (got_name.c_str (), ==, "worker");

    g_assert_true (ms_reader_next (reader, &got, &error));
    g_assert_cmpint (got.kind, ==, MS_RECORD_CLOSE);
    g_assert_cmpuint (got.u.close.allocs, ==, 5);

    g_assert_false (ms_reader_next (reader, &got, &error));
    g_assert_no_error (error);
    g_assert_true (ms_reader_get_stats (reader)->closed);
  }

  g_assert_cmpint (g_unlink (path.c_str ()), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  g_test_add_func ("/memscope/public-header/cxx/write-and-read", test_write_and_read);
  return g_test_run ();
}
