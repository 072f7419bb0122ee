/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Writer → reader round trips of memscope-trace(5), and the reader's
 * behaviour on truncated, corrupted and versioned files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms-crc32c.h"
#include "ms-error.h"
#include "ms-reader.h"
#include "ms-writer.h"
#include "test-util.h"

typedef MsTestTmpFile Fixture;

static MsWriterOptions
options (size_t chunk_bytes)
{
  return (MsWriterOptions) {
    .kind = MS_FILE_KIND_THREAD,
    .pid = 4242,
    .chunk_bytes = chunk_bytes,
    .start_mono_ns = 1000000,
    .start_wall_ns = 1700000000000000000ull,
  };
}

/* A random record of any known kind; strings point into STRPOOL. */
static void
random_record (GRand *rand, MsRecord *r, guint64 *clock, const char *strpool)
{
  static const MsRecordKind kinds[] = {
    MS_RECORD_ALLOC, MS_RECORD_ALLOC, MS_RECORD_ALLOC, MS_RECORD_FREE, MS_RECORD_FREE,
    MS_RECORD_REALLOC, MS_RECORD_ALLOC_SAMPLED, MS_RECORD_REALLOC_SAMPLED, MS_RECORD_MMAP,
    MS_RECORD_MUNMAP, MS_RECORD_STACK_NODE, MS_RECORD_THREAD_START, MS_RECORD_THREAD_NAME,
    MS_RECORD_THREAD_END, MS_RECORD_MODULE_LOAD, MS_RECORD_MODULE_UNLOAD, MS_RECORD_LOST,
    MS_RECORD_FREQ, MS_RECORD_INFO, MS_RECORD_RESOURCE, MS_RECORD_LABEL,
  };
  guint64 big = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);
  MsBytes s1 = { strpool, (guint32) g_rand_int_range (rand, 0, 200) };
  MsBytes s2 = { strpool + 7, (guint32) g_rand_int_range (rand, 0, 40) };

  memset (r, 0, sizeof *r);
  r->kind = kinds[g_rand_int_range (rand, 0, G_N_ELEMENTS (kinds))];
  *clock += g_rand_boolean (rand) ? (guint64) g_rand_int_range (rand, 0, 300) : g_rand_int (rand);
  r->time_ns = *clock;

  switch (r->kind)
    {
    case MS_RECORD_ALLOC:
    case MS_RECORD_FREE:
    case MS_RECORD_REALLOC:
    case MS_RECORD_ALLOC_SAMPLED:
    case MS_RECORD_REALLOC_SAMPLED:
    case MS_RECORD_MMAP:
    case MS_RECORD_MUNMAP:
      r->u.event.addr = g_rand_boolean (rand) ? 0x7f0000000000ull + 16 * g_rand_int_range (rand, 0, 1 << 20) : big;
      r->u.event.size = r->kind == MS_RECORD_FREE ? 0 : g_rand_int_range (rand, 0, 1 << 16);
      r->u.event.old_addr = (r->kind == MS_RECORD_REALLOC || r->kind == MS_RECORD_REALLOC_SAMPLED) ? big ^ 0x10 : 0;
      r->u.event.stack_id = (r->kind == MS_RECORD_FREE || r->kind == MS_RECORD_MUNMAP) ? 0 : g_rand_int_range (rand, 0, 5000);
      r->u.event.weight = (r->kind == MS_RECORD_ALLOC_SAMPLED || r->kind == MS_RECORD_REALLOC_SAMPLED || r->kind == MS_RECORD_MMAP)
                              ? g_rand_int (rand)
                              : MS_WEIGHT_ONE;
      break;
    case MS_RECORD_STACK_NODE:
      r->u.stack_node.id = 1 + g_rand_int_range (rand, 0, 100000);
      r->u.stack_node.parent = g_rand_int_range (rand, 0, 100000);
      r->u.stack_node.ip = big;
      break;
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      r->u.thread.tid = g_rand_int (rand);
      break;
    case MS_RECORD_THREAD_NAME:
      r->u.thread.tid = g_rand_int (rand);
      r->u.thread.name = s2;
      break;
    case MS_RECORD_MODULE_LOAD:
      r->u.module.start = big;
      r->u.module.size = g_rand_int (rand);
      r->u.module.bias = big - 4096;
      r->u.module.build_id = s2;
      r->u.module.path = s1;
      break;
    case MS_RECORD_MODULE_UNLOAD:
      r->u.module.start = big;
      break;
    case MS_RECORD_LOST:
      r->u.lost.events = g_rand_int (rand);
      r->u.lost.reason = g_rand_int_range (rand, 0, 5);
      break;
    case MS_RECORD_FREQ:
      r->u.freq.tid = g_rand_int (rand);
      r->u.freq.ip = big;
      r->u.freq.count = g_rand_int (rand);
      r->u.freq.bytes = big >> 3;
      break;
    case MS_RECORD_INFO:
      r->u.info.key = s2;
      r->u.info.value = s1;
      break;
    case MS_RECORD_RESOURCE:
      r->u.resource.scope = g_rand_int_range (rand, 1, 6);
      r->u.resource.id = g_rand_int (rand);
      r->u.resource.n_values = g_rand_int_range (rand, 0, 20);
      for (guint i = 0; i < r->u.resource.n_values; i++)
        r->u.resource.values[i] = g_rand_int (rand) * (guint64) i;
      break;
    case MS_RECORD_LABEL:
      r->u.label.addr = big;
      r->u.label.size = g_rand_int (rand);
      r->u.label.name = s2;
      r->u.label.type = s1;
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
assert_bytes_equal (MsBytes a, MsBytes b)
{
  g_assert_cmpuint (a.len, ==, b.len);
  if (a.len)
    g_assert_cmpmem (a.data, a.len, b.data, b.len);
}

static void
assert_record_equal (const MsRecord *a, const MsRecord *b)
{
  g_assert_cmpint (a->kind, ==, b->kind);
  g_assert_cmpuint (a->time_ns, ==, b->time_ns);
  switch (a->kind)
    {
    case MS_RECORD_THREAD_NAME:
      g_assert_cmpuint (a->u.thread.tid, ==, b->u.thread.tid);
      assert_bytes_equal (a->u.thread.name, b->u.thread.name);
      break;
    case MS_RECORD_MODULE_LOAD:
      g_assert_cmpuint (a->u.module.start, ==, b->u.module.start);
      g_assert_cmpuint (a->u.module.size, ==, b->u.module.size);
      g_assert_cmpuint (a->u.module.bias, ==, b->u.module.bias);
      assert_bytes_equal (a->u.module.build_id, b->u.module.build_id);
      assert_bytes_equal (a->u.module.path, b->u.module.path);
      break;
    case MS_RECORD_INFO:
      assert_bytes_equal (a->u.info.key, b->u.info.key);
      assert_bytes_equal (a->u.info.value, b->u.info.value);
      break;
    case MS_RECORD_LABEL:
      g_assert_cmpuint (a->u.label.addr, ==, b->u.label.addr);
      g_assert_cmpuint (a->u.label.size, ==, b->u.label.size);
      assert_bytes_equal (a->u.label.name, b->u.label.name);
      assert_bytes_equal (a->u.label.type, b->u.label.type);
      break;
    case MS_RECORD_RESOURCE:
      g_assert_cmpuint (a->u.resource.scope, ==, b->u.resource.scope);
      g_assert_cmpuint (a->u.resource.id, ==, b->u.resource.id);
      g_assert_cmpuint (a->u.resource.n_values, ==, b->u.resource.n_values);
      for (guint i = 0; i < a->u.resource.n_values; i++)
        g_assert_cmpuint (a->u.resource.values[i], ==, b->u.resource.values[i]);
      break;
    case MS_RECORD_MODULE_UNLOAD:
      g_assert_cmpuint (a->u.module.start, ==, b->u.module.start);
      break;
    case MS_RECORD_STACK_NODE:
      g_assert_cmpmem (&a->u.stack_node, sizeof a->u.stack_node, &b->u.stack_node, sizeof b->u.stack_node);
      break;
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      g_assert_cmpuint (a->u.thread.tid, ==, b->u.thread.tid);
      break;
    case MS_RECORD_LOST:
      g_assert_cmpmem (&a->u.lost, sizeof a->u.lost, &b->u.lost, sizeof b->u.lost);
      break;
    case MS_RECORD_FREQ:
      g_assert_cmpmem (&a->u.freq, sizeof a->u.freq, &b->u.freq, sizeof b->u.freq);
      break;
    case MS_RECORD_CLOSE:
      g_assert_cmpmem (&a->u.close, sizeof a->u.close, &b->u.close, sizeof b->u.close);
      break;
    default:
      g_assert_cmpmem (&a->u.event, sizeof a->u.event, &b->u.event, sizeof b->u.event);
      break;
    }
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261122);
  char strpool[256];
  const guint n_streams = g_test_thorough () ? 5000 : 1000;

  for (guint i = 0; i < sizeof strpool; i++)
    strpool[i] = (char) (' ' + i % 90);

  for (guint stream = 0; stream < n_streams; stream++)
    {
      g_autoptr (GArray) written = g_array_new (FALSE, TRUE, sizeof (MsRecord));
      MsWriter w;
      MsWriterOptions opt = options (MS_WRITER_MIN_CHUNK_BYTES * (1 + stream % 3));
      guint64 clock = opt.start_mono_ns;
      guint n = g_rand_int_range (rand, 0, stream % 10 == 0 ? 20000 : 300);

      g_unlink (f->path);
      g_assert_cmpint (ms_writer_create (&w, f->path, &opt), ==, 0);
      for (guint k = 0; k < n; k++)
        {
          MsRecord r;
          random_record (rand, &r, &clock, strpool);
          g_assert_cmpint (ms_writer_add (&w, &r), ==, 0);
          g_array_append_val (written, r);
        }
      MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = clock, .u.close = { n, 1, 2, 3, 0 } };
      g_assert_cmpint (ms_writer_add_final (&w, &close), ==, 0);
      g_array_append_val (written, close);
      g_assert_cmpint (ms_writer_close (&w), ==, 0);

      g_autoptr (GError) error = NULL;
      g_autoptr (MsReader) reader = ms_reader_open (f->path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (ms_reader_get_info (reader)->pid, ==, 4242);
      g_assert_cmpuint (ms_reader_get_info (reader)->start_mono_ns, ==, opt.start_mono_ns);

      MsRecord got;
      guint k = 0;
      while (ms_reader_next (reader, &got, &error))
        {
          g_assert_cmpuint (k, <, written->len);
          assert_record_equal (&g_array_index (written, MsRecord, k), &got);
          k++;
        }
      g_assert_no_error (error);
      g_assert_cmpuint (k, ==, written->len);
      g_assert_true (ms_reader_get_stats (reader)->closed);
    }
}

/* Writes a sample file of N allocation/free records (plus CLOSE) and
 * returns its records' end offsets, as the reader reports them. */
static GArray *
write_sample (const char *path, guint n, gsize chunk_bytes)
{
  MsWriter w;
  MsWriterOptions opt = options (chunk_bytes);
  guint64 t = opt.start_mono_ns;

  g_unlink (path);
  g_assert_cmpint (ms_writer_create (&w, path, &opt), ==, 0);
  for (guint i = 0; i < n; i++)
    {
      MsRecord r = { .kind = i % 2 ? MS_RECORD_FREE : MS_RECORD_ALLOC, .time_ns = t += 90 + i % 7 };
      r.u.event.addr = 0x5555000000 + 16 * (i / 2 % 100);
      r.u.event.size = i % 2 ? 0 : 24 + i % 50;
      r.u.event.stack_id = i % 2 ? 0 : 1 + i % 9;
      g_assert_cmpint (ms_writer_add (&w, &r), ==, 0);
    }
  MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = t };
  g_assert_cmpint (ms_writer_add_final (&w, &close), ==, 0);
  g_assert_cmpint (ms_writer_close (&w), ==, 0);

  /* record i ends where record i + 1 starts; the last ends at its chunk's
   * payload end, found by reading the file once */
  GArray *starts = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (MsReader) reader = ms_reader_open (path, NULL);
  MsRecord got;
  while (ms_reader_next (reader, &got, NULL))
    g_array_append_val (starts, got.file_offset);
  g_assert_cmpuint (starts->len, ==, n + 1);
  return starts;
}

static guint
count_records (const char *path, GError **error)
{
  g_autoptr (MsReader) reader = ms_reader_open (path, error);
  MsRecord got;
  guint n = 0;

  if (reader == NULL)
    return 0;
  while (ms_reader_next (reader, &got, error))
    n++;
  return n;
}

static void
test_truncation (Fixture *f, gconstpointer data)
{
  const guint n = 4000;
  g_autoptr (GArray) starts = write_sample (f->path, n, MS_WRITER_MIN_CHUNK_BYTES);
  g_autofree char *contents = NULL;
  gsize size;
  g_autofree char *cut_path = g_build_filename (f->dir, "cut.mst", NULL);

  g_assert_true (g_file_get_contents (f->path, &contents, &size, NULL));
  for (gsize cut = 0; cut < size; cut++)
    {
      g_autoptr (GError) error = NULL;
      /* records that end at or before the cut: record i ends where i+1 starts */
      guint expect = 0;
      while (expect + 1 < starts->len && g_array_index (starts, guint64, expect + 1) <= cut)
        expect++;

      g_assert_true (g_file_set_contents (cut_path, contents, (gssize) cut, NULL));
      guint got = count_records (cut_path, &error);
      g_assert_nonnull (error);
      if (cut < sizeof (MsFileHeader))
        {
          g_assert_cmpuint (got, ==, 0);
          continue;
        }
      /* every whole record before the cut; the one cut may be missing */
      if (got != expect)
        g_error ("cut at %" G_GSIZE_FORMAT ": read %u records, expected %u (%s)", cut, got, expect, error->message);
      g_assert_true (error->domain == MS_ERROR);
      g_assert_true (error->code == MS_ERROR_TRUNCATED || error->code == MS_ERROR_INCOMPLETE);
      g_assert_nonnull (strstr (error->message, "at byte"));
    }
}

/* Whether a flip at OFFSET of the clean file CONTENTS hits bytes a reader
 * depends on: a chunk's header or stored payload (not the zero padding a
 * raw chunk keeps after its payload). */
static gboolean
offset_is_covered (const char *contents, gsize size, gsize offset)
{
  gsize at = sizeof (MsFileHeader);

  while (at + sizeof (MsChunkHeader) <= size)
    {
      const MsChunkHeader *c = (const MsChunkHeader *) (contents + at);
      /* The last chunk without its SEALED flag looks exactly like a writer
       * that died while sealing it: read by its tags, which are intact. */
      if (at + c->span_bytes >= size && offset == at + offsetof (MsChunkHeader, flags))
        return FALSE;
      if (offset >= at && offset < at + sizeof *c + c->stored_bytes)
        return TRUE;
      at += c->span_bytes;
    }
  return FALSE;
}

static void
test_corruption (Fixture *f, gconstpointer data)
{
  const guint n = 20000;
  g_autoptr (GArray) starts = write_sample (f->path, n, MS_WRITER_MIN_CHUNK_BYTES);
  g_autofree char *contents = NULL;
  gsize size;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autofree char *bad_path = g_build_filename (f->dir, "bad.mst", NULL);

  g_assert_true (g_file_get_contents (f->path, &contents, &size, NULL));
  for (guint trial = 0; trial < 300; trial++)
    {
      gsize at = g_rand_int_range (rand, sizeof (MsFileHeader), (gint32) size);
      guint8 flip = (guint8) (1u << g_rand_int_range (rand, 0, 8));
      g_autoptr (GError) error = NULL;

      contents[at] ^= flip;
      g_assert_true (g_file_set_contents (bad_path, contents, (gssize) size, NULL));
      contents[at] ^= flip;

      g_autoptr (MsReader) reader = ms_reader_open (bad_path, &error);
      g_assert_no_error (error);
      MsRecord got;
      guint errors = 0, records = 0;
      for (;;)
        {
          if (ms_reader_next (reader, &got, &error))
            {
              /* nothing misread: every record returned is one that was written */
              g_assert_true (got.kind == MS_RECORD_ALLOC || got.kind == MS_RECORD_FREE || got.kind == MS_RECORD_CLOSE);
              records++;
              continue;
            }
          if (error == NULL)
            break;
          g_assert_true (error->domain == MS_ERROR);
          g_assert_nonnull (strstr (error->message, "at byte"));
          errors++;
          g_clear_error (&error);
          g_assert_cmpuint (errors, <, 100);
        }
      if (!offset_is_covered (contents, size, at))
        {
          g_assert_cmpuint (errors, ==, 0);
          g_assert_cmpuint (records, ==, n + 1);
          continue;
        }
      g_assert_cmpuint (errors, >=, 1);
      g_assert_cmpuint (records, <, n + 1);
      g_assert_cmpuint (records, >, 0);
      g_assert_cmpuint (ms_reader_get_stats (reader)->damaged_chunks, >=, 1);
    }
}

static void
rewrite_header (const char *path, void (*edit) (MsFileHeader *h))
{
  g_autofree char *contents = NULL;
  gsize size;

  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  MsFileHeader *h = (MsFileHeader *) contents;
  edit (h);
  h->header_crc = ms_crc32c (0, h, offsetof (MsFileHeader, header_crc));
  g_assert_true (g_file_set_contents (path, contents, (gssize) size, NULL));
}

static void
make_major_2 (MsFileHeader *h)
{
  h->major = 2;
  h->minor = 3;
}

static void
test_version_too_new (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) starts = write_sample (f->path, 10, MS_WRITER_MIN_CHUNK_BYTES);
  g_autoptr (GError) error = NULL;

  rewrite_header (f->path, make_major_2);
  g_autoptr (MsReader) reader = ms_reader_open (f->path, &error);
  g_assert_null (reader);
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "trace format 2.3"));
  g_assert_nonnull (strstr (error->message, "reads 1.x"));
}

/* A file written by a later 1.x writer: a record kind this reader does not
 * know sits between known ones and is skipped by its length. */
static void
test_unknown_minor_kind (Fixture *f, gconstpointer data)
{
  MsWriter w;
  MsWriterOptions opt = options (MS_WRITER_MIN_CHUNK_BYTES);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (ms_writer_create (&w, f->path, &opt), ==, 0);
  MsRecord a = { .kind = MS_RECORD_ALLOC, .time_ns = opt.start_mono_ns + 10, .u.event = { .addr = 0x1000, .size = 77, .stack_id = 1 } };
  g_assert_cmpint (ms_writer_add (&w, &a), ==, 0);
  /* kind 0x7e, payload: dt = 5, then three bytes of a future layout */
  uint8_t *rec = ms_writer_reserve (&w, 16);
  const uint8_t body[] = { 4, 5, 0xaa, 0xbb, 0xcc };
  memcpy (rec + 1, body, sizeof body);
  ms_writer_commit (&w, rec, sizeof body, 0x7e);
  w.state.prev_time_ns += 5;
  MsRecord fr = { .kind = MS_RECORD_FREE, .time_ns = opt.start_mono_ns + 20, .u.event = { .addr = 0x1000 } };
  g_assert_cmpint (ms_writer_add (&w, &fr), ==, 0);
  MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = opt.start_mono_ns + 20 };
  g_assert_cmpint (ms_writer_add_final (&w, &close), ==, 0);
  g_assert_cmpint (ms_writer_close (&w), ==, 0);

  g_autoptr (MsReader) reader = ms_reader_open (f->path, &error);
  g_assert_no_error (error);
  MsRecord got;
  g_assert_true (ms_reader_next (reader, &got, &error));
  g_assert_cmpint (got.kind, ==, MS_RECORD_ALLOC);
  g_assert_true (ms_reader_next (reader, &got, &error));
  g_assert_cmpint (got.kind, ==, 0x7e);
  g_assert_cmpuint (got.time_ns, ==, opt.start_mono_ns + 15);
  g_assert_cmpuint (got.u.unknown.payload.len, ==, 4);
  g_assert_true (ms_reader_next (reader, &got, &error));
  g_assert_cmpint (got.kind, ==, MS_RECORD_FREE);
  g_assert_cmpuint (got.time_ns, ==, opt.start_mono_ns + 20);
  g_assert_cmpuint (got.u.event.addr, ==, 0x1000);
  g_assert_true (ms_reader_next (reader, &got, &error));
  g_assert_cmpint (got.kind, ==, MS_RECORD_CLOSE);
  g_assert_false (ms_reader_next (reader, &got, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ms_reader_get_stats (reader)->unknown_records, ==, 1);
}

static void
test_not_a_trace (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (f->path, "hello, this is text and not a trace at all....................................", -1, NULL));
  g_assert_null (ms_reader_open (f->path, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE);
  g_clear_error (&error);
  g_assert_null (ms_reader_open ("/nonexistent/x.mst", &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
}

/* A child writes records and is killed with SIGKILL in mid-stream, without
 * closing its writer: everything it committed is read back. */
static void
test_sigkill (Fixture *f, gconstpointer data)
{
  int pipefd[2];
  guint64 committed = 0;

  g_assert_cmpint (pipe (pipefd), ==, 0);
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      MsWriter w;
      MsWriterOptions opt = options (MS_WRITER_MIN_CHUNK_BYTES);
      if (ms_writer_create (&w, f->path, &opt) != 0)
        _exit (1);
      for (guint64 i = 1;; i++)
        {
          MsRecord r = { .kind = MS_RECORD_ALLOC, .time_ns = opt.start_mono_ns + i, .u.event = { .addr = 16 * i, .size = i } };
          if (ms_writer_add (&w, &r) != 0)
            _exit (2);
          if (i % 100000 == 0)
            {
              /* tell the parent how many are committed, then keep going */
              if (write (pipefd[1], &i, sizeof i) != sizeof i)
                _exit (3);
            }
        }
    }
  close (pipefd[1]);
  g_assert_cmpint (read (pipefd[0], &committed, sizeof committed), ==, sizeof committed);
  g_assert_cmpint (read (pipefd[0], &committed, sizeof committed), ==, sizeof committed);
  kill (pid, SIGKILL);
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  close (pipefd[0]);

  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (f->path, &error);
  g_assert_no_error (error);
  MsRecord got;
  guint64 n = 0;
  while (ms_reader_next (reader, &got, &error))
    {
      n++;
      g_assert_cmpint (got.kind, ==, MS_RECORD_ALLOC);
      g_assert_cmpuint (got.u.event.size, ==, n);
      g_assert_cmpuint (got.u.event.addr, ==, 16 * n);
    }
  g_assert_error (error, MS_ERROR, MS_ERROR_INCOMPLETE);
  g_assert_cmpuint (n, >=, committed);
  g_assert_false (ms_reader_get_stats (reader)->closed);
}

static void
test_compaction (Fixture *f, gconstpointer data)
{
  const guint n = 50000;
  g_autoptr (GArray) starts = write_sample (f->path, n, MS_WRITER_DEFAULT_CHUNK_BYTES);
  g_autoptr (GError) error = NULL;
  GStatBuf before, after;

  g_assert_cmpint (g_stat (f->path, &before), ==, 0);
  g_assert_true (ms_trace_compact_file (f->path, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (f->path, &after), ==, 0);
  g_assert_cmpint (after.st_size, <, before.st_size / 4);
  g_assert_cmpuint (count_records (f->path, &error), ==, n + 1);
  g_assert_no_error (error);
}

/* Compaction packs records into bigger chunks, encoding them again: every
 * record must come back the same, in a file of any time unit, a crashed
 * writer's included. */
static void
test_compaction_same_records (Fixture *f, gconstpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (99);
  char strpool[256];

  for (guint i = 0; i < sizeof strpool; i++)
    strpool[i] = (char) ('a' + i % 26);
  for (unsigned shift = 0; shift <= 4; shift += 4)
    for (int closed = 0; closed <= 1; closed++)
      {
        g_autoptr (GArray) before = g_array_new (FALSE, TRUE, sizeof (MsRecord));
        g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
        MsWriter w;
        MsWriterOptions opt = options (MS_WRITER_MIN_CHUNK_BYTES);
        guint64 clock = opt.start_mono_ns;

        opt.time_shift = shift;
        g_unlink (f->path);
        g_assert_cmpint (ms_writer_create (&w, f->path, &opt), ==, 0);
        for (guint k = 0; k < 30000; k++)
          {
            MsRecord r;
            random_record (rand, &r, &clock, strpool);
            g_assert_cmpint (ms_writer_add (&w, &r), ==, 0);
          }
        if (closed)
          g_assert_cmpint (ms_writer_close (&w), ==, 0);
        else
          ms_writer_abandon (&w); /* as a killed writer leaves it */

        g_autoptr (MsReader) reader = ms_reader_open (f->path, NULL);
        MsRecord r;
        while (ms_reader_next (reader, &r, NULL))
          {
            g_array_append_val (before, r);
            /* strings point into the reader's buffer: keep copies */
            MsRecord *kept = &g_array_index (before, MsRecord, before->len - 1);
            MsBytes *b[] = { &kept->u.info.key, &kept->u.info.value };
            if (r.kind == MS_RECORD_INFO)
              for (int i = 0; i < 2; i++)
                {
                  char *copy = g_memdup2 (b[i]->data, b[i]->len ? b[i]->len : 1);
                  g_ptr_array_add (strings, copy);
                  b[i]->data = copy;
                }
          }
        g_clear_pointer (&reader, ms_reader_free);

        g_autoptr (GError) error = NULL;
        g_assert_true (ms_trace_compact_file (f->path, 0, &error));
        g_assert_no_error (error);
        reader = ms_reader_open (f->path, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (ms_reader_get_info (reader)->time_shift, ==, shift);
        guint k = 0;
        while (ms_reader_next (reader, &r, NULL))
          {
            g_assert_cmpuint (k, <, before->len);
            const MsRecord *b = &g_array_index (before, MsRecord, k++);
            if (r.kind == MS_RECORD_INFO)
              {
                g_assert_cmpint (r.kind, ==, b->kind);
                g_assert_cmpuint (r.time_ns, ==, b->time_ns);
                assert_bytes_equal (r.u.info.key, b->u.info.key);
                assert_bytes_equal (r.u.info.value, b->u.info.value);
              }
            else if (r.kind != MS_RECORD_THREAD_NAME && r.kind != MS_RECORD_MODULE_LOAD && r.kind != MS_RECORD_LABEL)
              assert_record_equal (b, &r);
            if (shift)
              g_assert_cmpuint (r.time_ns % 16, ==, 0);
          }
        g_assert_cmpuint (k, ==, before->len);
        /* packed: far fewer chunks than the writer's 16 KiB windows */
        g_assert_cmpuint (ms_reader_get_stats (reader)->chunks, <, 4);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, "t.mst", ms_test_tmp_file_set_up, fn, ms_test_tmp_file_tear_down)
  ADD ("/memscope/format/round-trip", test_round_trip);
  ADD ("/memscope/format/truncation", test_truncation);
  ADD ("/memscope/format/corruption", test_corruption);
  ADD ("/memscope/format/version-too-new", test_version_too_new);
  ADD ("/memscope/format/unknown-minor-kind", test_unknown_minor_kind);
  ADD ("/memscope/format/not-a-trace", test_not_a_trace);
  ADD ("/memscope/format/sigkill", test_sigkill);
  ADD ("/memscope/format/compaction", test_compaction);
  ADD ("/memscope/format/compaction-same-records", test_compaction_same_records);
  return g_test_run ();
}
