/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The writer runs inside malloc: once created it must never call the
 * allocator (that would recurse into the profiler, or deadlock in it), and
 * it must never change errno (the profiled program reads errno after
 * malloc fails). This binary defines malloc and friends itself, forwarding
 * to glibc's __libc_* entry points and counting the calls made while the
 * writer works (test-alloc-count.c).
 *
 * Under AddressSanitizer the sanitizer owns malloc, so the counting part
 * is left out there and only the errno and round-trip checks run. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ms-reader.h"
#include "ms-writer.h"
#include "test-alloc-count.h"

/* Without this the test could pass with interposition silently broken. */
static void
test_interposed (void)
{
#if !MS_TEST_CAN_COUNT_ALLOCS
  g_test_skip ("the sanitizer owns malloc");
#else
  char *volatile copy;

  ms_test_alloc_count_start ();
  copy = strdup ("glibc calls malloc through its PLT");
  free (copy);
  g_free (g_strdup ("and so does GLib"));
  g_assert_cmpuint (ms_test_alloc_count_stop (), >=, 4);
#endif
}

#define N_EVENTS 300000
#define N_STACKS 40

typedef struct
{
  guint64 allocs, frees, bytes, addr_sum;
} Totals;

/* One hot event the way the tracker writes it: reserve, encode in place
 * with the inline encoders, commit (tag last). */
static gboolean
put_event (MsWriter *w, MsRecordKind kind, guint64 time_ns, guint64 size, guint64 addr, guint64 stack)
{
  uint8_t *rec = ms_writer_reserve (w, MS_HOT_RECORD_MAX_BYTES);
  if (rec == NULL)
    return FALSE;

  uint8_t *p = ms_encode_time (rec + 1, &w->state, time_ns);
  if (kind == MS_RECORD_ALLOC)
    p = ms_varint_put (p, size);
  p = ms_encode_addr (p, &w->state, addr);
  if (kind == MS_RECORD_ALLOC)
    p = ms_varint_put (p, stack);
  ms_writer_commit (w, rec, (size_t) (p - rec - 1), (uint8_t) kind);
  return TRUE;
}

/* Writes N_EVENTS allocations and frees over small 16 KiB chunks (about a
 * hundred chunk changes, each of which maps a new window), plus the sized
 * records a tracker writes along the way, then closes. Returns the totals
 * written. */
static void
write_stream (MsWriter *w, Totals *totals)
{
  static const char *names[] = { "main", "worker-with-a-longer-name", "" };
  guint64 live[256] = { 0 };
  guint64 now = 1000000;
  guint32 rng = 1;

  for (guint64 id = 1; id <= N_STACKS; id++)
    {
      MsRecord node = { .kind = MS_RECORD_STACK_NODE, .time_ns = now,
                        .u.stack_node = { id, id / 4, 0x401000 + 0x31 * id } };
      errno = EDOM;
      g_assert_cmpint (ms_writer_add (w, &node), ==, 0);
      g_assert_cmpint (errno, ==, EDOM);
    }

  for (guint i = 0; i < N_EVENTS; i++)
    {
      rng = rng * 1664525u + 1013904223u;
      guint slot = rng >> 24;
      now += 50 + (rng >> 4) % 250;

      if (i % 1000 == 999)
        {
          /* a sized record through the general path now and then */
          MsRecord name = { .kind = MS_RECORD_THREAD_NAME, .time_ns = now,
                            .u.thread = { 42, { names[i % 3], (guint32) strlen (names[i % 3]) } } };
          errno = ERANGE;
          g_assert_cmpint (ms_writer_add (w, &name), ==, 0);
          g_assert_cmpint (errno, ==, ERANGE);
        }
      else if (live[slot] != 0)
        {
          errno = EDOM;
          g_assert_true (put_event (w, MS_RECORD_FREE, now, 0, live[slot], 0));
          g_assert_cmpint (errno, ==, EDOM);
          totals->frees++;
          live[slot] = 0;
        }
      else
        {
          guint64 size = 16u << ((rng >> 8) % 8);
          live[slot] = 0x7f0000000000ull + 0x1000 * slot + 16 * ((rng >> 12) & 0xff);
          if (i % 2 == 0)
            {
              errno = EDOM;
              g_assert_true (put_event (w, MS_RECORD_ALLOC, now, size, live[slot], 1 + i % N_STACKS));
              g_assert_cmpint (errno, ==, EDOM);
            }
          else
            {
              /* and the general path for events, which the issue names */
              MsRecord alloc = { .kind = MS_RECORD_ALLOC, .time_ns = now,
                                 .u.event = { .addr = live[slot], .size = size, .stack_id = 1 + i % N_STACKS,
                                              .weight = MS_WEIGHT_ONE } };
              errno = EDOM;
              g_assert_cmpint (ms_writer_add (w, &alloc), ==, 0);
              g_assert_cmpint (errno, ==, EDOM);
            }
          totals->allocs++;
          totals->bytes += size;
          totals->addr_sum += live[slot];
        }
    }

  /* a record the codec refuses fails without touching errno either */
  MsRecord bogus = { .kind = (MsRecordKind) 0x7e, .time_ns = now };
  errno = EDOM;
  g_assert_cmpint (ms_writer_add (w, &bogus), <, 0);
  g_assert_cmpint (errno, ==, EDOM);

  MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = now,
                     .u.close = { totals->allocs, totals->frees, totals->bytes, 0, 0 } };
  errno = EDOM;
  g_assert_cmpint (ms_writer_add_final (w, &close), ==, 0);
  g_assert_cmpint (errno, ==, EDOM);
}

static void
test_no_allocation (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-test-nomalloc-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "thread-0.mst", NULL);
  /* the writer is caller-allocated: the preload keeps it in mmap'd memory */
  static MsWriter w;
  MsWriterOptions options = {
    .kind = MS_FILE_KIND_THREAD,
    .pid = 1,
    .chunk_bytes = MS_WRITER_MIN_CHUNK_BYTES,
    .start_mono_ns = 1000000,
    .start_wall_ns = 1700000000000000000ull,
  };
  Totals totals = { 0 };

  g_assert_nonnull (dir);
  ms_test_alloc_count_start ();
  int r = ms_writer_create (&w, path, &options);
  unsigned long during_create = ms_test_alloc_count_get ();
  write_stream (&w, &totals);
  r = r == 0 ? ms_writer_close (&w) : r;
  unsigned long calls = ms_test_alloc_count_stop ();

  g_assert_cmpint (r, ==, 0);
  g_assert_cmpuint (during_create, ==, 0);
  g_assert_cmpuint (calls, ==, 0);

  /* and what it wrote is all there */
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  Totals back = { 0 };
  MsRecord record;
  g_assert_no_error (error);
  while (ms_reader_next (reader, &record, &error))
    if (record.kind == MS_RECORD_ALLOC)
      {
        back.allocs++;
        back.bytes += record.u.event.size;
        back.addr_sum += record.u.event.addr;
      }
    else if (record.kind == MS_RECORD_FREE)
      back.frees++;
  g_assert_no_error (error);

  const MsReaderStats *stats = ms_reader_get_stats (reader);
  g_assert_true (stats->closed);
  g_assert_cmpuint (stats->damaged_chunks, ==, 0);
  g_assert_cmpuint (stats->chunks, >=, 50);
  g_assert_cmpuint (back.allocs, ==, totals.allocs);
  g_assert_cmpuint (back.frees, ==, totals.frees);
  g_assert_cmpuint (back.bytes, ==, totals.bytes);
  g_assert_cmpuint (back.addr_sum, ==, totals.addr_sum);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/writer/nomalloc/interposed", test_interposed);
  g_test_add_func ("/writer/nomalloc/churn", test_no_allocation);
  return g_test_run ();
}
